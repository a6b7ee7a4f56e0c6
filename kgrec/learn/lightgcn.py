"""LightGCN: embeddings smoothed over the user-item graph (He et al., SIGIR 2020; RecBole's ``LightGCN``)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from kgrec.learn.bpr_mf import Embeddings, embedding_norm_loss
from kgrec.learn.recommender import Recommender


class LightGCN(Recommender):
    """Layer-0 embeddings propagated ``layers`` times over the normalised bipartite graph.

    The final representation is the mean of layers ``0..layers``; the score is a
    dot product. The graph holds the training interactions only, built once as a
    plain torch sparse matrix ``D^-1/2 A D^-1/2`` (a non-persistent buffer: it is
    rebuilt from ``train``, never saved in a checkpoint). Defaults follow
    RecBole's ``LightGCN.yaml`` (``embedding_size 64``, ``n_layers 2``,
    ``reg_weight 1e-05``) and its xavier-uniform initialisation.

    Args:
        num_users: Number of users.
        num_items: Number of items.
        train: ``(2, E)`` training interactions (dense user ids over dense item ids).
        dim: Embedding size (default: ``64``).
        layers: Propagation layers (default: ``2``).
        reg_weight: Weight of the L2 term on the batch's layer-0 embeddings (default: ``1e-5``).
    """

    def __init__(
        self,
        num_users: int,
        num_items: int,
        train: np.ndarray,
        *,
        dim: int = 64,
        layers: int = 2,
        reg_weight: float = 1e-5,
    ) -> None:
        super().__init__(num_users, num_items)
        self.layers = layers
        self.reg_weight = reg_weight
        self.user_embedding = nn.Embedding(num_users, dim)
        self.item_embedding = nn.Embedding(num_items, dim)
        nn.init.xavier_uniform_(self.user_embedding.weight)
        nn.init.xavier_uniform_(self.item_embedding.weight)
        self.register_buffer("adjacency", normalised_adjacency(train, num_users, num_items), persistent=False)

    def embed(self) -> Embeddings:
        """Mean over layers ``0..layers`` of the propagated user and item embeddings."""
        x = torch.cat([self.user_embedding.weight, self.item_embedding.weight])
        total = x
        for _ in range(self.layers):
            x = torch.sparse.mm(self.adjacency, x)
            total = total + x
        final = total / (self.layers + 1)
        return final[: self.num_users], final[self.num_users :]

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
        """``reg_weight`` times RecBole's ``EmbLoss`` of the batch's layer-0 (ego) embeddings."""
        ego = (self.user_embedding(users), self.item_embedding(pos), self.item_embedding(neg))
        return self.reg_weight * embedding_norm_loss(*ego)


def normalised_adjacency(train: np.ndarray, num_users: int, num_items: int) -> Tensor:
    """The symmetric-normalised adjacency of the user-item graph, a coalesced sparse COO tensor.

    Nodes are users ``0..U-1`` then items ``U..U+I-1``; each distinct training
    pair gives edges both ways, weighted ``1 / sqrt(deg(u) * deg(i))``.
    """
    users, items = np.asarray(train, dtype=np.int64)
    codes = np.unique(users * num_items + items)
    users, items = codes // num_items, codes % num_items + num_users
    rows, cols = np.r_[users, items], np.r_[items, users]
    degree = np.bincount(rows, minlength=num_users + num_items).astype(np.float64)
    values = 1.0 / np.sqrt(degree[rows] * degree[cols])
    n = num_users + num_items
    index = torch.as_tensor(np.stack([rows, cols]))
    adjacency = torch.sparse_coo_tensor(
        index, torch.as_tensor(values, dtype=torch.float32), (n, n), check_invariants=True
    )
    return adjacency.coalesce()
