"""bench/browser_shots.py: its command line and the checks it makes before it writes a picture (no browser)."""

from __future__ import annotations

from typing import Any

import pytest

from bench.browser_shots import not_drawn, parse_args, unnamed, user_param


def _rec(rank: int, title: str, *middle: tuple[str, Any, str, str]) -> dict[str, Any]:
    """One recommendation whose first reason runs user -> middle nodes -> the item."""
    steps = [{"label": "User", "key": 1, "name": "user 1", "rel_type": "RATED"}]
    steps += [{"label": lab, "key": key, "name": name, "rel_type": rel} for lab, key, name, rel in middle]
    steps.append({"label": "Item", "key": 100 + rank, "name": title, "rel_type": None})
    return {"rank": rank, "item": 100 + rank, "title": title, "paths": [{"steps": steps, "sentence": "..."}]}


NICK_PARK = _rec(
    1,
    "Close Shave, A (1995)",
    ("Item", 7, "Wrong Trousers, The (1993)", "DIRECTED_BY"),
    ("Person", "nm0661910", "Nick Park", "DIRECTED_BY"),
)
LANGUAGE = _rec(
    5,
    "Beauty and the Beast (1991)",
    ("Item", 8, "Brother Minister (1994)", "FB_LANGUAGE"),
    ("Entity", "http://rdf.freebase.com/ns/m.02h40lc", "m.02h40lc (no name in the graph)", "FB_LANGUAGE"),
)
DRAWN = "user 1 Close Shave, A (1995) Wrong Trousers, The (1993) Nick Park"
LISTED = "RECOMMENDED (1) RATED (1) DIRECTED_BY (1)"


def test_help_exits_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        parse_args(["--help"])
    assert done.value.code == 0
    assert "--model" in capsys.readouterr().out


def test_a_first_reason_drawn_in_full_passes() -> None:
    assert not_drawn([NICK_PARK], DRAWN, LISTED) == []


def test_a_missing_middle_node_and_relationship_type_are_named() -> None:
    faults = not_drawn([NICK_PARK], "user 1 Close Shave, A (1995) Wrong Trousers, The (1993)", "RATED (1)")
    assert faults == ["1. Close Shave, A (1995) [101]: not drawn: Nick Park, DIRECTED_BY"]


def test_an_item_without_reasons_needs_only_its_title() -> None:
    bare = {"rank": 2, "item": 9, "title": "Fantasia (1940)", "paths": []}
    assert not_drawn([bare], "Fantasia (1940)", "") == []
    assert not_drawn([bare], "user 1", "") == ["2. Fantasia (1940) [9]: not drawn: Fantasia (1940)"]


def test_a_node_known_only_by_its_id_is_reported_and_a_named_one_is_not() -> None:
    assert unnamed([NICK_PARK, LANGUAGE]) == ["5. Beauty and the Beast (1991) [105]: m.02h40lc (no name in the graph)"]


def test_the_user_parameter_is_typed_as_the_cli_reads_it() -> None:
    assert user_param("1") == ":param user => 1"
    assert user_param("alice") == ':param user => "alice"'
