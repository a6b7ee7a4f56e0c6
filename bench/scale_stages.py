"""The stages of :mod:`bench.scale`, each through the product as a user runs it, each measured (wall time,
peak RSS of the client process tree and of the Neo4j JVM), each taken from an earlier sitting of a kept
work folder when its output is whole (:mod:`bench.scale_work`)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import synth
from bench.measure import MIB
from bench.scale_serve import KGREC, Sampler, bolt_driver, serve
from bench.scale_work import WorkDir, forget_store, mark_store, store_is
from kgrec.graph.server import LocalNeo4j
from kgrec.settings import Settings

PROGRESS_SECONDS = 10.0
"""How often a running stage's time and peaks so far are written to the work folder's manifest."""


def run_stage(name: str, cmd: list[str], env: dict[str, str], server: LocalNeo4j, work: WorkDir) -> dict[str, Any]:
    """Run one CLI stage, sampling its tree and the server; raise with its log's tail when it fails.

    Its output goes to ``<work>/<name>.<sitting>.log``; every :data:`PROGRESS_SECONDS` its time and
    peaks so far go to the manifest, so that a sitting ending here leaves them behind.
    """
    print(f"[scale] {name}: {' '.join(cmd[2:])}", file=sys.stderr, flush=True)
    log = stage_log(work, name)
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        with Sampler(server, proc.pid) as s:
            while True:
                try:
                    code = proc.wait(timeout=PROGRESS_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    work.progress(name, _measured(s, started))
    if code:
        raise RuntimeError(f"{name} failed ({code}): {log.read_text()[-3000:]}")
    return _measured(s, started)


def _measured(s: Sampler, started: float) -> dict[str, Any]:
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "client_peak_mib": s.peak["client"] / MIB, "server_peak_mib": s.peak["server"] / MIB}


def stage_log(work: WorkDir, name: str) -> Path:
    """The log of ``name`` in this sitting."""
    return work.path / f"{name}.{work.sitting}.log"


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


def train_args(snapshot: Path, out: Path, epochs: int, threads: int, eval_users: int | None = None) -> list[str]:
    """``kgrec train`` as the stage runs it; ``eval_users``: rank a seeded sample of that many users."""
    sets = {
        "model": "kgrec",
        "fusion": "none",
        "modalities": "[]",
        "batching": '"sampled"',
        "epochs": epochs,
        "eval_every": epochs,
        "patience": 1000,
        "threads": threads,
    } | ({"eval_users": eval_users} if eval_users else {})
    # -v: the log shows each checkpoint written inside an epoch (every 10 minutes), so a long epoch's progress
    args = [*KGREC, "-v", "train", "--snapshot", str(snapshot), "--out", str(out), "--no-progress"]
    return args + [x for k, v in sets.items() for x in ("--set", f"{k}={v}")]


def stage_generate(shape: synth.CatalogueShape, work: WorkDir, where: str) -> tuple[synth.Catalogue, dict[str, Any]]:
    """The catalogue's files: kept when an earlier sitting finished them (their marker), else written anew."""
    kept = synth.load_catalogue(work.path / "data", shape)
    found = work.reuse("generate", kept is not None)
    if kept is not None and found is not None:
        return kept, found
    shutil.rmtree(work.path / "data", ignore_errors=True)
    cat, result = generate(shape, work.path)
    return cat, work.record("generate", result | {"kgrec_imported_from": where})


def stage_ingest(
    cat: synth.Catalogue, env: dict[str, str], server: LocalNeo4j, settings: Settings, work: WorkDir
) -> dict[str, Any]:
    """The graph: kept when the instance still holds this folder's finished one (same counts), else ingested
    into a wiped store."""
    server.stop()
    found = work.done("ingest")
    if found is not None and store_is(server.home, work, found.get("store")):
        print(f"[scale] starting Neo4j instance {settings.instance} on the kept graph", file=sys.stderr, flush=True)
        server.start(timeout=600)
        if graph_counts(settings) == {k: found[k] for k in ("nodes", "relationships")}:
            return work.reuse("ingest", True) or found
        server.stop()
    work.reuse("ingest", False)
    forget_store(server.home)
    shutil.rmtree(server.home / "data", ignore_errors=True)
    print(f"[scale] starting Neo4j instance {settings.instance} (Bolt {settings.bolt_port})", file=sys.stderr)
    server.start(timeout=600)
    bulk = has_bulk(env)
    ingest = [*KGREC, "ingest", *(["--bulk"] if bulk else []), "--no-progress", "--json", str(cat.spec)]
    result = run_stage("ingest", ingest, env, server, work)
    result |= {"method": "kgrec ingest --bulk" if bulk else "kgrec ingest (no --bulk here)"}
    counts = graph_counts(settings)
    result |= counts | {"store": mark_store(server.home, work, counts)}
    text = stage_log(work, "ingest").read_text()
    if bulk and "\n{" in text:  # --json: the report (with each bulk stage's seconds) ends the output
        result["bulk_seconds"] = json.loads(text[text.index("\n{") :]).get("seconds")
    return work.record("ingest", result)


def stage_export(env: dict[str, str], server: LocalNeo4j, work: WorkDir) -> dict[str, Any]:
    """The snapshot (written atomically by ``kgrec export``: present means whole)."""
    snapshot = work.path / "snapshot.npz"
    found = work.reuse("export", snapshot.exists())
    if found is not None:
        return found
    shutil.rmtree(work.path / "model", ignore_errors=True)  # a checkpoint of another snapshot is not continued
    result = run_stage("export", [*KGREC, "export", "--out", str(snapshot), "--no-progress"], env, server, work)
    return work.record("export", result | {"snapshot_mib": snapshot.stat().st_size / MIB})


def stage_train(args: argparse.Namespace, env: dict[str, str], server: LocalNeo4j, work: WorkDir) -> dict[str, Any]:
    """The bundle: kept when finished; else ``kgrec train`` into the same folder, which continues from the
    checkpoint an interrupted sitting left (at most ten minutes of an epoch before it was cut short)."""
    model = work.path / "model"
    found = work.reuse("train", (model / "bundle.json").exists())
    if found is not None:
        return found
    cmd = train_args(work.path / "snapshot.npz", model, args.epochs, args.threads, args.eval_users or None)
    result = run_stage("train", cmd, env, server, work)
    history = json.loads((model / "history.json").read_text())
    metrics = json.loads((model / "metrics.json").read_text())
    result |= {
        "epochs": args.epochs,
        "epoch_seconds": [e["seconds"] for e in history["history"]],
        "continued_from_epoch": history.get("resumed_from"),
        "continued_at_batch": history.get("resumed_at_batch"),
        "evaluated_users": metrics.get("users"),
        "valid": next((e["valid"] for e in reversed(history["history"]) if e.get("valid")), None),
        "test": metrics["test"],
    }
    return work.record("train", result)


def stage_serve(args: argparse.Namespace, env: dict[str, str], settings: Settings, work: WorkDir) -> dict[str, Any]:
    """``kgrec serve`` timed on ``--requests`` users drawn from the snapshot."""
    from kgrec.snapshot import GraphSnapshot

    keys = GraphSnapshot.load(work.path / "snapshot.npz").node_keys["User"]
    rng = np.random.default_rng(7)
    users = [int(u) for u in rng.choice(keys, size=min(args.requests, len(keys)), replace=False)]
    return serve(work.path / "model", users, env, settings, work.path)
