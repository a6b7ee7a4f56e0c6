"""List-valued columns: one field holding several keys (``many = true`` or ``split = "|"`` on a key).

Real exports carry lists in one field: a JSON array (``"cast": ["Peter O'Toole", ...]``)
or a delimited cell (``"Rock|Pop|Indie"``). A key declared as a list gives one key per
element: elements are trimmed, empty ones and declared placeholders (``null_values``)
skipped, repeats within one record kept once, and with ``limit`` only the first ones
kept. Conversion to the key's type happens afterwards, element by element, in
:mod:`kgrec.ingest.mapping`.
"""

from __future__ import annotations

import fnmatch
import math
import re
from typing import Any

import pandas as pd

from kgrec.ingest.spec import Key

_SCALARS = (str, int, float, bool)


def split_column(values: pd.Series, key: Key) -> tuple[list[list[str]], list[str | None]]:
    """The text elements of each record of a list column.

    Args:
        values: The column as read (strings from delimited files; from JSON, the values
            as parsed: lists, strings, numbers, ``None``).
        key: The key declaring the list (``split``, ``limit``, ``null_values``).

    Returns:
        Per record, its elements (cleaned, in order) and an error (``None`` when fine).
    """
    placeholder = _placeholders(key.null_values)
    out: list[list[str]] = []
    errs: list[str | None] = []
    for v in values.tolist():
        items, err = _items(v, key)
        if err is not None:
            out.append([])
            errs.append(f"column {key.column!r}: {err}")
            continue
        kept = dict.fromkeys(x for x in (s.strip() for s in items) if x and not (placeholder and placeholder.match(x)))
        out.append(list(kept)[: key.limit])
        errs.append(None)
    return out, errs


def _items(v: Any, key: Key) -> tuple[list[str], str | None]:
    """The raw text elements of one value, or why it is not a list."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return [], None
    if isinstance(v, list):
        bad = next((i for i, x in enumerate(v, 1) if x is not None and not isinstance(x, _SCALARS)), None)
        if bad is not None:
            return [], f"element {bad} is {_kind(v[bad - 1])}, expected a single value"
        return [str(x) for x in v if x is not None], None
    if isinstance(v, str):
        return (v.split(key.split) if key.split is not None else [v]), None
    if key.split is None and isinstance(v, _SCALARS):
        return [str(v)], None
    what = f"text to split at {key.split!r}" if key.split is not None else "a single value"
    return [], f"expected a list or {what}, found {_kind(v)}"


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return f"a boolean ({str(v).lower()})"
    if isinstance(v, (int, float)):
        return f"a number ({v})"
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, list):
        return "a list"
    return type(v).__name__


def _placeholders(patterns: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(fnmatch.translate(p) for p in patterns)) if patterns else None


def scalar_problems(values: pd.Series, key: Key) -> list[str | None]:
    """Per record, why a single-key column's value cannot be a key: a JSON list or object (``None``: fine)."""
    hint = "declare 'many = true' (or 'split') on this key for one per element"
    return [
        f"column {key.column!r}: {_kind(v)} where one key is expected; {hint}" if isinstance(v, (list, dict)) else None
        for v in values.tolist()
    ]


__all__ = ["scalar_problems", "split_column"]
