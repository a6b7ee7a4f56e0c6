"""A trained-model bundle: everything needed to score again, in one folder.

Layout::

    <out>/
      bundle.json     config, schema and split fingerprints, metrics, coverage, versions
      model.pt        the model's state dict (weights only)
      split.npz       the split (user and item id maps included)
      snapshot.npz    the graph snapshot it was trained on (so the folder alone restores the model)
      embeddings.npz  final vectors per node type: ``<Type>.keys`` and ``<Type>.vectors`` (float32)
      history.json    per-epoch loss, time and validation metrics
      checkpoint.pt   the resumable training checkpoint (kept until the run completes)

:func:`load_bundle` needs the folder only. A bundle of another format version
(an older kgrec's) is refused in one line: retrain it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from kgrec.errors import NotTrainedError
from kgrec.learn.config import TrainConfig
from kgrec.learn.factory import build_model, training_graph
from kgrec.learn.recommender import Recommender
from kgrec.learn.split import Split
from kgrec.schema import recorded_schema
from kgrec.snapshot import GraphSnapshot

FORMAT = "kgrec-bundle"
VERSION = 2
"""2: the snapshot is inside the bundle (``snapshot.npz``); 1 recorded it beside, in ``snapshot.txt``."""
SNAPSHOT = "snapshot.npz"


@dataclass(frozen=True)
class Bundle:
    """A loaded bundle: the model (eval mode), its config, split, snapshot and metadata."""

    path: Path
    model: Recommender
    config: TrainConfig
    split: Split
    snapshot: GraphSnapshot
    meta: dict[str, Any]


def save_bundle(
    out: Path, model: Recommender, config: TrainConfig, split: Split, snapshot: GraphSnapshot, meta: dict[str, Any]
) -> Path:
    """Write the bundle files into ``out`` (created if needed), the snapshot included, and return ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / "model.pt")
    split.save(out / "split.npz")
    snapshot.save(out / SNAPSHOT)
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
        "snapshot": SNAPSHOT,
        **meta,
    }
    _write_json(out / "bundle.json", doc)
    return out


def load_bundle(path: Path | str) -> Bundle:
    """Rebuild the model of the bundle at ``path`` over the snapshot it holds.

    Raises:
        NotTrainedError: No bundle there, one of another format version (retrain it), or its
            snapshot does not match the schema it was trained on.
    """
    path = Path(path)
    meta = _read_meta(path)
    snapshot = GraphSnapshot.load(path / meta["snapshot"])
    if meta["schema_fingerprint"] != snapshot.schema_fingerprint():
        raise NotTrainedError(f"{path}: its snapshot has another schema than the model; retrain it")
    config = TrainConfig(**meta["config"])
    split = Split.load(path / "split.npz")
    data = training_graph(snapshot, split, config) if config.model == "kgrec" else None
    model = build_model(config, split, data)
    model.load_state_dict(torch.load(path / "model.pt", map_location="cpu", weights_only=True))
    model.eval()
    return Bundle(path, model, config, split, snapshot, meta)


def _read_meta(path: Path) -> dict[str, Any]:
    retrain = f"retrain it with `kgrec train --out {path}`"
    if not (path / "bundle.json").is_file():
        raise NotTrainedError(f"{path}: no trained model bundle (run `kgrec train --out {path}`)")
    try:
        meta = json.loads((path / "bundle.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise NotTrainedError(f"{path}/bundle.json: not a kgrec model bundle ({e}); {retrain}") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise NotTrainedError(f"{path}/bundle.json: not a kgrec model bundle; {retrain}")
    if meta.get("version") != VERSION:
        raise NotTrainedError(
            f"{path}: a bundle of format version {meta.get('version')} (this kgrec reads {VERSION}); {retrain}"
        )
    return meta


def _embeddings(model: Recommender, snapshot: GraphSnapshot) -> dict[str, np.ndarray]:
    """Final vectors per node type (``<Type>.keys`` and ``<Type>.vectors``); none for popularity."""
    model.eval()
    schema = recorded_schema(snapshot.schema)
    with torch.no_grad():
        nodes = model.node_vectors(model.embed(), users=schema.users, items=schema.items)
    out = {}
    for t, node in nodes.items():
        keys = snapshot.node_keys[t][node.ids.cpu().numpy()]
        out[f"{t}.keys"] = keys.astype(str) if keys.dtype == object else keys
        out[f"{t}.vectors"] = node.vectors.detach().cpu().numpy().astype(np.float32)
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
