"""Uniform negative sampling and shuffled BPR triples for pairwise training.

:class:`NegativeSampler` is RecBole's default uniform sampler for the train
phase: a negative of user ``u`` is drawn uniformly from all items that are not
among ``u``'s training positives. Sampling is vectorised: draw one item per
user, find the draws that are positives with a binary search over the sorted
(user, item) codes, and redraw only those.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kgrec.errors import ConfigError


class NegativeSampler:
    """Uniform negatives that are never a training positive of their user.

    Args:
        train: ``(2, E)`` training interactions (dense user ids over dense item ids).
        num_items: Number of items to draw from (``0..num_items-1``).
        seed: Seed of the sampler's numpy generator.
    """

    def __init__(self, train: np.ndarray, num_items: int, *, seed: int) -> None:
        train = np.asarray(train, dtype=np.int64)
        if train.ndim != 2 or train.shape[0] != 2:
            raise ValueError(f"train must have shape (2, E), got {train.shape}")
        if num_items < 1:
            raise ConfigError(f"cannot sample negatives from {num_items} items")
        self.num_items = num_items
        self._codes = np.unique(train[0] * num_items + train[1])
        self._positives = np.bincount(self._codes // num_items) if len(self._codes) else np.zeros(0, np.int64)
        self._rng = np.random.default_rng(seed)

    @property
    def state(self) -> dict[str, Any]:
        """Its generator's state: restored, the sampler draws what it would have drawn next."""
        return dict(self._rng.bit_generator.state)

    @state.setter
    def state(self, value: dict[str, Any]) -> None:
        self._rng.bit_generator.state = value

    def sample(self, users: np.ndarray) -> np.ndarray:
        """One negative item per entry of ``users`` (``int64``, same shape).

        Raises:
            ConfigError: A user has every item as a training positive.
        """
        users = np.asarray(users, dtype=np.int64)
        known = users[users < len(self._positives)]
        if len(known) and self._positives[known].max() >= self.num_items:
            raise ConfigError("a user has interacted with every item: no negative exists")
        items = self._rng.integers(0, self.num_items, size=users.shape)
        redraw = self._is_positive(users, items)
        while redraw.any():
            items[redraw] = self._rng.integers(0, self.num_items, size=int(redraw.sum()))
            redraw[redraw] = self._is_positive(users[redraw], items[redraw])
        return items

    def _is_positive(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        codes = users * self.num_items + items
        at = np.searchsorted(self._codes, codes)
        found = np.zeros(codes.shape, dtype=bool)
        inside = at < len(self._codes)
        found[inside] = self._codes[at[inside]] == codes[inside]
        return found


def bpr_batches(
    train: np.ndarray,
    sampler: NegativeSampler,
    batch_size: int,
    *,
    seed: int,
    epoch: int,
    negatives: int = 1,
    start_batch: int = 0,
) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
    """Every training interaction once, shuffled, as ``(users, pos, neg)`` batches.

    The order depends only on ``(seed, epoch)``; the negatives come from
    ``sampler``, one per interaction.

    Args:
        train: ``(2, E)`` training interactions.
        sampler: Draws the negatives.
        batch_size: Triples per batch (the last batch may be smaller).
        seed: Seed of the shuffle.
        epoch: Epoch number, mixed into the shuffle's seed.
        negatives: Negatives per interaction; with more than one, ``neg`` has shape ``(B, negatives)``
            (row ``b`` drawn for ``users[b]``). One draws exactly what earlier versions drew.
        start_batch: Begin at this batch of the epoch's order (resuming inside an epoch: ``sampler``
            must then hold the state it had after the batches before it).

    Yields:
        ``LongTensor`` users, positive items and negative items of one batch.
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    if negatives < 1:
        raise ConfigError(f"negatives must be >= 1, got {negatives}")
    train = np.asarray(train, dtype=np.int64)
    order = np.random.default_rng([seed, epoch]).permutation(train.shape[1])
    for start in range(start_batch * batch_size, len(order), batch_size):
        users, pos = train[:, order[start : start + batch_size]]
        neg = sampler.sample(users if negatives == 1 else np.repeat(users[:, None], negatives, axis=1))
        yield torch.from_numpy(users), torch.from_numpy(pos), torch.from_numpy(neg)
