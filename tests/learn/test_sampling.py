"""Uniform negative sampling and BPR batches."""

from __future__ import annotations

import numpy as np
import pytest

from kgrec.errors import ConfigError
from kgrec.learn.sampling import NegativeSampler, bpr_batches


def _train() -> np.ndarray:
    # user 0 has items 0..8 of 10 (only item 9 is a negative); user 1 has item 3; user 2 has none
    pairs = [(0, i) for i in range(9)] + [(1, 3)]
    return np.array(pairs, dtype=np.int64).T


def test_never_a_training_positive() -> None:
    sampler = NegativeSampler(_train(), 10, seed=0)
    users = np.repeat([0, 1, 2], 2000)
    neg = sampler.sample(users)
    assert neg.dtype == np.int64 and neg.shape == users.shape
    assert (neg[users == 0] == 9).all()
    assert not (neg[users == 1] == 3).any()
    assert set(neg[users == 1].tolist()) == set(range(10)) - {3}  # uniform over the rest: all of them appear
    assert set(neg[users == 2].tolist()) == set(range(10))


def test_same_seed_same_negatives() -> None:
    users = np.array([1, 2, 1, 2, 0])
    a = NegativeSampler(_train(), 10, seed=5).sample(users)
    b = NegativeSampler(_train(), 10, seed=5).sample(users)
    assert np.array_equal(a, b)


def test_user_with_every_item_is_an_error() -> None:
    train = np.array([[0, 0, 1], [0, 1, 0]])
    sampler = NegativeSampler(train, 2, seed=0)
    assert sampler.sample(np.array([1])).tolist() == [1]
    with pytest.raises(ConfigError, match="every item"):
        sampler.sample(np.array([0]))


def test_batches_cover_every_interaction_once_with_valid_negatives() -> None:
    train = _train()
    sampler = NegativeSampler(train, 10, seed=0)
    batches = list(bpr_batches(train, sampler, 4, seed=1, epoch=0))
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    users, pos, neg = (np.concatenate([b[i].numpy() for b in batches]) for i in range(3))
    assert sorted(zip(users.tolist(), pos.tolist())) == sorted(map(tuple, train.T.tolist()))
    assert all(b[0].dtype == b[1].dtype == b[2].dtype for b in batches)
    positives = set(map(tuple, train.T.tolist()))
    assert not any((u, n) in positives for u, n in zip(users.tolist(), neg.tolist()))


def test_several_negatives_per_interaction_are_drawn_for_its_user() -> None:
    train = _train()
    batches = list(bpr_batches(train, NegativeSampler(train, 10, seed=0), 4, seed=1, epoch=0, negatives=5))
    assert [tuple(b[2].shape) for b in batches] == [(4, 5), (4, 5), (2, 5)]
    positives = set(map(tuple, train.T.tolist()))
    for users, _, neg in batches:
        assert not any((int(u), int(n)) in positives for u, row in zip(users, neg) for n in row)
        assert (neg[users == 0] == 9).all()  # user 0's only negative, in every column


def test_one_negative_draws_what_it_always_drew() -> None:
    train = _train()
    one = [b[2] for b in bpr_batches(train, NegativeSampler(train, 10, seed=3), 4, seed=1, epoch=0)]
    plain = NegativeSampler(train, 10, seed=3)
    order = np.random.default_rng([1, 0]).permutation(train.shape[1])
    expected = [plain.sample(train[0, order[s : s + 4]]) for s in range(0, len(order), 4)]
    assert all(np.array_equal(a.numpy(), b) for a, b in zip(one, expected))
    with pytest.raises(ConfigError, match="negatives"):
        next(bpr_batches(train, plain, 4, seed=1, epoch=0, negatives=0))


def test_shuffle_depends_on_seed_and_epoch_only() -> None:
    train = np.stack([np.arange(50) % 5, np.arange(50) % 7])

    def order(seed: int, epoch: int) -> list[int]:
        sampler = NegativeSampler(train, 20, seed=99)
        return [int(p) for _, pos, _ in bpr_batches(train, sampler, 8, seed=seed, epoch=epoch) for p in pos]

    assert order(1, 0) == order(1, 0)
    assert order(1, 0) != order(1, 1)
    assert order(1, 0) != order(2, 0)
