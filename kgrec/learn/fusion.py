"""Fusion of item modalities (text, image, audio, ...) with the graph representation.

* :class:`EarlyFusion` concatenates the modality vectors (standardised, zeroed
  where missing) with their availability bits and projects them into the
  item's input feature, before message passing. The availability bits let the
  projection learn a placeholder for a missing modality.
* :class:`LateFusion` gives each modality its own item representation and
  score ``<user, z_m>`` and combines those scores with the graph score
  ``<user, item>``, either with learned global weights (``late``) or with a
  learned attention gate per item (``hybrid``). Missing modalities are masked
  out of the combination, so an item is scored from what it has.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

CONTENT_DROPOUT = 0.5
"""Dropout on modality vectors during training (early and late fusion)."""


class Standardise(nn.Module):
    """Per-dimension z-scores computed once from the items that have the modality."""

    def __init__(self, x: Tensor, present: Tensor) -> None:
        super().__init__()
        rows = x[present] if bool(present.any()) else x
        self.register_buffer("mean", rows.mean(0))
        self.register_buffer("std", rows.std(0).clamp(min=1e-6) if len(rows) > 1 else torch.ones(x.shape[1]))

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std


class EarlyFusion(nn.Module):
    """Concatenate modality vectors (+ availability bits) and project to ``dim``.

    Dropout on the modality vectors (training only) keeps the projection from
    memorising one free vector per item: content has to generalise.
    """

    def __init__(self, dims: Mapping[str, int], dim: int, *, dropout: float = CONTENT_DROPOUT) -> None:
        super().__init__()
        self.modalities = sorted(dims)
        width = sum(dims[m] + 1 for m in self.modalities)
        self.drop = nn.Dropout(dropout)
        self.proj = nn.Linear(width, dim)
        nn.init.xavier_uniform_(self.proj.weight, gain=0.1)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: Mapping[str, Tensor], has: Mapping[str, Tensor]) -> Tensor:
        parts = []
        for m in self.modalities:
            mask = has[m].unsqueeze(1).to(x[m].dtype)
            parts += [self.drop(x[m]) * mask, mask]
        return self.proj(torch.cat(parts, dim=1))


class LateFusion(nn.Module):
    """Per-modality item representations and the weights that combine per-modality scores.

    Args:
        dims: Modality -> raw feature width.
        dim: Embedding width (the user vector's).
        gate: ``"weights"``: one learned weight per source (graph + each modality),
            renormalised over what an item has; ``"attention"``: a per-item attention
            over the same sources, computed from their representations.
    """

    def __init__(
        self, dims: Mapping[str, int], dim: int, *, gate: str = "weights", dropout: float = CONTENT_DROPOUT
    ) -> None:
        super().__init__()
        self.modalities = sorted(dims)
        self.gate = gate
        self.towers = nn.ModuleDict(
            {
                m: nn.Sequential(nn.Dropout(dropout), nn.Linear(dims[m], dim), nn.Tanh(), nn.Linear(dim, dim))
                for m in self.modalities
            }
        )
        self.logits = nn.Parameter(torch.zeros(len(self.modalities) + 1))
        if gate == "attention":
            self.att = nn.Sequential(nn.Linear(dim, dim), nn.Tanh(), nn.Linear(dim, 1, bias=False))

    def representations(self, x: Mapping[str, Tensor]) -> list[Tensor]:
        """``(I, dim)`` per modality, in :attr:`modalities` order."""
        return [self.towers[m](x[m]) for m in self.modalities]

    def weights(self, item: Tensor, z: list[Tensor], has: Mapping[str, Tensor]) -> Tensor:
        """``(I, 1 + M)`` weights over (graph, modalities...), zero where a modality is missing."""
        avail = torch.stack([torch.ones_like(has[self.modalities[0]])] + [has[m] for m in self.modalities], 1)
        if self.gate == "attention":
            scores = torch.cat([self.att(v) for v in [item, *z]], dim=1) + self.logits
        else:
            scores = self.logits.expand(item.shape[0], -1)
        return torch.softmax(scores.masked_fill(~avail, float("-inf")), dim=1)
