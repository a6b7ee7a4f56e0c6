"""Converts a streamed RDF file (N-Triples, N-Quads, Turtle, TriG) into write batches in bounded memory.

The result is what :func:`kgrec.ingest.rdf.convert_graph` makes of the whole
file, batched differently:

* Relationship triples become batches as the file is read, each batch carrying
  key-only rows for its endpoints (nodes are ``MERGE``d, so repeats are free).
* A subject's literals and types may be spread over the file, and a property
  with several values must be written once, with all of them. These facts go to
  partition files on disk, by a stable hash of the subject; after the file is
  read, each partition (a slice of the subjects, sized to fit in memory) is
  loaded, its subjects' facts combined exactly as the whole-file path does, and
  written as node batches.

Memory holds one batch of relationships, one partition and the partition
buffers, whatever the file size. Batches come out in the same order on every
run, so checkpoints count rows of a reproducible sequence.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib

from kgrec.graph.batch import Batch, NodeKey
from kgrec.ingest import rdf_read
from kgrec.ingest.link import LinkMap
from kgrec.ingest.rdf import Config, RdfContent, literal_value, local_name, node_groups, rel_groups
from kgrec.ingest.rdf_partitions import Fact, Partitions, partition_count
from kgrec.ingest.spec import IRI_KEY, Link, Rdf

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_XSD = "http://www.w3.org/2001/XMLSchema#"
_PLAIN = {_XSD + "string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}
_INTEGER = re.compile(r"[+-]?[0-9]+")
_LABEL, _TYPE, _LITERAL, _NODE = range(4)
"""Kinds of subject facts: an extra label, another rdf:type, a property value, the bare node."""


@dataclass(slots=True)
class StreamStats:
    """Counts of one conversion (filled in while the batches are produced)."""

    triples: int = 0
    skipped_blank: int = 0
    rows: int = 0


def expander(prefixes: dict[str, str]) -> Callable[[str], str]:
    """Expands a CURIE with the file's ``prefixes`` over rdflib's default ones (full IRIs pass through)."""
    known = {str(p): str(ns) for p, ns in rdflib.Graph().namespace_manager.namespaces()} | prefixes

    def expand(name: str) -> str:
        if "://" in name or ":" not in name:
            return name
        prefix, local = name.split(":", 1)
        return known[prefix] + local if prefix in known else name

    return expand


def link_from_pairs(pairs: list[tuple[str, str]], link: Link) -> LinkMap:
    """A link map from (entity IRI, item IRI) pairs of ``link.predicate`` (see :func:`rdf.link_from_predicate`)."""
    lm = LinkMap(NodeKey(link.item.label, link.item.property), link.store_as)
    pattern = re.compile(link.item_pattern)
    for entity, target in pairs:
        m = pattern.search(target)
        if m:
            value = m.group(1) if m.groups() else m.group(0)
            lm.add(entity, int(value) if link.item.type == "int" else value)
    return lm


def stream_batches(
    path: Path,
    fmt: str,
    rdf: Rdf,
    link: LinkMap | None,
    *,
    prefixes: dict[str, str],
    batch_size: int,
    stats: StreamStats,
    spill_dir: Path | None = None,
) -> Iterator[Batch]:
    """Batches of ``path`` in a reproducible order: relationships while reading, then nodes by partition.

    Raises:
        InputDataError: At the first syntax error (before the last batch is produced).
    """
    cfg = Config.build(expander(prefixes), rdf)
    entity = NodeKey(rdf.entity_label, IRI_KEY)
    with Partitions(partition_count(path), spill_dir) as parts:
        rels: dict[tuple[str, str, str], None] = {}
        ends: dict[str, set[str]] = {}
        for q in rdf_read.quads(path, fmt):
            stats.triples += 1
            edge = _route(q, cfg, rdf.languages, parts, stats)
            if edge is not None:
                rels[edge] = None
                ends[edge[0]] = ends[edge[2]] = set()
                if len(rels) + len(ends) >= batch_size:
                    yield _count(_edges(rels, ends, entity, link), stats)
                    rels, ends = {}, {}
        if rels:
            yield _count(_edges(rels, ends, entity, link), stats)
        for facts in parts.each():
            content = RdfContent(nodes=_nodes(facts, entity, link))
            for batch, _ in content.batches(batch_size):
                yield _count(batch, stats)


def _route(q: ox.Quad, cfg: Config, languages: list[str], parts: Partitions, stats: StreamStats) -> Any:
    """Send a subject fact to its partition; return a relationship triple (or None)."""
    s, o = q.subject, q.object
    if not isinstance(s, ox.NamedNode) or isinstance(o, ox.BlankNode | ox.Triple):
        stats.skipped_blank += 1
        return None
    p = q.predicate.value
    if p in cfg.excluded:
        return None
    subj = s.value
    if isinstance(o, ox.Literal):
        if _keep(o, languages):
            parts.add((subj, _LITERAL, cfg.literal_name(p), literal_of(o)))
        else:
            parts.add((subj, _NODE, "", None))
        return None
    if p == _RDF_TYPE:
        label = cfg.type_labels.get(o.value)
        parts.add((subj, _LABEL, label, None) if label else (subj, _TYPE, o.value, None))
        return None
    return (subj, cfg.rel_type(p), o.value)


def literal_of(lit: ox.Literal) -> Any:
    """The value kgrec stores for ``lit``: the same as rdflib's conversion in the whole-file path."""
    dt = lit.datatype.value
    if dt in _PLAIN:
        return lit.value
    if dt == _XSD + "integer" and _INTEGER.fullmatch(lit.value):
        return int(lit.value)
    return literal_value(rdflib.Literal(lit.value, datatype=dt))


