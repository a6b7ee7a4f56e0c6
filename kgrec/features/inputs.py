"""Which input feeds each node's encoder: text joined from node properties (and neighbours', through
``related``), or one file per node key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgrec.features.related import related_parts
from kgrec.graph import cypher
from kgrec.graph.store import GraphStore
from kgrec.ingest.spec import Feature

PAGE = 10_000


@dataclass(frozen=True, slots=True)
class NodeInputs:
    """The nodes of one feature and the input each has (nodes without one are only counted).

    Attributes:
        total: Nodes of the label that have a key.
        inputs: Key -> text (``str``) or the file (``Path``) that feeds the encoder.
    """

    total: int
    inputs: dict[Any, str | Path]


def read_inputs(store: GraphStore, feature: Feature, root: Path) -> NodeInputs:
    """Collect the inputs of ``feature``'s nodes.

    Args:
        store: The graph holding the nodes (and, for text, their properties).
        feature: The spec entry.
        root: The spec's dataset folder (``files`` patterns are relative to it).
    """
    total, inputs = 0, {}
    for page in _pages(store, feature):
        total += len(page)
        related = [related_parts(store, feature, rel, [key for key, _ in page]) for rel in feature.related]
        for key, values in page:
            if feature.files is None:  # text: own values, then one part per related entry
                found: str | Path | None = _text([*values, *(r.get(key) for r in related)], feature.separator)
            else:
                found = _file(root, feature, key)
            if found is not None:
                inputs[key] = found
    return NodeInputs(total, inputs)


def load(source: str | Path) -> bytes | str:
    """The encoder input of a source: the text itself, or the file's bytes."""
    return source.read_bytes() if isinstance(source, Path) else source


def _pages(store: GraphStore, feature: Feature) -> Iterator[list[tuple[Any, list[Any]]]]:
    """The label's nodes in key order, a page at a time: (key, own property values)."""
    names = {"LABEL": feature.label, "KEY": feature.key}
    props = list(feature.properties)
    rows = store.read(cypher.render("features/inputs_first", names=names), props=props, limit=PAGE)
    while rows:
        yield [(r["key"], r["values"]) for r in rows]
        if len(rows) < PAGE:
            return
        after = rows[-1]["key"]
        rows = store.read(cypher.render("features/inputs_next", names=names), props=props, after=after, limit=PAGE)


def _text(values: list[Any], separator: str) -> str | None:
    parts = []
    for v in values:
        if isinstance(v, list):
            v = ", ".join(str(x) for x in v if x is not None)
        text = "" if v is None else str(v).strip()
        if text:
            parts.append(text)
    return separator.join(parts) or None


def _file(root: Path, feature: Feature, key: Any) -> Path | None:
    assert feature.files is not None
    path = (root / feature.files.format(**{feature.key: key})).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        return None
    return path
