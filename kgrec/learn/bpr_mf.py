"""Matrix factorisation trained with the BPR loss (RecBole's ``BPR``)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from kgrec.learn.recommender import Recommender

Embeddings = tuple[Tensor, Tensor]
"""User and item embedding tables, ``(num_users, dim)`` and ``(num_items, dim)``."""


class BPRMF(Recommender):
    """One embedding per user and per item; the score is their dot product.

    Args:
        num_users: Number of users.
        num_items: Number of items.
        dim: Embedding size (default: ``64``).
        reg_weight: Weight of :func:`embedding_norm_loss` on the batch's
            embeddings (default: ``0.0``, none, as RecBole's BPR).
    """

    def __init__(self, num_users: int, num_items: int, *, dim: int = 64, reg_weight: float = 0.0) -> None:
        super().__init__(num_users, num_items)
        self.reg_weight = reg_weight
        self.user_embedding = nn.Embedding(num_users, dim)
        self.item_embedding = nn.Embedding(num_items, dim)
        nn.init.xavier_normal_(self.user_embedding.weight)
        nn.init.xavier_normal_(self.item_embedding.weight)

    def embed(self) -> Embeddings:
        """The user and item tables."""
        return self.user_embedding.weight, self.item_embedding.weight

    def score_pairs(self, state: Embeddings, users: Tensor, items: Tensor) -> Tensor:
        """Dot products of ``B`` (user, item) pairs, shape ``(B,)``."""
        return (state[0][users] * state[1][items]).sum(dim=-1)

    def score_users(self, state: Embeddings, users: Tensor) -> Tensor:
        """Dot products with every item, shape ``(B, num_items)``."""
        return state[0][users] @ state[1].T

    def user_item_vectors(self, state: Embeddings) -> tuple[Tensor, Tensor]:
        """The user and item vectors (the state itself)."""
        return state

    def regularisation(self, state: Embeddings, users: Tensor, pos: Tensor, neg: Tensor) -> Tensor:
        """``reg_weight`` times the embedding norms of the batch (zero by default)."""
        if not self.reg_weight:
            return torch.zeros((), device=users.device)
        return self.reg_weight * embedding_norm_loss(state[0][users], state[1][pos], state[1][neg])


def embedding_norm_loss(*embeddings: Tensor) -> Tensor:
    """RecBole's ``EmbLoss`` (``require_pow=False``): sum of the tables' L2 norms over the batch size."""
    return torch.stack([e.norm(p=2) for e in embeddings]).sum() / embeddings[-1].shape[0]
