"""Checks one RDF file of a spec for ``kgrec ingest --dry-run``, streaming where the ingest streams.

N-Triples, N-Quads, Turtle and TriG go through the same pyoxigraph reader as
the real ingest (:mod:`kgrec.ingest.rdf_read`, :class:`kgrec.ingest.rdf_stream.StreamSource`):
a Turtle or TriG file, or one whose items are linked through a predicate, is
first scanned for its prefixes and link pairs, then every triple is read once
more and converted as :mod:`kgrec.ingest.rdf_stream` converts it, and dropped.
Nothing is kept per triple and nothing is spilled to disk, so memory stays
bounded whatever the file size; a syntax error gives the same
``file:line: invalid <format> RDF: column C: reason`` as the ingest, and the
triple count is the one the ingest reads (every statement, duplicates and named
graphs included).

RDF/XML, JSON-LD and N3 are parsed whole by rdflib, as the ingest parses them
(their triple count is rdflib's: distinct triples).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kgrec.ingest import rdf as rdf_io
from kgrec.ingest import rdf_read
from kgrec.ingest.link import LinkMap
from kgrec.ingest.rdf_stream import StreamSource, expander, literal_of
from kgrec.ingest.spec import Rdf, Spec

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def check_rdf(path: Path, rdf: Rdf, spec: Spec, link: LinkMap | None) -> int:
    """Read and convert ``path`` as ``kgrec ingest`` would, keeping nothing; return the triples read.

    Args:
        path: The RDF file (compressed or not).
        rdf: Its ``[[rdf]]`` entry.
        spec: The spec (its ``[link]``, when items are linked through a predicate).
        link: The link map from the spec's link file, if any.

    Raises:
        InputDataError: The file is not valid RDF in its format (or its format is unknown).
    """
    fmt = rdf_read.rdf_format(path, rdf.format)
    if fmt not in rdf_read.STREAMED:
        return _check_whole(path, rdf, spec, link)
    source = StreamSource.open(path, fmt, rdf, spec.link, link)
    return _convert_each(source)


def _check_whole(path: Path, rdf: Rdf, spec: Spec, link: LinkMap | None) -> int:
    """RDF/XML, JSON-LD, N3: parsed whole by rdflib and converted, as the ingest does."""
    graph = rdf_io.parse(path, rdf)
    if spec.link is not None and spec.link.predicate is not None:
        link = rdf_io.link_from_predicate(graph, spec.link)
    rdf_io.convert_graph(graph, rdf, link)
    return len(graph)


def _convert_each(source: StreamSource) -> int:
    """Every triple of ``source`` converted to what the ingest would write (a value, a type), then dropped.

    Relationship types are named once per predicate; literals are converted
    one by one, as the streaming ingest converts them.
    """
    cfg = rdf_io.Config.build(expander(source.prefixes), source.rdf)
    languages = {x.lower() for x in source.rdf.languages}
    named: set[tuple[str, bool]] = set()
    triples = 0
    for q in rdf_read.quads(source.path, source.fmt):
        triples += 1
        s, o, p = q.subject, q.object, q.predicate.value
        if not isinstance(s, ox.NamedNode) or isinstance(o, ox.BlankNode | ox.Triple) or p in cfg.excluded:
            continue
        literal = isinstance(o, ox.Literal)
        if (p, literal) not in named:
            _name(cfg, p, literal)
            named.add((p, literal))
        if isinstance(o, ox.Literal) and (not o.language or not languages or o.language.lower() in languages):
            literal_of(o)
    return triples


def _name(cfg: rdf_io.Config, predicate: str, literal: bool) -> str | None:
    """The property (literal objects) or relationship type (IRI objects) ``predicate`` becomes."""
    if literal:
        return cfg.literal_name(predicate)
    return None if predicate == _RDF_TYPE else cfg.rel_type(predicate)


__all__ = ["check_rdf"]
