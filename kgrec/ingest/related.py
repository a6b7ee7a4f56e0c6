"""``related`` in a ``[[features]]`` entry: text that follows a declared relationship to the neighbours' names.

An artist's text can then hold its tags' names ("synthpop, new wave, 80s"), a
book's its author's and subjects' names::

    [[features]]
    modality = "text"
    encoder = "minilm"
    label = "Artist"
    properties = ["name"]
    related = [{ type = "HAS_TAG", property = "name", order = "times", limit = 20 }]

Names are checked here (their syntax) and against the graph when ``kgrec
features`` runs (:mod:`kgrec.features.related`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kgrec.graph.names import check_property, check_rel_type

Direction = Literal["out", "in", "both"]


class Related(BaseModel):
    """One relationship whose neighbours' property values join a node's text, after its own properties."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    """The relationship type (one the graph has)."""
    property: str
    """The neighbours' property whose values are joined (e.g. ``name``); neighbours without it are left out."""
    direction: Direction = "out"
    """``out``: from the node (``(n)-[:TYPE]->(m)``), ``in``: towards it, ``both``: either."""
    order: str | None = None
    """A relationship property that ranks the neighbours, highest first (e.g. a tag's ``times``);
    relationships without it come last. None: by the value, alphabetically."""
    ascending: bool = False
    """Rank by ``order`` lowest first instead."""
    limit: int = Field(20, ge=1, le=1000)
    """At most this many neighbours, the first in that order."""
    separator: str = ", "
    """Joins the neighbours' values into one part of the text."""

    @field_validator("type")
    @classmethod
    def _type(cls, v: str) -> str:
        return check_rel_type(v)

    @field_validator("property", "order")
    @classmethod
    def _property(cls, v: str | None) -> str | None:
        return None if v is None else check_property(v)


__all__ = ["Direction", "Related"]
