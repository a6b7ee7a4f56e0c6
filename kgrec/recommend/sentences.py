"""Explanation paths in plain English: one sentence per path, clause by clause."""

from __future__ import annotations

from typing import Any

from kgrec.recommend.results import Step

FORWARD = {
    "RATED": "also rated",
    "DIRECTED_BY": "was directed by",
    "STARRING": "stars",
    "WRITTEN_BY": "was written by",
    "PRODUCED_BY": "was produced by",
    "CINEMATOGRAPHY_BY": "was shot by",
    "DISTRIBUTED_BY": "was distributed by",
    "IN_CATEGORY": "is in the category",
    "IN_GENRE": "is in the genre",
}
"""Phrase for a relationship read from its start node to its end node."""

BACKWARD = {
    "RATED": "was also rated by",
    "DIRECTED_BY": "also directed",
    "STARRING": "also stars in",
    "WRITTEN_BY": "also wrote",
    "PRODUCED_BY": "also produced",
    "CINEMATOGRAPHY_BY": "also shot",
    "DISTRIBUTED_BY": "also distributed",
    "IN_CATEGORY": "also contains",
    "IN_GENRE": "also contains",
}
"""Phrase for a relationship read from its end node back to its start node."""

_PERSON_RELS = frozenset({"DIRECTED_BY", "STARRING", "WRITTEN_BY", "PRODUCED_BY", "CINEMATOGRAPHY_BY"})


def display_name(node: tuple[str, Any], name: str | None) -> str:
    """What a person reads for a node: its title or name, ``user 42``, or the tail of an IRI."""
    label, key = node
    if label == "User":
        return f"user {key}"
    if name:
        return str(name)
    text = str(key)
    return text.rstrip("/").rsplit("/", 1)[-1].replace("_", " ") if label == "Entity" else text


def phrase(rel_type: str, forward: bool) -> str:
    """The verb phrase of one hop (a generic one for types without a phrase of their own)."""
    table = FORWARD if forward else BACKWARD
    if rel_type in table:
        return table[rel_type]
    if rel_type.startswith("FB_"):
        words = rel_type[3:].lower().replace("_", " ")
        return f"has the Freebase {words}" if forward else f"is also the Freebase {words} of"
    words = rel_type.lower().replace("_", " ")
    return f"is linked ({words}) to" if forward else f"is also linked ({words}) from"


def sentence(steps: list[Step] | tuple[Step, ...], rating: float | None = None, *, cold: bool = False) -> str:
    """One sentence for a path that starts at the user (``You rated ...``) or at a liked item (``You liked ...``)."""
    steps = list(steps)
    if steps[0].label == "User":
        first, rest = steps[1], steps[1:]
        stars = f" {rating:g}/5" if rating is not None else ""
        text = f"You rated {first.name}{stars}"
    else:
        first, rest = steps[0], steps
        text = f"You liked {first.name}"
    for a, b in zip(rest, rest[1:]):
        person = a.label == "User" or (a.label == "Entity" and a.rel_type in _PERSON_RELS)
        who = "who" if person else "which"
        text += f", {who} {phrase(a.rel_type or '', bool(a.forward))} {b.name}"
    text += "."
    if cold:
        text += f" {steps[-1].name} is new: it has no ratings the model learned from, so it is recommended"
        text += " through its content and knowledge-graph neighbours."
    return text
