"""Tune every harness model with the same budget on validation, then rerun the choice with several seeds.

    python -m bench.tune --dataset lastfm [--snapshot S] [--out bench/results/learn] \
        [--trials 8] [--seeds 2020,2021,2022,2023,2024] [--models pop,bprmf,...] [--quick]

For each model of ``bench/spaces.toml`` on one catalogue: ``--trials``
configurations drawn from its declared space (the same sampler and count for
every model; one for a model without a space) are trained with the common
early-stopping rule and scored on **validation** NDCG@10 only. The best is
retrained once per seed, and each of those runs is read on test exactly once.
Output, in ``<out>/<dataset>/``: ``result.json`` (one run, one file: the
provenance, every trial's validation score, the leaderboard rows),
``per_user/<model>.npz`` (per-user valid and test metrics, users x seeds, for
the paired test) and ``split.npz`` (the split, for ``bench.recbole``).
Finished trials and seeds are kept in ``<out>/<dataset>/runs/`` keyed by
commit, split and config, so an interrupted run resumes; nothing from
another commit is reused. ``--quick``: 2 trials, 2 seeds, at most 3 epochs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.leaderboard import TEST_METRICS, check_row
from bench.provenance import Stopwatch, peak_rss_mb, reset_peak_rss
from bench.spaces import SAMPLER_SEED, ModelSpace, Spaces, check_budget, load_spaces, sample
from kgrec.learn.config import TrainConfig
from kgrec.learn.evaluator import Evaluator
from kgrec.learn.factory import build_model, training_graph
from kgrec.learn.recommender import Recommender
from kgrec.learn.run import split_of
from kgrec.learn.split import Split
from kgrec.learn.trainer import Trainer
from kgrec.snapshot import GraphSnapshot

SEEDS = (2020, 2021, 2022, 2023, 2024)
QUICK = {"trials": 2, "seeds": (2020, 2021), "epochs": 3, "patience": 2}


def fit(snapshot: GraphSnapshot, split: Split, config: TrainConfig) -> tuple[Recommender, dict[str, Any]]:
    """Train ``config`` with early stopping on validation NDCG@10; the model ends with its best weights."""
    torch.set_num_threads(config.threads or torch.get_num_threads())
    data = training_graph(snapshot, split, config) if config.model == "kgrec" else None
    model = build_model(config, split, data)
    result = Trainer(model, split, config).fit()
    if getattr(model, "new_items", None) is not None:
        model.fit_new_items(seed=config.seed)
    times = sorted(e.seconds for e in result.history)
    return model, {
        "valid": result.best_valid,
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "stopped_early": result.stopped_early,
        "s_per_epoch": times[len(times) // 2] if times else 0.0,
    }


class Cache:
    """Finished trials and seeds of this commit and split, one JSON each, so a rerun resumes."""

    def __init__(self, folder: Path, commit: str, split: Split) -> None:
        self.folder, self.key = folder, f"{commit}/{split.fingerprint()}"

    def path(self, kind: str, config: TrainConfig) -> Path:
        digest = hashlib.sha256(f"{self.key}/{kind}/{config.model_dump_json()}".encode()).hexdigest()[:16]
        return self.folder / f"{kind}-{digest}.json"

    def get(self, kind: str, config: TrainConfig) -> dict[str, Any] | None:
        path = self.path(kind, config)
        return json.loads(path.read_text()) if path.exists() else None

    def put(self, kind: str, config: TrainConfig, value: dict[str, Any]) -> None:
        path = self.path(kind, config)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value) + "\n")


def tune_model(
    model: ModelSpace, base: dict[str, Any], snapshot: GraphSnapshot, split: Split, cache: Cache, trials: int
) -> list[dict[str, Any]]:
    """Every trial of ``model``: its settings and best validation metrics (test is never read here)."""
    out = []
    for n, point in enumerate(sample(model.space, trials, SAMPLER_SEED), start=1):
        config = TrainConfig(**(base | point))
        found = cache.get("trial", config)
        if found is None:
            started = time.perf_counter()
            _, found = fit(snapshot, split, config)
            found |= {"settings": point, "seconds": round(time.perf_counter() - started, 1)}
            cache.put("trial", config, found)
        _say(f"[{model.name}] trial {n}: {point or 'fixed'} valid ndcg@10 {found['valid']['ndcg@10']:.4f}")
        out.append(found)
    return out


def final_runs(
    config: TrainConfig, snapshot: GraphSnapshot, split: Split, cache: Cache, seeds: list[int], per_user: Path
) -> dict[str, Any]:
    """The chosen config once per seed: valid and test (read once per seed), per-user arrays saved to ``per_user``."""
    runs, arrays = [], {}
    for seed in seeds:
        seeded = config.model_copy(update={"seed": seed})
        found = cache.get("seed", seeded)
        if found is None or not per_user.with_name(f"{per_user.stem}@{seed}.npz").exists():
            model, found = fit(snapshot, split, seeded)
            evaluator = Evaluator(split, seed=seed)
            valid, test = evaluator.per_user(model, "valid"), evaluator.per_user(model, "test")
            np.savez(
                per_user.with_name(f"{per_user.stem}@{seed}.npz"),
                users=test["users"],
                **{f"test_{k}": v for k, v in test.items() if k != "users"},
                **{f"valid_{k}": v for k, v in valid.items() if k != "users"},
            )
            found |= {"test": {k: float(v.mean()) for k, v in test.items() if k != "users"}}
            found["valid"] = {k: float(v.mean()) for k, v in valid.items() if k != "users"}
            cache.put("seed", seeded, found)
        _say(f"  seed {seed}: valid ndcg@10 {found['valid']['ndcg@10']:.4f}, test {found['test']['ndcg@10']:.4f}")
        runs.append(found)
        with np.load(per_user.with_name(f"{per_user.stem}@{seed}.npz")) as npz:
            for key in npz.files:
                arrays.setdefault(key, []).append(npz[key])
    np.savez(per_user, users=arrays.pop("users")[0], **{k: np.stack(v) for k, v in arrays.items()})
    return {"runs": runs}


def run_dataset(spaces: Spaces, dataset: str, snapshot_path: Path, out: Path, args: argparse.Namespace) -> Path:
    """Tune and rerun every wanted model on one catalogue; write ``<out>/<dataset>/result.json``."""
    clock = Stopwatch()
    folder = out / dataset
    (folder / "per_user").mkdir(parents=True, exist_ok=True)
    snapshot = GraphSnapshot.load(snapshot_path)
    split = split_of(snapshot, seed=2020)
    split.save(folder / "split.npz")
    commit = clock.git["commit"]
    cache = Cache(folder / "runs", commit, split)
    rows, trials_log = [], {}
    for name, model in spaces.models.items():
        if (args.models and name not in args.models) or not model.runs_on(dataset):
            continue
        check_budget(model, args.trials, spaces.path)
        reset_peak_rss()
        base = spaces.base_config(model, dataset) | (_quick_stop() if args.quick else {})
        trials = tune_model(model, base, snapshot, split, cache, args.trials)
        best = max(trials, key=lambda t: t["valid"]["ndcg@10"])
        config = TrainConfig(**(base | best["settings"]))
        _say(f"[{name}] chosen on valid: {best['settings'] or 'fixed'}; {len(args.seeds)} seeds ...")
        finals = final_runs(config, snapshot, split, cache, args.seeds, folder / "per_user" / f"{name}.npz")
        rows.append(_row(dataset, model, config, trials, finals["runs"], args.seeds, commit, split))
        rows[-1]["peak_rss_mb"] = peak_rss_mb()
        trials_log[name] = trials
    result = {
        "dataset": dataset,
        "snapshot": str(snapshot_path),
        "quick": args.quick,
        "rows": rows,
        "trials": trials_log,
        "provenance": clock.provenance(split_fingerprints={dataset: split.fingerprint()}),
    }
    for row in rows:
        check_row(row, str(folder / "result.json"))
    (folder / "result.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return folder / "result.json"


def _row(
    dataset: str, model: ModelSpace, config: TrainConfig, trials: list[dict[str, Any]], runs: list[dict[str, Any]],
    seeds: list[int], commit: str, split: Split,
) -> dict[str, Any]:  # fmt: skip
    row: dict[str, Any] = {
        "dataset": dataset,
        "model": model.name,
        "library": "kgrec",
        "config": config.model_dump(exclude={"seed", "device"}),
        "selected_on": "valid",
        "trials": len(trials),
        "seeds": list(seeds),
        "valid": {"ndcg@10": [r["valid"]["ndcg@10"] for r in runs]},
        "test": {m: [r["test"][m] for r in runs] for m in TEST_METRICS},
        "s_per_epoch": float(np.median([r["s_per_epoch"] for r in runs])),
        "peak_rss_mb": None,
        "commit": commit,
        "split_fingerprint": split.fingerprint(),
        "epochs_run": [r["epochs_run"] for r in runs],
        "per_user": f"per_user/{model.name}.npz",
    }
    return row | ({"default": True} if model.default else {}) | ({"ablation": model.ablation} if model.ablation else {})


def _quick_stop() -> dict[str, Any]:
    return {"epochs": QUICK["epochs"], "patience": QUICK["patience"]}


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, help="a catalogue of bench/spaces.toml (movielens, lastfm)")
    parser.add_argument("--snapshot", type=Path, help="default: the dataset's snapshot in bench/spaces.toml")
    parser.add_argument("--out", type=Path, default=Path("bench/results/learn"))
    parser.add_argument("--trials", type=int, default=8, help="trials per model with a space (default: 8)")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="seeds of the final reruns")
    parser.add_argument("--models", default="", help="comma-separated model names (default: all)")
    parser.add_argument("--spaces", type=Path, default=None, help="spaces file (default: bench/spaces.toml)")
    parser.add_argument("--quick", action="store_true", help="2 trials, 2 seeds, at most 3 epochs: a smoke run")
    parser.add_argument("--skip-missing", action="store_true", help="exit 0 with a note when there is no snapshot")
    args = parser.parse_args(argv)
    spaces = load_spaces(args.spaces) if args.spaces else load_spaces()
    args.models = {m for m in args.models.split(",") if m}
    args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if args.quick:
        args.trials, args.seeds = QUICK["trials"], list(QUICK["seeds"])
        args.out = args.out.with_name(args.out.name + "-quick")
    snapshot = args.snapshot or Path(spaces.dataset(args.dataset)["snapshot"])
    if not snapshot.exists():
        if args.skip_missing:
            parser.exit(0, f"skipped {args.dataset}: no snapshot at {snapshot}\n")
        parser.exit(2, f"error: {snapshot}: no snapshot; see bench/README.md (learning) for how it is made\n")
    path = run_dataset(spaces, args.dataset, snapshot, args.out, args)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
