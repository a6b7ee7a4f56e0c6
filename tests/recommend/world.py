"""Moved to :mod:`tests.twotastes` (the answer tests' world is ``FILMS`` there); re-exported while new tests move."""

from tests.twotastes import (
    ANIMATED,
    BIRD,
    COLD,
    FANS,
    FILMS,
    LASSETER,
    LASSETER_FILMS,
    NOIR,
    ORPHAN,
    PIXAR,
    TITLES,
    WILDER,
    load_world,
    ratings,
    title,
)

__all__ = [
    "ANIMATED",
    "BIRD",
    "COLD",
    "FANS",
    "FILMS",
    "LASSETER",
    "LASSETER_FILMS",
    "NOIR",
    "ORPHAN",
    "PIXAR",
    "TITLES",
    "WILDER",
    "load_world",
    "ratings",
    "title",
]
