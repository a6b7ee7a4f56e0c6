"""Text that follows a declared relationship: the neighbours' values a ``[[features]]`` entry's ``related`` asks for.

Each ``related`` entry (:class:`kgrec.ingest.related.Related`) becomes one part
of a node's text, after its own properties: the values of one property of its
neighbours through one relationship type, ranked and cut as declared, joined
by the entry's separator (``"synthpop, new wave, 80s"``). Names reach Cypher
through :func:`kgrec.graph.cypher.render`, every value as a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kgrec.errors import SpecError
from kgrec.graph import cypher
from kgrec.graph.store import GraphStore
from kgrec.ingest.related import Related
from kgrec.ingest.spec import Feature


def check_related(store: GraphStore, spec_path: Path | str, index: int, feature: Feature) -> None:
    """Check that the graph has every relationship type and property ``feature.related`` names.

    Args:
        store: The graph the features are read from.
        spec_path: The spec file (for the error).
        index: The entry's position among the spec's ``[[features]]`` (for the error).
        feature: The entry.

    Raises:
        SpecError: ``spec: features.0.related.1.type: unknown relationship type 'X' (the graph has: ...)``;
            likewise for a ``property`` no such neighbour has, an ``order`` no such relationship has.
    """
    if not feature.related:
        return
    types = [r["type"] for r in store.read(cypher.statement("graph/rel_types"))]
    for j, rel in enumerate(feature.related):
        where = f"features.{index}.related.{j}"
        if rel.type not in types:
            raise SpecError(spec_path, f"{where}.type", f"unknown relationship type {rel.type!r}{_has(types)}")
        names = {"LABEL": feature.label, "TYPE": rel.type, "PROP": rel.property}
        (found,) = store.read(cypher.render("features/related_exists", names=names), order=rel.order)
        if not found["valued"]:
            problem = f"no {rel.type} neighbour of {feature.label} nodes has {rel.property!r}"
            raise SpecError(spec_path, f"{where}.property", problem)
        if not found["ordered"]:
            raise SpecError(
                spec_path, f"{where}.order", f"no {rel.type} relationship of {feature.label} nodes has {rel.order!r}"
            )


def related_parts(store: GraphStore, feature: Feature, rel: Related, keys: Sequence[Any]) -> dict[Any, str]:
    """Key -> the text part ``rel`` gives each node of ``keys`` (nodes without neighbour values have none).

    Values are read in the declared order, at most ``rel.limit`` neighbours;
    a list value is spread, repeated values are kept once.
    """
    names = {"LABEL": feature.label, "KEY": feature.key, "TYPE": rel.type, "PROP": rel.property}
    rows = store.read(
        cypher.render("features/related_values", names=names),
        keys=list(keys),
        direction=rel.direction,
        order=rel.order,
        ascending=rel.ascending,
        limit=rel.limit,
    )
    parts = {}
    for row in rows:
        text = rel.separator.join(_distinct(row["values"]))
        if text:
            parts[row["key"]] = text
    return parts


def _distinct(values: list[Any]) -> list[str]:
    """The non-empty texts of ``values`` (lists spread), each once, in order."""
    flat = (x for v in values for x in (v if isinstance(v, list) else [v]))
    texts = (str(x).strip() for x in flat if x is not None)
    return list(dict.fromkeys(t for t in texts if t))


def _has(types: list[str]) -> str:
    shown = ", ".join(types[:30]) + (", ..." if len(types) > 30 else "")
    return f" (the graph has: {shown})" if types else " (the graph has no relationships)"


__all__ = ["check_related", "related_parts"]
