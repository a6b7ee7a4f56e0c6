"""Top-k ranking metrics as pure numpy functions, with RecBole's definitions.

Every function takes ``hits``, a ``(B, K)`` boolean matrix where ``hits[u, r]``
says whether the item ranked ``r + 1`` for user ``u`` is one of the user's
positives, and returns one value per user (shape ``(B,)``); ``k <= K``. Callers
average over the users that have at least one positive in the evaluated phase.
A user with ``n_pos == 0`` scores 0 everywhere.
"""

from __future__ import annotations

import numpy as np


def recall_at_k(hits: np.ndarray, n_pos: np.ndarray, k: int) -> np.ndarray:
    """Share of the user's positives found in the top ``k``.

    Args:
        hits: ``(B, K)`` boolean hit matrix, ``K >= k``.
        n_pos: ``(B,)`` number of positives of each user.
        k: Cut-off.
    """
    found = _top(hits, k).sum(axis=1)
    return _safe_divide(found, np.asarray(n_pos, dtype=np.float64))


def ndcg_at_k(hits: np.ndarray, n_pos: np.ndarray, k: int) -> np.ndarray:
    """Normalised discounted cumulative gain at ``k`` with binary relevance.

    ``DCG = sum over hits at 1-based rank r of 1 / log2(r + 1)``;
    ``IDCG = sum_{i=1..min(n_pos, k)} 1 / log2(i + 1)``.

    Args:
        hits: ``(B, K)`` boolean hit matrix, ``K >= k``.
        n_pos: ``(B,)`` number of positives of each user.
        k: Cut-off.
    """
    top = _top(hits, k)
    discount = 1.0 / np.log2(np.arange(2, top.shape[1] + 2))
    dcg = top @ discount
    ideal = np.r_[0.0, np.cumsum(discount)]
    idcg = ideal[np.minimum(np.asarray(n_pos, dtype=np.int64), top.shape[1])]
    return _safe_divide(dcg, idcg)


def hit_at_k(hits: np.ndarray, k: int) -> np.ndarray:
    """1.0 when at least one positive is in the top ``k``, else 0.0.

    Args:
        hits: ``(B, K)`` boolean hit matrix, ``K >= k``.
        k: Cut-off.
    """
    return _top(hits, k).any(axis=1).astype(np.float64)


def mrr_at_k(hits: np.ndarray, k: int) -> np.ndarray:
    """Reciprocal rank of the first positive within the top ``k``, else 0.0.

    Args:
        hits: ``(B, K)`` boolean hit matrix, ``K >= k``.
        k: Cut-off.
    """
    top = _top(hits, k)
    first = top.argmax(axis=1)
    return np.where(top.any(axis=1), 1.0 / (first + 1.0), 0.0)


def chance_ndcg_at_k(n_pos: np.ndarray, n_candidates: np.ndarray | int, k: int) -> np.ndarray:
    """Expected NDCG@k of a uniformly random ranking of ``n_candidates`` items, ``n_pos`` of them positive.

    Every rank holds a positive with probability ``n_pos / n_candidates``, so
    ``E[DCG] = n_pos / n_candidates * sum_{r=1..min(k, n)} 1 / log2(r + 1)``; IDCG as in :func:`ndcg_at_k`.

    Args:
        n_pos: ``(B,)`` number of positives of each user (all among the candidates).
        n_candidates: ``(B,)`` or scalar number of items ranked for each user.
        k: Cut-off.
    """
    n_pos = np.asarray(n_pos, dtype=np.int64)
    n = np.broadcast_to(np.asarray(n_candidates, dtype=np.int64), n_pos.shape)
    cumulative = np.r_[0.0, np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))]
    dcg = _safe_divide(n_pos, n) * cumulative[np.minimum(n, k)]
    return _safe_divide(dcg, cumulative[np.minimum(n_pos, k)])


def chance_recall_at_k(n_pos: np.ndarray, n_candidates: np.ndarray | int, k: int) -> np.ndarray:
    """Expected Recall@k of a uniformly random ranking: ``min(k, n) / n`` (0 without positives).

    Args:
        n_pos: ``(B,)`` number of positives of each user.
        n_candidates: ``(B,)`` or scalar number of items ranked for each user.
        k: Cut-off.
    """
    n_pos = np.asarray(n_pos, dtype=np.int64)
    n = np.broadcast_to(np.asarray(n_candidates, dtype=np.int64), n_pos.shape)
    return np.where(n_pos > 0, _safe_divide(np.minimum(n, k), n), 0.0)


def _top(hits: np.ndarray, k: int) -> np.ndarray:
    hits = np.asarray(hits, dtype=bool)
    if hits.ndim != 2:
        raise ValueError(f"hits must be a (B, K) matrix, got shape {hits.shape}")
    if not 0 < k <= hits.shape[1]:
        raise ValueError(f"k must be in 1..{hits.shape[1]} (the columns of hits), got {k}")
    return hits[:, :k]


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out
