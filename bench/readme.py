"""Generated blocks of README.md: the part between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``.

The README's result tables are written only by the reports that read the committed result files
(``bench.report_leaderboard``, ``bench.scale_report``), never by hand.
"""

from __future__ import annotations

import argparse
from pathlib import Path


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


def add_arguments(parser: argparse.ArgumentParser, no_readme_help: str) -> None:
    """``--readme FILE`` (default README.md) and ``--no-readme``."""
    parser.add_argument("--readme", type=Path, default=Path("README.md"), help="file with the marked block")
    parser.add_argument("--no-readme", action="store_true", help=no_readme_help)


def publish(parser: argparse.ArgumentParser, args: argparse.Namespace, name: str, block: str) -> None:
    """Write ``block`` into ``args.readme`` unless ``--no-readme``, then print it; a README without the
    block's markers ends the program with one line and is left as it was."""
    if not args.no_readme:
        try:
            text = replace_block(args.readme.read_text(encoding="utf-8"), name, block, str(args.readme))
        except MarkerError as e:
            parser.exit(2, f"error: {e}\n")
        args.readme.write_text(text, encoding="utf-8")
    print(block)