def _keep(lit: ox.Literal, languages: list[str]) -> bool:
    lang = lit.language
    return not lang or not languages or lang.lower() in {x.lower() for x in languages}


def _edges(
    rels: dict[tuple[str, str, str], None], ends: dict[str, set[str]], entity: NodeKey, link: LinkMap | None
) -> Batch:
    return Batch(nodes=node_groups(ends, {}, entity, link), rels=rel_groups(rels, entity, link))


def _nodes(facts: list[Fact], entity: NodeKey, link: LinkMap | None) -> list[Any]:
    """Node groups of one partition's subjects, combined as :func:`rdf.convert_graph` does."""
    labels: dict[str, set[str]] = {}
    props: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    types: dict[str, set[str]] = defaultdict(set)
    for subj, kind, name, value in facts:
        found = labels.setdefault(subj, set())
        if kind == _LABEL:
            found.add(name)
        elif kind == _TYPE:
            types[subj].add(name)
        elif kind == _LITERAL:
            props[subj][name].append(value)
    for subj, iris in types.items():
        props[subj]["rdf_types"] = sorted(iris)
    return node_groups(labels, props, entity, link)


def _count(batch: Batch, stats: StreamStats) -> Batch:
    stats.rows += len(batch)
    return batch


FINGERPRINT = "rdf-stream-1\n"
"""Part of a streamed unit's fingerprint: its batches differ from the whole-file path's, so checkpoints do too."""


@dataclass(slots=True)
class StreamSource:
    """A streamed RDF file, scanned where needed: what its conversion needs besides the file."""

    path: Path
    fmt: str
    rdf: Rdf
    link: LinkMap | None
    prefixes: dict[str, str]
    stats: StreamStats

    @classmethod
    def open(cls, path: Path, fmt: str, rdf: Rdf, link_spec: Link | None, link: LinkMap | None) -> StreamSource:
        """Scan ``path`` first when it declares prefixes or links items through a predicate.

        Raises:
            InputDataError: The scan met a syntax error.
        """
        predicate = link_spec.predicate if link_spec is not None else None
        if fmt not in rdf_read.PREFIXED and predicate is None:
            return cls(path, fmt, rdf, link, {}, StreamStats())
        found = rdf_read.scan(path, fmt, local_name(predicate) if predicate else None)
        if predicate is not None:
            assert link_spec is not None
            wanted = expander(found.prefixes)(predicate)
            link = link_from_pairs([(s, o) for p, s, o in found.pairs if p == wanted], link_spec)
        return cls(path, fmt, rdf, link, found.prefixes, StreamStats())

    def batches(self, size: int, skip: int, spill_dir: Path | None) -> Iterator[tuple[Batch, Batch | None, int]]:
        """Each batch, the part of it after the first ``skip`` rows (None: all written before), rows so far."""
        done = 0
        self.stats = StreamStats()
        batches = stream_batches(
            self.path, self.fmt, self.rdf, self.link,
            prefixes=self.prefixes, batch_size=size, stats=self.stats, spill_dir=spill_dir,
        )  # fmt: skip
        for batch in batches:
            before, done = done, done + len(batch)
            if done <= skip:
                yield batch, None, done
            elif before >= skip:
                yield batch, batch, done
            else:
                part = next(RdfContent(batch.nodes, batch.rels).batches(len(batch), skip - before))[0]
                yield batch, part, done
