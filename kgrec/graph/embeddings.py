"""Learned embeddings back into the graph: one vector property and one vector index per node type.

After training, ``User.embedding`` and ``Item.embedding`` hold the model's final
vectors, with cosine vector indexes ``user_embedding`` and ``item_embedding``,
so "items whose learned representation is closest to this one" is a Cypher
query (``cypher/browser/similar_items_learned.cypher``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from kgrec.errors import NotTrainedError
from kgrec.graph.declared import read_schema
from kgrec.graph.names import lower_snake
from kgrec.graph.store import GraphStore

EMBEDDING_PROPERTY = "embedding"


@dataclass(frozen=True, slots=True)
class WrittenEmbeddings:
    """What :func:`write_embeddings` stored for one node type."""

    label: str
    written: int
    total: int
    dim: int
    index: str


def write_embeddings(
    store: GraphStore,
    label: str,
    key: str,
    keys: np.ndarray,
    vectors: np.ndarray,
    *,
    prop: str = EMBEDDING_PROPERTY,
    batch_size: int = 2000,
    progress: Callable[[int], object] | None = None,
) -> WrittenEmbeddings:
    """Store ``vectors[i]`` on the ``label`` node whose ``key`` is ``keys[i]`` and index them.

    Args:
        store: The graph.
        label: Node label (``User``, ``Item``).
        key: Its key property (``id``).
        keys: Node keys, aligned with ``vectors``.
        vectors: ``(N, d)`` float vectors.
        prop: Vector property name (default: ``embedding``).
        batch_size: Nodes per write transaction (default: ``2000``).
        progress: Called with the number of nodes written after each batch.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    written = 0
    for start in range(0, len(keys), batch_size):
        rows = [(_plain(k), v.tolist()) for k, v in zip(keys[start : start + batch_size], vectors[start:])]
        written += store.set_vectors(label, key, prop, rows)
        if progress:
            progress(len(rows))
    index = f"{lower_snake(label)}_{prop}"
    store.ensure_vector_index(index, label, prop, int(vectors.shape[1]))
    return WrittenEmbeddings(label, written, len(keys), int(vectors.shape[1]), index)


class Bar(Protocol):
    """What writing needs from a progress bar (tqdm fits)."""

    def update(self, n: int) -> object: ...
    def close(self) -> None: ...


def write_bundle_embeddings(
    store: GraphStore, bundle: Path, *, progress: Callable[[str, int], Bar] | None = None
) -> list[WrittenEmbeddings]:
    """Store a trained bundle's user and item vectors (its ``embeddings.npz``) in the graph.

    Args:
        store: The graph the bundle was trained on.
        bundle: The bundle folder.
        progress: Makes a bar from a description and a total (default: none).

    Raises:
        NotTrainedError: The bundle has no vectors (popularity, or no bundle there).
    """
    path = bundle / "embeddings.npz"
    if not path.exists():
        raise NotTrainedError(f"{bundle}: this model has no embeddings to write (popularity, or not trained?)")
    schema = read_schema(store)
    done = []
    with np.load(path, allow_pickle=False) as emb:
        for label in (schema.users, schema.items):
            keys, vectors = emb[f"{label}.keys"], emb[f"{label}.vectors"]
            bar = progress(f"embeddings {label}", len(keys)) if progress else None
            done.append(
                write_embeddings(store, label, schema.keys[label], keys, vectors, progress=bar.update if bar else None)
            )
            if bar:
                bar.close()
    return done


def _plain(key: object) -> object:
    return key.item() if isinstance(key, np.generic) else key
