"""Validation and quoting of the names that Cypher cannot take as parameters.

Labels, relationship types and property keys come from specs and RDF
predicates. They are checked here and backtick-quoted only by :func:`quote`, the
one place where a name enters a query text. Values never do: they are always
``$parameters``.
"""

from __future__ import annotations

import re

_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_REL_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_PROPERTY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _check(kind: str, pattern: re.Pattern[str], name: str) -> str:
    if not isinstance(name, str) or not pattern.match(name):
        raise ValueError(
            f"invalid {kind} {name!r}: use letters, digits and '_', starting with a letter, at most 64 chars"
        )
    return name


def check_label(name: str) -> str:
    """Return ``name`` if it is a valid node label, else raise ``ValueError``."""
    return _check("label", _LABEL, name)


def check_rel_type(name: str) -> str:
    """Return ``name`` if it is a valid relationship type, else raise ``ValueError``."""
    return _check("relationship type", _REL_TYPE, name)


def check_property(name: str) -> str:
    """Return ``name`` if it is a valid property key, else raise ``ValueError``."""
    return _check("property key", _PROPERTY, name)


def quote(name: str) -> str:
    """Backtick-quote a name that already passed one of the checks."""
    if "`" in name or not name:
        raise ValueError(f"refusing to quote {name!r}")
    return f"`{name}`"


def upper_snake(text: str) -> str:
    """Turn a local name such as ``film.film.directed_by`` or ``birthPlace`` into ``BIRTH_PLACE``."""
    return _snake(text).upper()


def lower_snake(text: str) -> str:
    """Turn a local name such as ``birthPlace`` into ``birth_place``."""
    return _snake(text).lower()


def _snake(text: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    s = re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_")
    if not s or not s[0].isalpha():
        s = "x_" + s
    return s[:64]
