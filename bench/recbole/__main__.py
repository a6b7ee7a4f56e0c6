"""RecBole 1.2.1 peers under the benchmark protocol, on kgrec's exact split and knowledge graph.

    python -m bench.recbole --dataset movielens [--snapshot S] [--split SPLIT.npz] [--out bench/results/recbole] \
        [--models BPR,LightGCN,...] [--trials 8] [--seeds 2020,...,2024] [--quick] [--threads 1]

The same budget as ``bench.tune``: for each model of ``[recbole.models.*]`` in
``bench/spaces.toml``, ``--trials`` points of its space drawn by the same seeded
sampler, RecBole's stopping set to ``[common]``; each trial's best-validated
model writes its full score matrix and kgrec's evaluator reads it on
**validation** only (test is never evaluated for a trial). The best trial is
rerun once per seed and read on valid and test by kgrec's evaluator; per-user
arrays go to ``per_user/<MODEL>.npz``. Output: ``<out>/<dataset>/result.json``
(one run, one file, leaderboard rows, provenance with the commit the run
started from). Finished runs are cached in ``<out>/<dataset>/runs/`` keyed by
commit, split, model and settings: an interrupted run resumes, nothing of
another commit or split is reused. ``--quick``: 2 trials, 2 seeds, at most 3
epochs, into ``<out>-quick``. Creates RecBole's venv when missing (``env.py``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bench.leaderboard import check_row
from bench.provenance import Stopwatch
from bench.recbole import protocol
from bench.recbole.atomic import AtomicFiles, read_interactions, write_atomic
from bench.recbole.env import ensure_venv, run_env
from bench.recbole.snapshot_kg import write_snapshot_kg
from bench.spaces import SAMPLER_SEED, ModelSpace, Spaces, check_budget, load_spaces, sample
from kgrec.learn.run import split_of
from kgrec.learn.split import Split
from kgrec.snapshot import GraphSnapshot

MODELS = ("BPR", "LightGCN", "SGL", "NCL", "CKE", "KGAT", "KGIN", "KGCN", "MCCLK")
SEEDS = (2020, 2021, 2022, 2023, 2024)
QUICK = {"trials": 2, "seeds": (2020, 2021), "epochs": 3, "stopping_step": 2}
BUDGETS = {"BPR": 1800, "LightGCN": 1800, "SGL": 2400, "NCL": 2400, "CKE": 2400, "KGAT": 3600, "KGIN": 3600}
BUDGETS |= {"KGCN": 3600, "MCCLK": 3600}
"""Safety caps in seconds of training + validation per run, far above what early stopping needs with one
thread on a quiet 2-core machine; a run they end says ``stopped_by: time budget`` in its row."""
RUNNER = Path(__file__).with_name("run_recbole.py")


def export(split: Split, folder: Path, dataset: str, snapshot: GraphSnapshot) -> AtomicFiles:
    """Write the split's ``.inter`` files and the snapshot's KG (``.kg``/``.link``); check they read back."""
    inter = write_atomic(split, folder.parent, dataset=dataset, kg_dir=None, inter_only=True)
    files = AtomicFiles(folder, dataset, inter.counts | write_snapshot_kg(snapshot, split, folder, dataset))
    for phase, arr in read_interactions(files, split).items():
        if not np.array_equal(arr, getattr(split, phase)):
            raise SystemExit(f"export check failed: {phase}.inter does not read back as the split")
    return files


def run_model(python: Path, model: str, files: AtomicFiles, work: Path, params: dict[str, Any], **opts: Any) -> dict:
    """One RecBole run in its venv (cwd ``work``, where RecBole writes logs); its JSON, scores in ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    cmd = [str(python), str(RUNNER), model, "--data-dir", str(files.folder.parent), "--dataset", files.dataset]
    cmd += ["--out", str(work / "result.json"), "--work-dir", str(work), "--scores", str(work / "scores.npz")]
    cmd += ["--epochs", str(params["epochs"]), "--time-budget", str(opts["budget_s"])]
    cmd += ["--threads", str(opts["threads"])]
    cmd += ["--params", json.dumps(params)] + ([] if opts["test"] else ["--no-test"])
    with (work / "run.log").open("w") as log:
        proc = subprocess.run(cmd, cwd=work, env=run_env(), stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        tail = "\n".join((work / "run.log").read_text().splitlines()[-25:])
        raise RuntimeError(f"{model} failed (exit {proc.returncode}); log {work / 'run.log'}:\n{tail}")
    return json.loads((work / "result.json").read_text())


class Runner:
    """Runs (trials and seeds) of one dataset, cached by commit, split, model and settings."""

    def __init__(self, args: argparse.Namespace, split: Split, files: AtomicFiles, folder: Path, commit: str) -> None:
        self.args, self.split, self.files, self.folder = args, split, files, folder
        self.key, self.python = f"{commit}/{split.fingerprint()}", ensure_venv()

    def run(self, model: str, params: dict[str, Any], *, test: bool) -> dict[str, Any]:
        """One run's summary (:func:`protocol.run_summary`); with ``test``, per-user arrays saved beside."""
        name = hashlib.sha256(f"{self.key}/{model}/{json.dumps(params, sort_keys=True)}/{test}".encode()).hexdigest()
        cached = self.folder / "runs" / f"{model}-{name[:16]}.json"
        seed = int(params["seed"])
        arrays = self.folder / "per_user" / f"{model}@{seed}.npz"
        if cached.exists() and (not test or arrays.exists()):
            return json.loads(cached.read_text())
        work = self.args.work_dir / self.files.dataset / "runs" / f"{model}-{name[:16]}"
        opts = {"budget_s": BUDGETS.get(model, 0), "threads": self.args.threads, "test": test}
        result = run_model(self.python, model, self.files, work, params, **opts)
        scores = protocol.dense_scores(work / "scores.npz", self.split)
        valid = protocol.per_user(scores, self.split, "valid", seed)
        tested = protocol.per_user(scores, self.split, "test", seed) if test else None
        if tested is not None:
            arrays.parent.mkdir(parents=True, exist_ok=True)
            np.savez(arrays, users=tested["users"], **{f"test_{k}": v for k, v in tested.items() if k != "users"},
                     **{f"valid_{k}": v for k, v in valid.items() if k != "users"})  # fmt: skip
        (work / "scores.npz").unlink()
        summary = protocol.run_summary(result, valid, tested)
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(summary) + "\n")
        return summary


