"""The encoder contract; the registry of encoder names lives in :mod:`kgrec.modalities`.

An encoder turns a batch of inputs of one modality (text as ``str``, images and
audio as the bytes of their files) into one fixed-size ``float32`` vector each.
Encoders import their heavy libraries (torch, sentence-transformers, librosa)
only when they are created, so naming them in a spec costs nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from kgrec.modalities import MODALITIES, EncoderInfo, Modality, encoder_info, encoder_names, register

__all__ = [
    "MODALITIES",
    "Encoder",
    "EncoderInfo",
    "Modality",
    "check_output",
    "create_encoder",
    "encoder_info",
    "encoder_names",
    "register",
]


@runtime_checkable
class Encoder(Protocol):
    """Turns inputs of one modality into fixed-size vectors.

    Attributes:
        name: Registry name (``"minilm"``); part of every cache key.
        modality: ``"text"``, ``"image"`` or ``"audio"``.
        dim: Length of each vector.
        version: Changes whenever the same input would give another vector
            (weights, preprocessing); part of every cache key.
    """

    name: str
    modality: Modality
    dim: int
    version: str

    def encode(self, inputs: Sequence[bytes | str]) -> np.ndarray:
        """Encode a batch deterministically.

        Args:
            inputs: Text (``str``) for text encoders, file contents (``bytes``)
                for image and audio encoders.

        Returns:
            A finite ``float32`` array of shape ``(len(inputs), dim)``.

        Raises:
            InputDataError: An input cannot be decoded (e.g. a corrupt image).
        """
        ...


def create_encoder(name: str) -> Encoder:
    """The registered encoder ``name``; its model loads on the first :meth:`~Encoder.encode` call.

    So a run whose inputs are all cached never loads a model.
    """
    info = encoder_info(name)
    module, _, attr = info.target.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    if cls.name != name or cls.dim != info.dim or cls.modality != info.modality:
        raise RuntimeError(f"encoder class {info.target} does not match its registration {name!r}")
    return _Lazy(cls)


class _Lazy:
    """An encoder built on first use; its identity comes from the class attributes."""

    def __init__(self, cls: type) -> None:
        self._cls = cls
        self._encoder: Encoder | None = None
        self.name: str = cls.name
        self.modality: Modality = cls.modality
        self.dim: int = cls.dim
        self.version: str = cls.version

    @property
    def loaded(self) -> bool:
        """Whether the model has been built."""
        return self._encoder is not None

    def encode(self, inputs: Sequence[bytes | str]) -> np.ndarray:
        if self._encoder is None:
            self._encoder = self._cls()
        return self._encoder.encode(inputs)


def check_output(encoder: Encoder, vectors: np.ndarray, n: int) -> np.ndarray:
    """Check the contract on an encoder's output and return it.

    Raises:
        RuntimeError: Wrong shape or dtype, or a non-finite value.
    """
    if vectors.dtype != np.float32 or vectors.shape != (n, encoder.dim):
        raise RuntimeError(
            f"encoder {encoder.name!r} returned {vectors.dtype} {vectors.shape}, not float32 ({n}, {encoder.dim})"
        )
    if not np.isfinite(vectors).all():
        raise RuntimeError(f"encoder {encoder.name!r} returned a non-finite value")
    return vectors
