"""RecBole 1.2.1 side by side with kgrec on kgrec's exact split.

    python -m bench.recbole --split SPLIT.npz --out bench/results/recbole/ \
        [--models BPR,LightGCN,CKE,KGAT,KGIN] [--epochs KGAT=40,...] [--time-budget KGAT=600,...] \
        [--kgrec-results kgrec.json]

Creates RecBole's venv when missing (``env.py``), exports the split and the
Freebase KG as benchmark files into a work folder outside the repository, runs
the models one at a time in that venv (``run_recbole.py``), writes one JSON per
model and the combined table (``compare.py``) into ``--out``. Without
``--split`` it draws kgrec's RecBole-protocol split of MovieLens-100k ``u.data``
itself (dense ids = sorted keys, seed 2020, no cold items).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.recbole import compare
from bench.recbole.atomic import DATASET, KG_FOLDER, AtomicFiles, default_data_dir, read_interactions, write_atomic
from bench.recbole.env import ensure_venv, run_env
from bench.recbole.snapshot_kg import write_snapshot_kg
from kgrec.learn.split import Split, make_split
from kgrec.snapshot import GraphSnapshot

MODELS = ("BPR", "LightGCN", "SGL", "NCL", "CKE", "KGAT", "KGIN", "KGCN", "MCCLK")
EPOCHS = dict.fromkeys(MODELS, 300)
"""Epoch caps: RecBole's default ``epochs: 300`` (early stopping or the time budget ends training first)."""
BUDGETS = {"BPR": 1800, "LightGCN": 1800, "SGL": 2400, "NCL": 2400, "CKE": 2400, "KGAT": 3600, "KGIN": 3600}
BUDGETS |= {"KGCN": 3600, "MCCLK": 3600}
"""Safety caps in seconds of training + validation per model, far above what early stopping needs on a
quiet 2-core machine with one torch thread (2026-12-01: BPR 20 s, LightGCN 23 s, CKE 9 min, KGAT and
KGIN tens of minutes). A run cut by its cap is reported as not converged."""
RUNNER = Path(__file__).with_name("run_recbole.py")


def ml100k_split(data_dir: Path, *, seed: int = 2020) -> Split:
    """kgrec's split of MovieLens-100k: every rating implicit, dense ids = sorted keys."""
    raw = np.loadtxt(data_dir / "movielens-100k" / "u.data", dtype=np.int64, usecols=(0, 1))
    users, u_idx = np.unique(raw[:, 0], return_inverse=True)
    items, i_idx = np.unique(raw[:, 1], return_inverse=True)
    return make_split(users, items, np.stack([u_idx, i_idx]), seed=seed)


def export(split: Split, work: Path, kg_dir: Path | None, snapshot: Path | None = None) -> AtomicFiles:
    """Write the benchmark files and check that they read back as exactly ``split``.

    With ``snapshot``, the ``.kg``/``.link`` files are kgrec's own knowledge graph from that
    snapshot (every source; :mod:`bench.recbole.snapshot_kg`) instead of the Freebase mirror.
    """
    if snapshot is not None:
        folder = work / "data" / DATASET
        folder.mkdir(parents=True, exist_ok=True)
        inter = write_atomic(split, work / "data", dataset=DATASET, kg_dir=None, inter_only=True)
        counts = inter.counts | write_snapshot_kg(GraphSnapshot.load(snapshot), split, folder, DATASET)
        files = AtomicFiles(folder=folder, dataset=DATASET, counts=counts)
    else:
        files = write_atomic(split, work / "data", dataset=DATASET, kg_dir=kg_dir)
    back = read_interactions(files, split)
    for phase, arr in back.items():
        if not np.array_equal(arr, getattr(split, phase)):
            raise SystemExit(f"export check failed: {phase}.inter does not read back as the split")
    return files