def tune(runner: Runner, model: ModelSpace, stopping: dict[str, Any], trials: int) -> list[dict[str, Any]]:
    """Every trial of ``model``: its point and kgrec-evaluator validation metrics (seed 2020)."""
    out = []
    for n, point in enumerate(sample(model.space, trials, SAMPLER_SEED), start=1):
        found = runner.run(model.name, model.base | point | stopping | {"seed": 2020}, test=False)
        found["settings"] = point
        _say(f"[{model.name}] trial {n}: {point} valid ndcg@10 {found['valid']['ndcg@10']:.4f} "
             f"({found['epochs_run']} epochs, {found['stopped_by']})")  # fmt: skip
        out.append(found)
    return out


def final_runs(runner: Runner, model: ModelSpace, point: dict[str, Any], stopping: dict, seeds: list[int]) -> list:
    """The chosen point once per seed; per-user arrays stacked into ``per_user/<MODEL>.npz`` (seeds x users)."""
    runs, stacked = [], {}
    for seed in seeds:
        found = runner.run(model.name, model.base | point | stopping | {"seed": seed}, test=True)
        _say(f"  seed {seed}: valid ndcg@10 {found['valid']['ndcg@10']:.4f}, test {found['test']['ndcg@10']:.4f}")
        runs.append(found)
        with np.load(runner.folder / "per_user" / f"{model.name}@{seed}.npz") as npz:
            for key in npz.files:
                stacked.setdefault(key, []).append(npz[key])
    users = stacked.pop("users")[0]
    arrays = {k: np.stack(v) for k, v in stacked.items()}
    np.savez(runner.folder / "per_user" / f"{model.name}.npz", users=users, **arrays)
    return runs


