"""The ``kgrec ingest`` program: one-line errors, exit codes, and a real kill -9 mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kgrec.graph.store import GraphStore
from kgrec.settings import Settings
from tests.conftest import TEST_INSTANCE, write

pytestmark = pytest.mark.neo4j

SPEC = """
name = "big"
dataset = "big"
[[tables]]
file = "ratings.csv"
  [[tables.relationships]]
  type = "RATED"
  start = { label = "User", column = "user", type = "int", create = true }
  end = { label = "Item", column = "item", type = "int", create = true }
  properties = { rating = { column = "rating", type = "int" } }
"""


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update(
        KGREC_DATA_DIR=str(data_dir),
        KGREC_INSTANCE=TEST_INSTANCE["instance"],
        KGREC_BOLT_PORT=str(TEST_INSTANCE["bolt_port"]),
        KGREC_HTTP_PORT=str(TEST_INSTANCE["http_port"]),
    )
    return env


def _kgrec(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kgrec.cli.main", *args],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_malformed_file_exits_non_zero_with_file_line_and_reason(store: GraphStore, tmp_path: Path) -> None:
    write(tmp_path / "big" / "ratings.csv", "user,item,rating\n1,1,5\n2,2,five\n")
    spec = write(tmp_path / "big.toml", SPEC)
    result = _kgrec("ingest", "--no-progress", str(spec), data_dir=tmp_path)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("kgrec: error: ") and "ratings.csv:3: column 'rating': not an integer: 'five'" in last
    assert "Traceback" not in result.stderr
    assert store.counts().types == {}


def test_invalid_spec_exits_non_zero_naming_the_key(tmp_path: Path, neo4j_settings: Settings) -> None:
    spec = write(tmp_path / "bad.toml", SPEC.replace('type = "RATED"', 'type = "RATED; DROP"'))
    result = _kgrec("ingest", str(spec), data_dir=tmp_path)
    assert result.returncode == 1
    assert f"{spec}: tables.0.relationships.0.type: invalid relationship type" in result.stderr


def test_killed_run_completes_on_rerun_without_duplicates(store: GraphStore, tmp_path: Path) -> None:
    n = 60_000
    rows = "".join(f"{i % 997},{i % 1499},{i % 5 + 1}\n" for i in range(n))
    write(tmp_path / "big" / "ratings.csv", "user,item,rating\n" + rows)
    pairs = len({(i % 997, i % 1499) for i in range(n)})
    spec = write(tmp_path / "big.toml", SPEC)
    cmd = [
        sys.executable,
        "-m",
        "kgrec.cli.main",
        "ingest",
        "--no-progress",
        "--batch-size",
        "500",
        str(spec),
    ]
    proc = subprocess.Popen(cmd, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            cp = store.checkpoint("big/ratings.csv")
            if cp is not None and cp.records_done >= 5_000:
                break
            assert proc.poll() is None, "the run ended before it could be interrupted"
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    partial = store.counts().types.get("RATED", 0)
    assert 0 < partial < pairs
    result = _kgrec("ingest", "--no-progress", str(spec), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "resumed after" in result.stdout
    assert store.counts().types == {"RATED": pairs}
    dupes = store.query("MATCH (u:User)-[r:RATED]->(i:Item) WITH u, i, count(r) AS c WHERE c > 1 RETURN count(*) AS d")
    assert dupes == [{"d": 0}]
