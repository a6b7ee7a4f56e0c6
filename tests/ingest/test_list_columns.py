"""List-valued columns (``many = true``, ``split = "|"``): one relationship (or node) per element.

Unit tests read tiny files through the table reader and the mapping, with no database;
the tests marked ``neo4j`` load them into a real one (plain ingest, re-runs, a killed
load, ``--sync``). Expected relationships are written out by hand from the files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kgrec.errors import SpecError
from kgrec.graph.store import GraphStore
from kgrec.ingest.check import validate_spec
from kgrec.ingest.load import IngestOptions, Ingestor
from kgrec.ingest.mapping import map_chunk
from kgrec.ingest.spec import Key, Spec, Table, load_spec
from kgrec.ingest.sync import sync
from kgrec.ingest.tables import read_table
from tests.conftest import write
from tests.ingest.killed import FailingStore, Interrupt

FILMS_JSON = [
    {"id": 1, "cast": [" Ann ", "Bob", "", "Ann", None, "Cy"], "tags": "noir| heist ||noir", "score": "9"},
    {"id": 2, "cast": "Dee", "tags": ["noir"], "score": "7"},
    {"id": 3, "cast": [], "tags": None, "score": "5"},
    {"id": 4, "score": "6"},
]

SPEC = """
name = "films"
dataset = "ds"
[[tables]]
file = "films.json"
format = "json"
  [[tables.nodes]]
  label = "Item"
  key = { column = "id", type = "int" }
  [[tables.relationships]]
  type = "STARRING"
  start = { label = "Item", column = "id", type = "int" }
  end = { label = "Person", column = "cast", property = "name", create = true, many = true }
  properties = { score = { column = "score", type = "int" } }
  [[tables.relationships]]
  type = "TAGGED"
  start = { label = "Item", column = "id", type = "int" }
  end = { label = "Tag", column = "tags", property = "name", create = true, split = "|" }
  count = "times"
