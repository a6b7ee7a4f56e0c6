"""The content-hash cache: keys, round trip, versions, and sharing between runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kgrec.features.cache import FeatureCache, content_key
from tests.features.fakes import FakeImage, FakeText


def test_key_depends_on_encoder_version_and_content_only() -> None:
    a, b = FakeText(), FakeText()
    assert content_key(a, "hello") == content_key(b, "hello") == content_key(a, b"hello")
    assert content_key(a, "hello") != content_key(a, "hello!")
    b.version = "2"
    assert content_key(a, "hello") != content_key(b, "hello")
    assert content_key(a, b"x") != content_key(FakeImage(), b"x")


def test_round_trip_across_instances(tmp_path: Path) -> None:
    enc = FakeText()
    vec = np.array([0.5, -1.0, 3.25, 1e-8], dtype=np.float32)
    with FeatureCache(tmp_path, enc) as cache:
        cache.put_many({"k1": vec})
        assert len(cache) == 1
    with FeatureCache(tmp_path, enc) as cache:
        got = cache.get_many(["k1", "k2", "k1"])
    assert list(got) == ["k1"]
    assert got["k1"].dtype == np.float32 and np.array_equal(got["k1"], vec)


def test_many_keys_and_one_file_per_encoder_version(tmp_path: Path) -> None:
    enc = FakeText()
    vectors = {f"k{i}": np.full(4, i, dtype=np.float32) for i in range(1_200)}
    with FeatureCache(tmp_path, enc) as cache:
        cache.put_many(vectors)
        assert len(cache.get_many(vectors)) == 1_200
    enc.version = "2"
    with FeatureCache(tmp_path, enc) as cache:
        assert cache.get_many(vectors) == {}
    assert len(list(tmp_path.glob("*.sqlite"))) == 2


def test_wrong_dimension_is_refused(tmp_path: Path) -> None:
    with FeatureCache(tmp_path, FakeText()) as cache, pytest.raises(ValueError, match="shape"):
        cache.put_many({"k": np.zeros(3, dtype=np.float32)})
