"""Moved to :mod:`tests.twotastes` (the learning tests' world is ``TOY`` there); re-exported while new tests move."""

from tests.twotastes import COLD_ROWS as COLD
from tests.twotastes import NUM_ITEMS, NUM_USERS, TOY, taste, toy_snapshot, toy_split, user_taste

__all__ = ["COLD", "NUM_ITEMS", "NUM_USERS", "TOY", "taste", "toy_snapshot", "toy_split", "user_taste"]
