"""RecBole peers under the benchmark protocol: every changed default, scoring by kgrec's evaluator, leaderboard rows.

Runs in kgrec's environment. RecBole (in its own venv, ``run_recbole.py``) trains
and writes the best-validated model's full score matrix; :func:`dense_scores`
puts it on kgrec's dense ids of the identical split and :func:`per_user` scores
it with :class:`kgrec.learn.evaluator.Evaluator`, the code that scores every
harness model (history masked, ties broken at random with the seed). RecBole's
own metrics are kept beside (``recbole_valid``, ``recbole_test``) as a check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from bench.leaderboard import TEST_METRICS
from kgrec.errors import KgrecError
from kgrec.learn.evaluator import Evaluator
from kgrec.learn.split import Split

RECBOLE_DEFAULTS = {"epochs": 300, "stopping_step": 10, "eval_step": 1}
"""RecBole 1.2.1's ``overall.yaml`` values of the settings taken from ``[common]``."""


class ScoresError(KgrecError):
    """A score matrix does not match the split it is to be evaluated on."""


COMMON_SOURCE = "[common] of bench/spaces.toml"


def changed_defaults(stopping: dict[str, Any], threads: int, source: str = COMMON_SOURCE) -> list[str]:
    """Every RecBole default the protocol changes, one line each, for the table notes.

    Args:
        stopping: The common rule in RecBole's terms (:meth:`bench.spaces.Spaces.recbole_stopping`).
        threads: Torch threads per run.
        source: Where the stopping values come from (``--quick`` has its own).
    """
    lines = [
        f"{key} {RECBOLE_DEFAULTS[key]} -> {value} ({source})"
        for key, value in stopping.items()
        if RECBOLE_DEFAULTS.get(key) != value
    ]
    return [
        *lines,
        "valid_metric MRR@10 -> NDCG@10 (early stopping on what every harness model watches)",
        "eval_args.split RS 0.8/0.1/0.1 -> benchmark_filename train/valid/test: kgrec's split, read as is",
        "metrics/topk Recall,MRR,NDCG,Hit,Precision@10 -> Recall,NDCG,Hit,MRR@10,20 (RecBole's own check only)",
        f"device cpu, torch threads {threads}; a wall-clock safety cap per run (reported if it ever ends one)",
        "KG (.kg/.link): kgrec's own graph exported from the snapshot, every source",
        "searched per model: the space in bench/spaces.toml [recbole.models.*]; every other setting RecBole's",
        "trials chosen and every figure computed by kgrec's evaluator from RecBole's full score matrix "
        "(random tie-breaking); RecBole's own valid/test metrics kept as recbole_valid/recbole_test",
    ]


class ScoreMatrix(nn.Module):
    """A fixed ``(users, items)`` score matrix that kgrec's evaluator can rank like any model."""

    def __init__(self, scores: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("scores", torch.as_tensor(np.asarray(scores, dtype=np.float32)))

    def embed(self) -> None:
        """Nothing to compute: the scores are given."""
        return None

    def score_users(self, state: Any, users: Tensor) -> Tensor:
        """Rows of the matrix for ``users``."""
        return self.scores[users]


def dense_scores(path: Path, split: Split) -> np.ndarray:
    """The score matrix ``run_recbole.py --scores`` wrote, rows and columns on ``split``'s dense ids.

    Items RecBole never saw get ``-inf`` (ranked last, as never recommendable).

    Raises:
        ScoresError: A user of the split is missing, or a token is not a key of the split.
    """
    with np.load(path) as npz:
        scores, user_tokens, item_tokens = npz["scores"], npz["user_tokens"], npz["item_tokens"]
    users = _positions(user_tokens, split.user_keys, f"{path}: user")
    items = _positions(item_tokens, split.item_keys, f"{path}: item")
    if len(set(users.tolist())) != split.num_users:
        raise ScoresError(f"{path}: {split.num_users - len(set(users.tolist()))} users of the split have no scores")
    out = np.full((split.num_users, split.num_items), -np.inf, dtype=np.float32)
    out[np.ix_(users, items)] = scores
    return out


def _positions(tokens: np.ndarray, keys: np.ndarray, what: str) -> np.ndarray:
    index = {str(k): i for i, k in enumerate(keys)}
    missing = [t for t in tokens.tolist() if str(t) not in index]
    if missing:
        raise ScoresError(f"{what} tokens not in the split: {missing[:5]}")
    return np.asarray([index[str(t)] for t in tokens.tolist()], dtype=np.int64)


def per_user(scores: np.ndarray, split: Split, phase: str, seed: int) -> dict[str, np.ndarray]:
    """Per-user metrics of a score matrix on ``phase`` by kgrec's evaluator (the same code as every model)."""
    return Evaluator(split, seed=seed).per_user(ScoreMatrix(scores), phase)  # type: ignore[arg-type]


def row(
    *,
    dataset: str,
    model: str,
    config: dict[str, Any],
    trials: int,
    runs: list[dict[str, Any]],
    seeds: list[int],
    commit: str,
    split_fingerprint: str,
    notes: list[str],
) -> dict[str, Any]:
    """The leaderboard row of one RecBole model from its seed runs (each as :func:`run_summary` made it)."""
    peaks = [r["peak_rss_mb"] for r in runs if r.get("peak_rss_mb") is not None]
    return {
        "dataset": dataset,
        "model": model,
        "library": "RecBole",
        "config": config,
        "selected_on": "valid",
        "trials": trials,
        "seeds": list(seeds),
        "valid": {"ndcg@10": [r["valid"]["ndcg@10"] for r in runs]},
        "test": {m: [r["test"][m] for r in runs] for m in TEST_METRICS},
        "s_per_epoch": float(np.median([r["s_per_epoch"] for r in runs])),
        "peak_rss_mb": max(peaks) if peaks else None,
        "commit": commit,
        "split_fingerprint": split_fingerprint,
        "epochs_run": [r["epochs_run"] for r in runs],
        "stopped_by": [r["stopped_by"] for r in runs],
        "recbole_valid": {"ndcg@10": [r["recbole_valid"].get("ndcg@10") for r in runs]},
        "recbole_test": {"ndcg@10": [r["recbole_test"].get("ndcg@10") for r in runs]},
        "per_user": f"per_user/{model}.npz",
        "notes": notes,
    }


def run_summary(recbole: dict[str, Any], valid: dict[str, np.ndarray], test: dict[str, np.ndarray] | None) -> dict:
    """One run (trial or seed): kgrec-evaluator means, RecBole's own metrics, time, memory, stopping."""
    summary = {
        "valid": {k: float(v.mean()) for k, v in valid.items() if k != "users"},
        "recbole_valid": _lower(recbole.get("best_valid", {})),
        "recbole_test": _lower(recbole.get("test", {})),
        "s_per_epoch": recbole.get("epoch_seconds") or 0.0,
        "epochs_run": recbole["epochs_run"],
        "best_epoch": recbole.get("best_epoch"),
        "stopped_by": recbole.get("stopped_by"),
        "peak_rss_mb": recbole.get("peak_rss_mb"),
        "hyper_parameters": recbole.get("hyper_parameters", {}),
        "versions": recbole.get("versions", {}),
    }
    if test is not None:
        summary["test"] = {k: float(v.mean()) for k, v in test.items() if k != "users"}
    return summary


def _lower(metrics: dict[str, Any]) -> dict[str, float]:
    return {str(k).lower(): float(v) for k, v in metrics.items()}
