"""Column-wise conversion of string columns to typed values, with per-record errors."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

import pandas as pd

from kgrec.ingest.spec import Field_, Key

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_INT = re.compile(r"^[+-]?\d+$")


def convert(values: pd.Series, field: Field_ | Key) -> tuple[list[Any], list[str | None]]:
    """Convert a string column.

    Returns:
        The converted values (``None`` for empty) and, per record, an error
        message or ``None``.
    """
    fast = _fast_numbers(values, field)
    if fast is not None:
        return fast, [None] * len(fast)
    raw = values.fillna("").astype(str)
    pattern = getattr(field, "pattern", None)
    if pattern:
        raw = raw.str.extract(f"({pattern})" if re.compile(pattern).groups == 0 else pattern, expand=False)
        raw = raw.iloc[:, 0] if isinstance(raw, pd.DataFrame) else raw
        raw = raw.fillna("")
    kind = field.type
    if kind != "str":
        raw = raw.str.strip()
    if kind == "int":
        out, errs = _ints(raw)
    elif kind == "float":
        out, errs = _floats(raw)
    elif kind == "bool":
        out, errs = _bools(raw)
    elif kind in ("date", "datetime"):
        out, errs = _dates(raw, kind, getattr(field, "format", None))
    else:
        out = [v if v else None for v in raw.tolist()]
        errs = [None] * len(out)
    if isinstance(field, Key) and field.prefix:
        out = [None if v is None else f"{field.prefix}{v}" for v in out]
    if getattr(field, "required", False) or isinstance(field, Key):
        what = "key" if isinstance(field, Key) else "required value"
        errs = [e if e or v is not None else f"missing {what} in column {field.column!r}" for v, e in zip(out, errs)]
    return out, errs


def _fast_numbers(values: pd.Series, field: Field_ | Key) -> list[Any] | None:
    """Whole-column conversion when every value is a plain number (the common case), else ``None``.

    Accepts only what the per-value path accepts with the same result: ints made
    of ASCII digits alone, finite floats without ``_``, no empty value. Anything
    else (signs, blanks, spaces, bad values) goes the per-value way, which knows
    how to report it.
    """
    if field.type not in ("int", "float") or getattr(field, "pattern", None) or getattr(field, "prefix", None):
        return None
    vals = values.tolist()
    try:
        joined = "".join(vals)  # only strings join
    except TypeError:
        return None
    if not vals or "" in vals or not joined.isascii():
        return None
    if field.type == "int":
        return list(map(int, vals)) if joined.isdigit() else None
    if "_" in joined:
        return None
    try:
        out = list(map(float, vals))
    except ValueError:
        return None
    return out if all(map(math.isfinite, out)) else None


def _ints(raw: pd.Series) -> tuple[list[Any], list[str | None]]:
    out: list[Any] = []
    errs: list[str | None] = []
    for v in raw.tolist():
        if not v:
            out.append(None)
            errs.append(None)
        elif _INT.match(v):
            out.append(int(v))
            errs.append(None)
        else:
            out.append(None)
            errs.append(f"not an integer: {v!r}")
    return out, errs


def _floats(raw: pd.Series) -> tuple[list[Any], list[str | None]]:
    out: list[Any] = []
    errs: list[str | None] = []
    for v in raw.tolist():
        x = _float(v) if v else None
        out.append(x)
        errs.append(f"not a number: {v!r}" if v and x is None else None)
    return out, errs


def _float(v: str) -> float | None:
    try:
        x = float(v)
    except ValueError:
        return None
    return x if math.isfinite(x) and "_" not in v else None


def _bools(raw: pd.Series) -> tuple[list[Any], list[str | None]]:
    out: list[Any] = []
    errs: list[str | None] = []
    for v in raw.str.lower().tolist():
        out.append(True if v in _TRUE else False if v in _FALSE else None)
        errs.append(f"not a boolean: {v!r}" if v and out[-1] is None else None)
    return out, errs


def _dates(raw: pd.Series, kind: str, fmt: str | None) -> tuple[list[Any], list[str | None]]:
    out: list[Any] = []
    errs: list[str | None] = []
    for v in raw.tolist():
        if not v:
            out.append(None)
            errs.append(None)
            continue
        try:
            parsed = datetime.strptime(v, fmt) if fmt else datetime.fromisoformat(v)
        except ValueError:
            out.append(None)
            errs.append(f"not a {kind}{f' in format {fmt!r}' if fmt else ' (ISO 8601)'}: {v!r}")
            continue
        out.append(parsed.date() if kind == "date" else parsed)
        errs.append(None)
    return out, errs
