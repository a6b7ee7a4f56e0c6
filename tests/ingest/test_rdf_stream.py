"""Streamed RDF: the same graph as the whole-file path, in bounded memory, from plain or compressed files."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from kgrec.errors import InputDataError
from kgrec.graph.batch import Batch, NodeKey
from kgrec.graph.store import GraphStore
from kgrec.ingest import rdf as rdf_io
from kgrec.ingest import rdf_partitions, rdf_stream
from kgrec.ingest.link import read_link_file
from kgrec.ingest.load import IngestOptions, Ingestor
from kgrec.ingest.spec import Link, Rdf, load_spec
from tests.conftest import REPO, write
from tests.ingest.killed import FailingStore, Interrupt
from tests.ingest.test_rdf import RDF, TTL

E = "http://e/"
# Subject a's facts are spread over the file: two names far apart, a type at the end.
SCATTERED = f"""<{E}a> <{E}name> "x" .
<{E}a> <{E}knows> <{E}b> .
<{E}b> <{E}name> "b" .
<{E}c> <{E}knows> <{E}a> .
<{E}b> <{E}age> "7"^^<http://www.w3.org/2001/XMLSchema#integer> .
<{E}c> <{E}name> "c"@en .
<{E}c> <{E}name> "c (fr)"@fr .
<{E}a> <{E}name> "y" .
<{E}a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{E}Film> .
<{E}a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{E}Work> .
<{E}a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{E}Thing> .
"""
NT = Rdf(file="kg.nt", type_labels={E + "Film": "Film"})


def _state(batches: Iterable[Batch]) -> tuple[dict[Any, Any], set[Any]]:
    """The graph that MERGE-ing these batches in order leaves (labels add up, SET overwrites)."""
    nodes: dict[Any, tuple[set[str], dict[str, Any]]] = {}
    rels = set()
    for b in batches:
        for g in b.nodes:
            for r in g.rows:
                labels, props = nodes.setdefault((g.key, r["key"]), (set(), {}))
                labels.update(g.labels)
                for k in {p for row in g.rows for p in row["props"]}:
                    if r["props"].get(k) is None:
                        props.pop(k, None)  # the group sets every name it has: null removes
                    else:
                        props[k] = r["props"][k]
        for g in b.rels:
            rels |= {(g.start, g.type, g.end, r["start"], r["end"]) for r in g.rows}
    return nodes, rels


def _streamed(path: Path, rdf: Rdf, size: int, link: Any = None, link_spec: Link | None = None) -> list[Batch]:
    source = rdf_stream.StreamSource.open(path, rdf_io.rdf_read.rdf_format(path, rdf.format), rdf, link_spec, link)
    return [b for b, _, _ in source.batches(size, 0, None)]


def _whole(path: Path, rdf: Rdf, link: Any = None) -> list[Batch]:
    return [b for b, _ in rdf_io.convert_graph(rdf_io.parse(path, rdf), rdf, link).batches(1000)]


@pytest.fixture
def tiny_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many partitions, flushed to disk every few facts: the large-file code path on a small file."""
    monkeypatch.setattr(rdf_partitions, "PARTITION_BYTES", 64)
    monkeypatch.setattr(rdf_partitions, "BUFFERED_FACTS", 2)


def test_scattered_subject_facts_are_combined(tmp_path: Path, tiny_partitions: None) -> None:
    path = write(tmp_path / "kg.nt", SCATTERED)
    nodes, rels = _state(_streamed(path, NT, size=2))
    entity = NodeKey("Entity", "iri")
    labels, props = nodes[(entity, E + "a")]
    assert labels == {"Film"}
    assert props == {"name": ["x", "y"], "rdf_types": [E + "Thing", E + "Work"]}
    assert nodes[(entity, E + "b")][1] == {"name": "b", "age": 7}
    assert nodes[(entity, E + "c")][1] == {"name": "c"}  # @fr dropped
    assert {(s, o) for _, t, _, s, o in rels if t == "KNOWS"} == {(E + "a", E + "b"), (E + "c", E + "a")}
    assert (nodes, rels) == _state(_whole(path, NT))


def test_turtle_with_links_matches_the_whole_file_path(tmp_path: Path, tiny_partitions: None) -> None:
    path = write(tmp_path / "kg.ttl", TTL)
    link_spec = Link(predicate="owl:sameAs")
    link = rdf_io.link_from_predicate(rdf_io.parse(path, RDF), link_spec)
    streamed = _streamed(path, RDF, size=3, link_spec=link_spec)
    assert _state(streamed) == _state(_whole(path, RDF, link))
    assert (NodeKey("Item", "id"), 1) in _state(streamed)[0]


