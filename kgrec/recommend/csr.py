"""Small array helpers of the masking effects: CSR slices, sorted lookups, repeated-index sums."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

__all__ = ["BySender", "group", "join", "lookup", "ranges", "runs", "scatter_add", "slices", "sum_by_key"]


def group(rows: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR over ``n`` rows of entries given by their row: the order that groups the entries by row (each
    group in entry order) and the row pointers (``n + 1``)."""
    order = np.argsort(rows, kind="stable")
    return order, np.searchsorted(rows[order], np.arange(n + 1))


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


DENSE = 1 << 22
"""Largest key space :func:`sum_by_key` counts in a dense table (else it sorts the keys)."""


def sum_by_key(keys: np.ndarray, weights: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``keys`` (sorted; each in ``0..space-1``) and the sum of the ``weights`` of each, added
    in array order."""
    if space > DENSE:
        found, inverse = np.unique(keys, return_inverse=True)
        return found, np.bincount(inverse, weights=weights, minlength=len(found))
    found = np.flatnonzero(np.bincount(keys, minlength=space))
    return found, np.bincount(keys, weights=weights, minlength=space)[found]


def scatter_add(out: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """``out[index] += values`` where ``index`` may repeat (faster than ``np.add.at``)."""
    if not len(index):
        return
    order = np.argsort(index, kind="stable")
    index = index[order]
    first = runs(index)
    out[index[first]] += np.add.reduceat(values[order], first, axis=0)


class BySender:
    """The entries of CSR rows grouped by their sender, made on demand and kept for the rows asked for
    last (``budget`` entries in all, the least recently asked row dropped first): a popular item's
    hundreds of thousands of incoming edges are sorted once, and each later question about a few of its
    senders costs a binary search.

    Args:
        ptr: Row pointers.
        src: Each entry's sender.
        budget: Entries kept, at most (default: ``4_000_000``; a row larger than that is made and not kept).
    """

    def __init__(self, ptr: np.ndarray, src: np.ndarray, budget: int = 4_000_000) -> None:
        self.ptr, self.src, self.budget = ptr, src, budget
        self._rows: OrderedDict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = OrderedDict()
        self._kept = 0
        self._lock = threading.Lock()  # answers run in a server's threads

    def row(self, row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row ``row``'s distinct senders (sorted), where each one's entries begin and end
        (``len(senders) + 1`` bounds) and its entries grouped by sender (each group in row order)."""
        with self._lock:
            found = self._rows.get(row)
            if found is not None:
                self._rows.move_to_end(row)
                return found
        lo, hi = int(self.ptr[row]), int(self.ptr[row + 1])
        order = np.argsort(self.src[lo:hi], kind="stable")
        sorted_src = self.src[lo:hi][order]
        first = runs(sorted_src)
        found = (sorted_src[first], np.append(first, hi - lo), lo + order)
        if hi - lo <= self.budget:
            with self._lock:
                if row not in self._rows:  # another thread may have made it meanwhile
                    while self._kept + hi - lo > self.budget:
                        _, dropped = self._rows.popitem(last=False)
                        self._kept -= int(dropped[1][-1])
                    self._rows[row] = found
                    self._kept += hi - lo
        return found

    def find(self, row: int, senders: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The entries of row ``row`` from each of ``senders`` (in their order, each group in row order),
        how many each sender has (``0``: none) and where each one's group begins in the first array."""
        known, bounds, entries = self.row(row)
        if not len(known):  # a row without entries
            nothing = np.zeros(len(senders), dtype=np.int64)
            return entries, nothing, nothing
        at, hit = lookup(known, senders)
        lo = bounds[at]
        many = np.where(hit, bounds[at + 1] - lo, 0)
        begin = np.cumsum(many) - many
        return entries[ranges(lo, lo + many)], many, begin
