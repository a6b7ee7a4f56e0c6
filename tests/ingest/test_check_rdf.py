"""``kgrec ingest --dry-run`` on RDF: the streaming reader of the ingest, in bounded memory."""

from __future__ import annotations

import gzip
import tracemalloc
from pathlib import Path

from kgrec.ingest import rdf as rdf_io
from kgrec.ingest.check import validate_spec
from kgrec.ingest.spec import Rdf
from tests.conftest import write

E = "http://ex.org/"
XSD_INT = "http://www.w3.org/2001/XMLSchema#integer"


def _triples(n: int) -> str:
    """``n`` N-Triples lines: per subject a name, a typed year and two links (scattered objects)."""
    lines = []
    for i in range(n):
        s, kind = i // 4, i % 4
        if kind == 0:
            lines.append(f'<{E}s{s}> <{E}name> "name {s}"@en .')
        elif kind == 1:
            lines.append(f'<{E}s{s}> <{E}year> "{1900 + s % 100}"^^<{XSD_INT}> .')
        else:
            lines.append(f"<{E}s{s}> <{E}knows> <{E}s{(s * 7 + kind) % (n // 4)}> .")
    return "\n".join(lines) + "\n"


def _spec(root: Path, file: str) -> Path:
    return write(root / f"{file}.toml", f'name = "kg"\ndataset = "ds"\n[[rdf]]\nfile = "{file}"\n')


def _peak(run: object) -> int:
    tracemalloc.start()
    try:
        run()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_large_file_is_checked_in_bounded_memory_to_its_bad_line(tmp_path: Path) -> None:
    lines = _triples(200_000).splitlines()
    lines[199_990] = f"<{E}a b> <{E}knows> <{E}c> ."  # a space inside an IRI, deep in the file
    path = write(tmp_path / "ds" / "big.nt", "\n".join(lines) + "\n")
    spec = _spec(tmp_path, "big.nt")

    found: list = []
    streamed = _peak(lambda: found.append(validate_spec(spec, tmp_path)))

    assert [str(b) for b in found[0].errors] == [f"{path}:199991: invalid nt RDF: column 1: Invalid IRI code point ' '"]
    # The whole-file parse of a hundredth of the file already takes more than the streaming check of all of it.
    small = write(tmp_path / "ds" / "small.nt", _triples(2_000))
    whole = _peak(lambda: rdf_io.parse(small, Rdf(file="small.nt")))
    assert streamed < whole / 4, (streamed, whole)
    assert streamed < 2 << 20


def test_counts_are_the_statements_the_ingest_reads(tmp_path: Path) -> None:
    twice = f'<{E}a> <{E}name> "A" .\n' * 2
    write(tmp_path / "ds" / "dup.nt.gz", gzip.compress((twice + f"<{E}a> <{E}knows> <{E}b> .\n").encode()))
    quads = f"<{E}a> <{E}knows> <{E}b> .\n<{E}a> <{E}knows> <{E}c> <{E}g1> .\n<{E}b> <{E}knows> <{E}c> <{E}g2> .\n"
    write(tmp_path / "ds" / "graphs.nq", quads)
    dup = validate_spec(_spec(tmp_path, "dup.nt.gz"), tmp_path)
    graphs = validate_spec(_spec(tmp_path, "graphs.nq"), tmp_path)
    assert (dup.ok, dup.records) == (True, 3)  # a repeated statement is read (and merged) twice
    assert (graphs.ok, graphs.records) == (True, 3)  # every graph's triples, as the ingest loads them


def test_turtle_with_prefixes_and_a_linking_predicate_is_streamed(tmp_path: Path) -> None:
    ttl = (
        "@prefix ex: <http://ex.org/> .\n@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        'ex:a owl:sameAs <http://items/7> ; ex:name "A" ; ex:knows ex:b .\n'
    )
    write(tmp_path / "ds" / "kg.ttl", ttl)
    spec = write(
        tmp_path / "kg.toml",
        'name = "kg"\ndataset = "ds"\n[[rdf]]\nfile = "kg.ttl"\n[rdf.predicates]\n"ex:knows" = "KNOWS"\n'
        '[link]\npredicate = "owl:sameAs"\nitem_pattern = "items/(\\\\d+)$"\n',
    )
    check = validate_spec(spec, tmp_path)
    assert (check.ok, check.records) == (True, 3)
    write(tmp_path / "ds" / "kg.ttl", ttl + "ex:c ex:knows .\n")
    bad = validate_spec(spec, tmp_path)
    assert [(b.line, b.reason.split(":")[0]) for b in bad.errors] == [(4, "invalid turtle RDF")]


def test_rdf_xml_stays_on_the_whole_file_reader(tmp_path: Path) -> None:
    xml = (
        '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:ex="http://ex.org/">\n<rdf:Description rdf:about="http://ex.org/a">\n'
        "<ex:name>A</ex:name><ex:name>A</ex:name>\n</rdf:Description>\n</rdf:RDF>\n"
    )
    write(tmp_path / "ds" / "kg.rdf", xml)
    check = validate_spec(_spec(tmp_path, "kg.rdf"), tmp_path)
    assert (check.ok, check.records) == (True, 1)  # rdflib's count: distinct triples
