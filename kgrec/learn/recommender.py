"""The contract every model in kgrec's training and evaluation harness fulfils.

A :class:`Recommender` owns its (training) graph as buffers and computes all
node representations in one full pass, :meth:`Recommender.embed`; scores are
then read off that state, for sampled (user, item) pairs during training and
for all items at once during full-ranking evaluation. Baselines (popularity,
BPR-MF, LightGCN) and kgrec's own heterogeneous GNN share this one harness, so
their numbers come from the same split, sampler and metric code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import Tensor, nn


class Recommender(nn.Module, ABC):
    """A scoring model over ``num_users`` users and ``num_items`` items.

    Users and items are the dense ids of the split (``0..num_users-1``,
    ``0..num_items-1``).
    """

    trainable: bool = True
    """False for models fitted in closed form (e.g. popularity): the trainer skips gradient steps."""

    def __init__(self, num_users: int, num_items: int) -> None:
        super().__init__()
        self.num_users = num_users
        self.num_items = num_items

    @abstractmethod
    def embed(self) -> Any:
        """Compute the representations scores are read from (one full forward pass)."""

    @abstractmethod
    def score_pairs(self, state: Any, users: Tensor, items: Tensor) -> Tensor:
        """Scores (logits) of ``B`` (user, item) pairs, shape ``(B,)``."""

    @abstractmethod
    def score_users(self, state: Any, users: Tensor) -> Tensor:
        """Scores of every item for ``B`` users, shape ``(B, num_items)``."""

    def regularisation(self, state: Any, users: Tensor, pos: Tensor, neg: Tensor) -> Tensor:
        """An extra loss term for one batch of triples (default: zero)."""
        return torch.zeros((), device=users.device)
