"""The same product at 100 times the size: a 10M-interaction catalogue through every stage of kgrec.

Run from the repository root (see bench/README.md, "At 100 times the size")::

    .venv/bin/python -m bench.scale --quick   # 1M interactions, 100k users, 20k items, 500k triples
    .venv/bin/python -m bench.scale           # 10M interactions, 1M users, 200k items, 5M triples

Stages, each through the product as a user would run it (CLI subprocesses against the
benchmark's own Neo4j instance ``bench-scale``, Bolt 7790, HTTP 7590, started on an empty
store): generate (:func:`bench.synth.make_catalogue`: CSV files and their spec), ingest
(``kgrec ingest --bulk`` on the empty database, plain ``kgrec ingest`` where --bulk is
missing), export (``kgrec export``), train (``kgrec train``, sampled mini-batches, a fixed
number of epochs), serve (``kgrec serve``: explained recommendations over HTTP, p50/p99
against a Bolt ``RETURN 1``, the neighbourhood's load time and memory). For every stage:
wall time, peak RSS of the client process tree and of the Neo4j JVM (psutil, every 0.2 s).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/scale.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench import synth  # noqa: E402
from bench.measure import MIB  # noqa: E402
from bench.provenance import Stopwatch  # noqa: E402
from bench.scale_serve import KGREC, Sampler, bolt_driver, serve  # noqa: E402
from kgrec.graph.server import LocalNeo4j  # noqa: E402
from kgrec.settings import Settings, load_settings  # noqa: E402

INSTANCE, BOLT, HTTP = "bench-scale", 7790, 7590
RESULTS = Path(__file__).resolve().parent / "results"


def run_stage(name: str, cmd: list[str], env: dict[str, str], server: LocalNeo4j, log: Path) -> dict[str, Any]:
    """Run one CLI stage, sampling its tree and the server; raise with its log's tail when it fails."""
    print(f"[scale] {name}: {' '.join(cmd[2:])}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        with Sampler(server, proc.pid) as s:
            code = proc.wait()
    seconds = time.perf_counter() - started
    if code:
        raise RuntimeError(f"{name} failed ({code}): {log.read_text()[-3000:]}")
    return {"seconds": seconds, "client_peak_mib": s.peak["client"] / MIB, "server_peak_mib": s.peak["server"] / MIB}


def settings_for(heap: str, pagecache: str) -> Settings:
    """The bench-scale instance; ``NEO4J_URI`` is ignored on purpose (never a user's database)."""
    s = load_settings(instance=INSTANCE, bolt_port=BOLT, http_port=HTTP, heap=heap, pagecache=pagecache)
    return s.model_copy(update={"neo4j_uri": None, "neo4j_password": None})


def child_env(settings: Settings, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "KGREC_"))}
    return env | {
        "KGREC_HOME": str(settings.home),
        "KGREC_INSTANCE": INSTANCE,
        "KGREC_BOLT_PORT": str(BOLT),
        "KGREC_HTTP_PORT": str(HTTP),
        "KGREC_HEAP": settings.heap,
        "KGREC_PAGECACHE": settings.pagecache,
        "KGREC_DATA_DIR": str(data_dir),
        "KGREC_API_TOKEN": "",
    }


@contextmanager
def exclusive(settings: Settings) -> Iterator[None]:
    """One scale run at a time (its own lock: other benchmarks use other instances)."""
    path = settings.instance_dir.parent / f"{INSTANCE}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"another bench.scale run holds {path}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def checked_imports(env: dict[str, str]) -> str:
    """Where the CLI stages import kgrec from; it must be this checkout (a worktree measures itself).

    The venv's ``kgrec`` console script and its editable install point at the checkout that made the
    venv; the stages run ``python -m kgrec.cli.main``, so ``PYTHONPATH`` (or the working folder) decides.
    """
    probe = "import kgrec, pathlib; print(pathlib.Path(kgrec.__file__).resolve().parents[1])"
    found = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    where, here = found.stdout.strip(), str(Path(__file__).resolve().parents[1])
    if where != here:
        raise SystemExit(
            f"the CLI stages would import kgrec from {where}, not this checkout {here}: set PYTHONPATH={here}"
        )
    print(f"[scale] kgrec imported from {where}", file=sys.stderr, flush=True)
    return where


def has_bulk(env: dict[str, str]) -> bool:
    help_text = subprocess.run([*KGREC, "ingest", "--help"], env=env, capture_output=True, text=True).stdout
    return "--bulk" in help_text


