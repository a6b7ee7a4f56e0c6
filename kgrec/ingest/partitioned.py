"""Rows split into partitions that each fit in memory: buffered, then appended (pickled) to one file each.

The one spill kgrec uses where a load must see all rows of one thing together in
bounded memory: the subject facts of a streamed RDF file (``rdf_partitions``)
and the nodes and relationships of a bulk load (``bulk_spill``). Callers choose
each row's partition; files are only ever written and read by this process.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


class Partitioned:
    """``count`` partitions of rows, held in memory up to ``buffered`` rows, then appended to files.

    Args:
        count: Partitions.
        folder: Gives the folder for the files; called at the first write only, so a load
            that never spills creates nothing.
        name: File name prefix within the folder.
        buffered: Rows held in memory over all partitions before they are appended to their
            files (with one partition, rows stay in memory).
    """

    def __init__(self, count: int, folder: Callable[[], Path], *, name: str = "part", buffered: int = 200_000) -> None:
        self._count, self._folder, self._name, self._buffered = count, folder, name, buffered
        self._buffers: list[list[Any]] = [[] for _ in range(count)]
        self._held = 0
        self._written: set[int] = set()

    @property
    def count(self) -> int:
        """The number of partitions."""
        return self._count

    def add(self, partition: int, row: Any) -> None:
        """Append ``row`` to ``partition``."""
        self._buffers[partition].append(row)
        self._held += 1
        if self._held >= self._buffered and self._count > 1:
            self.flush()

    def flush(self) -> None:
        """Append the buffers to their files."""
        for i, buf in enumerate(self._buffers):
            if buf:
                with self._file(i).open("ab") as f:
                    pickle.dump(buf, f, protocol=pickle.HIGHEST_PROTOCOL)
                self._written.add(i)
                self._buffers[i] = []
        self._held = 0

    def each(self) -> Iterator[list[Any]]:
        """Every partition's rows in the order they were added, in partition order (a file is removed once read)."""
        for i in range(self._count):
            rows = self._read(i) + self._buffers[i]
            self._buffers[i] = []
            yield rows

    def _read(self, i: int) -> list[Any]:
        if i not in self._written:
            return []
        path, rows = self._file(i), []
        with path.open("rb") as f:  # our own file, in a folder only we can read
            while True:
                try:
                    rows.extend(pickle.load(f))
                except EOFError:
                    break
        path.unlink()
        self._written.discard(i)
        return rows

    def _file(self, i: int) -> Path:
        return self._folder() / f"{self._name}-{i:05d}.pkl"
