"""Types of values in ``neo4j-admin database import full`` files, and how each is written as text.

A column's header names one type (``long``, ``double``, ``boolean``, ``string``,
``date``, ``localdatetime``, ``datetime``, ``localtime``, ``time`` or an array of
one of these); :class:`Kinds` collects the types each property's values have.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

ARRAY_DELIMITER = "\x1f"
"""Between array elements (U+001F, the unit separator: not in ordinary text)."""
ARRAY_OPTION = "U+001F"

_SIMPLE = {bool: "boolean", int: "long", float: "double", str: "string", date: "date"}


def kind(v: Any) -> str | None:
    """The admin-import type of a value (``None`` for an empty list, which is not written)."""
    t = type(v)
    simple = _SIMPLE.get(t)
    if simple is not None:
        return simple
    if t is datetime:
        return "datetime" if v.tzinfo is not None else "localdatetime"
    if t is time:
        return "time" if v.tzinfo is not None else "localtime"
    if t is list:
        inner = {kind(x) for x in v}
        if not v:
            return None
        if len(inner) == 1 and not str(next(iter(inner))).endswith("[]"):
            return f"{inner.pop()}[]"
    raise ValueError(f"no admin-import type for the value {v!r}")


def kinds_of(values: Sequence[Any]) -> set[str]:
    """The types of the values that are written (``None`` and ``""`` are not)."""
    types = set(map(type, values)) - {type(None)}
    if str in types and "" in values:
        values = [v for v in values if v != ""]
        types = set(map(type, values)) - {type(None)}
    out = {_SIMPLE[t] for t in types if t in _SIMPLE}
    if len(out) < len(types):
        out |= {k for v in values if type(v) not in _SIMPLE and v is not None and (k := kind(v))}
    return out


@dataclass(frozen=True, slots=True)
class Same:
    """One value for every row of a column."""

    value: Any


@dataclass(slots=True)
class Kinds:
    """Property name -> types seen, per node space or relationship file."""

    props: dict[tuple[str, int], dict[str, set[str]]] = field(default_factory=dict)

    def see(self, where: tuple[str, int], columns: dict[str, Sequence[Any]]) -> None:
        """Take in property columns of one group (``where``: ``("n", space)`` or ``("r", file)``)."""
        mine = self.props.setdefault(where, {})
        for name, values in columns.items():
            mine.setdefault(name, set()).update(kinds_of(values))

    def mixed(self, where: tuple[str, int]) -> list[str]:
        """Properties with values of several types there."""
        return sorted(k for k, v in self.props.get(where, {}).items() if len(v) > 1)


def _text(v: Any) -> str:
    if type(v) is bool:
        return "true" if v else "false"
    if type(v) in (date, datetime, time):
        return v.isoformat()
    return str(v)


def _array(v: list[Any]) -> str | None:
    if not v:
        return None
    parts = [_text(x) for x in v]
    if any(ARRAY_DELIMITER in p for p in parts):
        raise ValueError(f"an array element holds U+001F, the array delimiter of the import: {v!r}")
    return ARRAY_DELIMITER.join(parts)


def converter(k: str) -> Callable[[Any], Any] | None:
    """How a value of type ``k`` is written (``None``: as the csv module writes it)."""
    if k in ("long", "double", "string"):
        return None
    return _array if k.endswith("[]") else _text
