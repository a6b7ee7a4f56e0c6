"""``kgrec ingest --dry-run``: every file of every spec checked, no database, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kgrec.ingest.check import validate_spec
from tests.conftest import write

RATINGS = """
name = "ratings"
dataset = "ds"
[link]
file = "links.csv"
header = false
columns = ["item", "iri"]
item_column = "item"
entity_column = "iri"
[[tables]]
file = "ratings.csv.gz"
  [[tables.relationships]]
  type = "RATED"
  start = { label = "User", column = "user", type = "int", create = true }
  end = { label = "Item", column = "item", type = "int", create = true }
  properties = { rating = { column = "rating", type = "int", required = true } }
"""

FACTS = """
name = "facts"
dataset = "ds"
[[rdf]]
file = "facts.ttl"
"""

GOOD_TTL = '@prefix ex: <http://ex.org/> .\nex:a ex:knows ex:b .\nex:a ex:name "A" .\n'


def _dataset(root: Path, ratings: str = "user,item,rating\n1,1,5\n1,2,4\n2,1,3\n") -> None:
    import gzip

    write(root / "ds" / "ratings.csv.gz", gzip.compress(ratings.encode()))
    write(root / "ds" / "links.csv", "1,http://ex.org/a\n2,http://ex.org/b\n")
    write(root / "ds" / "facts.ttl", GOOD_TTL)
    write(root / "ratings.toml", RATINGS)
    write(root / "facts.toml", FACTS)


def test_good_specs_report_their_records(tmp_path: Path) -> None:
    _dataset(tmp_path)
    ratings = validate_spec(tmp_path / "ratings.toml", tmp_path)
    assert ratings.as_dict() == {"spec": str(tmp_path / "ratings.toml"), "ok": True, "records": 2 + 3, "errors": []}
    facts = validate_spec(tmp_path / "facts.toml", tmp_path)
    assert facts.ok and facts.records == 2


def test_every_bad_record_of_every_file_is_reported(tmp_path: Path) -> None:
    _dataset(tmp_path, "user,item,rating\n1,1,5\nx,2,4\n2,1\n3,3,\n")
    write(tmp_path / "ds" / "links.csv", "1,http://ex.org/a\nabc,http://ex.org/b\n")
    check = validate_spec(tmp_path / "ratings.toml", tmp_path)
    ds = tmp_path / "ds"
    assert [str(b) for b in check.errors] == [
        f"{ds / 'links.csv'}:2: item key is not an integer: 'abc'",
        f"{ds / 'ratings.csv.gz'}:3: column 'user': not an integer: 'x'",
        f"{ds / 'ratings.csv.gz'}:4: expected 3 fields, found 2",
        f"{ds / 'ratings.csv.gz'}:5: missing required value in column 'rating'",
    ]
    assert not check.ok and check.records == 2 + 4


def test_file_level_faults_are_one_error_each(tmp_path: Path) -> None:
    _dataset(tmp_path)
    (tmp_path / "ds" / "links.csv").unlink()
    write(tmp_path / "ds" / "facts.ttl", GOOD_TTL + "ex:c ex:knows .\n")
    check = validate_spec(tmp_path / "ratings.toml", tmp_path)
    assert [str(b) for b in check.errors] == [f"{tmp_path / 'ds' / 'links.csv'}: no such file"]
    assert check.records == 3  # the table is still checked
    facts = validate_spec(tmp_path / "facts.toml", tmp_path)
    assert len(facts.errors) == 1 and facts.errors[0].file == str(tmp_path / "ds" / "facts.ttl")
    bad = write(tmp_path / "bad.toml", 'name = "bad"\n[[tables]]\nfile = "a.csv"\ndelimitr = ";"\n')
    spec_error = validate_spec(bad, tmp_path)
    assert [str(b) for b in spec_error.errors] == [
        f"{bad}: tables.0.delimitr: unknown key (valid: file, format, delimiter, header, columns, encoding, "
        "quotechar, comment, nodes, relationships)"
    ]


def _kgrec(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI with a database that cannot be reached: a dry run must not need one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "KGREC_"))}
    env.update(
        KGREC_DATA_DIR=str(tmp_path),
        KGREC_HOME=str(tmp_path / "home"),
        NEO4J_URI="bolt://127.0.0.1:9",
        NEO4J_USER="neo4j",
        NEO4J_PASSWORD="unused",
    )
    return subprocess.run(
        [sys.executable, "-m", "kgrec.cli.main", "ingest", "--dry-run", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_cli_text_continues_across_specs_and_exits_1(tmp_path: Path) -> None:
    _dataset(tmp_path, "user,item,rating\n1,1,five\n")
    before = _tree(tmp_path)
    result = _kgrec(tmp_path, "ratings.toml", "missing.toml", "facts.toml")
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        "ratings.toml: 3 records, 1 error(s)",  # link lines are records too: 2 + 1
        "missing.toml: 0 records, 1 error(s)",
        "facts.toml: 2 records, ok",
    ]
    assert f"{tmp_path / 'ds' / 'ratings.csv.gz'}:2: column 'rating': not an integer: 'five'" in result.stderr
    assert "missing.toml: no such spec file" in result.stderr
    assert _tree(tmp_path) == before


def test_cli_json_and_exit_0_when_all_good(tmp_path: Path) -> None:
    _dataset(tmp_path)
    result = _kgrec(tmp_path, "--json", "ratings.toml", "facts.toml")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"spec": "ratings.toml", "ok": True, "records": 5, "errors": []},
        {"spec": "facts.toml", "ok": True, "records": 2, "errors": []},
    ]
    write(tmp_path / "ds" / "links.csv", "1\n")
    failed = json.loads(_kgrec(tmp_path, "--json", "ratings.toml", "facts.toml").stdout)
    assert failed[0]["ok"] is False and failed[1]["ok"] is True
    assert failed[0]["errors"] == [
        {"file": str(tmp_path / "ds" / "links.csv"), "line": 1, "reason": "expected 2 fields, found 1"}
    ]