def generate(shape: synth.CatalogueShape, work: Path) -> tuple[synth.Catalogue, dict[str, Any]]:
    print(f"[scale] generate: {shape}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with Sampler(None, os.getpid()) as s:  # this process: its baseline (imports) is included
        cat = synth.make_catalogue(work / "data", shape)
    size = sum(f.stat().st_size for f in (cat.data_dir / cat.name).iterdir())
    return cat, {
        "seconds": time.perf_counter() - started,
        "client_peak_mib": s.peak["client"] / MIB,
        "server_peak_mib": None,
        "files_mib": size / MIB,
        "interactions": cat.interactions,
        "triples": cat.triples,
        "entities": cat.entities,
    }


def graph_counts(settings: Settings) -> dict[str, int]:
    with bolt_driver(settings) as driver:
        nodes = driver.execute_query("MATCH (n) RETURN count(n) AS n").records[0]["n"]
        rels = driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS n").records[0]["n"]
    return {"nodes": nodes, "relationships": rels}


def train_args(snapshot: Path, out: Path, epochs: int, threads: int) -> list[str]:
    sets = {
        "model": "kgrec",
        "fusion": "none",
        "modalities": "[]",
        "batching": '"sampled"',
        "epochs": epochs,
        "eval_every": epochs,
        "patience": 1000,
        "threads": threads,
    }
    args = [*KGREC, "train", "--snapshot", str(snapshot), "--out", str(out), "--no-progress"]
    return args + [x for k, v in sets.items() for x in ("--set", f"{k}={v}")]


def pipeline(args: argparse.Namespace, settings: Settings, work: Path) -> dict[str, Any]:
    """Every stage in order; returns the result's ``stages`` block."""
    shape = synth.QUICK_SHAPE if args.quick else synth.CatalogueShape()
    if args.fraction:
        full = synth.CatalogueShape()
        sizes = (full.interactions, full.users, full.items, full.triples)
        shape = synth.CatalogueShape(*(max(10, int(n * args.fraction)) for n in sizes))
    stages: dict[str, Any] = {}
    where = checked_imports(child_env(settings, work))  # before anything long: fail fast
    cat, stages["generate"] = generate(shape, work)
    stages["generate"]["kgrec_imported_from"] = where
    env = child_env(settings, cat.data_dir)
    server = LocalNeo4j(settings)
    server.stop()
    shutil.rmtree(server.home / "data", ignore_errors=True)
    print(f"[scale] starting Neo4j instance {INSTANCE} (Bolt {BOLT})", file=sys.stderr, flush=True)
    server.start(timeout=600)
    bulk = has_bulk(env)
    ingest = [*KGREC, "ingest", *(["--bulk"] if bulk else []), "--no-progress", "--json", str(cat.spec)]
    stages["ingest"] = run_stage("ingest", ingest, env, server, work / "ingest.log")
    stages["ingest"] |= {"method": "kgrec ingest --bulk" if bulk else "kgrec ingest (no --bulk here)"}
    stages["ingest"] |= graph_counts(settings)
    text = (work / "ingest.log").read_text()
    if bulk and "\n{" in text:  # --json: the report (with each bulk stage's seconds) ends the output
        stages["ingest"]["bulk_seconds"] = json.loads(text[text.index("\n{") :]).get("seconds")
    snapshot = work / "snapshot.npz"
    export = [*KGREC, "export", "--out", str(snapshot), "--no-progress"]
    stages["export"] = run_stage("export", export, env, server, work / "export.log")
    stages["export"]["snapshot_mib"] = snapshot.stat().st_size / MIB
    model = work / "model"
    stages["train"] = run_stage(
        "train", train_args(snapshot, model, args.epochs, args.threads), env, server, work / "train.log"
    )
    history = json.loads((model / "history.json").read_text())
    stages["train"] |= {"epochs": args.epochs, "epoch_seconds": [e["seconds"] for e in history["history"]]}
    stages["train"]["valid"] = next((e["valid"] for e in reversed(history["history"]) if e.get("valid")), None)
    from kgrec.snapshot import GraphSnapshot

    keys = GraphSnapshot.load(snapshot).node_keys["User"]
    rng = np.random.default_rng(7)
    users = [int(u) for u in rng.choice(keys, size=min(args.requests, len(keys)), replace=False)]
    stages["serve"] = serve(model, users, env, settings, work)
    server.stop()
    return stages


def table(stages: dict[str, Any]) -> str:
    """The per-stage Markdown table and the goal lines."""
    g, i, e, t, s = (stages[k] for k in ("generate", "ingest", "export", "train", "serve"))
    mib = lambda v: "-" if v is None else f"{v:,.0f} MiB"  # noqa: E731
    epochs = ", ".join(f"{x:.0f}" for x in t["epoch_seconds"])
    rows = [
        ("generate", f"{g['interactions']:,} interactions, {g['triples']:,} triples, {g['files_mib']:,.0f} MiB CSV", g),
        ("ingest", f"{i['method']}: {i['nodes']:,} nodes, {i['relationships']:,} relationships", i),
        ("export", f"`kgrec export`: snapshot {e['snapshot_mib']:,.0f} MiB", e),
        ("train", f"`kgrec train`, sampled [10, 10], {t['epochs']} epoch(s) of {epochs} s (+ validation, test)", t),
        (
            "serve",
            f"`kgrec serve`: {s['requests']} explained top-10s ({s['errors']} errors); neighbourhood "
            f"{s['neighbourhood_load_seconds']:.1f} s, serve RSS {mib(s['serve_rss_listening_mib'])} -> "
            f"{mib(s['serve_rss_ready_mib'])}",
            s,
        ),
    ]
    lines = ["| stage | what | wall s | client peak RSS | Neo4j peak RSS |", "| --- | --- | ---: | ---: | ---: |"]
    lines += [
        f"| {n} | {w} | {r['seconds']:.1f} | {mib(r['client_peak_mib'])} | {mib(r['server_peak_mib'])} |"
        for n, w, r in rows
    ]
    lat = (
        f"- serving: p50 {s['http_p50_ms']:.1f} ms vs Bolt RETURN 1 {s['bolt_p50_ms']:.2f} ms = {s['ratio_p50']:.1f}x "
        f"(goal 10x: {'yes' if s['ratio_p50'] <= 10 else 'no'}); p99 {s['http_p99_ms']:.1f} ms vs "
        f"{s['bolt_p99_ms']:.2f} ms = {s['ratio_p99']:.1f}x (goal 30x: {'yes' if s['ratio_p99'] <= 30 else 'no'})"
    )
    ok = e["seconds"] < 300 and e["client_peak_mib"] < 4096
    exp = f"- export under 5 minutes and 4 GB client memory: {'yes' if ok else 'no'} "
    exp += f"({e['seconds']:.0f} s, {mib(e['client_peak_mib'])})"
    return "\n".join([*lines, "", exp, lat])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1M interactions (smoke run) instead of 10M")
    p.add_argument("--fraction", type=float, help="any other size: this share of the full catalogue")
    p.add_argument("--epochs", type=int, default=2, help="training epochs (default: 2)")
    p.add_argument("--threads", type=int, default=min(4, os.cpu_count() or 1), help="torch threads")
    p.add_argument("--requests", type=int, default=200, help="explained recommendations timed (default: 200)")
    p.add_argument("--heap", default="1g", help="Neo4j heap (default: 1g)")
    p.add_argument("--pagecache", default="1g", help="Neo4j page cache (default: 1g)")
    p.add_argument("--work-dir", type=Path, help="where files go (default: a temporary folder, removed)")
    p.add_argument("--keep", action="store_true", help="keep the work folder and the instance's store")
    args = p.parse_args(argv)
    watch = Stopwatch()
    settings = settings_for(args.heap, args.pagecache)
    work = Path(tempfile.mkdtemp(prefix="kgrec-scale-", dir=args.work_dir))
    try:
        with exclusive(settings):
            stages = pipeline(args, settings, work)
    finally:
        LocalNeo4j(settings).stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(settings.instance_dir / "data", ignore_errors=True)
    result = {
        "quick": args.quick,
        "options": {k: str(v) for k, v in vars(args).items()},
        "stages": stages,
        "provenance": watch.provenance(neo4j={"heap": args.heap, "pagecache": args.pagecache}),
    }
    RESULTS.mkdir(exist_ok=True)
    size = f"-fraction{args.fraction:g}" if args.fraction else "-quick" if args.quick else ""
    path = RESULTS / f"scale-{datetime.now():%Y-%m-%d}{size}.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(table(stages))
    load = result["provenance"]["load_average_1min"]
    print(f"\n{os.cpu_count()} CPUs, load average {load['before']} before / {load['after']} after; result: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
