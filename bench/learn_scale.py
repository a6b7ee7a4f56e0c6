"""Training at scale: full-batch vs neighbour-sampled training, time per epoch and peak memory.

Run from the repository root (see bench/README.md, "Training at scale")::

    .venv/bin/python -m bench.learn_scale            # ~10 min on a busy 2-core machine
    .venv/bin/python -m bench.learn_scale --steps 8  # smoke run

Data: the real MovieLens-100k snapshot (``--snapshot``, default ``/tmp/ml100k.npz``;
write one with ``kgrec export``) and the ingestion benchmark's 1M-interaction graph
built from it the way ``bench/synth.py`` builds its files: every user copied 10x
under new ids with all of that user's ratings, over the same items and knowledge
graph.

Every configuration runs in a fresh subprocess (one torch thread) so its memory
is its own: ``peak RSS`` is the process high-water mark (``getrusage``, setup
included); ``train peak`` is the highest RSS sampled every 50 ms while training,
and ``train +`` that peak minus the RSS when training started. ML-100k trains
whole epochs through :meth:`Trainer.fit` (validation included); at 1M an epoch
of full-batch steps takes minutes, so the epoch time there is the median of
``--steps`` timed :meth:`Trainer.step` calls (after two untimed) times the
steps per epoch, followed by one full-ranking validation pass.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import torch

from bench.measure import MIB, PeakRss, load_average, median
from kgrec.learn.config import TrainConfig
from kgrec.learn.data import INTERACTION
from kgrec.learn.evaluator import Evaluator
from kgrec.learn.factory import build_model, training_graph
from kgrec.learn.run import split_of
from kgrec.learn.sampling import NegativeSampler, bpr_batches
from kgrec.learn.split import Split
from kgrec.learn.trainer import Trainer
from kgrec.snapshot import GraphSnapshot

RESULTS = Path(__file__).resolve().parent / "results"
COPIES = 10


@dataclass(frozen=True)
class Case:
    """One configuration: which graph, which batching, which fan-outs."""

    graph: str
    batching: str
    fanouts: tuple[int, ...] = (10, 10)

    @property
    def label(self) -> str:
        return "full-batch" if self.batching == "full" else f"sampled {list(self.fanouts)}"


CASES = [
    Case("ml-100k", "full"),
    Case("ml-100k", "sampled"),
    Case("1M", "full"),
    Case("1M", "sampled"),
    Case("1M", "sampled", (5, 5)),
]


def scaled(snapshot: GraphSnapshot, copies: int) -> GraphSnapshot:
    """``snapshot`` with every user copied ``copies`` times with all their ratings (as bench/synth.py)."""
    users = snapshot.node_keys["User"]
    n = len(users)
    keys = np.concatenate([users + c * n for c in range(copies)])
    rated = snapshot.edges[INTERACTION]
    edges = dict(snapshot.edges)
    edges[INTERACTION] = np.concatenate([rated + np.array([[c * n], [0]]) for c in range(copies)], axis=1)
    return GraphSnapshot({**snapshot.node_keys, "User": keys}, edges, snapshot.node_props)


def prepare(source: Path, folder: Path) -> dict[str, tuple[Path, Path]]:
    """Snapshots and splits of both graphs, written into ``folder``."""
    real = GraphSnapshot.load(source)
    out = {}
    for name, snap in (("ml-100k", real), ("1M", scaled(real, COPIES))):
        snap_path = snap.save(folder / f"{name}.npz")
        split_path = folder / f"{name}.split.npz"
        split_of(snap).save(split_path)
        out[name] = (snap_path, split_path)
    return out


def worker(case: Case, snapshot: Path, split_path: Path, epochs: int, steps: int) -> dict[str, object]:
    """Train ``case`` in this process and measure it."""
    torch.set_num_threads(1)
    snap, split = GraphSnapshot.load(snapshot), Split.load(split_path)
    config = TrainConfig(batching=case.batching, fanouts=list(case.fanouts), epochs=epochs, patience=99, threads=1)
    model = build_model(config, split, training_graph(snap, split, config))
    trainer = Trainer(model, split, config)
    steps_per_epoch = math.ceil(split.train.shape[1] / config.batch_size)
    out: dict[str, object] = {"train": int(split.train.shape[1]), "steps_per_epoch": steps_per_epoch}
    with PeakRss(interval=0.05, watch={"self": os.getpid()}) as rss:
        if case.graph == "ml-100k":
            history = trainer.fit().history
            out["epoch_s"] = median(e.seconds for e in history)
            out["timed"] = f"{len(history)} epochs"
            out["ndcg@10"] = history[-1].valid["ndcg@10"]
        else:
            model.train()
            negatives = NegativeSampler(split.train, split.num_items, seed=1)
            batches = bpr_batches(split.train, negatives, config.batch_size, seed=1, epoch=0)
            rng, times = np.random.default_rng(0), []
            for _, (users, pos, neg) in zip(range(steps + 2), batches):
                started = time.perf_counter()
                trainer.step(users, pos, neg, rng)
                times.append(time.perf_counter() - started)
            out["step_s"] = median(times[2:])
            out["epoch_s"] = out["step_s"] * steps_per_epoch
            out["timed"] = f"{steps} steps x {steps_per_epoch}"
            started = time.perf_counter()
            Evaluator(split).evaluate(model, "valid")
            out["valid_pass_s"] = time.perf_counter() - started
    out["messages"] = _messages_per_step(trainer, split, config.batch_size)
    out["train_peak_mib"] = rss.peaks["self"] / MIB
    out["train_delta_mib"] = (rss.peaks["self"] - rss.at_start["self"]) / MIB
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _messages_per_step(trainer: Trainer, split: Split, batch_size: int) -> float:
    """Edges propagated per step (both layers): the whole graph's, or the mean over 3 sampled subgraphs."""
    prop = trainer.model.prop
    if trainer.sampler is None:
        return prop.layers * sum(getattr(prop, f"adj_{t}").values().numel() for t in prop.into)
    negatives = NegativeSampler(split.train, split.num_items, seed=2)
    batches = bpr_batches(split.train, negatives, batch_size, seed=2, epoch=0)
    counts = []
    for _, (users, pos, neg) in zip(range(3), batches):
        sub = trainer.sampler.around_triples(users, pos, neg, np.random.default_rng(len(counts)))[0]
        counts.append(sum(b.adj.values().numel() for layer in sub.layers for b in layer.blocks.values()))
    return median(counts)


