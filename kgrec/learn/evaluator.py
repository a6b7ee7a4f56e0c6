"""Full-ranking evaluation of any :class:`~kgrec.learn.recommender.Recommender` on a split.

The protocol is RecBole's full sort: every evaluated user's scores over all
items are ranked after the user's history is masked out, and the metrics of
:mod:`kgrec.learn.metrics` are averaged over the users with at least one
positive in the phase. The history follows RecBole: its ``Sampler.get_used_ids``
(``recbole/sampler/sampler.py``) accumulates used items over the phases
train -> valid -> test, and ``FullSortEvalDataLoader._set_user_property``
(``recbole/data/dataloader/general_dataloader.py``) masks
``used_ids[phase] - positives``. So "valid" masks train items and "test" masks
train and valid items.

With ``sample_users`` set, a phase ranks a seeded sample of its users instead of every one
(:meth:`Evaluator.evaluated_users`): still over all items, the metrics averaged over the sample;
:meth:`Evaluator.coverage` says how many were ranked. The sample is the same for every call with the
same seed, so validation sees the same users every epoch.

The "cold" phase ranks each user's ``cold_test`` items with train, valid and
test items masked, over all items and again among the cold items only
(keys prefixed ``cold_only/``).

Ties are broken uniformly at random with a seeded generator (``Evaluator.seed``;
see :func:`top_indices` and :func:`tie_broken`), never by item id: ``torch.topk`` alone returns tied
items in an unspecified (in practice ascending-id) order, which on MovieLens,
where low ids are popular films, lifts a model that cannot tell items apart
well above chance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from kgrec.errors import ConfigError
from kgrec.learn.metrics import hit_at_k, mrr_at_k, ndcg_at_k, recall_at_k
from kgrec.learn.recommender import Recommender
from kgrec.learn.split import Split

log = logging.getLogger(__name__)

Phase = Literal["valid", "test", "cold"]

MAX_CELLS = 1 << 23
"""Default of :attr:`Evaluator.max_cells`: 8.4M user-item scores per batch (256 users up to 32,768
items; about 330 MiB of working memory)."""


@dataclass(frozen=True, slots=True)
class _Csr:
    """Per-user item lists: items of user ``u`` are ``items[ptr[u]:ptr[u + 1]]``."""

    ptr: np.ndarray
    items: np.ndarray

    @classmethod
    def of(cls, num_users: int, *parts: np.ndarray) -> _Csr:
        pairs = np.concatenate(parts, axis=1) if parts else np.empty((2, 0), dtype=np.int64)
        order = np.lexsort((pairs[1], pairs[0]))
        counts = np.bincount(pairs[0], minlength=num_users)
        return cls(np.r_[0, np.cumsum(counts)], pairs[1, order])

    def rows(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(batch row, item) coordinates of the items of ``users``."""
        sizes = self.counts(users)
        offsets = np.repeat(self.ptr[users] - (np.cumsum(sizes) - sizes), sizes)
        return np.repeat(np.arange(len(users)), sizes), self.items[np.arange(sizes.sum()) + offsets]

    def counts(self, users: np.ndarray) -> np.ndarray:
        return self.ptr[users + 1] - self.ptr[users]


