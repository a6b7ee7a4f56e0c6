"""The first reason, chosen by what masking it actually does to the score.

Support (:mod:`kgrec.recommend.explain`) is a cheap estimate that ranks the paths of one kind well but
misses most of what silencing a path's *start* item does: that item's messages into the user's
neighbours and the item's (the collaborative echo), which is most of the score drop on the demo
catalogues (``docs/explanations.md``, "Why the first reason lost"). So a few contenders are scored by
their exact masking effect (:class:`~kgrec.recommend.effect.MaskingEffect`): the best-supported
specific knowledge paths (``CONTENDERS``) and the best-supported paths of other kinds (``RIVALS``:
people, broad or unnamed nodes). The first reason is then:

* the most effective **specific** knowledge path, when its effect is at least ``comparable`` (default
  ``COMPARABLE``) times the best effect of all contenders: a person reads a director before a genre
  or a crowd as long as the director says about as much about the score;
* else the most effective contender, whatever its kind: the reason the score depends on most comes
  first, and the specific ones follow it.

The other places keep the order :meth:`PathFinder._ordered` gives them (people last).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["COMPARABLE", "CONTENDERS", "RIVALS", "arrange", "choose_first"]

CONTENDERS = 4
"""Specific knowledge paths (best-supported first) whose effect is computed."""
RIVALS = 2
"""Paths of other kinds (best-supported first) whose effect is computed."""
COMPARABLE = 0.6
"""A specific path goes first when its effect is at least this share of the best contender's."""


def arrange(
    tiers: Sequence[int], effects: Sequence[float], shown: int, per_item: int, comparable: float = COMPARABLE
) -> list[int]:
    """Which contenders to show, in order: the first chosen by effect, then the support order.

    Args:
        tiers: Each contender's kind of reason (``0``: specific knowledge; see ``PathFinder._tier``).
        effects: Each contender's score drop when its middle nodes are masked.
        shown: The first ``shown`` contenders are the support order's choice, in its order.
        per_item: Paths to show.
        comparable: See the module.

    Returns:
        Positions of the contenders to show.
    """
    if not len(tiers):
        return []
    first = choose_first([(t == 0, e) for t, e in zip(tiers, effects)], comparable)
    rest = [j for j in range(shown) if j != first]
    while len(rest) > per_item - 1:  # the chosen path takes the place of the last of its own kind
        same = [at for at, j in enumerate(rest) if tiers[j] == tiers[first]]
        rest.pop(same[-1] if same else -1)
    return [first, *rest]


def choose_first(contenders: Sequence[tuple[bool, float]], comparable: float = COMPARABLE) -> int:
    """The position of the first reason among ``contenders``, each (specific knowledge, effect): see the module."""
    best = max(range(len(contenders)), key=lambda j: contenders[j][1])
    specific = [j for j, (is_specific, _) in enumerate(contenders) if is_specific]
    if not specific:
        return best
    top = max(specific, key=lambda j: contenders[j][1])
    if contenders[best][1] <= 0 or contenders[top][1] >= comparable * contenders[best][1]:
        return top
    return best
