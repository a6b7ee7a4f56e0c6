"""What each edge of the trained GNN carries: per-edge messages, for support scores of explanation paths.

The propagation is linear: a node's final vector is the mean over layers
``0..L`` of its states, and layer ``l+1`` receives from each neighbour ``v``
``c_r * a * h_l(v)`` (``c_r`` the relation's learned vector times its
attention, ``a`` the edge's normalised weight). So what ``v`` sends straight to
``dst`` over all layers is ``c_r * a * sum_{l<L} h_l(v) / (L + 1)``: the part of
``dst``'s vector that silencing ``v`` removes first.

Rows are *stacked* rows: the rows of every node type one after the other, in
the propagation's order (``offsets[t] + row``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EdgeMessages:
    """The trained GNN's per-edge messages (plain numpy, no graph or torch needed to read them)."""

    layers: int
    """Propagation layers ``L``."""
    offsets: dict[str, int]
    """Node type -> its first stacked row."""
    sent: np.ndarray
    """``(N, dim)``: ``sum_{l<L} h_l`` of every node (stacked rows)."""
    coef: np.ndarray
    """``(edge types, dim)``: attention times relation vector of each relation."""
    into: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    """Node type -> CSR of incoming edges: row pointers, stacked source rows, weights, relation indices."""

    def direct(self, dst_type: str, dst_row: int, sources: np.ndarray) -> np.ndarray:
        """``(len(sources), dim)``: what each source sends straight into one node (see the module).

        Args:
            dst_type: The receiving node's type.
            dst_row: Its row within its type.
            sources: Stacked rows of the senders; ``-1`` for a node the model does not hold (zero row).
        """
        sources = np.asarray(sources, dtype=np.int64)
        out = np.zeros((len(sources), self.coef.shape[1]), dtype=np.float32)
        if dst_type not in self.into or not len(sources):
            return out
        ptr, src, weight, relation = self.into[dst_type]
        lo, hi = ptr[dst_row], ptr[dst_row + 1]
        edge_src = src[lo:hi]
        by_id = np.argsort(sources, kind="stable")
        at = np.searchsorted(sources[by_id], edge_src).clip(max=len(sources) - 1)
        hit = np.flatnonzero(sources[by_id][at] == edge_src)  # edges from a wanted source (first of repeats)
        np.add.at(out, by_id[at[hit]], weight[lo + hit, None] * self.coef[relation[lo + hit]])
        known = sources >= 0
        out[known] *= self.sent[sources[known]] / (self.layers + 1)
        return out
