"""The encoder contract and the registry of kgrec's encoders.

An encoder turns a batch of inputs of one modality (text as ``str``, images and
audio as the bytes of their files) into one fixed-size ``float32`` vector each.
Encoders import their heavy libraries (torch, sentence-transformers, librosa)
only when they are created, so naming them in a spec costs nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np

Modality = Literal["text", "image", "audio"]
MODALITIES: tuple[Modality, ...] = ("text", "image", "audio")


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


@dataclass(frozen=True, slots=True)
class EncoderInfo:
    """What a spec may name: an encoder's modality and size, and where its class lives."""

    name: str
    modality: Modality
    dim: int
    target: str
    """``module:Class``; the class is imported and built without arguments on :func:`create_encoder`."""


_REGISTRY: dict[str, EncoderInfo] = {}


def register(info: EncoderInfo) -> None:
    """Make an encoder available to specs under ``info.name`` (replaces one of that name)."""
    _REGISTRY[info.name] = info


def encoder_info(name: str) -> EncoderInfo:
    """The registered encoder ``name``.

    Raises:
        KeyError: No encoder has that name (the message lists the known ones).
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown encoder {name!r} (known: {', '.join(sorted(_REGISTRY))})") from None


def encoder_names() -> list[str]:
    """Names of all registered encoders."""
    return sorted(_REGISTRY)


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


register(EncoderInfo("minilm", "text", 384, "kgrec.features.text:MiniLMEncoder"))
register(EncoderInfo("efficientnet-lite0", "image", 1280, "kgrec.features.image:EfficientNetLiteEncoder"))
register(EncoderInfo("librosa-music", "audio", 89, "kgrec.features.audio:LibrosaAudioEncoder"))
