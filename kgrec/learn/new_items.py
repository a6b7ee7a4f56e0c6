"""Vectors for new items, predicted from what a new item has: its content and its knowledge-graph neighbours.

A never-rated item gets no collaborative signal, so its propagated vector is
small next to a rated item's and it never reaches a top-k among rated items.
:class:`NewItemMap` learns, over the rated items, a ridge regression from what
a new item would have (its vector with its own interaction edges hidden, its
standardised modality vectors and their availability bits) to the vector the
model learned for it, and gives new items that prediction: the rated items'
scale, not the relayed signal's. The ridge strength is the dial between
showing new items and ranking known ones well (README: cold start).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class NewItemMap(nn.Module):
    """Ridge regression from new-item inputs to final item vectors (fitted once after training).

    Args:
        width: Input width (the hidden-pass vector plus modality vectors and bits).
        dim: Output width (the item vector's).
        ridge: L2 strength ``lambda`` of the regression (larger: predictions nearer the mean item).
    """

    def __init__(self, width: int, dim: int, ridge: float) -> None:
        super().__init__()
        if ridge <= 0:
            raise ValueError(f"ridge {ridge}: must be positive")
        self.ridge = ridge
        self.register_buffer("weight", torch.zeros(width, dim))
        self.register_buffer("bias", torch.zeros(dim))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))

    def fit(self, inputs: Tensor, targets: Tensor, *, ridge: float | None = None) -> None:
        """Solve ``min ||(X - mx) W - (Y - my)||^2 + ridge ||W||^2`` in float64 (intercept unpenalised)."""
        self.ridge = self.ridge if ridge is None else ridge
        x, y = inputs.double(), targets.double()
        mx, my = x.mean(0), y.mean(0)
        xc, yc = x - mx, y - my
        gram = xc.T @ xc + self.ridge * torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
        weight = torch.linalg.solve(gram, xc.T @ yc)
        self.weight.copy_(weight.to(self.weight.dtype))
        self.bias.copy_((my - mx @ weight).to(self.bias.dtype))
        self.fitted.fill_(True)

    def forward(self, inputs: Tensor) -> Tensor:
        return inputs @ self.weight + self.bias
