"""Generated blocks of README.md: the part between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``.

The README's result tables are written only by the reports that read the committed result files
(``bench.report_leaderboard``, ``bench.scale_report``), never by hand.
"""

from __future__ import annotations


class MarkerError(ValueError):
    """The README lacks a block's markers, or has them out of order."""


def markers(name: str) -> tuple[str, str]:
    """The begin and end markers of block ``name``."""
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def replace_block(text: str, name: str, block: str, where: str) -> str:
    """``text`` with the part between block ``name``'s markers replaced by ``block`` (the markers stay).

    Raises:
        MarkerError: The markers are missing or out of order.
    """
    begin, end = markers(name)
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise MarkerError(f"{where}: needs {begin} ... {end} (in that order)")
    return text[: start + len(begin)] + "\n" + block + text[stop:]
