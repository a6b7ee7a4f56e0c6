"""Loads the Cypher statements kept as ``.cypher`` files under ``cypher/``.

A statement is named by its path without suffix (``"graph/merge_nodes"``).
Placeholders ``@NAME`` stand for labels, types, keys or fixed keywords; they are
filled only with names that passed :mod:`kgrec.graph.names` and are quoted here.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from kgrec.graph.names import quote

CYPHER_DIR = Path(__file__).resolve().parents[2] / "cypher"
_PLACEHOLDER = re.compile(r"@([A-Z][A-Z_]*)")
_KEYWORDS = {"MATCH", "MERGE", ""}


@cache
def statement(name: str) -> str:
    """Return the text of ``cypher/<name>.cypher`` without comment lines."""
    path = CYPHER_DIR / f"{name}.cypher"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise LookupError(f"no Cypher statement {name!r} (looked for {path})") from e
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//")).strip()


def render(name: str, *, names: dict[str, str] | None = None, raw: dict[str, str] | None = None) -> str:
    """Fill a statement's placeholders.

    Args:
        name: The statement's name.
        names: Placeholder -> checked label/type/key; each is backtick-quoted.
        raw: Placeholder -> a fixed keyword from a closed set (``MATCH``/``MERGE``)
            or a fragment built by this module's helpers.

    Raises:
        KeyError: A placeholder in the statement has no value.
    """
    values = {k: quote(v) for k, v in (names or {}).items()}
    for k, v in (raw or {}).items():
        if v not in _KEYWORDS and not v.startswith(("SET n:", "SET n.", "SET r.")):
            raise ValueError(f"placeholder {k} got a fragment kgrec did not build: {v!r}")
        values[k] = v
    text = statement(name)
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def set_props(var: str, names: list[str]) -> str:
    """``SET v.`a` = row.props.`a`, ...`` for checked property names (empty when none)."""
    if var not in ("n", "r"):
        raise ValueError(f"unexpected variable {var!r}")
    return "SET " + ", ".join(f"{var}.{quote(p)} = row.props.{quote(p)}" for p in names) if names else ""


def set_labels(labels: tuple[str, ...]) -> str:
    """The ``SET n:`A`:`B``` clause for extra labels (empty when there are none)."""
    return "SET n" + "".join(":" + quote(x) for x in labels) if labels else ""
