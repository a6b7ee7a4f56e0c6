"""``kgrec recommend / explain / similar`` on the film world (text, JSON, --write, one-line errors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kgrec.cli.main import cli
from kgrec.graph.answers import AnswerGraph
from kgrec.settings import Settings

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def run(world_graph: AnswerGraph, world_bundle: tuple[Path, Path], neo4j_settings: Settings):  # noqa: ANN201
    env = {
        "KGREC_INSTANCE": neo4j_settings.instance,
        "KGREC_BOLT_PORT": str(neo4j_settings.bolt_port),
        "KGREC_HTTP_PORT": str(neo4j_settings.http_port),
        "KGREC_MODEL": str(world_bundle[0]),
    }

    def invoke(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, list(args), env=env)
        return result.exit_code, result.stdout, result.stderr

    return invoke


def test_recommend_prints_items_and_sentences_and_writes(run, world_graph: AnswerGraph) -> None:  # noqa: ANN001
    code, out, _ = run("recommend", "1", "-k", "3", "--write")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("  1. ") and any(line.strip().startswith("- You rated") for line in lines)
    assert ":param user => 1" in out and "RECOMMENDED" in lines[-1]
    assert [r["rank"] for r in world_graph.stored_recommendations([1])] == [1, 2, 3]


def test_json_outputs(run) -> None:  # noqa: ANN001
    code, out, _ = run("recommend", "2", "-k", "2", "--json", "--genre", "Animation")
    recs = json.loads(out)
    assert code == 0 and len(recs) == 2 and all(r["item"] < 200 for r in recs)
    code, out, _ = run("explain", "1", "102", "--json")
    assert code == 0 and json.loads(out)["title"] == "A Bug's Life (1998)"
    code, out, _ = run("similar", "101", "--modality", "text", "-k", "2", "--json")
    assert code == 0 and [s["rank"] for s in json.loads(out)] == [1, 2]
    code, out, _ = run("recommend", "--liked", "201", "--liked", "202", "-k", "2", "--json")
    assert code == 0 and len(json.loads(out)) == 2


def test_errors_are_one_line(run, tmp_path: Path) -> None:  # noqa: ANN001
    code, _, err = run("recommend", "999")
    assert code == 1 and err.strip() == "kgrec: error: user 999 is not in the graph"
    code, _, err = run("explain", "1", "102", "--model", str(tmp_path))
    assert code == 1 and "no trained model bundle" in err and len(err.strip().splitlines()) == 1
