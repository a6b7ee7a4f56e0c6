"""Fake encoders for fast pipeline tests: deterministic, and they count their calls."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from kgrec.errors import BadRecord, InputDataError
from kgrec.features.encoder import EncoderInfo, Modality, register


def _vector(data: bytes, dim: int) -> np.ndarray:
    digest = hashlib.sha256(data).digest()
    return (np.frombuffer(digest[:dim], dtype=np.uint8).astype(np.float32) + 1.0) / 256.0


class FakeText:
    """4-d vectors from a hash of the text."""

    name = "fake-text"
    modality: Modality = "text"
    dim = 4
    version = "1"

    def __init__(self) -> None:
        self.calls = 0
        self.inputs: list[bytes | str] = []

    def encode(self, inputs: Sequence[bytes | str]) -> np.ndarray:
        self.calls += 1
        self.inputs.extend(inputs)
        return np.stack([_vector(x.encode() if isinstance(x, str) else x, self.dim) for x in inputs])


class FakeImage(FakeText):
    """3-d vectors: the file's first three bytes, so tests choose neighbours; ``BAD...`` is unreadable."""

    name = "fake-image"
    modality: Modality = "image"
    dim = 3

    def encode(self, inputs: Sequence[bytes | str]) -> np.ndarray:
        self.calls += 1
        self.inputs.extend(inputs)
        for i, x in enumerate(inputs):
            if not isinstance(x, bytes) or x.startswith(b"BAD"):
                raise InputDataError([BadRecord(f"input {i}", None, "not a readable image")])
        return np.stack([np.frombuffer(x[:3], dtype=np.uint8).astype(np.float32) + 1.0 for x in inputs])


register(EncoderInfo("fake-text", "text", 4, "tests.features.fakes:FakeText"))
register(EncoderInfo("fake-image", "image", 3, "tests.features.fakes:FakeImage"))
