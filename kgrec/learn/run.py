"""One training run, end to end: snapshot -> split -> graph -> model -> trainer -> metrics -> bundle.

This is the whole learning side in one readable function, :func:`train_run`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from kgrec.learn import distributed
from kgrec.learn.bundle import save_bundle
from kgrec.learn.config import TrainConfig
from kgrec.learn.data import coverage, interaction_type, interactions_of
from kgrec.learn.evaluator import Evaluator
from kgrec.learn.factory import build_model, training_graph
from kgrec.learn.recommender import Recommender
from kgrec.learn.report import write_report
from kgrec.learn.split import Split, make_split
from kgrec.learn.trainer import EpochLog
from kgrec.schema import GraphSchema
from kgrec.snapshot import GraphSnapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """Where the bundle is and what it scored."""

    out: Path
    test: dict[str, float]
    cold: dict[str, float] | None
    best_epoch: int
    epochs: int
    median_epoch_seconds: float
    train_seconds: float


def prepare_split(snapshot: GraphSnapshot, out: Path, *, seed: int, cold_item_share: float = 0.0) -> Split:
    """The run's split: ``out/split.npz`` when a previous run left one (resume), else a fresh one saved there.

    Every process of a run (and a resumed run) then trains on the same split.
    """
    if (out / "split.npz").exists():
        return Split.load(out / "split.npz")
    split = split_of(snapshot, seed=seed, cold_item_share=cold_item_share)
    if distributed.is_main():  # in a process group, rank 0 writes every file
        out.mkdir(parents=True, exist_ok=True)
        split.save(out / "split.npz")
    return split


def evaluate_model(
    model: Recommender, split: Split, *, sample_users: int | None = None
) -> tuple[dict[str, float], dict[str, float] | None]:
    """Full-ranking metrics on the split's test interactions, and on its cold items when it holds any.

    Args:
        model: The trained model.
        split: Its split.
        sample_users: Rank a seeded sample of this many users per phase (default: every user;
            see :meth:`Evaluator.evaluated_users`).
    """
    evaluator = Evaluator(split, sample_users=sample_users)
    test = evaluator.evaluate(model, "test")
    return test, evaluator.evaluate(model, "cold") if split.cold_test.shape[1] else None


def evaluated_users(split: Split, config: TrainConfig) -> dict[str, dict[str, Any]]:
    """Per reported phase, how many users were ranked and whether a sample (``metrics.json``'s ``users``)."""
    evaluator = Evaluator(split, sample_users=config.eval_users)
    phases = ("valid", "test", "cold") if split.cold_test.shape[1] else ("valid", "test")
    return {phase: evaluator.coverage(phase) for phase in phases}


def split_of(snapshot: GraphSnapshot, *, seed: int = 2020, cold_item_share: float = 0.0) -> Split:
    """The RecBole-protocol split of the snapshot's interactions (see :func:`make_split`)."""
    users, _, items = interaction_type(snapshot)
    return make_split(
        snapshot.node_keys[users],
        snapshot.node_keys[items],
        interactions_of(snapshot),
        seed=seed,
        cold_item_share=cold_item_share,
    )


def graph_identity(snapshot: GraphSnapshot) -> dict[str, Any]:
    """What a bundle records of the graph it was trained on: schema fingerprint, sources, counts."""
    schema = GraphSchema.from_json(snapshot.schema) if snapshot.schema else None
    return {
        "schema_fingerprint": schema.fingerprint() if schema else None,
        "datasets": list(schema.datasets) if schema else [],
        "nodes": {t: len(k) for t, k in sorted(snapshot.node_keys.items())},
        "interactions": int(interactions_of(snapshot).shape[1]),
    }


def train_run(
    snapshot: GraphSnapshot,
    config: TrainConfig,
    out: Path,
    *,
    split: Split | None = None,
    on_epoch: Callable[[EpochLog], None] | None = None,
    on_batch: Callable[[int, int, int], None] | None = None,
) -> RunResult:
    """Train ``config`` on ``snapshot`` and write a bundle and report into ``out``.

    Resumes from ``out/checkpoint.pt`` when a previous run of the same config and
    split was interrupted. The split is ``out/split.npz`` when present, else
    ``split``, else a fresh RecBole-protocol split.
    """
    out.mkdir(parents=True, exist_ok=True)
    if split is None:
        split = Split.load(out / "split.npz") if (out / "split.npz").exists() else split_of(snapshot, seed=config.seed)
    if distributed.is_main():  # in a process group, rank 0 writes every file
        split.save(out / "split.npz")
    if config.threads:
        torch.set_num_threads(config.threads)
    device = distributed.device_for(config.device)
    data = training_graph(snapshot, split, config) if config.model == "kgrec" else None
    model = build_model(config, split, data).to(device)
    started = time.perf_counter()
    checkpoint = out / "checkpoint.pt"
    result = distributed.make_trainer(
        model, split, config, checkpoint=checkpoint, on_epoch=on_epoch, on_batch=on_batch
    ).fit()
    if not distributed.is_main():  # the other ranks hold the same weights; rank 0 evaluates and saves
        return RunResult(out, {}, None, result.best_epoch, len(result.history), 0.0, time.perf_counter() - started)
    if getattr(model, "new_items", None) is not None:
        fitted = model.fit_new_items(seed=config.seed)
        log.info("new-item map fitted on %d rated items (ridge %g)", fitted, config.new_item_ridge)
    train_seconds = time.perf_counter() - started
    test, cold = evaluate_model(model, split, sample_users=config.eval_users)
    epoch_times = sorted(e.seconds for e in result.history)
    median = epoch_times[len(epoch_times) // 2] if epoch_times else 0.0
    meta: dict[str, Any] = {
        "metrics": {"test": test, "cold": cold, "valid": result.best_valid, "users": evaluated_users(split, config)},
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "stopped_early": result.stopped_early,
        "median_epoch_seconds": median,
        "train_seconds": train_seconds,
        "device": str(device),
        "coverage": [asdict(c) for c in coverage(data, config.modalities, data.interaction[2])] if data else [],
        "diagnostics": model.diagnostics() if hasattr(model, "diagnostics") else {},
        "graph": graph_identity(snapshot),
    }
    save_bundle(out, model.cpu(), config, split, snapshot, meta)
    write_report(out, result, meta)
    (out / "checkpoint.pt").unlink(missing_ok=True)
    return RunResult(out, test, cold, result.best_epoch, len(result.history), median, train_seconds)
