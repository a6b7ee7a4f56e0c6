"""Learning benchmark: kgrec against baselines, its ablations and cold start, on one split.

One command::

    python -m bench.learn [--snapshot S] [--out bench/results/learn] [--quick] [--seeds 2021,2022]

Every model is trained by the same harness (:func:`kgrec.learn.run.train_run`:
same sampler, same early stopping on validation NDCG@10, same full-ranking
evaluator) on the same RecBole-protocol split, which is saved as
``<out>/split.npz`` so that ``python -m bench.recbole --split <out>/split.npz``
runs the peer library on exactly the same interactions. A second split holds
10% of the items out entirely for the cold-start table.

Each run writes its bundle under ``<out>/<name>/``; a finished run is not
repeated, so an interrupted benchmark resumes where it stopped. Results:
``<out>/kgrec-results.json`` (the format ``bench.recbole.compare`` reads),
``<out>/tables.md`` (baselines, ablation, cold start) and
``<out>/curves.png`` (validation NDCG@10 per epoch of every model).

``--seeds`` trains the main models again with other model seeds (same split:
only initialisation, negatives and dropout change) and adds a seed-spread
table, mean and standard deviation over the seeds, so that a gap between two
models can be read against what a reseed alone moves.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench import cold_tradeoff
from bench.learn_cases import BY_NAME, CASES, COLD_CASES, COMMON, METRICS, QUICK, SEED_CASES, TRADEOFF_CASES, Case
from kgrec.learn.config import TrainConfig
from kgrec.learn.metrics import chance_ndcg_at_k, chance_recall_at_k
from kgrec.learn.report import markdown_table
from kgrec.learn.run import split_of, train_run
from kgrec.learn.split import Split
from kgrec.snapshot import GraphSnapshot

log = logging.getLogger("bench.learn")


def run_case(case: Case, snapshot: GraphSnapshot, split: Split, out: Path, quick: bool) -> dict[str, Any]:
    """Train one case (or read its finished result) and return its bundle metadata."""
    folder = out / case.name
    done = folder / "bundle.json"
    if done.exists():
        return json.loads(done.read_text())
    config = TrainConfig(**{**COMMON, **(QUICK if quick else {}), **case.settings})
    started = time.perf_counter()
    print(f"[{case.name}] {case.what} ...", file=sys.stderr, flush=True)
    result = train_run(snapshot, config, folder, split=split, on_epoch=_progress(case.name))
    print(
        f"[{case.name}] test ndcg@10 {result.test['ndcg@10']:.4f} recall@20 {result.test['recall@20']:.4f}"
        f" ({result.epochs} epochs, {time.perf_counter() - started:.0f} s)",
        file=sys.stderr,
        flush=True,
    )
    return json.loads(done.read_text())


def _progress(name: str):  # noqa: ANN202
    def report(entry: Any) -> None:
        if entry.valid:
            print(
                f"  {name} epoch {entry.epoch + 1}: loss {entry.loss:.4f} valid ndcg@10 {entry.valid['ndcg@10']:.4f}"
                f" ({entry.seconds:.1f} s)",
                file=sys.stderr,
                flush=True,
            )

    return report


def seeded(seeds: list[int], wanted: set[str] | None) -> list[Case]:
    """The seed-spread reruns: ``name@seed`` for every seed and every (wanted) model of :data:`SEED_CASES`."""
    return [
        Case(f"{name}@{seed}", "seed", {**BY_NAME[name].settings, "seed": seed}, BY_NAME[name].what)
        for name in SEED_CASES
        for seed in seeds
        if wanted is None or name in wanted or f"{name}@{seed}" in wanted
    ]


def spread_table(results: dict[str, dict[str, Any]]) -> str:
    """Mean and standard deviation over the seeds run of each model in :data:`SEED_CASES`."""
    rows = []
    for name in SEED_CASES:
        runs = [meta for key, meta in results.items() if key == name or key.startswith(f"{name}@")]
        if len(runs) < 2:
            continue
        row: dict[str, Any] = {"model": name, "seeds": len(runs)}
        for metric in ("ndcg@10", "recall@20"):
            values = torch.tensor([r["metrics"]["test"][metric] for r in runs], dtype=torch.float64)
            row[f"{metric} mean"], row[f"{metric} sd"] = float(values.mean()), float(values.std())
            row[f"{metric} min-max"] = f"{float(values.min()):.4f}-{float(values.max()):.4f}"
        rows.append(row)
    if not rows:
        return ""
    cols = ["model", "seeds", *(f"{m} {s}" for m in ("ndcg@10", "recall@20") for s in ("mean", "sd", "min-max"))]
    return "### Seed spread (same split; model seeds 2020 and the reruns)\n\n" + markdown_table(rows, cols)


def chance_row(split: Split) -> dict[str, Any]:
    """Expected cold-start metrics of a uniformly random ranking (history masked), per user then averaged."""
    users, n_pos = np.unique(split.cold_test[0], return_counts=True)
    seen = np.concatenate([split.train, split.valid, split.test], axis=1)
    n_all = split.num_items - np.bincount(seen[0], minlength=split.num_users)[users]
    n_cold = len(split.cold_items)
    return {
        "model": "chance",
        "what": "uniformly random ranking (expected value)",
        "recall@20": float(chance_recall_at_k(n_pos, n_all, 20).mean()),
        "ndcg@10": float(chance_ndcg_at_k(n_pos, n_all, 10).mean()),
        "cold_only/ndcg@10": float(chance_ndcg_at_k(n_pos, n_cold, 10).mean()),
        "cold_only/recall@20": float(chance_recall_at_k(n_pos, n_cold, 20).mean()),
    }


def tables(results: dict[str, dict[str, Any]], cases: list[Case], cold_split: Split | None = None) -> str:
    """The Markdown tables: baselines and kgrec, ablation, cold start (with a chance row), seed spread."""
    rows = {c.name: _row(c, results[c.name]) for c in cases if c.name in results}
    cols = ["model", "what", *METRICS, "s/epoch", "epochs"]
    main = [rows[c.name] for c in cases if c.group in ("baseline", "kgrec") and c.name in rows]
    ablation = [rows[c.name] for c in cases if c.group in ("kgrec", "ablation") and c.name in rows]
    cold = [rows[c.name] for c in cases if c.group == "cold" and c.name in rows]
    cold_cols = [
        "model",
        "what",
        "recall@20",
        "ndcg@10",
        "hit@10",
        "cold_only/ndcg@10",
        "cold_only/recall@20",
        "warm ndcg@10",
    ]
    parts = [
        "### kgrec and baselines (test, full ranking)\n\n" + markdown_table(main, cols),
        "### Ablation\n\n" + markdown_table(ablation, cols),
    ]
    if cold:
        chance = [chance_row(cold_split)] if cold_split is not None else []
        parts.append(
            "### Cold start: 10% of items never seen in training (ranked among all items)\n\n"
            + markdown_table(chance + cold, cold_cols)
        )
    spread = spread_table(results)
    if spread:
        parts.append(spread)
    return "\n\n".join(parts) + "\n"


def _row(case: Case, meta: dict[str, Any]) -> dict[str, Any]:
    metrics = meta["metrics"]["cold"] if case.group == "cold" else meta["metrics"]["test"]
    return {
        "model": case.name,
        "what": case.what,
        **metrics,
        "warm ndcg@10": meta["metrics"]["test"]["ndcg@10"],
        "s/epoch": round(meta["median_epoch_seconds"], 2),
        "epochs": meta["epochs_run"],
    }


def plot(out: Path, cases: list[Case]) -> Path:
    """Validation NDCG@10 per epoch of every trained model, one figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for case in cases:
        history = out / case.name / "history.json"
        if case.group == "cold" or case.name == "pop" or not history.exists():
            continue
        epochs = [e for e in json.loads(history.read_text())["history"] if e["valid"]]
        style = "-" if case.group != "ablation" else ":"
        ax.plot([e["epoch"] + 1 for e in epochs], [e["valid"]["ndcg@10"] for e in epochs], style, label=case.name)
    ax.set(xlabel="epoch", ylabel="validation NDCG@10", title="MovieLens-100k: validation NDCG@10 per epoch")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=110)
    plt.close(fig)
    return out / "curves.png"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snapshot", type=Path, default=Path("runs/snapshot.npz"))
    parser.add_argument("--out", type=Path, default=Path("bench/results/learn"))
    parser.add_argument("--quick", action="store_true", help=f"at most {QUICK['epochs']} epochs per model")
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-start table")
    parser.add_argument("--seeds", default="", help="comma-separated extra model seeds for the seed-spread table")
    parser.add_argument(
        "--report-only", action="store_true", help="re-render tables.md from <out>/kgrec-results.json; train nothing"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    all_cases = CASES + COLD_CASES
    cold_path = args.out / "split-cold.npz"
    if args.report_only:  # one run, one file: re-render the committed summary, nothing merged into it
        results, tradeoff = _from_summary(args.out / "kgrec-results.json")
        _write_tables(args.out, tables(results, all_cases, Split.load(cold_path) if cold_path.exists() else None),
                      tradeoff)  # fmt: skip
        return
    torch.set_num_threads(COMMON["threads"])
    snapshot = GraphSnapshot.load(args.snapshot)
    args.out.mkdir(parents=True, exist_ok=True)
    split = _split(args.out / "split.npz", lambda: split_of(snapshot, seed=2020))
    wanted = set(args.only.split(",")) if args.only else None
    cases = [c for c in CASES if wanted is None or c.name in wanted]
    cold = [c for c in COLD_CASES if (wanted is None or c.name in wanted) and not args.no_cold]
    reseeded = seeded([int(x) for x in args.seeds.split(",") if x.strip()], wanted)
    results = {c.name: run_case(c, snapshot, split, args.out, args.quick) for c in cases + reseeded}
    if cold:
        cold_split = _split(cold_path, lambda: split_of(snapshot, seed=2020, cold_item_share=0.1))
        results.update({c.name: run_case(c, snapshot, cold_split, args.out, args.quick) for c in cold})
    tradeoff = _tradeoff(snapshot, args.out, set(results))
    _write_tables(args.out, tables(results, all_cases, Split.load(cold_path) if cold_path.exists() else None), tradeoff)
    summary = _peer_format(results) | ({"new_item_tradeoff": tradeoff} if tradeoff else {})
    (args.out / "kgrec-results.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    plot(args.out, [c for c in all_cases if c.name in results])
    print(f"split: {args.out / 'split.npz'}  results: {args.out}/kgrec-results.json  curves: {args.out}/curves.png")


def _write_tables(out: Path, text: str, tradeoff: list[dict[str, Any]]) -> None:
    if tradeoff:
        text += "\n" + cold_tradeoff.table(tradeoff) + "\n"
        cold_tradeoff.plot(tradeoff, out / "new-items.png")
    (out / "tables.md").write_text(text, encoding="utf-8")
    print(text)


def _split(path: Path, make) -> Split:  # noqa: ANN001
    if path.exists():
        return Split.load(path)
    split = make()
    split.save(path)
    return split


def _tradeoff(snapshot: GraphSnapshot, out: Path, ran: set[str]) -> list[dict[str, Any]]:
    """The new-item trade-off rows, measured from this run's cold-start bundles (none reused from earlier runs)."""
    rows = []
    for name in TRADEOFF_CASES:
        if name in ran and (out / name / "bundle.json").exists():
            print(f"[{name}] new-item map trade-off ...", file=sys.stderr, flush=True)
            rows += [{"model": name, **row} for row in cold_tradeoff.tradeoff(snapshot, out / name)]
    return rows


def _peer_format(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What ``bench.recbole.compare`` reads (``models``), plus the cold-start runs (``cold_models``)."""

    def entry(meta: dict[str, Any]) -> dict[str, Any]:
        out = {
            "test": meta["metrics"]["test"],
            "epoch_seconds": meta["median_epoch_seconds"],
            "epochs": meta["epochs_run"],
            "config": meta["config"],
        }
        return out | ({"cold": meta["metrics"]["cold"]} if meta["metrics"].get("cold") else {})

    warm = {name: entry(meta) for name, meta in results.items() if not name.startswith("cold-") and "@" not in name}
    cold = {name: entry(meta) for name, meta in results.items() if name.startswith("cold-")}
    seeds = {name: entry(meta) for name, meta in results.items() if "@" in name}
    return {"library": "kgrec", "split": "split.npz", "models": warm, "cold_models": cold, "seed_models": seeds}


def _from_summary(path: Path) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The results (bundle-like form) and trade-off rows of ONE summary file, for ``--report-only``."""
    if not path.exists():
        raise SystemExit(f"{path}: no summary to re-render (--report-only trains nothing)")
    data = json.loads(path.read_text())
    models = {**data.get("models", {}), **data.get("cold_models", {}), **data.get("seed_models", {})}
    results = {
        name: {
            "metrics": {"test": m["test"], **({"cold": m["cold"]} if "cold" in m else {})},
            "median_epoch_seconds": m["epoch_seconds"],
            "epochs_run": m["epochs"],
            "config": m["config"],
        }
        for name, m in models.items()
    }
    return results, [r for r in data.get("new_item_tradeoff", []) if isinstance(r, dict)]


if __name__ == "__main__":
    main()
