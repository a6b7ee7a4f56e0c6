"""The most-popular baseline: every user gets the items most interacted with in training."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from kgrec.learn.recommender import Recommender
from kgrec.learn.split import Split


class Popularity(Recommender):
    """Scores an item by its number of training interactions (RecBole's ``Pop``).

    Fitted in closed form when built, so the trainer takes no gradient steps.

    Args:
        split: The split whose training interactions are counted.
    """

    trainable = False

    def __init__(self, split: Split) -> None:
        super().__init__(split.num_users, split.num_items)
        counts = np.bincount(np.asarray(split.train[1], dtype=np.int64), minlength=split.num_items)
        self.register_buffer("counts", torch.as_tensor(counts, dtype=torch.float32))

    def embed(self) -> Tensor:
        """The item counts, shape ``(num_items,)``."""
        return self.counts

    def score_pairs(self, state: Tensor, users: Tensor, items: Tensor) -> Tensor:
        """The count of each item (the user plays no part)."""
        return state[items]

    def score_users(self, state: Tensor, users: Tensor) -> Tensor:
        """The same row of counts for every user, shape ``(B, num_items)``."""
        return state.expand(len(users), -1)
