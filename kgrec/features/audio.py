"""Audio features: summary statistics of librosa's timbre, harmony and rhythm descriptors.

No pretrained audio network ships its weights in a registry package kgrec may
use (see ``docs/audio-features.md``), so the audio encoder is hand-crafted and
fully deterministic: it decodes a file (any format libsndfile reads: OGG
Vorbis, FLAC, WAV, MP3, ...), takes a window of at most ``max_seconds`` from the
middle of the track, and summarises it in 89 numbers.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

from kgrec.errors import BadRecord, InputDataError
from kgrec.modalities import Modality

SAMPLE_RATE = 22_050
N_MFCC = 20


class LibrosaAudioEncoder:
    """89-d music descriptor: means and standard deviations over frames, plus tempo.

    Layout (each block mean then std, scaled so no block dominates cosine similarity):
    MFCC 1-20 (/100, 40 values), chroma (12 pitch classes, 24), spectral contrast
    (7 bands, /50 dB, 14), spectral centroid, bandwidth and roll-off (/Nyquist, 6),
    zero-crossing rate (2), RMS energy (2), tempo (/200 BPM, 1).

    Args:
        max_seconds: Longest stretch analysed, centred on the middle of the track
            (default: ``60.0``).
    """

    name = "librosa-music"
    modality: Modality = "audio"
    dim = 89
    version = "librosa-stats-v1/sr22050/mid60"

    def __init__(self, *, max_seconds: float = 60.0) -> None:
        import librosa  # noqa: F401  (fail at creation, not at the first batch, when it is missing)

        self._max_seconds = max_seconds

    def encode(self, inputs: Sequence[bytes | str]) -> np.ndarray:
        """Describe audio files (their bytes); returns ``float32`` of shape ``(n, 89)``.

        Raises:
            InputDataError: An input is not decodable audio, or is silent/too short.
        """
        out = np.zeros((len(inputs), self.dim), dtype=np.float32)
        for i, data in enumerate(inputs):
            out[i] = describe(decode(data, i, self._max_seconds), i)
        return out


def decode(data: bytes | str, index: int, max_seconds: float) -> np.ndarray:
    """Decode the middle ``max_seconds`` of an audio file to mono float32 at :data:`SAMPLE_RATE`.

    Raises:
        InputDataError: ``data`` is not audio libsndfile can read.
    """
    import librosa
    import soundfile as sf

    if isinstance(data, str):
        raise InputDataError([BadRecord(f"input {index}", None, "audio encoder needs file bytes, got text")])
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            sr, frames = f.samplerate, f.frames
            want = int(max_seconds * sr)
            if frames > want:
                f.seek((frames - want) // 2)
            wave = f.read(min(frames, want), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as e:
        raise InputDataError([BadRecord(f"input {index}", None, f"not readable audio: {e}")]) from e
    mono = wave.mean(axis=1)
    return librosa.resample(mono, orig_sr=sr, target_sr=SAMPLE_RATE) if sr != SAMPLE_RATE else mono


def describe(y: np.ndarray, index: int = 0) -> np.ndarray:
    """The 89 statistics of one mono signal at :data:`SAMPLE_RATE`.

    Raises:
        InputDataError: Shorter than one second, or silent.
    """
    import librosa

    if len(y) < SAMPLE_RATE or not np.any(np.abs(y) > 1e-4):
        raise InputDataError([BadRecord(f"input {index}", None, "audio is shorter than 1 s or silent")])
    sr, nyquist = SAMPLE_RATE, SAMPLE_RATE / 2
    stft = np.abs(librosa.stft(y))
    power = stft**2
    mel = librosa.feature.melspectrogram(S=power, sr=sr)
    blocks = [
        librosa.feature.mfcc(S=librosa.power_to_db(mel), sr=sr, n_mfcc=N_MFCC) / 100.0,
        librosa.feature.chroma_stft(S=power, sr=sr, tuning=0.0),
        librosa.feature.spectral_contrast(S=stft, sr=sr) / 50.0,
        librosa.feature.spectral_centroid(S=stft, sr=sr) / nyquist,
        librosa.feature.spectral_bandwidth(S=stft, sr=sr) / nyquist,
        librosa.feature.spectral_rolloff(S=stft, sr=sr) / nyquist,
        librosa.feature.zero_crossing_rate(y),
        librosa.feature.rms(S=stft),
    ]
    onset = librosa.onset.onset_strength(y=y, sr=sr)
    tempo = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=onset, sr=sr))[0])
    stats = [np.concatenate([b.mean(axis=1), b.std(axis=1)]) for b in blocks]
    vec = np.concatenate([*stats, [tempo / 200.0]]).astype(np.float32)
    return np.nan_to_num(vec, nan=0.0, posinf=0.0, neginf=0.0)
