"""Dataset download: checksum verified, nothing kept on failure (served from a local file:// URL)."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from kgrec import data
from kgrec.errors import KgrecError


def _archive(tmp_path: Path, content: bytes) -> data.Download:
    zpath = tmp_path / "ml.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("ml-100k/u.data", content)
        z.writestr("ml-100k/u.item", b"1|Toy Story (1995)\n")
    return data.Download(
        "movielens-100k", zpath.as_uri(), "ml-100k", "u.data", hashlib.md5(b"196\t242\t3\t1\n").hexdigest()
    )


def test_fetch_verifies_and_unpacks(tmp_path: Path) -> None:
    dl = _archive(tmp_path, b"196\t242\t3\t1\n")
    seen: list[int] = []
    target = data.fetch(dl, tmp_path / "data", lambda n, total: seen.append(n))
    assert (target / "u.item").read_bytes().startswith(b"1|Toy Story")
    assert sum(seen) == (tmp_path / "ml.zip").stat().st_size
    assert data.fetch(dl, tmp_path / "data") == target  # verified copy is reused


def test_checksum_mismatch_keeps_nothing(tmp_path: Path) -> None:
    dl = _archive(tmp_path, b"tampered\n")
    with pytest.raises(KgrecError, match="checksum"):
        data.fetch(dl, tmp_path / "data")
    assert list((tmp_path / "data").iterdir()) == []


def test_unreachable_source_is_a_clear_error(tmp_path: Path) -> None:
    dl = data.Download("x", (tmp_path / "absent.zip").as_uri(), "x", "u.data", "0")
    with pytest.raises(KgrecError, match="could not download"):
        data.fetch(dl, tmp_path / "data")


def test_manual_sources_say_what_to_put_where(tmp_path: Path) -> None:
    text = data.missing_help("movielens-100k-dbpedia", tmp_path)
    assert "films.ttl" in text and str(tmp_path / "movielens-100k-dbpedia") in text
