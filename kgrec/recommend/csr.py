"""Small array helpers of the masking effects: CSR slices, sorted lookups, repeated-index sums."""

from __future__ import annotations

import numpy as np

__all__ = ["join", "lookup", "ranges", "runs", "scatter_add", "slices"]


def slices(ptr: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The entry numbers of ``nodes``' CSR rows, and the position in ``nodes`` each belongs to."""
    counts = ptr[nodes + 1] - ptr[nodes]
    return ranges(ptr[nodes], ptr[nodes + 1]), np.repeat(np.arange(len(nodes)), counts)


def ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``lo[0]..hi[0]-1, lo[1]..hi[1]-1, ...`` as one array."""
    counts = hi - lo
    return np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())


def lookup(sorted_nodes: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``nodes`` in ``sorted_nodes`` (unique) and whether each is there."""
    if not len(sorted_nodes):
        return np.zeros(len(nodes), dtype=np.int64), np.zeros(len(nodes), dtype=bool)
    at = np.searchsorted(sorted_nodes, nodes).clip(max=len(sorted_nodes) - 1)
    return at, sorted_nodes[at] == nodes


def join(sorted_keys: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``sorted_keys``, position in ``nodes``) for every key equal to one of ``nodes``; keys may
    repeat."""
    lo, hi = np.searchsorted(sorted_keys, nodes, "left"), np.searchsorted(sorted_keys, nodes, "right")
    return ranges(lo, hi), np.repeat(np.arange(len(nodes)), hi - lo)


def runs(keys: np.ndarray) -> np.ndarray:
    """Where each run of equal values of ``keys`` begins (``np.r_`` is slow on small arrays)."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))


def scatter_add(out: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """``out[index] += values`` where ``index`` may repeat (faster than ``np.add.at``)."""
    if not len(index):
        return
    order = np.argsort(index, kind="stable")
    index = index[order]
    first = runs(index)
    out[index[first]] += np.add.reduceat(values[order], first, axis=0)
