"""Opens input files that may be compressed, chosen by the file name's suffix.

A spec names a file with its suffix (``ratings.csv.gz``); ``.gz``, ``.bz2``
and ``.xz`` are decompressed while reading, anything else is read as it is.
Only the standard library is used (``gzip``, ``bz2``, ``lzma``).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, BinaryIO, TextIO, cast

_OPENERS: dict[str, Callable[..., IO[bytes]]] = {
    ".gz": gzip.open,
    ".bz2": bz2.open,
    ".xz": lzma.open,
}
"""Decompressing openers by file suffix (lower case)."""

SUFFIXES = tuple(_OPENERS)
"""The suffixes read as compressed files."""

DECOMPRESS_ERRORS: tuple[type[Exception], ...] = (EOFError, OSError, lzma.LZMAError, zlib.error)
"""What reading a damaged or truncated compressed file raises (``gzip.BadGzipFile`` is an ``OSError``)."""


def is_compressed(path: Path) -> bool:
    """Whether ``path`` is read through a decompressor (by its suffix)."""
    return path.suffix.lower() in _OPENERS


def inner_suffix(path: Path) -> str:
    """The suffix under a compression suffix (``.csv`` for ``a.csv.gz``), else the suffix itself."""
    if is_compressed(path):
        return Path(path.stem).suffix.lower()
    return path.suffix.lower()


def open_binary(path: Path) -> BinaryIO:
    """Open ``path`` for reading bytes, decompressing by suffix.

    Args:
        path: The file; ``.gz``, ``.bz2`` and ``.xz`` files are decompressed.

    Returns:
        A binary stream of the (decompressed) content; close it after use.
    """
    opener = _OPENERS.get(Path(path).suffix.lower())
    if opener is None:
        return cast(BinaryIO, open(path, "rb"))  # noqa: SIM115 - the caller closes it
    return cast(BinaryIO, opener(path, "rb"))


def open_text(path: Path, *, encoding: str, newline: str | None = "", errors: str = "strict") -> TextIO:
    """Open ``path`` for reading text, decompressing by suffix.

    Args:
        path: The file; ``.gz``, ``.bz2`` and ``.xz`` files are decompressed.
        encoding: The text encoding (``utf-8-sig`` drops a byte-order mark).
        newline: As for :func:`open` (default ``""``: line endings are left
            to the reader, as the ``csv`` module wants).
        errors: How undecodable bytes are handled (as for :func:`open`).

    Returns:
        A text stream; close it after use.
    """
    opener = _OPENERS.get(Path(path).suffix.lower())
    if opener is None:
        return cast(TextIO, open(path, encoding=encoding, newline=newline, errors=errors))  # noqa: SIM115
    return cast(TextIO, opener(path, "rt", encoding=encoding, newline=newline, errors=errors))
