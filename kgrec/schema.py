"""The declared graph schema: who the users are, what the catalogue is, what each relationship means.

Every spec file may carry a ``[schema]`` table (see ``ingest/*.toml`` and
``docs/schema.md``); ``kgrec ingest`` records each spec's part in the graph and
training, export and answers read the merged whole. Nothing here imports
Neo4j or torch: the schema is plain data on both sides of the hand-off.

A relationship type has one **role**:

* ``interaction``: what users do with items (ratings, listens, purchases). The
  training signal; split into train/valid/test, never used as knowledge.
* ``knowledge``: facts about items and entities (genre, director, record label).
* ``social``: between users (friends, follows).
* ``exclude``: left out of training and answers.

Undeclared types default to ``knowledge``, except a type linking users to items,
which must be declared: using interactions as knowledge would leak test data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from kgrec.graph.names import check_label, check_property, check_rel_type
from kgrec.types import EdgeType

Role = Literal["interaction", "knowledge", "social", "exclude"]
WeightKind = Literal["rating", "count", "binary"]

DEFAULT_USERS = "User"
DEFAULT_ITEMS = "Item"
DEFAULT_INTERACTION = "RATED"
"""The interaction type of a graph recorded without a schema (:func:`recorded_schema`)."""
ANSWER_TYPES = ("RECOMMENDED",)
"""kgrec's own answers in the graph: never training data, never knowledge."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeDecl(_Strict):
    """``[schema.nodes.<Label>]``: one node label that takes part in training and answers."""

    key: str | None = None
    """Key property (default: the one the spec's tables or RDF give the label)."""
    name: str | None = None
    """Property a person reads (default: ``name``, else ``title``, else the key)."""
    noun: str | None = None
    """What one node is called in sentences, e.g. ``tag`` (default: the label in lower case)."""
    exclude: bool = False
    """Leave these nodes (and their relationships) out of training and answers."""

    @field_validator("key", "name")
    @classmethod
    def _prop(cls, v: str | None) -> str | None:
        return None if v is None else check_property(v)


class RelDecl(_Strict):
    """``[schema.relationships.<TYPE>]``: what one relationship type means and how it reads."""

    role: Role = "knowledge"
    phrase: str | None = None
    """Read from start to end: ``"is a member of"``, ``"plays"`` (default: from the type's name)."""
    reverse: str | None = None
    """Read from end to start: ``"has member"``, ``"is played by"`` (default: from the type's name)."""
    person: bool = False
    """The end node is a person (sentences say "who" rather than "which")."""
    noun: str | None = None
    """What the end node is to the start node: ``genre`` for ``IN_GENRE``, ``record label`` for
    ``ON_LABEL``. ``--where genre=Rock`` filters through it (default: none)."""
    verb: str | None = None
    """Interactions: the user's own act, ``"play"`` in "You play Muse" (default: :attr:`phrase`)."""
    weight: str | None = None
    """Interactions: the property holding a rating or a count."""
    kind: WeightKind | None = None
    """Interactions: ``rating`` (on ``scale``), ``count`` (plays, clicks) or ``binary`` (default:
    ``rating`` with a ``scale``, ``count`` with a ``weight``, else ``binary``)."""
    scale: float | None = None
    """Ratings: the top of the scale (``5`` for 1-5 stars)."""
    unit: str | None = None
    """Counts: the unit in sentences, ``"plays"`` in "(1,559 plays)" (default: ``times``)."""
    min_weight: float | None = None
    """Implicit feedback: interactions whose weight is below this are not positives (dropped
    before the split). Default: every interaction is a positive (the RecBole protocol)."""
    timestamp: str | None = None
    """Interactions: a numeric time property (optional; nothing needs it)."""
    count: str | None = None
    """Knowledge: the property saying how many times the fact was stated (``times``: how many users
    gave an artist a tag; the ingest relationship's ``count``)."""
    min_count: float | None = None
    """Knowledge: facts stated fewer times than this (by ``count``) are weak evidence: never a reason
    in explanations (default: every fact is one). Training is unchanged."""

    @field_validator("weight", "timestamp", "count")
    @classmethod
    def _prop(cls, v: str | None) -> str | None:
        return None if v is None else check_property(v)

    @model_validator(mode="after")
    def _interaction_only(self) -> RelDecl:
        extra = [k for k in ("verb", "weight", "kind", "scale", "unit", "min_weight", "timestamp") if getattr(self, k)]
        if self.role != "interaction" and extra:
            raise ValueError(f"{', '.join(extra)}: only for role = \"interaction\"")
        if self.kind == "rating" and self.scale is None:
            raise ValueError("a rating needs its 'scale' (e.g. 5)")
        if self.kind in ("rating", "count") and self.weight is None:
            raise ValueError(f"a {self.kind} needs its 'weight' property")
        if self.min_weight is not None and self.weight is None:
            raise ValueError("'min_weight' needs a 'weight' property")
        if self.min_count is not None and (self.count is None or self.role != "knowledge"):
            raise ValueError("'min_count' needs a 'count' property, on a knowledge relationship")
        return self


