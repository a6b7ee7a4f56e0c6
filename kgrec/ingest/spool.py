"""Keeps mapped batches between the validation pass and the writes, so each record is converted once.

Up to a budget of rows stays in memory; past it, each item is pickled to a file of
its own in a private temporary folder (removed on close), so a source larger than
memory still streams.
"""

from __future__ import annotations

import logging
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Spool:
    """The memory budget and spill folder shared by the spooled lists of one run.

    Args:
        memory_rows: Rows kept in memory over all lists; the rest go to files.
        folder: Where to create the spill folder (default: the system's temp folder).
    """

    def __init__(self, memory_rows: int, folder: Path | None = None) -> None:
        self._left = memory_rows
        self._parent = folder
        self._dir: Path | None = None
        self._files = 0

    def list(self) -> SpooledList[T]:
        """A new, empty list using this spool."""
        return SpooledList(self)

    @property
    def spilled(self) -> int:
        """Items written to files so far."""
        return self._files

    def close(self) -> None:
        """Delete the spill folder."""
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def _take(self, rows: int) -> bool:
        """Reserve memory for ``rows``; False when the budget is spent."""
        if rows > self._left:
            self._left = 0
            return False
        self._left -= rows
        return True

    def _dump(self, item: object) -> Path:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="kgrec-ingest-", dir=self._parent))
            log.info("spilling mapped batches to %s", self._dir)
        path = self._dir / f"{self._files:06d}.pkl"
        with path.open("wb") as f:
            pickle.dump(item, f, protocol=pickle.HIGHEST_PROTOCOL)
        self._files += 1
        return path


class SpooledList(Generic[T]):
    """An append-only list whose items live in memory or in the spool's files, read back in order."""

    def __init__(self, spool: Spool) -> None:
        self._spool = spool
        self._items: list[T | Path] = []

    def append(self, item: T, rows: int) -> None:
        """Add ``item``, which holds ``rows`` rows (what the memory budget counts)."""
        self._items.append(item if self._spool._take(rows) else self._spool._dump(item))

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        for item in self._items:
            if isinstance(item, Path):
                with item.open("rb") as f:
                    yield pickle.load(f)  # our own file, in a folder only we can read
            else:
                yield item