def run_model(
    python: Path, model: str, files: AtomicFiles, out: Path, *, epochs: int, budget_s: int, threads: int
) -> dict:
    """Run one model in the RecBole venv (cwd: its own work folder, where RecBole writes logs)."""
    cwd = files.folder.parent.parent / "runs" / model
    cwd.mkdir(parents=True, exist_ok=True)
    result = out / f"{model}.json"
    cmd = [
        str(python),
        str(RUNNER),
        model,
        "--data-dir",
        str(files.folder.parent),
        "--out",
        str(result),
        "--epochs",
        str(epochs),
        "--time-budget",
        str(budget_s),
        "--threads",
        str(threads),
        "--dataset",
        files.dataset,
        "--work-dir",
        str(cwd),
    ]
    with (cwd / "run.log").open("w") as logf:
        proc = subprocess.run(cmd, cwd=cwd, env=run_env(), stdout=logf, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        tail = "\n".join((cwd / "run.log").read_text().splitlines()[-25:])
        raise RuntimeError(f"{model} failed (exit {proc.returncode}); log {cwd / 'run.log'}:\n{tail}")
    return json.loads(result.read_text())


def parse_per_model(text: str) -> dict[str, int]:
    """``"KGAT=40,KGIN=20"`` -> ``{"KGAT": 40, "KGIN": 20}``; a bare number applies to every model."""
    if not text:
        return {}
    if text.isdigit():
        return {m: int(text) for m in MODELS}
    pairs = (item.split("=", 1) for item in text.split(","))
    return {name.strip(): int(n) for name, n in pairs}


def main(argv: list[str] | None = None) -> int:
    """Run the side-by-side benchmark (see the module docstring)."""
    args = _parser().parse_args(argv)
    out: Path = args.out.resolve()  # the runs' cwd is their work folder
    out.mkdir(parents=True, exist_ok=True)
    split = Split.load(args.split) if args.split else ml100k_split(args.data_dir or default_data_dir())
    print(
        f"split: {split.num_users} users, {split.num_items} items, train/valid/test "
        f"{split.train.shape[1]}/{split.valid.shape[1]}/{split.test.shape[1]}, seed {split.seed}, "
        f"fingerprint {split.fingerprint()[:16]}",
        flush=True,
    )
    python = ensure_venv()
    kg_dir = args.kg_dir or (args.data_dir / KG_FOLDER if args.data_dir else None)
    files = export(split, args.work_dir, kg_dir, args.snapshot)
    print(f"benchmark files: {files.folder} {files.counts}", flush=True)
    epochs = EPOCHS | parse_per_model(args.epochs)
    budgets = BUDGETS | parse_per_model(args.time_budget)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for n, model in enumerate(models, start=1):
        cap, budget = epochs.get(model, 300), budgets.get(model, 0)
        if args.skip_existing and (out / f"{model}.json").exists():
            print(f"[{n}/{len(models)}] {model}: kept {out / f'{model}.json'}", flush=True)
            _annotate(out / f"{model}.json", json.loads((out / f"{model}.json").read_text()), split)
            continue
        print(
            f"[{n}/{len(models)}] {model}: training (at most {cap} epochs or {budget} s) ...",
            flush=True,
        )
        started = time.perf_counter()
        res = run_model(
            python,
            model,
            files,
            out,
            epochs=epochs.get(model, 300),
            budget_s=budgets.get(model, 0),
            threads=args.threads,
        )
        _annotate(out / f"{model}.json", res, split)
        print(
            f"[{n}/{len(models)}] {model}: test NDCG@10 {res['test']['ndcg@10']:.4f}, Recall@20 "
            f"{res['test']['recall@20']:.4f}, {res['epochs_run']} epochs ({res['stopped_by']}), "
            f"{res['epoch_seconds']:.2f} s/epoch, "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
    print(_report(out, models, args.kgrec_results), end="")
    return 0


def _annotate(path: Path, res: dict, split: Split) -> None:
    res["split"] = {
        "fingerprint": split.fingerprint(),
        "seed": split.seed,
        "users": split.num_users,
        "items": split.num_items,
        "train": int(split.train.shape[1]),
        "valid": int(split.valid.shape[1]),
        "test": int(split.test.shape[1]),
    }
    path.write_text(json.dumps(res, indent=2) + "\n")


def _report(out: Path, models: list[str], kgrec_results: Path | None) -> str:
    recbole_rows = compare.load_recbole(out / f"{m}.json" for m in models if (out / f"{m}.json").exists())
    kgrec_rows = compare.load_kgrec(kgrec_results) if kgrec_results else []
    return compare.write_report(out / "comparison.md", kgrec_rows, recbole_rows)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.recbole", description=__doc__.splitlines()[0])
    p.add_argument("--split", type=Path, help="kgrec split .npz (default: draw the ml-100k split from u.data)")
    p.add_argument("--out", type=Path, default=Path("bench/results/recbole"), help="results folder")
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated RecBole models")
    p.add_argument("--epochs", default="", help="epoch caps, 'N' or 'MODEL=N,...' (defaults: EPOCHS)")
    p.add_argument("--time-budget", default="", help="seconds per model, 'N' or 'MODEL=N,...' (defaults: BUDGETS)")
    p.add_argument(
        "--threads", type=int, default=1, help="torch threads per run (default: 1; 2 threads on 2 busy cores spin)"
    )
    p.add_argument("--kgrec-results", type=Path, help="kgrec results JSON to put in the table")
    p.add_argument("--data-dir", type=Path, help="dataset mirror (default: KGREC_DATA_DIR)")
    p.add_argument("--kg-dir", type=Path, help="Freebase KG folder (default: <data>/movielens-100k-freebase)")
    p.add_argument(
        "--snapshot", type=Path, help="kgrec snapshot: export ITS knowledge graph (every source) as .kg/.link instead"
    )
    p.add_argument(
        "--work-dir",
        type=Path,
        default=Path.home() / ".cache" / "kgrec" / "recbole-work",
        help="benchmark files, logs, checkpoints (outside the repo)",
    )
    p.add_argument("--skip-existing", action="store_true", help="keep models whose result JSON exists")
    return p


if __name__ == "__main__":
    sys.exit(main())
