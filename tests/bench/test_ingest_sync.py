"""The cost-of-provenance variant of the ingestion benchmark: its table and its store measure."""

from __future__ import annotations

from pathlib import Path

from bench import ingest_sync
from bench.ingest_sync import PLAIN, SYNC, SYNC_AGAIN, Variant
from tests.conftest import write

MIB = 1 << 20


def _variant(name: str, seconds: float, store_mib: int) -> Variant:
    return Variant(name, seconds, 1000, 10, store_mib * MIB, 256 * MIB, 100 * MIB, 900 * MIB)


def test_the_table_sets_each_variant_beside_the_plain_load() -> None:
    table = ingest_sync.markdown_table(
        [_variant(PLAIN, 40.0, 20), _variant(SYNC, 50.0, 30), _variant(SYNC_AGAIN, 60.0, 35)]
    )
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    assert [(r[0], r[1], r[2], r[5], r[6]) for r in rows] == [
        (PLAIN, "40.0", "1.00x", "20.0 MiB", "1.00x"),
        (SYNC, "50.0", "1.25x", "30.0 MiB", "1.50x"),
        (SYNC_AGAIN, "60.0", "1.50x", "35.0 MiB", "1.75x"),
    ]


def test_store_size_counts_every_file_below_the_database(tmp_path: Path) -> None:
    write(tmp_path / "neostore.nodestore.db", b"x" * 300)
    write(tmp_path / "schema" / "index" / "1.db", b"y" * 45)
    assert ingest_sync._bytes(tmp_path) == 345
