from pathlib import Path

import pytest

from kgrec.errors import InputDataError
from kgrec.graph.batch import NodeKey
from kgrec.ingest import rdf as rdf_io
from kgrec.ingest.link import LinkMap
from kgrec.ingest.spec import Link, Rdf
from tests.conftest import write

TTL = """@prefix dbo: <http://dbpedia.org/ontology/> .
@prefix dbr: <http://dbpedia.org/resource/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

dbr:Toy_Story a dbo:Film ;
    rdfs:label "Toy Story"@en, "Toy Story (de)"@de ;
    dbo:director dbr:John_Lasseter ;
    dbo:budget "30000000"^^xsd:integer ;
    owl:sameAs <http://movielens.org/item/1> .
dbr:A_Bugs_Life a dbo:Film ; dbo:director dbr:John_Lasseter ; owl:sameAs <http://movielens.org/item/2> .
dbr:John_Lasseter a dbo:Person ; rdfs:label "John Lasseter"@en ; dbo:birthPlace dbr:Hollywood .
dbr:Hollywood dbo:thing [ rdfs:label "blank" ] .
"""

RDF = Rdf(
    file="kg.ttl",
    type_labels={"dbo:Film": "Film", "dbo:Person": "Person"},
    literals={"rdfs:label": "name"},
    predicates={"dbo:director": "DIRECTED_BY"},
    exclude_predicates=["owl:sameAs"],
)


def _by_key(content: rdf_io.RdfContent) -> dict:
    return {(g.key.label, r["key"]): (g.labels, r["props"]) for g in content.nodes for r in g.rows}


def test_entities_labels_literals_and_default_types(tmp_path: Path) -> None:
    g = rdf_io.parse(write(tmp_path / "kg.ttl", TTL), RDF)
    content = rdf_io.convert_graph(g, RDF, None)
    nodes = _by_key(content)
    toy = nodes[("Entity", "http://dbpedia.org/resource/Toy_Story")]
    assert toy == (("Film",), {"name": "Toy Story", "budget": 30000000})  # @de dropped, integer typed
    assert nodes[("Entity", "http://dbpedia.org/resource/John_Lasseter")][0] == ("Person",)
    types = {g.type for g in content.rels}
    assert types == {"DIRECTED_BY", "BIRTH_PLACE"}  # default: local name in UPPER_SNAKE
    assert content.skipped_blank == 2


def test_linked_entities_become_items_and_duplicates_share_facts(tmp_path: Path) -> None:
    g = rdf_io.parse(write(tmp_path / "kg.ttl", TTL), RDF)
    link = LinkMap(NodeKey("Item", "id"), "dbpedia_iri")
    link.add("http://dbpedia.org/resource/Toy_Story", 1)
    link.add("http://dbpedia.org/resource/Toy_Story", 101)  # listed twice in the catalogue
    content = rdf_io.convert_graph(g, RDF, link)
    nodes = _by_key(content)
    assert nodes[("Item", 1)][1]["name"] == nodes[("Item", 101)][1]["name"] == "Toy Story"
    directed = next(r for r in content.rels if r.type == "DIRECTED_BY" and r.start.label == "Item")
    assert sorted(r["start"] for r in directed.rows) == [1, 101]
    assert {r["end"] for r in directed.rows} == {"http://dbpedia.org/resource/John_Lasseter"}


def test_link_through_same_as_predicate(tmp_path: Path) -> None:
    g = rdf_io.parse(write(tmp_path / "kg.ttl", TTL), RDF)
    link = rdf_io.link_from_predicate(g, Link(predicate="owl:sameAs"))
    assert link.items_of("http://dbpedia.org/resource/A_Bugs_Life") == [2]


def test_batches_cover_every_row_once_and_resume(tmp_path: Path) -> None:
    g = rdf_io.parse(write(tmp_path / "kg.ttl", TTL), RDF)
    content = rdf_io.convert_graph(g, RDF, None)
    full = [len(b) for b, _ in content.batches(2)]
    assert sum(full) == content.rows
    resumed = list(content.batches(2, skip=3))
    assert sum(len(b) for b, _ in resumed) == content.rows - 3
    assert resumed[-1][1] == content.rows


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("bad.ttl", '@prefix ex: <http://e/> .\nex:a ex:b ex:c .\nex:a ex:b "unterminated .\n', 3),
        ("bad.nt", "<http://e/a> <http://e/b> <http://e/c> .\n<http://e/a> <http://e/b> .\n", 2),
    ],
)
def test_syntax_errors_name_file_and_line(tmp_path: Path, name: str, text: str, line: int) -> None:
    with pytest.raises(InputDataError) as e:
        rdf_io.parse(write(tmp_path / name, text), Rdf(file=name))
    bad = e.value.records[0]
    assert bad.file.endswith(name) and bad.line == line


def test_formats_from_suffix(tmp_path: Path) -> None:
    nt = write(
        tmp_path / "kg.nt",
        '<http://e/a> <http://e/knows> <http://e/b> .\n<http://e/a> <http://e/name> "A" .\n',
    )
    content = rdf_io.convert_graph(rdf_io.parse(nt, Rdf(file="kg.nt")), Rdf(file="kg.nt"), None)
    assert {g.type for g in content.rels} == {"KNOWS"}
    jsonld = write(tmp_path / "kg.jsonld", '{"@id": "http://e/a", "http://e/knows": {"@id": "http://e/b"}}')
    content = rdf_io.convert_graph(rdf_io.parse(jsonld, Rdf(file="kg.jsonld")), Rdf(file="kg.jsonld"), None)
    assert {g.type for g in content.rels} == {"KNOWS"}
