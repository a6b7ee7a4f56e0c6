"""Explanation paths in plain English, worded by the graph's declared schema.

Nothing here knows a dataset: hop phrases come from :meth:`GraphSchema.phrase`
(declared in the specs' ``[schema]``, else made from the type's name), "who" or
"which" from a relationship's ``person``, and the user's own interactions read
as the interaction's ``kind`` says: ratings ``You rated Toy Story 5/5``, counts
``You play Deacon Blue (1,559 plays)``, binary ``You bought Dune``.
"""

from __future__ import annotations

import math
from typing import Any

from kgrec.recommend.results import Step
from kgrec.schema import GraphSchema


def display_name(schema: GraphSchema, label: str, key: Any, name: str | None) -> str:
    """What a person reads for a node: its name (as the schema says), ``user 42``, or an IRI's readable tail."""
    if name:
        return str(name)
    if label == schema.users:
        return f"user {key}"
    text = str(key)
    if "://" in text:
        return text.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1].replace("_", " ")
    return text


def number(value: float) -> str:
    """``1559`` -> ``1,559``; ``4.5`` -> ``4.5``."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,g}"


def interaction(schema: GraphSchema, item: str, weight: float | None) -> str:
    """The user's own interaction with ``item``: ``You rated X 5/5``, ``You play X (1,559 plays)``, ``You <verb> X``."""
    decl, text = schema.interaction, f"You {schema.verb()} {item}"
    if weight is None:
        return text
    if decl.kind == "rating" and decl.scale is not None:
        return f"{text} {weight:g}/{decl.scale:g}"
    if decl.kind == "count" or (decl.kind is None and decl.weight):
        return f"{text} ({number(weight)} {decl.unit or 'times'})"
    return text


def interactions_noun(schema: GraphSchema) -> str:
    """What interactions are called: ``ratings``, ``plays`` (a count's declared unit), else ``interactions``."""
    decl = schema.interaction
    if decl.kind == "rating":
        return "ratings"
    return decl.unit if decl.kind == "count" and decl.unit else "interactions"


def also(schema: GraphSchema) -> str:
    """How another user's interaction reads: the declared ``phrase`` (``also rated``), else ``also <verb>``."""
    return schema.interaction.phrase or f"also {schema.verb()}"


LIKED_SHARE = 0.8
"""Ratings: another person's rating counts as liking from this share of the scale (4 of 5 stars)."""


def liked_level(schema: GraphSchema) -> float | None:
    """The rating from which another person liked an item (``4`` on a 5-point scale); ``None`` for
    counts and binary interactions (any interaction counts)."""
    decl = schema.interaction
    if decl.kind == "rating" and decl.scale is not None:
        return float(math.ceil(LIKED_SHARE * decl.scale))
    return None


def _at_least(schema: GraphSchema, level: float | None) -> str:
    """`` 5/5``, `` 4 or 5``, `` 3 to 5`` (ratings from ``level``); ``""`` without a level."""
    scale = schema.interaction.scale
    if level is None or scale is None:
        return ""
    if level >= scale:
        return f" {scale:g}/{scale:g}"
    return f" {level:g} or {scale:g}" if level + 1 >= scale else f" {level:g} to {scale:g}"


def crowd(schema: GraphSchema, start: str, item: str, count: int, levels: tuple[float | None, float | None]) -> str:
    """A collaborative reason about people, not ids: ``42 people who rated Blue 5/5 also rated Red 4 or 5.``,
    ``1,204 people who play Radiohead also play Muse.`` (``levels``: the lowest weights counted on
    ``start`` and on ``item``; ``None``: any)."""
    verb = schema.verb()
    said = also(schema)
    third = said[len("also ") :] if said.startswith("also ") else verb
    a, b = _at_least(schema, levels[0]), _at_least(schema, levels[1])
    if count == 1:
        return f"1 other person who {third} {start}{a} {said} {item}{b}."
    return f"{number(count)} people who {verb} {start}{a} also {verb} {item}{b}."


def owned(schema: GraphSchema, item: str, weight: float | None) -> str:
    """The note of an item the user already has: ``You already play Muse (37 plays).``."""
    return interaction(schema, item, weight).replace("You ", "You already ", 1) + "."


def sentence(
    schema: GraphSchema, steps: list[Step] | tuple[Step, ...], weight: float | None = None, *, cold: bool = False
) -> str:
    """One sentence for a path from the user (``You rated ...``), a liked item (``You liked ...``) or,
    through a social relationship, a friend (``Your friend Anna also plays Muse``)."""
    steps = list(steps)
    if steps[0].label == schema.users and len(steps) == 3 and schema.role(steps[0].rel_type or "") == "social":
        text = f"Your friend {steps[1].name} {also(schema)} {steps[2].name}"
        rest: list[Step] = []
    elif steps[0].label == schema.users:
        text, rest = interaction(schema, steps[1].name, weight), steps[1:]
    else:
        text, rest = f"You liked {steps[0].name}", steps
    for a, b in zip(rest, rest[1:]):
        text += f", {_who(schema, a)} {schema.phrase(a.rel_type or '', bool(a.forward))} {b.name}"
    text += "."
    if cold:
        text += f" {steps[-1].name} is new: it has no {interactions_noun(schema)} the model learned from, so it is"
        text += " recommended through its content and knowledge-graph neighbours."
    return text


def _who(schema: GraphSchema, step: Step) -> str:
    """``who`` when the clause's subject (``step``) is a person, else ``which``."""
    if step.label == schema.users:
        return "who"
    decl = schema.relationships.get(step.rel_type or "")
    return "who" if decl is not None and decl.person and not step.forward else "which"
