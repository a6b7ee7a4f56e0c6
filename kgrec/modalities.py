"""Item modalities: their names, where their vectors live in the graph, and the encoders a spec may name.

The one place that owns the modality vocabulary, as plain data (no torch, no
Neo4j), so that specs (:mod:`kgrec.ingest.spec`), the graph side, the feature
pipeline and training all read it from below:

* :data:`Modality`: ``text``, ``image`` or ``audio``;
* :func:`feature_property`: the node property holding a modality's vector (``feat_<modality>``);
* :func:`feature_index`: the vector index over it (``<label>_feat_<modality>``, lower case);
* the encoder registry: what each encoder name means (modality, size, class), read by spec
  validation; the classes live in :mod:`kgrec.features` and load only when an encoder is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Modality = Literal["text", "image", "audio"]
MODALITIES: tuple[Modality, ...] = ("text", "image", "audio")


def feature_property(modality: str) -> str:
    """The node property holding ``modality``'s vectors: ``feat_<modality>``."""
    return f"feat_{modality}"


def feature_index(label: str, modality: str) -> str:
    """The vector index over :func:`feature_property` on ``label``: ``<label>_feat_<modality>`` in lower case."""
    return f"{label.lower()}_{feature_property(modality)}"


@dataclass(frozen=True, slots=True)
class EncoderInfo:
    """What a spec may name: an encoder's modality and size, and where its class lives."""

    name: str
    modality: Modality
    dim: int
    target: str
    """``module:Class``; the class is imported and built without arguments by
    :func:`kgrec.features.encoder.create_encoder`."""


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


register(EncoderInfo("minilm", "text", 384, "kgrec.features.text:MiniLMEncoder"))
register(EncoderInfo("efficientnet-lite0", "image", 1280, "kgrec.features.image:EfficientNetLiteEncoder"))
register(EncoderInfo("librosa-music", "audio", 89, "kgrec.features.audio:LibrosaAudioEncoder"))
