"""The declared schema as the graph records it: one part per source, merged on read.

``kgrec ingest`` records each spec's ``[schema]`` (and the node keys its mappings
use) in an internal ``KgrecSchema`` node; export, training and answers read the
merged :class:`~kgrec.schema.GraphSchema` back, so nothing after ingestion needs
the spec files again.
"""

from __future__ import annotations

from kgrec.errors import ConfigError
from kgrec.graph.store import GraphStore
from kgrec.schema import GraphSchema, SchemaConflict, SchemaPart, merge


def check_part(store: GraphStore, part: SchemaPart) -> GraphSchema:
    """The schema the graph would have with ``part`` recorded (nothing is written).

    Raises:
        ConfigError: ``part`` contradicts another source's declarations.
    """
    parts = {s: SchemaPart.from_json(t) for s, t in store.declared().items()}
    parts[part.source] = part
    try:
        return merge(parts.values())
    except SchemaConflict as e:
        raise ConfigError(f"schema: {e}") from e


def record_part(store: GraphStore, part: SchemaPart) -> None:
    """Record ``part`` (replacing the same source's earlier one)."""
    store.declare(part.source, part.to_json())


def read_schema(store: GraphStore) -> GraphSchema:
    """The graph's merged schema.

    Raises:
        ConfigError: No source recorded one (the graph was loaded without ``kgrec ingest``,
            or by an older kgrec), or two sources contradict each other.
    """
    found = store.declared()
    if not found:
        raise ConfigError(
            "the graph has no declared schema: run `kgrec ingest SPEC...` with its spec files "
            "(up-to-date sources are not reloaded; the schema is recorded)"
        )
    try:
        return merge(SchemaPart.from_json(t) for t in found.values())
    except SchemaConflict as e:
        raise ConfigError(f"schema: {e}") from e
