"""Subject facts of a streamed RDF file, split by subject into partitions that each fit in memory.

Facts are buffered in memory and appended to one file per partition
(:class:`~kgrec.ingest.partitioned.Partitioned`) in a private temporary folder,
removed on exit. The partition of a subject is a
stable hash (CRC-32), so it is the same on every run.
"""

from __future__ import annotations

import math
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kgrec.ingest.compressed import is_compressed
from kgrec.ingest.partitioned import Partitioned

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
    """Subject facts split by a stable hash of the subject, in a private temporary folder removed on exit."""

    def __init__(self, count: int, spill_dir: Path | None) -> None:
        self._parent = spill_dir
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._parts = Partitioned(count, self._folder, name="facts", buffered=BUFFERED_FACTS)

    def __enter__(self) -> Partitions:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._dir is not None:
            self._dir.cleanup()

    def add(self, fact: Fact) -> None:
        """File ``fact`` under its subject (``fact[0]``)."""
        count = self._parts.count
        self._parts.add(zlib.crc32(fact[0].encode()) % count if count > 1 else 0, fact)

    def each(self) -> Iterator[list[Fact]]:
        """Every partition's facts, in partition order."""
        return self._parts.each()

    def _folder(self) -> Path:
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="kgrec-rdf-", dir=self._parent)
        return Path(self._dir.name)
