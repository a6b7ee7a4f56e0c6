"""Reads an RDF file with rdflib and turns its triples into write batches.

* IRIs become nodes labelled ``rdf.entity_label`` with key property ``iri``;
  an IRI linked to catalogue items becomes those item nodes instead.
* ``rdf:type`` objects become extra labels (``type_labels``) or the
  ``rdf_types`` list property.
* IRI objects become relationships; the type is ``predicates[p]`` or the
  predicate's local name in UPPER_SNAKE case.
* Literal objects become properties (``literals[p]`` or the local name in
  snake_case), converted from their datatype; tagged literals are kept when
  their language is in ``languages``.
* Blank nodes have no stable identity across runs, so triples that involve one
  are skipped and counted (re-running must not duplicate them).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import rdflib
from rdflib import RDF, BNode, Literal, URIRef

from kgrec.errors import BadRecord, InputDataError
from kgrec.graph.batch import Batch, NodeGroup, NodeKey, RelGroup, Row
from kgrec.graph.names import check_rel_type, lower_snake, upper_snake
from kgrec.ingest import rdf_read
from kgrec.ingest.compressed import open_binary, open_text
from kgrec.ingest.link import LinkMap
from kgrec.ingest.spec import IRI_KEY, Link, Rdf

log = logging.getLogger(__name__)

_QUAD_FORMATS = {"nquads", "trig"}
_LINE_FORMATS = {"nt", "nquads"}


@dataclass(slots=True)
class RdfContent:
    """Everything one RDF file contributes, in a deterministic order."""

    nodes: list[NodeGroup] = field(default_factory=list)
    rels: list[RelGroup] = field(default_factory=list)
    triples: int = 0
    skipped_blank: int = 0

    @property
    def rows(self) -> int:
        """Node and relationship rows in total."""
        return sum(len(g.rows) for g in self.nodes) + sum(len(g.rows) for g in self.rels)

    def batches(self, size: int, skip: int = 0) -> Iterator[tuple[Batch, int]]:
        """Batches of at most ``size`` rows (nodes first), after skipping ``skip`` rows.

        Yields:
            The batch and the number of rows consumed so far (for checkpoints).
        """
        done = 0
        batch, in_batch = Batch(), 0
        for group in [*self.nodes, *self.rels]:
            for lo in range(0, len(group.rows), size):
                part = group.rows[lo : lo + size]
                if done + len(part) <= skip:
                    done += len(part)
                    continue
                if done < skip:
                    part, done = part[skip - done :], skip
                _append(batch, group, part)
                in_batch += len(part)
                done += len(part)
                if in_batch >= size:
                    yield batch, done
                    batch, in_batch = Batch(), 0
        if in_batch:
            yield batch, done


def _append(batch: Batch, group: NodeGroup | RelGroup, rows: list[Row]) -> None:
    if isinstance(group, NodeGroup):
        batch.nodes.append(NodeGroup(group.key, group.labels, rows))
    else:
        batch.rels.append(RelGroup(group.start, group.type, group.end, group.create_start, group.create_end, rows))


def parse(path: Path, rdf: Rdf, base_iri: str | None = None) -> rdflib.Graph:
    """Parse ``path`` whole with rdflib (streamed formats are first checked strictly by pyoxigraph).

    A syntax error names the file and line. Relative IRIs resolve against
    ``base_iri`` (default: the file's ``file:`` URI).

    Raises:
        InputDataError: The file is not valid RDF in its format.
    """
    fmt = rdf_read.rdf_format(path, rdf.format)
    if fmt in rdf_read.STREAMED:
        rdf_read.scan(path, fmt, base_iri=base_iri)
    graph: rdflib.Graph = rdflib.Dataset() if fmt in _QUAD_FORMATS else rdflib.Graph()
    try:
        with open_binary(path) as f:
            graph.parse(file=f, format=fmt, publicID=base_iri or path.resolve().as_uri())
    except Exception as e:  # rdflib raises many unrelated types for syntax errors
        line = _line_of(e) or (_first_bad_line(path, fmt) if fmt in _LINE_FORMATS else None)
        raise InputDataError([BadRecord(str(path), line, f"invalid {fmt} RDF: {_short(e)}")]) from e
    return graph


def _first_bad_line(path: Path, fmt: str) -> int | None:
    """Line-based formats report no line on error: find it by parsing line by line."""
    with open_text(path, encoding="utf-8", errors="replace") as f:
        for n, text in enumerate(f, start=1):
            if text.strip() and not text.lstrip().startswith("#"):
                try:
                    (rdflib.Dataset() if fmt == "nquads" else rdflib.Graph()).parse(data=text, format=fmt)
                except Exception:
                    return n
    return None


def _line_of(e: Exception) -> int | None:
    for attr in ("lines", "lineno", "_line"):
        v = getattr(e, attr, None)
        if isinstance(v, int):
            return v + 1 if attr == "lines" else v
    getline = getattr(e, "getLineNumber", None)
    if callable(getline):
        return int(getline())
    m = re.search(r"line (\d+)", str(e)) or _SAX_PLACE.match(str(e))
    return int(m.group(1)) if m else None


_SAX_PLACE = re.compile(r"^\S+?:(\d+):\d+: ")
"""How rdflib's RDF/XML parser starts a message: ``<system id>:<line>:<column>: ``."""


def _short(e: Exception) -> str:
    text = _SAX_PLACE.sub("", " ".join(str(e).split()))
    return text[:300] or type(e).__name__


def link_from_predicate(graph: rdflib.Graph, link: Link) -> LinkMap:
    """Build a link map from ``link.predicate`` triples (entity -> item IRI)."""
    assert link.predicate is not None
    lm = LinkMap(NodeKey(link.item.label, link.item.property), link.store_as)
    pattern = re.compile(link.item_pattern)
    for s, o in graph.subject_objects(URIRef(_expand(graph, link.predicate))):
        m = pattern.search(str(o))
        if isinstance(s, URIRef) and m:
            value = m.group(1) if m.groups() else m.group(0)
            lm.add(str(s), int(value) if link.item.type == "int" else value)
    return lm


def convert_graph(graph: rdflib.Graph, rdf: Rdf, link: LinkMap | None) -> RdfContent:
    """Turn the parsed graph into node and relationship groups."""
    cfg = Config.build(lambda name: _expand(graph, name), rdf)
    entity = NodeKey(rdf.entity_label, IRI_KEY)
    props: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    labels: dict[str, set[str]] = defaultdict(set)
    other_types: dict[str, set[str]] = defaultdict(set)
    rels: dict[tuple[str, str, str], None] = {}
    out = RdfContent()
    for s, p, o in graph.triples((None, None, None)):
        out.triples += 1
        if isinstance(s, BNode) or isinstance(o, BNode):
            out.skipped_blank += 1
            continue
        ps, subj = str(p), str(s)
        if ps in cfg.excluded:
            continue
        labels.setdefault(subj, set())
        if p == RDF.type and isinstance(o, URIRef):
            (labels[subj].add(cfg.type_labels[str(o)]) if str(o) in cfg.type_labels else other_types[subj].add(str(o)))
        elif isinstance(o, Literal):
            if _keep(o, rdf.languages):
                props[subj][cfg.literal_name(ps)].append(literal_value(o))
        else:
            labels.setdefault(str(o), set())
            rels[(subj, cfg.rel_type(ps), str(o))] = None
    for subj, types in other_types.items():
        props[subj]["rdf_types"] = sorted(types)
    out.nodes = node_groups(labels, props, entity, link)
    out.rels = rel_groups(rels, entity, link)
    return out


@dataclass(slots=True)
class Config:
    type_labels: dict[str, str]
    predicates: dict[str, str]
    literals: dict[str, str]
    excluded: set[str]

    @classmethod
    def build(cls, expand: Callable[[str], str], rdf: Rdf) -> Config:
        """The spec's names as full IRIs (``expand`` resolves a CURIE with the file's prefixes)."""
        return cls(
            {expand(k): v for k, v in rdf.type_labels.items()},
            {expand(k): v for k, v in rdf.predicates.items()},
            {expand(k): v for k, v in rdf.literals.items()},
            {expand(p) for p in rdf.exclude_predicates},
        )

    def rel_type(self, predicate: str) -> str:
        return self.predicates.get(predicate) or check_rel_type(upper_snake(local_name(predicate)))

    def literal_name(self, predicate: str) -> str:
        return self.literals.get(predicate) or lower_snake(local_name(predicate))


def node_groups(
    labels: dict[str, set[str]], props: dict[str, dict[str, list[Any]]], entity: NodeKey, link: LinkMap | None
) -> list[NodeGroup]:
    """Node groups by key and extra labels: one row per IRI (or per item it is linked to), values collapsed."""
    groups: dict[tuple[NodeKey, tuple[str, ...]], list[Row]] = defaultdict(list)
    for iri in sorted(labels):
        values = {k: collapse(v) for k, v in props.get(iri, {}).items()}
        items = link.items_of(iri) if link else []
        extra = tuple(sorted(labels[iri]))
        if items:
            assert link is not None
            groups[(link.item, extra)].extend({"key": i, "props": values} for i in items)
        else:
            groups[(entity, extra)].append({"key": iri, "props": values})
    return [NodeGroup(key, extra, rows) for (key, extra), rows in sorted(groups.items(), key=_group_order)]


def _group_order(item: tuple[tuple[NodeKey, tuple[str, ...]], list[Row]]) -> tuple[str, str, tuple[str, ...]]:
    (key, extra), _ = item
    return (key.label, key.property, extra)


def rel_groups(rels: dict[tuple[str, str, str], None], entity: NodeKey, link: LinkMap | None) -> list[RelGroup]:
    """Relationship groups by type and endpoint keys, endpoints mapped through ``link``."""
    groups: dict[tuple[NodeKey, str, NodeKey], list[Row]] = defaultdict(list)
    for s, t, o in sorted(rels):
        for sk, sv in _endpoints(s, entity, link):
            for ok, ov in _endpoints(o, entity, link):
                groups[(sk, t, ok)].append({"start": sv, "end": ov, "props": {}})
    return [
        RelGroup(s, t, o, rows=rows)
        for (s, t, o), rows in sorted(groups.items(), key=lambda g: (g[0][1], g[0][0].label, g[0][2].label))
    ]


def _endpoints(iri: str, entity: NodeKey, link: LinkMap | None) -> list[tuple[NodeKey, Any]]:
    items = link.items_of(iri) if link else []
    if items:
        assert link is not None
        return [(link.item, i) for i in items]
    return [(entity, iri)]


def _keep(lit: Literal, languages: list[str]) -> bool:
    return not lit.language or not languages or lit.language.lower() in {x.lower() for x in languages}


def literal_value(lit: Literal) -> Any:
    """The value stored for ``lit``: its Python value where Neo4j can hold it, else its text."""
    v = lit.toPython()
    if isinstance(v, bool | int | float | str | date | datetime | time):
        return v
    if isinstance(v, Decimal):
        return float(v)
    return str(lit)


def collapse(values: list[Any]) -> Any:
    """One value, or the sorted distinct values (as text when their types differ)."""
    unique = list(dict.fromkeys(values))
    if len(unique) == 1:
        return unique[0]
    if len({type(v) for v in unique}) > 1:
        unique = [str(v) for v in unique]
    return sorted(unique)


def local_name(iri: str) -> str:
    """The last segment of an IRI (after ``#``, ``/`` or ``:``)."""
    return re.split(r"[#/:]", iri.rstrip("/#"))[-1] or iri


def _expand(graph: rdflib.Graph, name: str) -> str:
    """Expand a CURIE such as ``dbo:director`` with the file's prefixes (full IRIs pass through)."""
    if "://" in name or ":" not in name:
        return name
    try:
        return str(graph.namespace_manager.expand_curie(name))
    except ValueError:
        return name
