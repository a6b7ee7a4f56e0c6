"""A content-addressed store of computed vectors: one SQLite file per encoder version.

The key of a vector is ``sha256(encoder name, encoder version, input bytes)``,
so an unchanged input is never encoded twice, whichever item, dataset or run it
comes from, and a new encoder version starts an empty cache of its own.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

import numpy as np

from kgrec.features.encoder import Encoder

_CHUNK = 500  # keys per SELECT (SQLite's variable limit is 999 on old builds)


def content_key(encoder: Encoder, data: bytes | str) -> str:
    """The cache key of ``data`` under ``encoder`` (hex SHA-256)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    h = hashlib.sha256()
    for part in (encoder.name.encode(), encoder.version.encode()):
        h.update(len(part).to_bytes(4, "big") + part)
    h.update(raw)
    return h.hexdigest()


class FeatureCache:
    """Vectors of one encoder version, kept in ``<folder>/<name>--<version>.sqlite``.

    Args:
        folder: Where cache files live (kgrec uses ``<KGREC_HOME>/features``).
        encoder: The encoder whose vectors are stored; its ``dim`` is checked on read.
    """

    def __init__(self, folder: Path, encoder: Encoder) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{encoder.name}--{encoder.version}")
        self.path = folder / f"{slug}.sqlite"
        self._dim = encoder.dim
        self._db = sqlite3.connect(self.path, timeout=60)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self._db.commit()

    def get_many(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among ``keys`` (missing keys are left out)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(wanted), _CHUNK):
            part = wanted[i : i + _CHUNK]
            marks = ",".join("?" * len(part))
            for key, blob in self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part):
                vec = np.frombuffer(blob, dtype="<f4")
                if vec.shape == (self._dim,):
                    found[key] = vec.astype(np.float32)
        return found

    def put_many(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Store vectors (float32, length ``dim``) under their keys, in one transaction."""
        rows = []
        for key, vec in vectors.items():
            arr = np.asarray(vec, dtype="<f4")
            if arr.shape != (self._dim,):
                raise ValueError(f"vector for {key} has shape {arr.shape}, expected ({self._dim},)")
            rows.append((key, arr.tobytes()))
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)", rows)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        """Close the database file."""
        self._db.close()

    def __enter__(self) -> FeatureCache:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
