"""The snapshot kgrec trains on: which properties and vectors the learning side gets."""

from __future__ import annotations

from kgrec.graph import cypher
from kgrec.graph.export import DEFAULT_KEYS, ProgressFactory, export_snapshot
from kgrec.graph.store import GraphStore
from kgrec.snapshot import GraphSnapshot

MODALITIES = ("text", "image", "audio")
"""Item modalities whose vectors (``Item.feat_<modality>``) are exported when present."""

ANSWER_TYPES = ("RECOMMENDED",)
"""kgrec's own answers in the graph: never training data (that would leak the model's output into its input)."""


def export_training_snapshot(store: GraphStore, *, progress: ProgressFactory | None = None) -> GraphSnapshot:
    """Export users, items, entities and genres, ratings with value and time, item titles and feature vectors."""
    present = {r["property"] for r in store.query(cypher.statement("graph/item_vector_properties"))}
    vectors = [f"feat_{m}" for m in MODALITIES if f"feat_{m}" in present]
    return export_snapshot(
        store,
        DEFAULT_KEYS,
        node_props={"Item": ["title"]},
        edge_props={"RATED": ["rating", "timestamp"]},
        vectors={"Item": vectors} if vectors else None,
        exclude_types=ANSWER_TYPES,
        progress=progress,
    )
