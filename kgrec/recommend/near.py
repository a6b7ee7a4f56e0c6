"""The users nearest to a user in the learned space, whom collaborative paths may go through.

Up to ``EXACT_LIMIT`` users every answer scans them all (a million users is 256 MB of vectors read per
answer: 14 ms on two cores, a third of an explained answer at that size). Above it, when ``faiss`` is
installed (``pip install 'kgrec[scale]'``), an inverted-file index (faiss ``IndexIVFFlat``: the users
split into about ``sqrt(N)`` clusters by k-means, an answer reads the clusters nearest to the user) is
built at start and calibrated there: on ``SAMPLE`` users drawn with a fixed seed, the number of clusters
read doubles until at least ``RECALL`` of the exact nearest are found, and the recall reached is logged
and kept (:attr:`NearUsers.recall`). Within the clusters read, the order is exact. Without faiss, or when
no setting reaches the target, answers keep scanning every user.

The near users only propose people for collaborative paths; what such a path is worth is measured on
the path itself (its support and masking effect), so a near user missed by the index changes which
person a path may name, not whether a reason is true.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import numpy as np
import torch

__all__ = ["EXACT_LIMIT", "RECALL", "NearUsers", "exact", "normalise"]

log = logging.getLogger(__name__)

EXACT_LIMIT = 200_000
"""Users up to which every answer scans them all (51 MB of vectors: about 3 ms)."""
RECALL = 0.95
"""Share of the exact nearest users that the index must find on the calibration sample."""
SAMPLE = 64
"""Users the index is calibrated on."""
TRAIN_PER_LIST = 64
"""Users per cluster that k-means is trained on (at most all of them)."""
MOST_READ = 8
"""An index reads at most one cluster in this many (else answers scan every user)."""


class NearUsers:
    """Nearest users by cosine over the model's L2-normalised user vectors.

    Args:
        unit: ``(N, dim)`` L2-normalised user vectors, one row per user.
        exact_limit: Users up to which answers scan them all (default: ``EXACT_LIMIT``).
        recall: Target recall of the index (default: ``RECALL``).
        neighbours: How many nearest users answers ask for (the calibration's ``n``; default: ``51``).
    """

    def __init__(
        self, unit: np.ndarray, *, exact_limit: int = EXACT_LIMIT, recall: float = RECALL, neighbours: int = 51
    ) -> None:
        self.unit, self.exact_limit, self.target, self.neighbours = unit, exact_limit, recall, neighbours
        self.recall: float | None = None
        """The index's recall on the calibration sample (``None``: answers scan every user)."""
        self.described = "exact scan"
        """How near users are found, in words (logged at start)."""
        self._index: Any = None
        self._tried = len(unit) <= exact_limit
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        """Whether answers wait for nothing (the index is built or not wanted)."""
        return self._tried

    def prepare(self) -> None:
        """Build and calibrate the index now, once, where it is wanted (a server does it at start)."""
        with self._lock:
            if self._tried:
                return
            began = time.perf_counter()
            self._index, self.recall, self.described = _calibrated(self.unit, self.target, self.neighbours)
            self._tried = True
            log.info("near users: %s (%.1f s)", self.described, time.perf_counter() - began)

    def nearest(self, vector: np.ndarray, n: int) -> np.ndarray:
        """The rows of the ``n`` users closest in cosine to ``vector`` (best first)."""
        query = normalise(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        if not self._tried:
            self.prepare()
        if self._index is None:
            return exact(self.unit, query[0], n)
        _, found = self._index.search(query, n)
        return found[0][found[0] >= 0]


def exact(unit: np.ndarray, query: np.ndarray, n: int) -> np.ndarray:
    """The rows of the ``n`` rows of ``unit`` with the largest inner product with ``query`` (best first)."""
    sims = torch.from_numpy(unit) @ torch.from_numpy(query)  # torch: both cores, and a partial sort
    return torch.topk(sims, min(n, len(sims))).indices.numpy()


def _calibrated(unit: np.ndarray, target: float, n: int) -> tuple[Any, float | None, str]:
    """An IVF index over ``unit`` reading as few clusters as reach ``target`` recall of the ``n`` nearest
    on a fixed sample, its recall and a description; ``(None, None, why)`` for the exact scan."""
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # not its search for CPU-specific builds
    try:
        import faiss  # optional: kgrec[scale]
    except ImportError:
        return None, None, f"exact scan of {len(unit):,} users (install kgrec[scale] for an index)"
    rng = np.random.default_rng(0)
    lists = max(1, int(np.sqrt(len(unit))))
    index = _built(faiss, unit, lists, rng)
    queries = np.ascontiguousarray(unit[rng.choice(len(unit), min(len(unit), SAMPLE), replace=False)])
    truth = [set(exact(unit, q, n).tolist()) for q in queries]
    probes = 1
    while probes <= max(1, lists // MOST_READ):
        index.nprobe = probes
        _, found = index.search(queries, n)
        recall = float(np.mean([len(t & set(f.tolist())) / len(t) for t, f in zip(truth, found)]))
        if recall >= target:
            what = f"index of {len(unit):,} users in {lists} clusters, {probes} read an answer"
            return index, recall, f"{what}: recall@{n} {recall:.3f} on {len(queries)} sampled users"
        probes *= 2
    return None, None, f"exact scan of {len(unit):,} users (no index reading few clusters reached recall {target})"


def _built(faiss: Any, unit: np.ndarray, lists: int, rng: np.random.Generator) -> Any:
    """A faiss IVF-Flat inner-product index of ``unit`` in ``lists`` clusters (k-means on a seeded sample)."""
    train = unit[np.sort(rng.choice(len(unit), min(len(unit), TRAIN_PER_LIST * lists), replace=False))]
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(unit.shape[1]), unit.shape[1], lists, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = 0
    index.train(np.ascontiguousarray(train))
    index.add(np.ascontiguousarray(unit))
    return index


def normalise(v: np.ndarray) -> np.ndarray:
    """The rows of ``v`` scaled to unit length (zero rows stay zero)."""
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
