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
