"""Typed, JSON-serialisable results of the answers (``to_dict()`` on each)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

PathKind = Literal["knowledge", "collaborative", "content", "social"]


@dataclass(frozen=True, slots=True)
class Step:
    """One node of an explanation path and the relationship that leads to the next node.

    Args:
        label: The node's primary label, as the declared schema names it (``User``, ``Item``, ``Genre``).
        key: Its key (the schema's key property: ``User.id``, ``Genre.name``, ``Entity.iri``).
        name: What a person reads (the schema's name property, else name or title; ``user 42``).
        rel_type: Type of the relationship to the next node (``None`` on the last node).
        forward: True when that relationship is stored from this node to the next one.
        degree: Middle nodes only: how many items the node is one knowledge hop from (a user: how many
            items they interacted with). Few items: a specific reason (a director); many: a broad one.
    """

    label: str
    key: Any
    name: str
    rel_type: str | None = None
    forward: bool | None = None
    degree: int | None = None


@dataclass(frozen=True, slots=True)
class Path:
    """A real path in the graph from the user to the recommended item.

    Args:
        steps: Nodes from the user to the item, each with the relationship to the next.
        sentence: The path in one plain English sentence.
        support: How much the path supports the model's score (higher is more; see :mod:`.explain`).
        kind: ``knowledge`` (through an entity or genre), ``collaborative`` (through another user),
            ``social`` (through a friend: a relationship the schema declares ``social``) or
            ``content`` (to an item without training interactions).
        count: Collaborative paths only: how many other people interacted with both the start item
            and the recommended one (as the sentence says: ``42 people who rated ... also rated ...``);
            the steps go through one of them.
        specific: Whether every middle node is specific (at most the finder's ``broad`` degree).
        effect: How much the model's score drops when the path's middle nodes are masked (silenced in
            every propagation layer), computed exactly for the paths that contended for the first place
            (``None`` for the others and where the model has no exact local effect; see
            :mod:`kgrec.recommend.faithful`).
    """

    steps: tuple[Step, ...]
    sentence: str
    support: float
    kind: PathKind
    count: int | None = None
    specific: bool = False
    effect: float | None = None

    @property
    def hops(self) -> int:
        """Number of relationships."""
        return len(self.steps) - 1

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One recommended item."""

    item: Any
    title: str
    score: float
    rank: int
    cold: bool = False
    """True when the model saw no interaction with the item in training."""
    paths: tuple[Path, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why ``item`` suits ``user``: its score, rank among the user's unseen items, and paths.

    For an item the user already has (``owned``), ``rank`` is ``None`` (it is never
    recommended to them) and ``note`` says so: ``You already play Muse (37 plays).``.
    """

    user: Any
    item: Any
    title: str
    score: float
    rank: int | None
    cold: bool
    paths: tuple[Path, ...]
    owned: bool = False
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SimilarItem:
    """An item similar to the one asked about, by one modality or the fused embedding."""

    item: Any
    title: str
    score: float
    rank: int
    modality: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)