class SchemaDecl(_Strict):
    """``[schema]`` of one spec file: its part of the graph's schema."""

    users: str | None = None
    """Label of the people who interact (default: ``User``)."""
    items: str | None = None
    """Label of the catalogue (default: ``Item``)."""
    nodes: dict[str, NodeDecl] = {}
    relationships: dict[str, RelDecl] = {}

    @field_validator("users", "items")
    @classmethod
    def _label(cls, v: str | None) -> str | None:
        return None if v is None else check_label(v)

    @field_validator("nodes")
    @classmethod
    def _labels(cls, v: dict[str, NodeDecl]) -> dict[str, NodeDecl]:
        for label in v:
            check_label(label)
        return v

    @field_validator("relationships")
    @classmethod
    def _types(cls, v: dict[str, RelDecl]) -> dict[str, RelDecl]:
        for t in v:
            check_rel_type(t)
        return v


class SchemaConflict(ValueError):
    """Two specs declare one thing differently."""


@dataclass(frozen=True)
class GraphSchema:
    """The merged schema of a graph, as training and answers read it.

    Args:
        users: Label of the users.
        items: Label of the items.
        keys: Label -> key property, in primary-label order (users, items, then the rest).
        nodes: Label -> its declaration (defaults where undeclared).
        relationships: Type -> its declaration (types absent here are knowledge).
        datasets: Names of the specs (sources) that built the graph.
    """

    users: str = DEFAULT_USERS
    items: str = DEFAULT_ITEMS
    keys: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, NodeDecl] = field(default_factory=dict)
    relationships: dict[str, RelDecl] = field(default_factory=dict)
    datasets: tuple[str, ...] = ()

    # -- roles ------------------------------------------------------------------------------------

    def role(self, rel_type: str) -> Role:
        """The role of ``rel_type`` (undeclared: ``knowledge``; kgrec's answers: ``exclude``)."""
        if rel_type in ANSWER_TYPES:
            return "exclude"
        decl = self.relationships.get(rel_type)
        return decl.role if decl else "knowledge"

    def of_role(self, role: Role) -> list[str]:
        """Declared types of one role, sorted."""
        return sorted(t for t, d in self.relationships.items() if d.role == role)

    @property
    def interaction_type(self) -> str | None:
        """The one interaction type (``None`` when none is declared)."""
        found = self.of_role("interaction")
        return found[0] if found else None

    @property
    def interaction(self) -> RelDecl:
        """The interaction's declaration (a binary one when none is declared)."""
        t = self.interaction_type
        return self.relationships[t] if t else RelDecl(role="interaction")

    def edge_type(self) -> EdgeType:
        """``(users, interaction type, items)``."""
        return (self.users, self.interaction_type or "", self.items)

    def excluded_types(self) -> list[str]:
        """Types never exported for training: declared ``exclude`` and kgrec's own answers."""
        return sorted({*self.of_role("exclude"), *ANSWER_TYPES})

    def node_types(self) -> dict[str, str]:
        """Label -> key of the labels that take part (excluded labels left out), in primary order."""
        return {lbl: k for lbl, k in self.keys.items() if not self.node(lbl).exclude}

    def node(self, label: str) -> NodeDecl:
        """The declaration of ``label`` (an empty one when undeclared)."""
        return self.nodes.get(label, NodeDecl())

    # -- words ------------------------------------------------------------------------------------

    def phrase(self, rel_type: str, forward: bool) -> str:
        """How one hop reads: declared, else made from the type's name."""
        decl = self.relationships.get(rel_type)
        said = decl and (decl.phrase if forward else decl.reverse)
        if said:
            return said
        words = rel_type.lower().replace("_", " ")
        return f"has {words}" if forward else f"is the {words} of"

    def noun(self, label: str) -> str:
        """What one node of ``label`` is called (``artist``, ``tag``)."""
        return self.node(label).noun or label.lower()

    def verb(self) -> str:
        """The user's own act on an item: ``rated``, ``play``."""
        d = self.interaction
        return d.verb or d.phrase or ("rated" if d.kind == "rating" else "chose")

    # -- identity ---------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (read back by :meth:`from_json`)."""
        return {
            "users": self.users,
            "items": self.items,
            "keys": self.keys,
            "nodes": {k: v.model_dump(exclude_defaults=True) for k, v in sorted(self.nodes.items())},
            "relationships": {k: v.model_dump(exclude_defaults=True) for k, v in sorted(self.relationships.items())},
            "datasets": list(self.datasets),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> GraphSchema:
        """Inverse of :meth:`to_json`."""
        return cls(
            users=doc.get("users", DEFAULT_USERS),
            items=doc.get("items", DEFAULT_ITEMS),
            keys=dict(doc.get("keys", {})),
            nodes={k: NodeDecl(**v) for k, v in doc.get("nodes", {}).items()},
            relationships={k: RelDecl(**v) for k, v in doc.get("relationships", {}).items()},
            datasets=tuple(doc.get("datasets", ())),
        )

    def fingerprint(self) -> str:
        """SHA-256 (hex) of what training depends on: labels, keys and relationship roles."""
        doc = {
            "users": self.users,
            "items": self.items,
            "keys": self.node_types(),
            "roles": {t: d.role for t, d in sorted(self.relationships.items())},
            "interaction": self.interaction.model_dump(include={"weight", "min_weight"}),
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def recorded_schema(doc: Mapping[str, Any]) -> GraphSchema:
    """The schema a snapshot records (``GraphSnapshot.schema``).

    A snapshot made without one (built by hand, or exported from a graph that declares
    nothing) gets kgrec's default graph model, in this one place: ``User``-``RATED``-``Item``
    interactions, every other relationship knowledge.
    """
    if doc:
        return GraphSchema.from_json(doc)
    return GraphSchema(relationships={DEFAULT_INTERACTION: RelDecl(role="interaction")})


@dataclass(frozen=True)
class SchemaPart:
    """One source's part of the schema: its declarations and the node keys its mappings use."""

    source: str
    decl: SchemaDecl
    keys: tuple[tuple[str, str], ...]
    """(label, key property) pairs in the order the spec maps them."""

    def to_json(self) -> str:
        """JSON text, stored in the graph by ``kgrec ingest``."""
        return json.dumps({"source": self.source, "decl": self.decl.model_dump(), "keys": self.keys}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SchemaPart:
        """Inverse of :meth:`to_json`."""
        doc = json.loads(text)
        keys = tuple((str(a), str(b)) for a, b in doc["keys"])
        return cls(doc["source"], SchemaDecl.model_validate(doc["decl"]), keys)


def merge(parts: Iterable[SchemaPart]) -> GraphSchema:
    """The graph's schema from every source's part.

    Raises:
        SchemaConflict: Two sources declare a label, key or relationship differently.
    """
    parts = sorted(parts, key=lambda p: p.source)
    users = _one(parts, "users", DEFAULT_USERS)
    items = _one(parts, "items", DEFAULT_ITEMS)
    nodes: dict[str, NodeDecl] = {}
    rels: dict[str, RelDecl] = {}
    for p in parts:
        _union(nodes, p.decl.nodes, p.source, "nodes")
        _union(rels, p.decl.relationships, p.source, "relationships")
    keys = _keys(parts, nodes, users, items)
    interactions = sorted(t for t, d in rels.items() if d.role == "interaction")
    if len(interactions) > 1:
        raise SchemaConflict(
            f"several interaction types declared ({', '.join(interactions)}): kgrec trains on one; "
            "declare the others role = \"exclude\""
        )
    return GraphSchema(users, items, keys, nodes, rels, tuple(p.source for p in parts))


def _one(parts: list[SchemaPart], what: str, default: str) -> str:
    said = {(getattr(p.decl, what), p.source) for p in parts if getattr(p.decl, what)}
    values = {v for v, _ in said}
    if len(values) > 1:
        raise SchemaConflict(f"{what} declared differently: " + ", ".join(f"{s} says {v}" for v, s in sorted(said)))
    return values.pop() if values else default


def _union(into: dict[str, Any], new: Mapping[str, Any], source: str, what: str) -> None:
    for name, decl in new.items():
        if name in into and into[name] != decl:
            raise SchemaConflict(f"{source}: [schema.{what}.{name}] differs from another source's declaration")
        into[name] = decl


def _keys(parts: list[SchemaPart], nodes: dict[str, NodeDecl], users: str, items: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    for p in parts:
        for label, key in p.keys:
            if label in keys and keys[label] != key:
                raise SchemaConflict(f"{p.source}: {label} keyed by {key}, elsewhere by {keys[label]}")
            keys[label] = key
    for label, decl in nodes.items():
        if decl.key:
            keys[label] = decl.key
    first = [lbl for lbl in (users, items) if lbl in keys]
    return {lbl: keys[lbl] for lbl in first + [lbl for lbl in keys if lbl not in first]}