@dataclass(frozen=True)
class Evaluator:
    """Full-ranking evaluation on one split.

    Args:
        split: The split whose phases are evaluated.
        ks: Cut-offs (default: ``(10, 20)``).
        batch_size: Users scored per call of ``score_users`` at most (default: ``256``).
        max_cells: Users x items scored per call at most (default: :data:`MAX_CELLS`): a batch has
            ``min(batch_size, max(1, max_cells // num_items))`` users, so the ranking's working
            memory (about 40 bytes a cell) is bounded by this setting, not by the catalogue. The
            metrics do not depend on it (nor on ``batch_size``): the tie-breaking draws follow the
            users in order, whatever the batches.
        seed: Seed of the random tie-breaking and of the user sample (default: ``2020``).
        sample_users: Rank at most this many users per phase, a seeded sample of those with a
            positive there (default: ``None``, every one; see :meth:`evaluated_users`).
    """

    split: Split
    ks: tuple[int, ...] = (10, 20)
    batch_size: int = 256
    seed: int = 2020
    max_cells: int = MAX_CELLS
    sample_users: int | None = None

    def __post_init__(self) -> None:
        if not self.ks or min(self.ks) < 1 or self.batch_size < 1 or self.max_cells < 1:
            raise ConfigError(
                f"ks must be positive cut-offs, batch_size and max_cells >= 1, got {self.ks}, "
                f"{self.batch_size}, {self.max_cells}"
            )
        if self.sample_users is not None and self.sample_users < 1:
            raise ConfigError(f"sample_users must be >= 1 (or None: every user), got {self.sample_users}")

    @property
    def users_per_batch(self) -> int:
        """Users ranked per call of ``score_users``: ``batch_size``, fewer when that is above ``max_cells``."""
        return min(self.batch_size, max(1, self.max_cells // max(1, self.split.num_items)))

    def evaluate(self, model: Recommender, phase: Phase, state: Any = None) -> dict[str, float]:
        """Metrics of ``model`` on ``phase``, averaged over users with a positive there (or their sample).

        Args:
            model: The model; put in eval mode for the call, its mode restored after.
            phase: ``"valid"``, ``"test"`` or ``"cold"``.
            state: The result of ``model.embed()`` when the caller has it already
                (default: computed here once, under ``torch.no_grad()``).

        Returns:
            ``recall@k``, ``ndcg@k``, ``hit@k`` and ``mrr@k`` for every ``k`` in
            ``ks``; for ``"cold"`` also the same keys prefixed ``cold_only/``.

        Raises:
            ConfigError: Unknown phase, or the phase has no positives (e.g. "cold"
                on a split without a cold-start hold-out).
        """
        per_user = self.per_user(model, phase, state)
        return {name: float(values.mean()) for name, values in per_user.items() if name != "users"}

    def per_user(self, model: Recommender, phase: Phase, state: Any = None) -> dict[str, np.ndarray]:
        """Every metric of :meth:`evaluate`, one value per evaluated user (for paired tests).

        Returns:
            ``"users"``: the dense ids of the evaluated users (those with a positive in
            ``phase``, or the sample of them: :meth:`evaluated_users`); every metric name of
            :meth:`evaluate` -> ``(len(users),)``.

        Raises:
            ConfigError: As :meth:`evaluate`.
        """
        positives, history = self._phase(phase)
        users = self.evaluated_users(phase)
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                if state is None:
                    state = model.embed()
                hits = self._hits(model, state, users, positives, history, cold=phase == "cold")
        finally:
            model.train(was_training)
        n_pos = positives.counts(users)
        result = {"users": users} | self._per_user(hits["all"], n_pos, "")
        if phase == "cold":
            result |= self._per_user(hits["cold_only"], n_pos, "cold_only/")
        return result

    def evaluated_users(self, phase: Phase) -> np.ndarray:
        """The dense ids (ascending) of the users ``phase`` ranks.

        Every user with a positive in the phase; with ``sample_users`` set, the ``sample_users`` of
        them that come first in one seeded permutation of all users. The permutation depends on
        ``seed`` and the number of users only, so the sample is the same every epoch and run, the
        phases' samples overlap as far as their users do, and a larger sample contains a smaller one.

        Raises:
            ConfigError: As :meth:`evaluate`.
        """
        users = self._with_positives(phase)
        if len(users) == 0:
            raise ConfigError(f"phase {phase!r} has no interactions to evaluate in this split")
        if self.sample_users is None or self.sample_users >= len(users):
            return users
        first = np.argsort(self._sample_order[users], kind="stable")[: self.sample_users]
        return np.sort(users[first])

    def coverage(self, phase: Phase) -> dict[str, Any]:
        """How many users ``phase`` ranks (``users``), of how many with a positive there (``of``),
        whether that is a sample (``sample``), and the seed it was drawn with (``seed``)."""
        total = len(self._with_positives(phase))
        ranked = len(self.evaluated_users(phase)) if total else 0
        return {"users": ranked, "of": total, "sample": ranked < total, "seed": self.seed}

    def _with_positives(self, phase: Phase) -> np.ndarray:
        """The dense ids (ascending) of the users with a positive in ``phase``."""
        positives, _ = self._phase(phase)
        return np.flatnonzero(positives.counts(np.arange(self.split.num_users)))

    @cached_property
    def _sample_order(self) -> np.ndarray:
        """Each user's place in the seeded permutation the samples are taken from."""
        order = np.empty(self.split.num_users, dtype=np.int64)
        order[np.random.default_rng([self.seed, 1]).permutation(self.split.num_users)] = np.arange(self.split.num_users)
        return order

    @cached_property
    def _phases(self) -> dict[str, tuple[_Csr, _Csr]]:
        s, n = self.split, self.split.num_users
        return {
            "valid": (_Csr.of(n, s.valid), _Csr.of(n, s.train)),
            "test": (_Csr.of(n, s.test), _Csr.of(n, s.train, s.valid)),
            "cold": (_Csr.of(n, s.cold_test), _Csr.of(n, s.train, s.valid, s.test)),
        }

    def _phase(self, phase: str) -> tuple[_Csr, _Csr]:
        if phase not in ("valid", "test", "cold"):
            raise ConfigError(f"unknown phase {phase!r}: expected 'valid', 'test' or 'cold'")
        return self._phases[phase]

    def _hits(
        self, model: Recommender, state: Any, users: np.ndarray, positives: _Csr, history: _Csr, *, cold: bool
    ) -> dict[str, np.ndarray]:
        """Boolean ``(len(users), max(ks))`` hit matrices, one per ranking.

        The matrices are allocated once and filled batch by batch: per-batch results kept
        between the batches' large temporaries fragment the C heap, which then grows by
        about a batch's size each batch (measured: +5.9 GiB over 390 batches of 256 x 20k).
        """
        device = _device_of(model)
        cold_items = torch.as_tensor(self.split.cold_items, device=device)
        names = ["all", "cold_only"] if cold else ["all"]
        # one generator a ranking, so the draws of each follow the users in order whatever the batches
        generators = {name: torch.Generator(device=device).manual_seed(self.seed + i) for i, name in enumerate(names)}
        out = {name: np.zeros((len(users), max(self.ks)), dtype=bool) for name in names}
        size = self.users_per_batch
        for start in range(0, len(users), size):
            batch = users[start : start + size]
            scores = model.score_users(state, torch.as_tensor(batch, device=device)).float()
            # out of place: the model may return a view of its own state (e.g. popularity counts)
            scores = scores.masked_fill(_dense(history, batch, scores.shape, device), -torch.inf)
            relevant = _dense(positives, batch, scores.shape, device)
            out["all"][start : start + len(batch)] = self._top_hits(scores, relevant, generators["all"])
            if cold:
                cold_hits = self._top_hits(scores[:, cold_items], relevant[:, cold_items], generators["cold_only"])
                out["cold_only"][start : start + len(batch)] = cold_hits
            del scores, relevant
        return out

    def _top_hits(self, scores: Tensor, relevant: Tensor, generator: torch.Generator) -> np.ndarray:
        k_max = max(self.ks)
        top = top_indices(scores, min(k_max, scores.shape[1]), generator)
        hits = torch.gather(relevant, 1, top).cpu().numpy()
        if hits.shape[1] < k_max:  # fewer candidates than the largest cut-off: pad with misses
            hits = np.pad(hits, ((0, 0), (0, k_max - hits.shape[1])))
        return hits

    def _per_user(self, hits: np.ndarray, n_pos: np.ndarray, prefix: str) -> dict[str, np.ndarray]:
        result: dict[str, np.ndarray] = {}
        for name, fn in (("recall", recall_at_k), ("ndcg", ndcg_at_k)):
            result |= {f"{prefix}{name}@{k}": fn(hits, n_pos, k) for k in self.ks}
        for name, fn in (("hit", hit_at_k), ("mrr", mrr_at_k)):
            result |= {f"{prefix}{name}@{k}": fn(hits, k) for k in self.ks}
        return result


def top_indices(scores: Tensor, k: int, generator: torch.Generator) -> Tensor:
    """The ``k`` best items of each row, ties broken uniformly at random (as by :func:`tie_broken`).

    Only the rows with a tie among their ``k + 1`` best float32 scores go through
    :func:`tie_broken`: in every other row the top ``k`` and their order are already unique, and
    exactly what the tie-broken keys would give. Learned scores rarely tie, so this costs one
    float32 top-k instead of float64 keys for every score (about 6x faster on 17k items).
    The generator draws for the tied rows only, in row order.

    Args:
        scores: ``(B, N)`` scores, ``-inf`` for masked items; ``k <= N``.
        k: How many items a row.
        generator: Seeded generator on the scores' device.
    """
    s = scores.float()
    values, top = torch.topk(s, min(k + 1, s.shape[1]), dim=1)
    tied = torch.nonzero((values[:, 1:] == values[:, :-1]).any(dim=1)).flatten()
    top = top[:, :k]
    if len(tied):
        top[tied] = torch.topk(tie_broken(s[tied], generator), k, dim=1).indices
    return top


def tie_broken(scores: Tensor, generator: torch.Generator) -> Tensor:
    """``scores`` as float64 ranking keys whose ties are broken uniformly at random.

    Each float32 score ``s`` gets ``u * gap / 2`` added in float64, with ``u``
    uniform in ``[0, 1)`` and ``gap`` the distance from ``s`` to the next larger
    float32. Distinct float32 scores keep their order (the key of ``s`` stays
    below the next larger float32, and at or above ``s``), while equal scores are
    ordered by independent uniform draws, i.e. a uniformly random permutation
    of every tied group. ``-inf`` (masked items) stays ``-inf``.

    Args:
        scores: ``(B, N)`` scores (cast to float32 first).
        generator: Seeded generator on the scores' device.
    """
    s = scores.float()
    gap = torch.nextafter(s, torch.full_like(s, torch.inf)) - s
    gap = torch.where(torch.isfinite(gap), gap, torch.zeros_like(gap)).double()
    noise = torch.rand(s.shape, generator=generator, dtype=torch.float64, device=s.device)
    return s.double() + noise * gap * 0.5


def _dense(lists: _Csr, users: np.ndarray, shape: torch.Size, device: torch.device) -> Tensor:
    """A boolean ``(len(users), num_items)`` matrix with the users' listed items set."""
    out = torch.zeros(shape, dtype=torch.bool, device=device)
    rows, cols = lists.rows(users)
    out[torch.as_tensor(rows, device=device), torch.as_tensor(cols, device=device)] = True
    return out


def _device_of(model: Recommender) -> torch.device:
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")
