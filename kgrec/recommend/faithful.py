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

A path through a node without a name (a bare Freebase id) contends only when no contender has names
throughout: a person cannot read it, so it never goes first while a readable reason exists (issue
13's rule), however much the score leans on it; it may still follow.

The other places keep the order :meth:`PathFinder.ordered` gives them (people last).

The contest of one answer (:func:`contest` per item, then :func:`first_reasons` for all its items):
every contender's effect is measured in one pass over all the user's items
(:meth:`MaskingEffect.user_drops`); the winners not yet worded become paths; a crowd's path may go
through another of the people it counts than its candidate did, so such winners are measured again
(``SETTLE`` rounds).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kgrec.graph.neighbourhood import Neighbourhood
from kgrec.recommend.candidates import Candidate, Start
from kgrec.recommend.effect import MaskingEffect
from kgrec.recommend.model import ModelScores, Node
from kgrec.recommend.nodes import SPECIFIC, UNNAMED
from kgrec.recommend.results import Path

__all__ = ["COMPARABLE", "CONTENDERS", "RIVALS", "Contest", "Effects", "arrange", "choose_first", "contest"]

log = logging.getLogger(__name__)

CONTENDERS = 4
"""Specific knowledge paths (best-supported first) whose effect is computed."""
RIVALS = 2
"""Paths of other kinds (best-supported first) whose effect is computed."""
COMPARABLE = 0.6
"""A specific path goes first when its effect is at least this share of the best contender's."""
SETTLE = 3
"""Rounds in which first reasons are made into paths and re-measured (a crowd's person may change)."""


def arrange(
    tiers: Sequence[int], effects: Sequence[float], shown: int, per_item: int, comparable: float = COMPARABLE
) -> list[int]:
    """Which contenders to show, in order: the first chosen by effect among the readable ones, then the
    support order.

    Args:
        tiers: Each contender's kind of reason (:data:`~kgrec.recommend.nodes.SPECIFIC`, ...).
        effects: Each contender's score drop when its middle nodes are masked.
        shown: The first ``shown`` contenders are the support order's choice, in its order.
        per_item: Paths to show.
        comparable: See the module.

    Returns:
        Positions of the contenders to show.
    """
    if not len(tiers):
        return []
    pool = [j for j, t in enumerate(tiers) if t not in UNNAMED] or list(range(len(tiers)))
    first = pool[choose_first([(tiers[j] == SPECIFIC, effects[j]) for j in pool], comparable)]
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


class Finder(Protocol):
    """What the contest asks of :class:`~kgrec.recommend.explain.PathFinder`: its settings, its order, its words."""

    per_item: int
    contenders: int
    rivals: int
    comparable: float

    def groups(self, hood: Neighbourhood, found: list[Candidate]) -> dict[int, list[Candidate]]: ...

    def ordered(
        self, hood: Neighbourhood, found: list[Candidate], tiers: dict[int, list[Candidate]] | None = None
    ) -> list[Candidate]: ...

    def path(self, hood: Neighbourhood, start: Start, item: Any, c: Candidate, cold: bool) -> Path: ...


@dataclass(frozen=True)
class Contest:
    """An item's contenders for the first place: the support order's first ``shown``, then the others."""

    contenders: list[Candidate]
    shown: int
    tiers: list[int]
    built: dict[int, Path]
    """Paths already made, by position (the support order's)."""
    nodes: list[list[Node]]
    """Each contender's middle nodes (empty without effects)."""


class Effects:
    """The model's exact local masking effects (:class:`MaskingEffect`), made on first use or by :meth:`prepare`."""

    def __init__(self, scores: ModelScores | None) -> None:
        self.scores = scores
        self._effects: MaskingEffect | None = None
        self._tried = False
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        """Whether they are made (or known not to exist)."""
        return self._tried or self.scores is None or self.scores.messages is None

    def prepare(self) -> bool:
        """Make them now, once (concurrent answers wait for it; a server does it at start, as re-building
        the layers takes a while on a large graph); whether there are any."""
        if self.scores is None or self.scores.messages is None:
            return False
        with self._lock:
            if not self._tried:
                began = time.perf_counter()
                self._effects, self._tried = MaskingEffect.of(self.scores), True
                made = "made" if self._effects else "none"
                log.info("masking effects: %s in %.1f s", made, time.perf_counter() - began)
        return self._effects is not None

    def exact(self, start: Start) -> bool:
        """Whether exact local masking effects exist for this user (not for a user folded in, a baseline
        model, a decoder that is not linear in the graph vectors)."""
        if start.step is None or self.scores is None:
            return False
        return self.prepare() and self.scores.has_user(start.step.key)

    def measure(self, start: Start, items: list[Any], nodes: list[list[list[Node]]]) -> list[list[float] | None]:
        """Per item, the masking effect of each contender's middle nodes (``None``: no effects)."""
        if not self.exact(start) or self._effects is None or start.step is None:
            return [None] * len(items)
        wanted = [j for j, n in enumerate(nodes) if n]
        found = self._effects.user_drops(start.step.key, [items[j] for j in wanted], [nodes[j] for j in wanted])
        out: list[list[float] | None] = [None] * len(items)
        for j, effects in zip(wanted, found):
            out[j] = effects
        return out


def contest(
    finder: Finder, hood: Neighbourhood, start: Start, item: Any, found: list[Candidate], cold: bool, exact: bool
) -> Contest:
    """The support order's paths for ``item`` and, where the model has ``exact`` local masking effects, the
    further contenders for the first place and their middle nodes."""
    groups = finder.groups(hood, found)
    ordered = finder.ordered(hood, found, groups)[: finder.per_item]
    built = {j: finder.path(hood, start, item, c, cold) for j, c in enumerate(ordered)}
    if not ordered or not exact:
        return Contest(ordered, len(ordered), [], built, [])
    extra = []
    for tier, group in sorted(groups.items()):  # the best-supported few of each kind
        extra += _by_support(group)[: finder.contenders if tier == SPECIFIC else finder.rivals]
    contenders = ordered + [c for c in extra if all(c is not x for x in ordered)]
    tier_of = {id(c): tier for tier, group in groups.items() for c in group}
    tiers = [tier_of[id(c)] for c in contenders]
    nodes = [_shown_nodes(built[j]) if j in built else _nodes(hood, c) for j, c in enumerate(contenders)]
    return Contest(contenders, len(ordered), tiers, built, nodes)


def first_reasons(
    finder: Finder, hood: Neighbourhood, start: Start, contests: dict[Any, Contest], cold: set[Any], effects: Effects
) -> dict[Any, list[Path]]:
    """The paths shown for each item: the first chosen by effect (where there are effects), then the support
    order."""
    measured = effects.measure(start, list(contests), [c.nodes for c in contests.values()])
    found = {item: e for item, e in zip(contests, measured) if e is not None}
    for _ in range(SETTLE):  # first reasons not yet paths are made, re-measured if their nodes moved
        moved = [item for item in found if _settle(finder, hood, start, item, contests[item], found[item], cold)]
        if not _remeasure(finder, start, contests, found, moved, effects):
            break
    moved = [item for item in found if _settle(finder, hood, start, item, contests[item], found[item], cold)]
    _remeasure(finder, start, contests, found, moved, effects)  # rare: these keep their place
    return {item: _shown(finder, contests[item], found.get(item)) for item in contests}


def _settle(
    finder: Finder, hood: Neighbourhood, start: Start, item: Any, contest: Contest, effects: list[float], cold: set[Any]
) -> bool:
    """Makes the first reason chosen by ``effects`` into a path if it is not one yet; whether its nodes
    differ from its candidate's (a crowd's path goes through one of the people counted, maybe not the
    candidate's person: its effect must be measured again)."""
    first = _first(contest, effects, finder)
    if first in contest.built:
        return False
    path = contest.built[first] = finder.path(hood, start, item, contest.contenders[first], item in cold)
    nodes = _shown_nodes(path)
    moved, contest.nodes[first] = nodes != contest.nodes[first], nodes
    return moved


def _remeasure(
    finder: Finder,
    start: Start,
    contests: dict[Any, Contest],
    found: dict[Any, list[float]],
    moved: list[Any],
    effects: Effects,
) -> bool:
    """Measures again the first reasons of ``moved`` items (their paths' own nodes); whether any."""
    firsts = [_first(contests[item], found[item], finder) for item in moved]
    again = effects.measure(start, moved, [[contests[i].nodes[j]] for i, j in zip(moved, firsts)])
    for item, j, effect in zip(moved, firsts, again):
        found[item][j] = found[item][j] if effect is None else effect[0]
    return bool(moved)


def _shown(finder: Finder, contest: Contest, effects: list[float] | None) -> list[Path]:
    """The paths shown: the support order, the first reason chosen by effect where there are effects."""
    if effects is None:
        return [contest.built[j] for j in range(contest.shown)]
    chosen = arrange(contest.tiers, effects, contest.shown, finder.per_item, finder.comparable)
    return [dataclasses.replace(contest.built[j], effect=float(effects[j])) for j in chosen if j in contest.built]


def _first(contest: Contest, effects: list[float], finder: Finder) -> int:
    """The position of the first reason ``effects`` choose among ``contest``'s contenders."""
    return arrange(contest.tiers, effects, contest.shown, finder.per_item, finder.comparable)[0]


def _nodes(hood: Neighbourhood, c: Candidate) -> list[Node]:
    """The middle nodes of the path ``c`` becomes (start item first; a friend alone)."""
    middle = [(ref.label, ref.key) for ref in (hood.nodes[m] for m in c.middle)]
    return middle if c.social else [(hood.schema.items, c.start), *middle]


def _shown_nodes(path: Path) -> list[Node]:
    return [(s.label, s.key) for s in path.steps[1:-1]]


def _by_support(found: list[Candidate]) -> list[Candidate]:
    return sorted(found, key=lambda c: -c.support)
