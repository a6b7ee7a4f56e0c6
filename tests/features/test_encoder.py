"""The encoder registry and the lazy handle (no model is loaded here)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from kgrec.features.encoder import EncoderInfo, check_output, create_encoder, encoder_info, encoder_names, register
from tests.features.fakes import FakeText


def test_builtin_encoders_are_registered_with_their_modality_and_size() -> None:
    assert {"minilm", "efficientnet-lite0", "librosa-music"} <= set(encoder_names())
    assert (encoder_info("minilm").modality, encoder_info("minilm").dim) == ("text", 384)
    assert (encoder_info("efficientnet-lite0").modality, encoder_info("efficientnet-lite0").dim) == ("image", 1280)
    assert encoder_info("librosa-music").modality == "audio"


def test_unknown_encoder_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown encoder 'clip'.*minilm"):
        encoder_info("clip")


def test_create_encoder_defers_the_model_until_the_first_batch() -> None:
    enc = create_encoder("fake-text")
    assert (enc.name, enc.dim, enc.version) == ("fake-text", 4, "1")
    assert not enc.loaded  # type: ignore[attr-defined]
    assert enc.encode(["a"]).shape == (1, 4)
    assert enc.loaded  # type: ignore[attr-defined]


def test_naming_a_real_encoder_loads_no_heavy_library() -> None:
    """In a fresh interpreter: in a full run other tests have imported torch into this one."""
    code = (
        "import sys\n"
        "from kgrec.features.encoder import create_encoder\n"
        "enc = create_encoder('librosa-music')\n"
        "print(enc.dim, sorted({'torch', 'sentence_transformers', 'librosa'} & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["89", "[]"]


def test_registration_must_match_the_class() -> None:
    register(EncoderInfo("fake-text-wrong", "text", 4, "tests.features.fakes:FakeText"))
    with pytest.raises(RuntimeError, match="does not match"):
        create_encoder("fake-text-wrong")


def test_check_output_rejects_wrong_shape_dtype_and_non_finite() -> None:
    enc = FakeText()
    assert check_output(enc, np.zeros((2, 4), np.float32), 2).shape == (2, 4)
    for bad in (np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float64), np.full((2, 4), np.nan, np.float32)):
        with pytest.raises(RuntimeError):
            check_output(enc, bad, 2)
