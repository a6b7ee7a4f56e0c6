"""The contract every model in kgrec's training and evaluation harness fulfils.

A :class:`Recommender` owns its (training) graph as buffers and computes all
node representations in one full pass, :meth:`Recommender.embed`; scores are
then read off that state, for sampled (user, item) pairs during training and
for all items at once during full-ranking evaluation. Baselines (popularity,
BPR-MF, LightGCN) and kgrec's own heterogeneous GNN share this one harness, so
their numbers come from the same split, sampler and metric code.

The answer layer (:mod:`kgrec.recommend.model`) reads a trained model through the
public methods below only: :meth:`~Recommender.node_vectors`,
:meth:`~Recommender.item_graph_vectors` and :meth:`~Recommender.score_vectors`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from kgrec.errors import NotTrainedError


@dataclass(frozen=True)
class NodeVectors:
    """The final vectors of one node type.

    Attributes:
        ids: ``(N,)``: the snapshot id of each row (a model may leave nodes out).
        vectors: ``(N, dim)``: the final vector of each row.
    """

    ids: Tensor
    vectors: Tensor


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

    def user_item_vectors(self, state: Any) -> tuple[Tensor, Tensor] | None:
        """Final user and item vectors (``(U, dim)``, ``(I, dim)``); ``None`` for a model without (popularity)."""
        return None

    def node_vectors(self, state: Any, *, users: str, items: str) -> dict[str, NodeVectors]:
        """Final vectors per node type (empty for a model without vectors).

        Args:
            state: What :meth:`embed` returned.
            users: The users' label (models over users and items only name their two types by it).
            items: The items' label.
        """
        pair = self.user_item_vectors(state)
        if pair is None:
            return {}
        return {t: NodeVectors(torch.arange(len(v)), v) for t, v in zip((users, items), pair)}

    def item_graph_vectors(self, state: Any) -> tuple[Tensor, Tensor | None]:
        """Items' graph vectors and the weight of the graph score in each item's score (``None``: 1).

        With late or hybrid fusion an item's score is ``w * <user, item> + sum of per-modality
        scores``; without them it is the dot product alone.

        Raises:
            NotTrainedError: The model has no item vectors (popularity).
        """
        pair = self.user_item_vectors(state)
        if pair is None:
            raise NotTrainedError(f"{type(self).__name__} has no user and item vectors")
        return pair[1], None

    def score_vectors(self, state: Any, users: Tensor) -> Tensor:
        """Scores of every item for ``B`` users given by vector (``(B, dim)``; fold-in, no retraining).

        Raises:
            NotTrainedError: The model has no user vectors (popularity).
        """
        pair = self.user_item_vectors(state)
        if pair is None:
            raise NotTrainedError(f"{type(self).__name__} has no user and item vectors")
        return users @ pair[1].T
