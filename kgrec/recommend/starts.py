"""Where explanation paths start: the user's strongest interactions.

A path that begins at a film the user rated one star, or at an artist they played
twice, explains nothing. Paths therefore start from the interactions with the
highest weight (highest ratings, most plays): those at or above the user's median
weight, and at least ``minimum`` of them (the strongest first, ties by key) when the
user has that many. Binary interactions (no weight) all count.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MIN_STARTS = 5
"""Default of ``minimum``: paths may start from at least this many interactions."""


def strongest(weights: dict[Any, float | None], minimum: int = MIN_STARTS) -> dict[Any, float | None]:
    """The interactions paths may start from, strongest first.

    Args:
        weights: Item -> the user's interaction weight (``None``: binary or unknown).
        minimum: At least this many (or all, when fewer) are kept, strongest first.

    Returns:
        The kept items and their weights, by weight (highest first), then key.
    """
    known = [w for w in weights.values() if w is not None]
    if not known:
        return dict(weights)
    order = sorted(weights.items(), key=lambda kw: (kw[1] is None, -(kw[1] or 0.0), str(kw[0])))
    median = float(np.median(known))
    above = sum(1 for _, w in order if w is not None and w >= median)
    return dict(order[: max(above, min(minimum, len(order)))])
