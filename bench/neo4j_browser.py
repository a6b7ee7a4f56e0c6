"""Neo4j Browser driven as a person would, in headless Chromium (:mod:`bench.chromium`).

Log in, type a command into the editor and run it, read what the graph view drew. The Browser test
(``tests/browser``) and the documentation's screenshots (``bench/browser_shots.py``) share these steps.
The selectors are Neo4j Browser 5's ``data-testid`` attributes.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.chromium import Chromium
from kgrec.graph.server import read_password
from kgrec.settings import Settings

_SET = """(function (sel, v) {
  const e = document.querySelector(sel);
  const proto = e.tagName === 'SELECT' ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, 'value').set.call(e, v);
  e.dispatchEvent(new Event(e.tagName === 'SELECT' ? 'change' : 'input', {bubbles: true}));
  return true;
})"""
CAPTIONS = "Array.from(document.querySelectorAll('svg.neod3viz g.node text')).map(t => t.textContent)"
"""The captions of the nodes the graph view drew (one text element per caption line)."""


def set_value(page: Chromium, selector: str, value: str) -> None:
    """Set a React-controlled input or select as a person typing would."""
    page.js(f"{_SET}({json.dumps(selector)}, {json.dumps(value)})")


def login(page: Chromium, settings: Settings) -> None:
    """Open Browser on the instance of ``settings`` and log in as neo4j."""
    page.call("Page.enable")
    page.call(
        "Page.navigate",
        url=f"http://127.0.0.1:{settings.http_port}/browser/?dbms=bolt://127.0.0.1:{settings.bolt_port}",
    )
    page.wait_for("document.querySelector('select[data-testid=authenticationMethod]')")
    set_value(page, "select[data-testid=authenticationMethod]", "NO_AUTH")  # the form shows the password
    set_value(page, "select[data-testid=authenticationMethod]", "NATIVE")  # fields only after a change
    page.wait_for("document.querySelector('input[data-testid=password]')")
    set_value(page, "input[data-testid=username]", "neo4j")
    set_value(page, "input[data-testid=password]", read_password(settings))
    page.js("document.querySelector('button[data-testid=connect]').click()")
    page.wait_for("document.body.innerText.includes('You are connected as user neo4j')")


def run(page: Chromium, text: str) -> None:
    """Type ``text`` into the editor and run it."""
    page.js("document.querySelector('[data-testid=activeEditor] textarea').focus()")
    page.call("Input.insertText", text=text)
    page.js("document.querySelector('[data-testid=editor-Run]').click()")


def apply_style(page: Chromium, grass: Path) -> None:
    """Apply a ``.grass`` style file (``:style`` and its text, as pasting it would)."""
    run(page, ":style " + " ".join(grass.read_text(encoding="utf-8").split()))
    page.wait_for("document.body.innerText.includes('node.')")