"""

STARRING = {(1, "Ann"), (1, "Bob"), (1, "Cy"), (2, "Dee")}
TAGGED = {(1, "noir"), (1, "heist"), (2, "noir")}


def _table(**end: Any) -> Table:
    return Table.model_validate(
        {
            "file": "f.json",
            "format": "json",
            "relationships": [
                {
                    "type": "T",
                    "start": {"label": "Item", "column": "id", "type": "int"},
                    "end": {"label": "Tag", "column": "v", "property": "name", "create": True, **end},
                }
            ],
        }
    )


def _map(path: Path, table: Table) -> tuple[dict[str, list[tuple[Any, Any]]], list[str]]:
    rels: dict[str, list[tuple[Any, Any]]] = {}
    reasons: list[str] = []
    for chunk in read_table(path, table):
        batch, bad = map_chunk(chunk.frame, table, path.name)
        for g in batch.rels:
            rows = [(r["start"], r["end"]) if isinstance(r, dict) else (r[0], r[1]) for r in g.rows]
            rels.setdefault(g.type, []).extend(rows)
        reasons += [f"{b.file}:{b.line}: {b.reason}" for b in chunk.bad + bad]
    return rels, reasons


def _json(path: Path, records: list[dict[str, Any]]) -> Path:
    return write(path, json.dumps(records))


# -- reading and mapping, no database ---------------------------------------------------------


def test_json_arrays_and_delimited_text_give_one_relationship_per_clean_element(tmp_path: Path) -> None:
    spec = Spec.model_validate({"name": "films", "tables": [_spec_table()]})
    rels, reasons = _map(_json(tmp_path / "films.json", FILMS_JSON), spec.tables[0])
    assert reasons == []
    # trimmed, empty and null elements skipped, "Ann" twice in record 1 once; a plain string is a list of one
    assert sorted(rels["STARRING"]) == sorted(STARRING)
    assert sorted(rels["TAGGED"]) == sorted(TAGGED)  # "noir| heist ||noir" split at "|"; a JSON array too


def test_a_delimited_csv_cell_with_a_longer_separator_and_int_keys(tmp_path: Path) -> None:
    table = Table.model_validate(
        {
            "file": "f.csv",
            "relationships": [
                {
                    "type": "SIMILAR",
                    "start": {"label": "Item", "column": "id", "type": "int"},
                    "end": {"label": "Item", "column": "similar", "type": "int", "split": "; "},
                }
            ],
        }
    )
    path = write(tmp_path / "f.csv", 'id,similar\n1,2; 3; 03\n2,"4; x"\n3,\n')
    rels, reasons = _map(path, table)
    assert sorted(rels["SIMILAR"]) == [(1, 2), (1, 3)]  # "3" and "03" are one key once converted
    assert reasons == ["f.csv:3: column 'similar': not an integer: 'x'"]  # the whole record rejected


def test_limit_keeps_the_first_elements_and_null_values_skip_placeholders(tmp_path: Path) -> None:
    table = _table(many=True, limit=2, null_values=["nan", "n/a*"])
    path = _json(
        tmp_path / "f.json", [{"id": 1, "v": ["nan", "a", "N/A", "n/a (none)", "b", "c"]}, {"id": 2, "v": "nan"}]
    )
    rels, reasons = _map(path, table)
    assert reasons == [] and rels["T"] == [(1, "a"), (1, "N/A")]  # placeholders match whole, case as written


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (42, "expected a list or text to split at '|', found a number (42)"),
        (True, "expected a list or text to split at '|', found a boolean (true)"),
        ({"a": 1}, "expected a list or text to split at '|', found an object"),
        (["a", ["b"]], "element 2 is a list, expected a single value"),
    ],
)
def test_a_split_column_holding_something_else_is_file_line_reason(tmp_path: Path, value: Any, reason: str) -> None:
    path = _json(tmp_path / "f.json", [{"id": 1, "v": "a|b"}, {"id": 2, "v": value}])
    rels, reasons = _map(path, _table(split="|"))
    assert rels["T"] == [(1, "a"), (1, "b")]
    assert reasons == [f"f.json:2: column 'v': {reason}"]


def test_a_list_in_a_single_key_column_is_an_error_naming_the_option(tmp_path: Path) -> None:
    path = _json(tmp_path / "f.json", [{"id": 1, "v": "a"}, {"id": 2, "v": ["a", "b"]}])
    rels, reasons = _map(path, _table())
    assert rels["T"] == [(1, "a")]
    assert reasons == [
        "f.json:2: column 'v': a list where one key is expected; "
        "declare 'many = true' (or 'split') on this key for one per element"
    ]


def test_a_node_key_list_makes_one_node_per_element(tmp_path: Path) -> None:
    table = Table.model_validate(
        {
            "file": "f.csv",
            "delimiter": "\t",
            "nodes": [
                {
                    "label": "Tag",
                    "key": {"column": "tags", "property": "name", "split": "|"},
                    "properties": {"kind": "kind"},
                }
            ],
        }
    )
    path = write(tmp_path / "f.csv", "tags\tkind\nRock|Pop|Rock\tgenre\n\tnone\n")
    chunk = next(iter(read_table(path, table)))
    batch, bad = map_chunk(chunk.frame, table, "f.csv")
    assert bad == []
    assert batch.nodes[0].rows == [
        {"key": "Rock", "props": {"kind": "genre"}},
        {"key": "Pop", "props": {"kind": "genre"}},
    ]


def test_spec_checks_of_the_list_options(tmp_path: Path) -> None:
    def spec(end: str, fmt: str = "json") -> Path:
        rel = 'type = "T"\n  start = { label = "Item", column = "id" }\n'
        rel += f'  end = {{ label = "Tag", column = "v", {end} }}'
        text = f'name = "x"\n[[tables]]\nfile = "f.{fmt}"\nformat = "{fmt}"\n  [[tables.relationships]]\n  {rel}\n'
        return write(tmp_path / "x.toml", text)

    with pytest.raises(SpecError, match=r"tables\.0\.relationships\.0\.end: 'limit' applies to list columns"):
        load_spec(spec("limit = 3"))
    with pytest.raises(SpecError, match=r"tables\.0: .*a list column of a delimited file needs 'split'"):
        load_spec(spec("many = true", "csv"))
    with pytest.raises(SpecError, match=r"end\.split: .*non-blank separator"):
        load_spec(spec('split = " "'))
    assert load_spec(spec('split = "|", limit = 2')).list_columns() == ["tables.0.relationships.0.end"]


def test_keys_without_list_options_dump_as_before() -> None:
    """Unit fingerprints hash the table's dump: specs without lists must not reload after an upgrade."""
    assert Key(column="id").model_dump() == {"column": "id", "property": "id", "type": "str", "prefix": ""}
    assert Key(column="v", split="|").model_dump()["split"] == "|"


def test_dry_run_reports_list_errors_and_counts_records(tmp_path: Path) -> None:
    films = [*FILMS_JSON, {"id": 5, "cast": ["Eve"], "tags": 7}]
    _json(tmp_path / "ds" / "films.json", films)
    check = validate_spec(write(tmp_path / "films.toml", SPEC), tmp_path)
    assert check.records == 5
    assert [(b.line, b.reason) for b in check.errors] == [
        (5, "column 'tags': expected a list or text to split at '|', found a number (7)")
    ]


