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
    """Node type -> CSR of incoming edges: row pointers, stacked source rows, weights, relation indices
    (sources and relations ``int32`` where they fit)."""
