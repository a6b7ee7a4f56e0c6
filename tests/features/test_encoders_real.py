"""Contract tests every real encoder passes, on real inputs.

Text and posters come from the dataset mirror (``realdata``); audio from the
Debian package ``singularity-music`` (13 CC BY-SA tracks, OGG Vorbis), which
``make test`` machines install with ``apt-get install singularity-music``.
Each encoder sees a handful of inputs only.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from kgrec.features.encoder import Encoder, encoder_info

MUSIC = Path("/usr/share/games/singularity/music")


@dataclass
class Case:
    """One encoder and real inputs: ``similar`` holds (anchor, alike, unlike...) tuples."""

    encoder: Encoder
    inputs: list[bytes | str]
    similar: list[tuple[bytes | str, ...]]


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# -- inputs ------------------------------------------------------------------------------------


def _texts(data_dir: Path) -> dict[int, str]:
    """Title + IMDb one-liner, joined as the shipped spec joins them."""
    titles = {}
    for line in (data_dir / "movielens-100k" / "u.item").read_text(encoding="latin-1").splitlines():
        fields = line.split("|")
        titles[int(fields[0])] = fields[1]
    details = json.loads((data_dir / "movielens-100k-imdb" / "details.json").read_text(encoding="utf-8"))
    wanted = {227, 228, 88, 176, 183, 1}
    return {
        int(d["movie_id"]): f"{titles[int(d['movie_id'])]}\n{d['description']}"
        for d in details
        if int(d["movie_id"]) in wanted
    }


def _jpeg(data: bytes, box: tuple[float, float, float, float]) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        w, h = img.size
        crop = img.convert("RGB").crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)))
    out = io.BytesIO()
    crop.save(out, format="JPEG", quality=90)
    return out.getvalue()


def _posters(data_dir: Path) -> dict[int, bytes]:
    folder = data_dir / "movielens-100k-posters"
    return {i: (folder / f"{i}.jpg").read_bytes() for i in (1, 2, 98)}


def _tracks() -> list[bytes]:
    files = sorted(MUSIC.glob("*.ogg"))[:3] if MUSIC.is_dir() else []
    if len(files) < 3:
        pytest.skip(f"no music files in {MUSIC}: install the Debian package singularity-music")
    return [f.read_bytes() for f in files]


def _wav(data: bytes, gain: float, seconds: float = 20.0) -> bytes:
    """The middle of a track re-encoded as 44.1 kHz WAV at another volume: the same music, other bytes."""
    import soundfile as sf

    wave, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    mid, half = len(wave) // 2, int(seconds * sr / 2)
    out = io.BytesIO()
    sf.write(out, wave[mid - half : mid + half] * gain, sr, format="WAV")
    return out.getvalue()


# -- cases (one model load per module) --------------------------------------------------------------


@pytest.fixture(scope="module")
def text_case(data_dir: Path) -> Case:
    from kgrec.features.text import MiniLMEncoder

    t = _texts(data_dir)
    # Two Star Trek films vs a romance, two Alien films vs a toy story.
    return Case(MiniLMEncoder(), list(t.values()), [(t[227], t[228], t[88], t[1]), (t[176], t[183], t[1], t[88])])


@pytest.fixture(scope="module")
def image_case(data_dir: Path) -> Case:
    from kgrec.features.image import EfficientNetLiteEncoder

    p = _posters(data_dir)
    top, bottom = _jpeg(p[1], (0.0, 0.0, 1.0, 0.85)), _jpeg(p[1], (0.05, 0.15, 0.95, 1.0))
    return Case(EfficientNetLiteEncoder(), [p[1], p[2], p[98]], [(top, bottom, p[2], p[98])])


@pytest.fixture(scope="module")
def audio_case() -> Case:
    from kgrec.features.audio import LibrosaAudioEncoder

    a, b, c = _tracks()
    a2, b2 = _wav(a, 0.5), _wav(b, 0.5)
    return Case(LibrosaAudioEncoder(max_seconds=20.0), [a, b, c], [(a, a2, b, c), (b, b2, a, c)])


CASES = ["text_case", "image_case", "audio_case"]


@pytest.fixture(params=CASES)
def case(request: pytest.FixtureRequest) -> Iterator[Case]:
    yield request.getfixturevalue(request.param)


pytestmark = pytest.mark.realdata


# -- the contract ---------------------------------------------------------------------------------


def test_shape_dtype_determinism_and_registration(case: Case) -> None:
    enc = case.encoder
    out = enc.encode(case.inputs)
    assert out.dtype == np.float32 and out.shape == (len(case.inputs), enc.dim)
    assert np.isfinite(out).all() and (np.abs(out).sum(axis=1) > 0).all()
    info = encoder_info(enc.name)
    assert (info.modality, info.dim) == (enc.modality, enc.dim) and enc.version
    again = enc.encode(case.inputs[1:])  # another batch: same vectors
    assert np.allclose(again, out[1:], atol=1e-4, rtol=1e-4)
    assert np.array_equal(enc.encode(case.inputs[1:]), again)


def test_empty_batch(case: Case) -> None:
    assert case.encoder.encode([]).shape == (0, case.encoder.dim)


def test_similar_inputs_are_closer_than_dissimilar_ones(case: Case) -> None:
    for anchor, alike, *unlike in case.similar:
        a, b, *others = case.encoder.encode([anchor, alike, *unlike])
        assert all(_cos(a, b) > _cos(a, c) for c in others)


def test_text_vectors_are_unit_length(text_case: Case) -> None:
    out = text_case.encoder.encode(text_case.inputs)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("fixture", ["image_case", "audio_case"])
def test_undecodable_bytes_raise_input_data_error(fixture: str, request: pytest.FixtureRequest) -> None:
    from kgrec.errors import InputDataError

    enc: Encoder = request.getfixturevalue(fixture).encoder
    with pytest.raises(InputDataError, match="input 1: not (a )?readable"):
        enc.encode([request.getfixturevalue(fixture).inputs[0], b"definitely not a media file"])
