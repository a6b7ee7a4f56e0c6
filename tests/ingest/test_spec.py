from pathlib import Path

import pytest

from kgrec.errors import SpecError
from kgrec.ingest.spec import load_spec
from tests.conftest import REPO, write

GOOD = """
name = "tiny"
[[tables]]
file = "users.csv"
  [[tables.nodes]]
  label = "User"
  key = { column = "id", type = "int" }
  properties = { name = "name" }
"""


def test_shipped_specs_are_valid() -> None:
    specs = sorted((REPO / "ingest").glob("*.toml"))
    assert {p.stem for p in specs} >= {"movielens-100k", "dbpedia-films", "freebase", "imdb-details"}
    for p in specs:
        assert load_spec(p).name


def test_a_good_spec_loads(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path / "s.toml", GOOD))
    assert spec.tables[0].nodes[0].properties["name"].column == "name"


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path / "s.toml", GOOD.replace('label = "User"', 'label = "User"\n  lable = "x"'))
    with pytest.raises(SpecError) as e:
        load_spec(path)
    assert e.value.key == "tables.0.nodes.0.lable"
    assert str(path) in str(e.value) and "unknown key" in str(e.value)


@pytest.mark.parametrize("label", ["User Name", "User`) DETACH DELETE n //", "9Lives"])
def test_invalid_label_names_file_and_key(tmp_path: Path, label: str) -> None:
    path = write(tmp_path / "s.toml", GOOD.replace('"User"', repr(label).replace("'", '"')))
    with pytest.raises(SpecError) as e:
        load_spec(path)
    assert e.value.key == "tables.0.nodes.0.label"
    assert "invalid label" in str(e.value)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(write(tmp_path / "bad.toml", "name = \n"))
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec(tmp_path / "absent.toml")


def test_relationship_needs_exactly_one_type(tmp_path: Path) -> None:
    text = (
        GOOD
        + """
  [[tables.relationships]]
  start = { label = "User", column = "id" }
  end = { label = "User", column = "id" }
"""
    )
    with pytest.raises(SpecError, match="exactly one of 'type' or 'type_column'"):
        load_spec(write(tmp_path / "s.toml", text))


def test_delimiter_must_be_one_character(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as e:
        load_spec(
            write(tmp_path / "s.toml", GOOD.replace('file = "users.csv"', 'file = "users.csv"\ndelimiter = "::"'))
        )
    assert e.value.key == "tables.0.delimiter" and "exactly one character" in str(e.value)