def test_bulk_refuses_a_spec_with_list_columns_in_one_line(tmp_path: Path) -> None:
    _json(tmp_path / "ds" / "films.json", FILMS_JSON)
    write(tmp_path / "films.toml", SPEC)
    env = dict(os.environ, KGREC_DATA_DIR=str(tmp_path), KGREC_HOME=str(tmp_path / "home"))
    env.update(NEO4J_URI="bolt://127.0.0.1:9", NEO4J_USER="neo4j", NEO4J_PASSWORD="unused")
    result = subprocess.run(
        [sys.executable, "-m", "kgrec.cli.main", "ingest", "--bulk", "films.toml"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "kgrec: error: films.toml: tables.0.relationships.0.end: --bulk does not read list columns "
        "(many/split) yet; load this spec with a plain kgrec ingest"
    ]


def _spec_table() -> dict[str, Any]:
    import tomllib

    return tomllib.loads(SPEC)["tables"][0]


# -- against Neo4j ---------------------------------------------------------------------------


def _rels(store: GraphStore, rel_type: str, prop: str | None = None) -> dict[tuple[Any, Any], Any]:
    value = f"r.{prop}" if prop else "null"
    rows = store.query(f"MATCH (a:Item)-[r:{rel_type}]->(b) RETURN a.id AS a, b.name AS b, {value} AS v")
    return {(r["a"], r["b"]): r["v"] for r in rows}


def _dataset(root: Path, films: list[dict[str, Any]] = FILMS_JSON) -> Path:
    _json(root / "ds" / "films.json", films)
    return write(root / "films.toml", SPEC)


@pytest.mark.neo4j
def test_ingest_count_properties_and_idempotent_reruns(store: GraphStore, tmp_path: Path) -> None:
    films = [*FILMS_JSON, {"id": 5, "cast": ["Ann"], "tags": "noir|noir", "score": "8"}, {"id": 1, "tags": "noir"}]
    spec = _dataset(tmp_path, films)
    report = Ingestor(store, tmp_path, IngestOptions(batch_size=2)).run(spec)
    assert report.bad == []
    scores = _rels(store, "STARRING", "score")
    assert scores == {(1, "Ann"): 9, (1, "Bob"): 9, (1, "Cy"): 9, (2, "Dee"): 7, (5, "Ann"): 8}
    # count: records stating each relationship, a repeat inside one record once ("noir|noir")
    assert _rels(store, "TAGGED", "times") == {(1, "noir"): 2, (1, "heist"): 1, (2, "noir"): 1, (5, "noir"): 1}
    people = {r["n"] for r in store.query("MATCH (p:Person) RETURN p.name AS n")}
    assert people == {"Ann", "Bob", "Cy", "Dee"}  # created once each (create = true)
    before = store.counts()
    again = Ingestor(store, tmp_path, IngestOptions(force=True)).run(spec)
    assert sum(again.counts.rels_created.values()) == 0 and store.counts() == before
    assert _rels(store, "TAGGED", "times")[(1, "noir")] == 2


@pytest.mark.neo4j
def test_a_killed_load_is_completed_by_the_rerun(store: GraphStore, tmp_path: Path) -> None:
    spec = _dataset(tmp_path)
    dying = Ingestor(FailingStore(store, after=1), tmp_path, IngestOptions(batch_size=1))  # type: ignore[arg-type]
    with pytest.raises(Interrupt):
        dying.run(spec)
    report = Ingestor(store, tmp_path, IngestOptions(batch_size=1)).run(spec)
    assert any(u.resumed_from > 0 for u in report.units)
    assert set(_rels(store, "STARRING")) == STARRING and set(_rels(store, "TAGGED")) == TAGGED


@pytest.mark.neo4j
def test_sync_removes_an_element_the_source_no_longer_lists(store: GraphStore, tmp_path: Path) -> None:
    ingestor = Ingestor(store, tmp_path, IngestOptions())
    sync(store, ingestor, _dataset(tmp_path))
    edited = [dict(f) for f in FILMS_JSON]
    edited[0]["cast"] = ["Ann", "Cy", "Fay"]  # Bob dropped, Fay added
    edited[0]["tags"] = "heist"
    sync(store, ingestor, _dataset(tmp_path, edited))
    assert set(_rels(store, "STARRING")) == {(1, "Ann"), (1, "Cy"), (1, "Fay"), (2, "Dee")}
    assert set(_rels(store, "TAGGED")) == {(1, "heist"), (2, "noir")}
    assert {r["n"] for r in store.query("MATCH (p:Person) RETURN p.name AS n")} == {"Ann", "Cy", "Dee", "Fay"}
