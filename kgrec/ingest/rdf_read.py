"""Reads RDF strictly and as a stream with pyoxigraph, naming the file and line of any syntax error.

N-Triples, N-Quads, Turtle and TriG are parsed by pyoxigraph (a Rust parser
that passes the W3C RDF 1.1 syntax suites) in bounded memory; RDF/XML, JSON-LD
and N3 stay with rdflib (:mod:`kgrec.ingest.rdf`), which parses them whole.
Files ending in ``.gz``, ``.bz2`` or ``.xz`` are decompressed while reading;
the format comes from the suffix before that (``dump.nt.gz`` is N-Triples).
Triples of every graph are read (the graph name is dropped).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kgrec.errors import BadRecord, InputDataError
from kgrec.ingest.compressed import inner_suffix, open_binary

SUFFIX_FORMATS = {
    ".ttl": "turtle",
    ".nt": "nt",
    ".nq": "nquads",
    ".rdf": "xml",
    ".owl": "xml",
    ".xml": "xml",
    ".jsonld": "json-ld",
    ".json": "json-ld",
    ".trig": "trig",
    ".n3": "n3",
}
"""Spec format names by file suffix (the names are rdflib's)."""

STREAMED = {
    "nt": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "turtle": ox.RdfFormat.TURTLE,
    "trig": ox.RdfFormat.TRIG,
}
"""Formats read by pyoxigraph, as a stream."""

PREFIXED = {"turtle", "trig"}
"""Formats that declare prefixes (a spec's CURIEs expand with them)."""
_POSITION = re.compile(r"^Parser error [^:]*: ")


def rdf_format(path: Path, declared: str | None) -> str:
    """The spec format name of ``path``: ``declared``, else from its suffix (under any compression suffix).

    Raises:
        InputDataError: Neither says which format the file is in.
    """
    fmt = declared or SUFFIX_FORMATS.get(inner_suffix(path))
    if fmt is None:
        raise InputDataError([BadRecord(str(path), None, "unknown RDF format: set 'format' in the spec")])
    return fmt


def quads(path: Path, fmt: str, base_iri: str | None = None) -> Iterator[ox.Quad]:
    """Every quad of ``path`` (a streamed format), in file order.

    Args:
        path: The file (compressed or not).
        fmt: A key of :data:`STREAMED`.
        base_iri: Resolves relative IRIs (default: the file's own ``file:`` URI).

    Raises:
        InputDataError: At the first syntax error, naming the file and line.
    """
    with _Parse(path, fmt, base_iri) as parser:
        yield from parser


@dataclass(slots=True)
class Scan:
    """What a validating pass over a file learnt: its prefixes and the pairs of one predicate."""

    prefixes: dict[str, str] = field(default_factory=dict)
    pairs: list[tuple[str, str, str]] = field(default_factory=list)
    """(predicate, subject IRI, object IRI or literal text) of predicates with the local name asked for."""
    triples: int = 0


def scan(path: Path, fmt: str, local: str | None = None, *, base_iri: str | None = None) -> Scan:
    """Parse the whole file once, keeping its prefixes and the pairs of predicates ending in ``local``.

    (The spec names the predicate as a CURIE, which the file's prefixes, known
    only at the end, expand: the caller picks the right pairs then.)

    Raises:
        InputDataError: The file is not valid RDF in its format.
    """
    out = Scan()
    with _Parse(path, fmt, base_iri) as parser:
        for q in parser:
            out.triples += 1
            p = q.predicate.value
            if local is not None and p.endswith(local) and isinstance(q.subject, ox.NamedNode):
                obj = q.object
                if isinstance(obj, ox.NamedNode | ox.Literal):
                    out.pairs.append((p, q.subject.value, obj.value))
        if fmt in PREFIXED:
            out.prefixes = dict(parser.prefixes)
    return out


class _Parse:
    """A pyoxigraph parser over an opened (maybe decompressed) file that reports errors as kgrec's."""

    def __init__(self, path: Path, fmt: str, base_iri: str | None) -> None:
        self._path = path
        self._fmt = fmt
        self._base = base_iri or path.resolve().as_uri()
        self._file: Any = None
        self._parser: Any = None

    def __enter__(self) -> _Parse:
        self._file = open_binary(self._path)
        self._parser = ox.parse(self._file, format=STREAMED[self._fmt], base_iri=self._base)
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()

    @property
    def prefixes(self) -> dict[str, str]:
        """Prefixes declared so far."""
        return dict(self._parser.prefixes)

    def __iter__(self) -> Iterator[ox.Quad]:
        try:
            yield from self._parser
        except SyntaxError as e:
            raise syntax_error(self._path, self._fmt, e) from e
        except (OSError, EOFError, UnicodeDecodeError) as e:  # a truncated or corrupt compressed file
            raise InputDataError([BadRecord(str(self._path), None, f"cannot read {self._fmt} RDF: {e}")]) from e


def syntax_error(path: Path, fmt: str, e: SyntaxError) -> InputDataError:
    """pyoxigraph's error as ``file:line: invalid <fmt> RDF: <reason>``."""
    reason = _POSITION.sub("", " ".join(str(e.msg).split()))
    if e.offset:
        reason = f"column {e.offset}: {reason}"
    return InputDataError([BadRecord(str(path), e.lineno, f"invalid {fmt} RDF: {reason[:300]}")])