def run_case(case: Case, files: tuple[Path, Path], epochs: int, steps: int) -> dict[str, object]:
    """``case`` in a fresh subprocess; its measurements."""
    payload = json.dumps({"case": asdict(case), "files": [str(f) for f in files], "epochs": epochs, "steps": steps})
    proc = subprocess.run(
        [sys.executable, "-m", "bench.learn_scale", "--worker", payload],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{case.label} on {case.graph} failed:\n{proc.stderr[-3000:]}")
    return {"case": case, **json.loads(proc.stdout.strip().splitlines()[-1])}


def markdown(rows: list[dict[str, object]]) -> str:
    """The results table, ratios against full-batch on the same graph."""
    lines = [
        "| graph | training | train inter. | messages/step | timed | epoch s | vs full "
        "| peak RSS | train peak | train + | vs full |",
        "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    full = {r["case"].graph: r for r in rows if r["case"].batching == "full"}
    for r in rows:
        base = full[r["case"].graph]
        lines.append(
            f"| {r['case'].graph} | {r['case'].label} | {r['train']:,} | {r['messages']:,.0f} | {r['timed']} "
            f"| {r['epoch_s']:.1f} "
            f"| {r['epoch_s'] / base['epoch_s']:.2f}x | {r['peak_rss_mib']:,.0f} MiB | {r['train_peak_mib']:,.0f} MiB "
            f"| {r['train_delta_mib']:,.0f} MiB | {r['train_delta_mib'] / max(base['train_delta_mib'], 1):.2f}x |"
        )
    return "\n".join(lines)


def notes(rows: list[dict[str, object]]) -> list[str]:
    """Per-row extras: validation NDCG (ML-100k), full-ranking pass time (1M), the 4 GB goal."""
    out = []
    for r in rows:
        extra = r.get("ndcg@10"), r.get("valid_pass_s")
        if extra[0] is not None:
            out.append(f"- {r['case'].graph} {r['case'].label}: valid NDCG@10 after {r['timed']}: {extra[0]:.4f}")
        if extra[1] is not None:
            out.append(f"- {r['case'].graph} {r['case'].label}: one full-ranking validation pass: {extra[1]:.1f} s")
    peak = max(r["peak_rss_mib"] for r in rows if r["case"].graph == "ml-100k")
    out.append(f"- ML-100k training under 4 GB peak: **{'yes' if peak < 4096 else 'NO'}** ({peak:,.0f} MiB)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=Path, default=Path("/tmp/ml100k.npz"))
    parser.add_argument("--epochs", type=int, default=3, help="whole epochs per ML-100k case")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per 1M case")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        job = json.loads(args.worker)
        case = Case(**{**job["case"], "fanouts": tuple(job["case"]["fanouts"])})
        print(json.dumps(worker(case, *map(Path, job["files"]), job["epochs"], job["steps"])))
        return 0
    started, load = time.perf_counter(), load_average()
    with tempfile.TemporaryDirectory(prefix="kgrec-learn-scale-") as tmp:
        files = prepare(args.snapshot, Path(tmp))
        rows = []
        for case in CASES:
            rows.append(run_case(case, files[case.graph], args.epochs, args.steps))
            print(f"{case.graph:8} {case.label:16} epoch {rows[-1]['epoch_s']:.1f} s", flush=True)
    header = (
        f"Run {datetime.now():%Y-%m-%d %H:%M}, {time.perf_counter() - started:.0f} s, load average "
        f"{load:.1f} at start / {load_average():.1f} at end, {os.cpu_count()} cores, 1 torch thread, "
        "dim 64, 2 layers, batch 4096."
    )
    report = "\n".join([header, "", markdown(rows), "", *notes(rows), ""])
    print(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "learn_scale.md").write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
