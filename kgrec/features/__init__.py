"""Modality features: encoders behind one protocol and a content-hash cache.

``kgrec.features.pipeline`` attaches one vector per node and modality in Neo4j
(``kgrec features``); it is not imported here, so the encoders can be used
without the graph side (no neo4j import). Encoders load their models lazily.
"""

from kgrec.features.cache import FeatureCache, content_key
from kgrec.features.encoder import (
    MODALITIES,
    Encoder,
    EncoderInfo,
    Modality,
    create_encoder,
    encoder_info,
    encoder_names,
    register,
)

__all__ = [
    "MODALITIES",
    "Encoder",
    "EncoderInfo",
    "FeatureCache",
    "Modality",
    "content_key",
    "create_encoder",
    "encoder_info",
    "encoder_names",
    "register",
]
