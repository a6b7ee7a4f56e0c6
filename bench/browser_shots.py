"""The documentation's Neo4j Browser pictures, taken again from a model: ``docs/img/browser-recommendations*.png``.

One command per picture, against the instance the usual environment names (``KGREC_INSTANCE``,
``KGREC_BOLT_PORT``, ``KGREC_HTTP_PORT``)::

    KGREC_INSTANCE=default KGREC_BOLT_PORT=7687 KGREC_HTTP_PORT=7474 \\
        python -m bench.browser_shots 1 -k 10 --model runs/kgrec --out docs/img/browser-recommendations.png

It does what a person does: ``kgrec recommend USER -k K --write --json`` (the CLI, which stores each
item's first reason on its RECOMMENDED relationship), then, in headless Chromium, logs in to Neo4j
Browser, applies the style file, turns "Connect result nodes" off (so the view holds the reasons and
nothing else: ``:config autoComplete: false``), sets ``:param user``, runs the shipped query
``cypher/browser/my_recommendations.cypher`` in the graph's names, maximises the result frame and
zooms to fit. Before saving the PNG it checks, as ``tests/browser`` does, that every node of each
item's first reason as the CLI printed it is drawn (by its caption) and every relationship type of
it is listed; otherwise it exits 1, naming the items, and writes nothing. It warns about first reasons
through a node the graph gives no name (drawn by its id, as the CLI words it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.chromium import Chromium, find_chromium
from bench.neo4j_browser import CAPTIONS, apply_style, login, run
from kgrec.graph import cypher
from kgrec.graph.answers import AnswerGraph
from kgrec.graph.store import GraphStore
from kgrec.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
_POSITIONS = "Array.from(document.querySelectorAll('svg.neod3viz g.node')).map(g => g.getAttribute('transform')).join()"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (``--help`` lists it)."""
    p = argparse.ArgumentParser(prog="python -m bench.browser_shots", description=__doc__.split("\n\n")[0])
    p.add_argument("user", help="the user whose recommendations are drawn (e.g. 1)")
    p.add_argument("-k", type=int, default=10, help="how many items (default: 10)")
    p.add_argument("--model", type=Path, required=True, help="trained bundle folder (kgrec train --out)")
    p.add_argument("--out", type=Path, required=True, help="the PNG to write (e.g. docs/img/...png)")
    p.add_argument(
        "--style", type=Path, default=REPO / "docs" / "browser-style.grass", help="Browser style (default: %(default)s)"
    )
    p.add_argument("--width", type=int, default=1600, help="viewport width in CSS pixels (default: 1600)")
    p.add_argument("--height", type=int, default=900, help="viewport height in CSS pixels (default: 900)")
    return p.parse_args(argv)


def recommend(user: str, k: int, model: Path) -> list[dict[str, Any]]:
    """``kgrec recommend USER -k K --write --json --model MODEL``, as printed by the CLI."""
    kgrec = Path(sys.executable).with_name("kgrec")
    args = [str(kgrec), "recommend", user, "-k", str(k), "--write", "--json", "--model", str(model)]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"browser_shots: kgrec recommend failed: {done.stderr.strip() or done.stdout.strip()}")
    return json.loads(done.stdout)


def browser_query(settings: Settings) -> str:
    """The shipped query in this graph's names, on one line (as ``--write`` prints it)."""
    with GraphStore.connect(settings) as store:
        return " ".join(cypher.render("browser/my_recommendations", names=AnswerGraph(store).names()).split())


def user_param(user: str) -> str:
    """``:param user => ...`` with the key typed as the CLI reads it (a number when it looks like one)."""
    return ":param user => " + json.dumps(int(user) if user.lstrip("-").isdigit() else user)


def draw(page: Chromium, settings: Settings, args: argparse.Namespace, count: int) -> tuple[str, str]:
    """Draw the user's recommendations full-frame; return the drawn captions and the overview's text."""
    page.viewport(args.width, args.height)
    login(page, settings)
    apply_style(page, args.style)
    run(page, ":config autoComplete: false")
    page.wait_for("document.body.innerText.includes('autoComplete')")
    run(page, user_param(args.user))
    page.wait_for("document.querySelector('[data-testid=rawParamData]')")
    run(page, browser_query(settings))
    page.wait_for(f"document.body.innerText.includes('RECOMMENDED ({count})')")
    page.js("document.querySelector('article[data-testid=frame] button[title=Fullscreen]').click()")
    settle(page)
    overview = page.js("document.querySelector('[data-testid=vizInspector]').innerText")
    page.js("document.querySelector('button[aria-label=zoom-to-fit]').click()")
    time.sleep(1.5)  # the zoom is animated
    return " ".join(c.strip() for c in page.js(CAPTIONS)), overview


def settle(page: Chromium, timeout: float = 30) -> None:
    """Wait until the force layout stops moving nodes (positions unchanged for a second)."""
    end, last = time.monotonic() + timeout, None
    while time.monotonic() < end:
        now = page.js(_POSITIONS)
        if now == last:
            return
        last = now
        time.sleep(1)


def not_drawn(recs: list[dict[str, Any]], captions: str, overview: str) -> list[str]:
    """Per item, what of its CLI first reason the view lacks: node names (by caption) and relationship types."""
    faults = []
    for r in recs:
        first = r["paths"][0] if r["paths"] else {"steps": [{}, {"name": r["title"]}]}
        lost = [s["name"] for s in first["steps"][1:] if s["name"][:8] not in captions]
        lost += [s["rel_type"] for s in first["steps"][:-1] if "rel_type" in s and f"{s['rel_type']} (" not in overview]
        if lost:
            faults.append(f"{r['rank']}. {r['title']} [{r['item']}]: not drawn: {', '.join(dict.fromkeys(lost))}")
    return faults


def unnamed(recs: list[dict[str, Any]]) -> list[str]:
    """Per item, the middle nodes of its first reason that the graph gives no name (read as their id:
    ``a person (m.04bpvh)``, ``m.02h40lc (no name in the graph)``): drawn, but unreadable in the picture."""
    notes = []
    for r in recs:
        for s in r["paths"][0]["steps"][1:-1] if r["paths"] else []:
            ident = str(s["key"]).rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
            if s["label"] != "User" and ident in s["name"] and s["name"] != ident:
                notes.append(f"{r['rank']}. {r['title']} [{r['item']}]: {s['name']}")
    return notes


def main(argv: list[str] | None = None) -> int:
    """Recommend, draw, check, save; 1 (and no file) when the view lacks part of a first reason."""
    args = parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("browser_shots: no Chromium installed (apt-get install -y chromium, or set KGREC_CHROMIUM)")
    recs = recommend(args.user, args.k, args.model)
    settings = load_settings()
    with Chromium(chromium) as page:
        captions, overview = draw(page, settings, args, len(recs))
        faults = not_drawn(recs, captions, overview)
        if faults:
            print("\n".join(["browser_shots: the view does not show the CLI's first reason of:", *faults]))
            return 1
        page.screenshot(args.out)
    print(f"{args.out}: user {args.user}, {len(recs)} items, each first reason drawn ({settings.instance})")
    for r in recs:
        print(f"  {r['rank']:>2}. {r['title']}: {r['paths'][0]['sentence'] if r['paths'] else '(no reason)'}")
    if notes := unnamed(recs):
        print("\n".join(["warning: first reasons through a node the graph does not name (shown by its id):", *notes]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
