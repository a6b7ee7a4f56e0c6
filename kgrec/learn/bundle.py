"""A trained-model bundle: everything needed to score again, in one folder.

Layout::

    <out>/
      bundle.json     config, schema and split fingerprints, metrics, coverage, versions
      model.pt        the model's state dict (weights only)
      split.npz       the split (user and item id maps included)
      embeddings.npz  final vectors per node type: ``<Type>.keys`` and ``<Type>.vectors`` (float32)
      history.json    per-epoch loss, time and validation metrics
      checkpoint.pt   the resumable training checkpoint (kept until the run completes)

A bundle is tied to the graph schema it was trained on: loading it against a
snapshot with another schema fingerprint is an error, not a silent mismatch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from kgrec.errors import ConfigError
from kgrec.learn.config import TrainConfig
from kgrec.learn.factory import build_model, training_graph
from kgrec.learn.recommender import Recommender
from kgrec.learn.split import Split
from kgrec.snapshot import GraphSnapshot

FORMAT = "kgrec-bundle"
VERSION = 1


@dataclass(frozen=True)
class Bundle:
    """A loaded bundle: the model (eval mode), its config, split and metadata."""

    path: Path
    model: Recommender
    config: TrainConfig
    split: Split
    meta: dict[str, Any]


def save_bundle(
    out: Path, model: Recommender, config: TrainConfig, split: Split, snapshot: GraphSnapshot, meta: dict[str, Any]
) -> Path:
    """Write the bundle files into ``out`` (created if needed) and return ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / "model.pt")
    split.save(out / "split.npz")
    arrays = _embeddings(model, snapshot)
    if arrays:
        np.savez(out / "embeddings.npz", **arrays)
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "config": config.model_dump(),
        "config_fingerprint": config.fingerprint(),
        "schema_fingerprint": snapshot.schema_fingerprint(),
        "split_fingerprint": split.fingerprint(),
        **meta,
    }
    _write_json(out / "bundle.json", doc)
    return out


def load_bundle(path: Path, snapshot: GraphSnapshot) -> Bundle:
    """Rebuild the model of the bundle at ``path`` over ``snapshot``.

    Raises:
        ConfigError: Not a bundle, or trained on a graph with another schema.
    """
    try:
        meta = json.loads((path / "bundle.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: not a kgrec model bundle ({e})") from e
    if meta.get("format") != FORMAT:
        raise ConfigError(f"{path}: not a kgrec model bundle")
    if meta["schema_fingerprint"] != snapshot.schema_fingerprint():
        raise ConfigError(f"{path}: trained on a graph with another schema; retrain on this graph")
    config = TrainConfig(**meta["config"])
    split = Split.load(path / "split.npz")
    data = training_graph(snapshot, split, config) if config.model == "kgrec" else None
    model = build_model(config, split, data)
    model.load_state_dict(torch.load(path / "model.pt", map_location="cpu", weights_only=True))
    model.eval()
    return Bundle(path, model, config, split, meta)


def _embeddings(model: Recommender, snapshot: GraphSnapshot) -> dict[str, np.ndarray]:
    """Final vectors per node type (``<Type>.keys`` and ``<Type>.vectors``); none for popularity."""
    model.eval()
    with torch.no_grad():
        state = model.embed()
    nodes = getattr(state, "nodes", None)
    if nodes is None:  # baselines: users and items only
        user, item = (getattr(state, "user", None), getattr(state, "item", None))
        if user is None and isinstance(state, tuple) and len(state) == 2:
            user, item = state
        if not isinstance(user, torch.Tensor) or not isinstance(item, torch.Tensor):
            return {}
        nodes = {"User": user, "Item": item}
    out = {}
    for t, vectors in nodes.items():
        ids = model.node_ids(t).cpu().numpy() if hasattr(model, "node_ids") else np.arange(len(vectors))
        keys = snapshot.node_keys[t][ids]
        out[f"{t}.keys"] = keys.astype(str) if keys.dtype == object else keys
        out[f"{t}.vectors"] = vectors.detach().cpu().numpy().astype(np.float32)
    return out


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=True, default=_plain), encoding="utf-8")
    os.replace(tmp, path)


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, Path):
        return str(v)
    raise TypeError(f"not JSON-serialisable: {type(v).__name__}")