def test_compressed_files_read_as_their_inner_format(tmp_path: Path) -> None:
    plain = write(tmp_path / "kg.nt", SCATTERED)
    packed = write(tmp_path / "dump.nt.gz", gzip.compress(SCATTERED.encode()))
    assert _state(_streamed(packed, Rdf(file="dump.nt.gz", type_labels=NT.type_labels), 4)) == _state(
        _streamed(plain, NT, 4)
    )


@pytest.mark.parametrize("name", ["bad.nt.gz", "bad.ttl"])
def test_syntax_error_in_a_stream_names_file_and_line(tmp_path: Path, name: str) -> None:
    text = SCATTERED + f"<{E}a> <{E}name> <{E}not an iri> .\n"
    data = gzip.compress(text.encode()) if name.endswith(".gz") else text.encode()
    path = write(tmp_path / name, data)
    with pytest.raises(InputDataError, match=rf"{name}:12: invalid (nt|turtle) RDF: .*IRI"):
        _streamed(path, Rdf(file=name), 2)


def test_resumed_batches_cover_the_rows_after_the_checkpoint(tmp_path: Path, tiny_partitions: None) -> None:
    path = write(tmp_path / "kg.nt", SCATTERED)
    source = rdf_stream.StreamSource.open(path, "nt", NT, None, None)
    full = list(source.batches(3, 0, None))
    total = full[-1][2]
    resumed = list(source.batches(3, 5, None))
    assert sum(len(part) for _, part, _ in resumed if part is not None) == total - 5
    assert [len(b) for b, _, _ in resumed] == [len(b) for b, _, _ in full]  # every batch still checked


@pytest.mark.realdata
def test_dbpedia_films_stream_equals_the_whole_file(data_dir: Path) -> None:
    spec = load_spec(REPO / "ingest" / "dbpedia-films.toml")
    assert spec.link is not None
    root = data_dir / spec.dataset
    rdf, link = spec.rdf[0], read_link_file(root / spec.link.file, spec.link)
    streamed = _state(_streamed(root / rdf.file, rdf, 5000, link=link))
    assert streamed == _state(_whole(root / rdf.file, rdf, link))
    assert len(streamed[1]) > 30_000


@pytest.mark.neo4j
def test_interrupted_streamed_load_resumes_to_the_same_graph(store: GraphStore, tmp_path: Path) -> None:
    write(tmp_path / "kg" / "kg.nt.gz", gzip.compress(SCATTERED.encode()))
    spec = write(
        tmp_path / "kg.toml",
        'name = "kg"\ndataset = "kg"\n[[rdf]]\nfile = "kg.nt.gz"\n  [rdf.type_labels]\n  "http://e/Film" = "Film"\n',
    )
    with pytest.raises(Interrupt):
        Ingestor(FailingStore(store, after=2), tmp_path, IngestOptions(batch_size=2)).run(spec)  # type: ignore[arg-type]
    report = Ingestor(store, tmp_path, IngestOptions(batch_size=2)).run(spec)
    assert report.units[0].resumed_from > 0
    got = store.query(
        "MATCH (n:Entity) RETURN n.iri AS iri, labels(n) AS labels, n.name AS name, n.rdf_types AS types ORDER BY iri"
    )
    assert got == [
        {"iri": E + "a", "labels": ["Entity", "Film"], "name": ["x", "y"], "types": [E + "Thing", E + "Work"]},
        {"iri": E + "b", "labels": ["Entity"], "name": "b", "types": None},
        {"iri": E + "c", "labels": ["Entity"], "name": "c", "types": None},
    ]
    assert store.counts().types == {"KNOWS": 2}


@pytest.mark.neo4j
def test_streamed_syntax_error_writes_nothing(store: GraphStore, tmp_path: Path) -> None:
    write(tmp_path / "kg" / "kg.nt", SCATTERED * 50 + f"<{E}a> <{E}b> .\n")
    spec = write(tmp_path / "kg.toml", 'name = "kg"\ndataset = "kg"\n[[rdf]]\nfile = "kg.nt"\n')
    with pytest.raises(InputDataError, match=r"kg.nt:551: invalid nt RDF"):
        Ingestor(store, tmp_path, IngestOptions(batch_size=5)).run(spec)
    assert store.counts().labels == {} and store.counts().types == {}
