"""``kgrec features``: coverage report, JSON, one-line errors (fake encoders, real Neo4j)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import tests.features.fakes  # noqa: F401  (registers the fake encoders)
from kgrec.cli.main import cli
from kgrec.graph.store import GraphStore
from tests.conftest import TEST_INSTANCE, write
from tests.features.test_pipeline import SPEC, _setup

pytestmark = pytest.mark.neo4j


def _run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {
        "KGREC_INSTANCE": TEST_INSTANCE["instance"],
        "KGREC_BOLT_PORT": str(TEST_INSTANCE["bolt_port"]),
        "KGREC_HTTP_PORT": str(TEST_INSTANCE["http_port"]),
        "KGREC_DATA_DIR": str(tmp_path),
    }
    result = CliRunner().invoke(cli, ["features", "--cache-dir", str(tmp_path / "cache"), *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_prints_coverage_then_encodes_nothing_the_second_time(store: GraphStore, tmp_path: Path) -> None:
    spec = _setup(store, tmp_path)
    code, out, _ = _run(tmp_path, "--no-progress", str(spec))
    assert code == 0, out
    assert re.search(r"text +Item\.feat_text +3/4 \(75\.0%\) +fake-text +3 encoded, 0 cached", out)
    assert re.search(r"image +Item\.feat_image +3/4 \(75\.0%\)", out) and "item_feat_image, item_feat_text" in out
    assert len(list((tmp_path / "cache").glob("*.sqlite"))) == 2
    code, out, _ = _run(tmp_path, "--json", "--modality", "image", str(spec))
    [cov] = json.loads(out)
    assert code == 0
    assert (cov["modality"], cov["vectors"], cov["missing"], cov["computed"], cov["cached"]) == ("image", 3, 1, 0, 3)


def test_errors_are_one_line(store: GraphStore, tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.toml", SPEC.replace('"fake-image"', '"clip"'))
    code, _, err = _run(tmp_path, str(bad))
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"kgrec: error: {bad}: features.1: unknown encoder 'clip' (known: ")
