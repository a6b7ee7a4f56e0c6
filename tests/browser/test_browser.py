"""Neo4j Browser, for real: headless Chromium logs in, styles the graph, runs a shipped query, renders it.

The query is the one ``kgrec recommend USER --write`` prints: it draws each item's first reason
as the CLI printed it. Skips with a reason when no Chromium is installed (``make test`` installs it where it can:
``apt-get install -y chromium``). The screenshot goes to the test's temporary folder, or to
``$KGREC_BROWSER_SCREENSHOT`` when set.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.chromium import Chromium, find_chromium
from bench.neo4j_browser import login, run
from kgrec.cli.main import cli
from kgrec.graph import cypher
from kgrec.graph.answers import AnswerGraph
from kgrec.graph.store import GraphStore
from kgrec.settings import Settings
from tests.twotastes import load_world

pytestmark = pytest.mark.neo4j
STYLE = Path(__file__).resolve().parents[2] / "docs" / "browser-style.grass"


@pytest.fixture
def chromium() -> str:
    found = find_chromium()
    if found is None:
        pytest.skip("no Chromium installed (apt-get install -y chromium, or set KGREC_CHROMIUM)")
    return found


def test_browser_draws_the_first_reason_the_cli_prints(
    chromium: str, neo4j_settings: Settings, world_bundle: tuple[Path, Path], tmp_path: Path
) -> None:
    """``kgrec recommend 1 --write`` stores each item's first reason; the query it prints (in the graph's
    names) draws exactly that path in Neo4j Browser."""
    with GraphStore.connect(neo4j_settings) as store:
        store.delete_all()
        load_world(store)
    env = {
        "KGREC_INSTANCE": neo4j_settings.instance,
        "KGREC_BOLT_PORT": str(neo4j_settings.bolt_port),
        "KGREC_HTTP_PORT": str(neo4j_settings.http_port),
        "KGREC_MODEL": str(world_bundle[0]),
    }
    printed = CliRunner().invoke(cli, ["recommend", "1", "-k", "3", "--write", "--json"], env=env)
    assert printed.exit_code == 0, printed.output
    first = json.loads(printed.stdout)[0]["paths"][0]
    with GraphStore.connect(neo4j_settings) as store:
        query = " ".join(cypher.render("browser/my_recommendations", names=AnswerGraph(store).names()).split())
    shot = Path(os.environ.get("KGREC_BROWSER_SCREENSHOT", tmp_path / "browser.png"))
    with Chromium(chromium) as page:
        login(page, neo4j_settings)
        run(page, ":style " + " ".join(STYLE.read_text(encoding="utf-8").split()))
        page.wait_for("document.body.innerText.includes('node.Item')")
        run(page, ":param user => 1")
        page.wait_for("document.body.innerText.includes('\"user\": 1')")
        run(page, query)
        page.wait_for("document.querySelectorAll('svg.neod3viz g.node').length >= 4")
        page.wait_for("document.body.innerText.includes('RECOMMENDED (3)')")
        captions = page.js("Array.from(document.querySelectorAll('svg.neod3viz g.node text')).map(t => t.textContent)")
        overview = page.js("document.body.innerText")  # the result's relationship types, listed
        page.screenshot(shot)
    shown = " ".join(c.strip() for c in captions)
    for step in first["steps"][1:]:  # every node of the CLI's first reason is drawn, by its caption
        assert step["name"][:8] in shown, (step["name"], captions)
    assert all(f"{s['rel_type']} (" in overview for s in first["steps"][:-1]), overview
    assert "user 1" in [c.strip() for c in captions], captions  # the style file's caption
    assert shot.stat().st_size > 10_000
