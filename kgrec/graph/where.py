"""``--where KEY=VALUE`` filters on any related node, resolved through the declared schema.

A key names a node label (``Genre``), its declared noun (``genre``) or a knowledge
relationship type (``HAS_TAG``), case-insensitive. A value is the name or key of
such a node, case-insensitive. A condition resolves to the element ids of the
nodes it means (and, for a relationship type, that type); an item meets it when
it is linked to one of them, one hop away, in either direction. An unknown key or a
value no such node has is a :class:`~kgrec.errors.ConfigError` (one line), never an
empty answer.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kgrec.errors import ConfigError
from kgrec.graph.names import check_label, check_property
from kgrec.schema import GraphSchema

if TYPE_CHECKING:
    from kgrec.graph.answers import AnswerGraph

MOST_NODES = 1_000_000
"""Most nodes one condition may mean."""


@dataclass(frozen=True, slots=True)
class _Kind:
    """What a key means: nodes of ``label`` (``types`` None), or nodes linked to items over ``types``."""

    label: str
    types: tuple[str, ...] | None
    props: tuple[str, ...]
    word: bool = True
    """A label or a noun (listed first in errors), not a relationship type's name."""


def where_keys(schema: GraphSchema, rel_types: Iterable[str]) -> dict[str, _Kind]:
    """Lower-case key -> its meaning: node labels (users and items aside), their nouns, knowledge types."""
    out: dict[str, _Kind] = {}
    for label, key in schema.node_types().items():
        if label in (schema.users, schema.items):
            continue
        kind = _Kind(label, None, _props(schema, label, key))
        out.setdefault(label.lower(), kind)
        out.setdefault(schema.noun(label).lower(), kind)
    knowledge = [t for t in sorted(rel_types) if schema.role(t) == "knowledge"]
    props = ("name", "title", *schema.keys.values())
    nouns: dict[str, list[str]] = {}
    for t in knowledge:
        decl = schema.relationships.get(t)
        if decl and decl.noun:
            nouns.setdefault(decl.noun.lower(), []).append(t)
    for noun, types in nouns.items():
        kind = _Kind(schema.items, tuple(types), props)
        out.setdefault(noun, kind)
        out.setdefault(noun.replace(" ", "_"), kind)
    for t in knowledge:
        out.setdefault(t.lower(), _Kind(schema.items, (t,), props, False))
    return out


def _valid(keys: dict[str, _Kind], shown: int = 12) -> str:
    """The valid keys, words before relationship types, at most ``shown`` of the types."""
    words = sorted(k for k, kind in keys.items() if kind.word and not ("_" in k and k.replace("_", " ") in keys))
    types = sorted(k for k, kind in keys.items() if not kind.word)
    more = f" and {len(types) - shown} more relationship types" if len(types) > shown else ""
    return ", ".join(words + types[:shown]) + more if keys else "none: the graph has no nodes to filter on"


def resolve_where(graph: AnswerGraph, conditions: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """Each ``(key, value)`` as ``{"types": [...] or None, "nodes": [element ids]}``.

    Raises:
        ConfigError: An unknown key (the message lists the valid ones), or a value no node of
            that kind has (the message names the closest ones).
    """
    schema = graph.schema()
    keys = where_keys(schema, graph.rel_types())
    out = []
    for key, value in conditions:
        kind = keys.get(key.strip().lower())
        if kind is None:
            raise ConfigError(f"--where {key}=...: unknown key {key!r}; valid keys: {_valid(keys)}")
        nodes = [r["node"] for r in _lookup(graph, kind, value.strip().lower())]
        if not nodes:
            raise ConfigError(f"--where {key}={value}: no {key} is called {value!r}{_closest(graph, kind, value)}")
        out.append({"types": None if kind.types is None else list(kind.types), "nodes": sorted(set(nodes))})
    return out


def parse_where(pairs: tuple[str, ...] | list[str]) -> tuple[tuple[str, str], ...]:
    """``("genre=Rock", ...)`` -> ``(("genre", "Rock"), ...)``.

    Raises:
        ConfigError: A pair without ``=`` or with an empty key or value.
    """
    out = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(f"--where {pair}: use KEY=VALUE, e.g. genre=Rock")
        out.append((key.strip(), value.strip()))
    return tuple(out)


def _props(schema: GraphSchema, label: str, key: str) -> tuple[str, ...]:
    declared = schema.node(label).name
    return tuple(dict.fromkeys(p for p in (declared, "name", "title", key) if p))


def _lookup(graph: AnswerGraph, kind: _Kind, value: str | None, limit: int = MOST_NODES) -> list[dict[str, Any]]:
    return graph.rows(
        "recommend/where_nodes",
        {"LABEL": check_label(kind.label)},
        types=None if kind.types is None else list(kind.types),
        props=[check_property(p) for p in kind.props],
        value=value,
        limit=limit,
    )


def _closest(graph: AnswerGraph, kind: _Kind, value: str) -> str:
    names = sorted({str(r["name"]) for r in _lookup(graph, kind, None, 20_000)})
    if not names:
        return " (there are none)"
    by_lower = {n.lower(): n for n in names}
    near = [by_lower[n] for n in difflib.get_close_matches(value.lower(), list(by_lower), n=3, cutoff=0.6)]
    return f"; closest: {', '.join(near)}" if near else ""
