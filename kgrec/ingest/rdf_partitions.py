"""Subject facts of a streamed RDF file, split by subject into partitions that each fit in memory.

Facts are buffered in memory and appended (pickled) to one file per partition
in a private temporary folder, removed on exit. The partition of a subject is a
stable hash (CRC-32), so it is the same on every run.
"""

from __future__ import annotations

import math
import pickle
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kgrec.ingest.compressed import is_compressed

PARTITION_BYTES = 32 << 20
"""Source bytes per partition of subject facts (a compressed file counts as 8x its size)."""
BUFFERED_FACTS = 200_000
"""Facts held in memory before the partition buffers are appended to their files."""

Fact = tuple[str, int, str, Any]
"""(subject IRI, kind, name, value)."""


def partition_count(path: Path) -> int:
    """Partitions for ``path``: one per :data:`PARTITION_BYTES` of (estimated uncompressed) input."""
    size = path.stat().st_size * (8 if is_compressed(path) else 1)
    return max(1, math.ceil(size / PARTITION_BYTES))


class Partitions:
    """Subject facts split by a stable hash of the subject, buffered in memory and appended to files."""

    def __init__(self, count: int, spill_dir: Path | None) -> None:
        self._count = count
        self._parent = spill_dir
        self._buffers: list[list[Fact]] = [[] for _ in range(count)]
        self._held = 0
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Partitions:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._dir is not None:
            self._dir.cleanup()

    def add(self, fact: Fact) -> None:
        """File ``fact`` under its subject (``fact[0]``)."""
        i = zlib.crc32(fact[0].encode()) % self._count if self._count > 1 else 0
        self._buffers[i].append(fact)
        self._held += 1
        if self._held >= BUFFERED_FACTS and self._count > 1:
            self._flush()

    def each(self) -> Iterator[list[Fact]]:
        """Every partition's facts, in partition order."""
        for i in range(self._count):
            facts = self._read(i) + self._buffers[i]
            self._buffers[i] = []
            yield facts

    def _file(self, i: int) -> Path:
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="kgrec-rdf-", dir=self._parent)
        return Path(self._dir.name) / f"{i:05d}.pkl"

    def _flush(self) -> None:
        for i, buf in enumerate(self._buffers):
            if buf:
                with self._file(i).open("ab") as f:
                    pickle.dump(buf, f, protocol=pickle.HIGHEST_PROTOCOL)
                self._buffers[i] = []
        self._held = 0

    def _read(self, i: int) -> list[Fact]:
        if self._dir is None or not self._file(i).exists():
            return []
        facts: list[Fact] = []
        with self._file(i).open("rb") as f:  # our own file, in a folder only we can read
            while True:
                try:
                    facts.extend(pickle.load(f))
                except EOFError:
                    return facts