def run_dataset(spaces: Spaces, args: argparse.Namespace) -> Path:
    """Tune and rerun every wanted RecBole model on one catalogue; write ``<out>/<dataset>/result.json``."""
    clock = Stopwatch()
    snapshot = GraphSnapshot.load(args.snapshot)
    split = Split.load(args.split) if args.split else split_of(snapshot, seed=2020)
    folder = args.out / args.dataset
    folder.mkdir(parents=True, exist_ok=True)
    _say(f"split {split.fingerprint()[:16]}: {split.num_users} users, {split.num_items} items")
    dataset = f"kgrec-{args.dataset}"
    files = export(split, args.work_dir / dataset / "data" / dataset, dataset, snapshot)
    runner = Runner(args, split, files, folder, clock.git["commit"])
    stopping = spaces.recbole_stopping() | (
        {"epochs": QUICK["epochs"], "stopping_step": QUICK["stopping_step"]} if args.quick else {}
    )
    notes = protocol.changed_defaults(stopping, args.threads, *(["--quick"] if args.quick else []))
    rows, trials_log = [], {}
    for name in args.models:
        model = spaces.recbole[name]
        check_budget(model, args.trials, spaces.path)
        trials = tune(runner, model, stopping, args.trials)
        best = max(trials, key=lambda t: t["valid"]["ndcg@10"])
        _say(f"[{name}] chosen on valid: {best['settings']}; {len(args.seeds)} seeds ...")
        runs = final_runs(runner, model, best["settings"], stopping, args.seeds)
        config = runs[0]["hyper_parameters"] | model.base | best["settings"]
        rows.append(protocol.row(dataset=args.dataset, model=name, config=config, trials=len(trials), runs=runs,
                                 seeds=args.seeds, commit=clock.git["commit"],
                                 split_fingerprint=split.fingerprint(), notes=notes))  # fmt: skip
        trials_log[name] = trials
    for row in rows:
        check_row(row, str(folder / "result.json"))
    versions = next((t[0]["versions"] for t in trials_log.values() if t), {})
    result = {
        "dataset": args.dataset,
        "library": "RecBole",
        "snapshot": str(args.snapshot),
        "quick": args.quick,
        "rows": rows,
        "trials": trials_log,
        "provenance": clock.provenance(
            split_fingerprints={args.dataset: split.fingerprint()}, recbole_versions=versions, changed_defaults=notes
        ),
    }
    (folder / "result.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return folder / "result.json"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.recbole", description=__doc__.splitlines()[0])
    p.add_argument("--dataset", required=True, help="a catalogue of bench/spaces.toml (movielens, lastfm)")
    p.add_argument("--snapshot", type=Path, help="default: the dataset's snapshot in bench/spaces.toml")
    p.add_argument("--split", type=Path, help="kgrec split .npz (default: drawn from the snapshot as bench.tune does)")
    p.add_argument("--out", type=Path, default=Path("bench/results/recbole"), help="results folder")
    p.add_argument("--models", default="", help="comma-separated RecBole models (default: all of bench/spaces.toml)")
    p.add_argument("--trials", type=int, default=8, help="trials per model (default: 8, as bench.tune)")
    p.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="seeds of the final reruns")
    p.add_argument("--quick", action="store_true", help="2 trials, 2 seeds, at most 3 epochs: a smoke run")
    p.add_argument("--threads", type=int, default=1, help="torch threads per run (default: 1)")
    p.add_argument("--spaces", type=Path, default=None, help="spaces file (default: bench/spaces.toml)")
    p.add_argument(
        "--work-dir", type=Path, default=Path.home() / ".cache" / "kgrec" / "recbole-work",
        help="benchmark files, logs, checkpoints, score matrices (outside the repo)",
    )  # fmt: skip
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the RecBole side of the benchmark on one catalogue (see the module docstring)."""
    parser = _parser()
    args = parser.parse_args(argv)
    spaces = load_spaces(args.spaces) if args.spaces else load_spaces()
    args.models = [m for m in args.models.split(",") if m] or list(spaces.recbole)
    unknown = [m for m in args.models if m not in spaces.recbole]
    if unknown:
        declared = ", ".join(spaces.recbole)
        parser.exit(2, f"error: {spaces.path}: no [recbole.models.{unknown[0]}]; declared: {declared}\n")
    args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if args.quick:
        args.trials, args.seeds = QUICK["trials"], list(QUICK["seeds"])
        args.out = args.out.with_name(args.out.name + "-quick")
    args.snapshot = args.snapshot or Path(spaces.dataset(args.dataset)["snapshot"])
    if not args.snapshot.exists():
        parser.exit(2, f"error: {args.snapshot}: no snapshot; see bench/README.md (learning) for how it is made\n")
    args.out, args.work_dir = args.out.resolve(), args.work_dir.resolve()
    print(run_dataset(spaces, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
