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

``--work-dir DIR --resume`` runs it across sittings (:mod:`bench.scale_work`): a stage whose output
is whole is taken from the earlier sitting, an interrupted one is redone, training continues from
its checkpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/scale.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import synth  # noqa: E402
from bench.instance import BenchBusyError, held, lock_path  # noqa: E402
from bench.provenance import Stopwatch  # noqa: E402
from bench.scale_report import continued, table  # noqa: E402
from bench.scale_stages import (  # noqa: E402
    stage_export,
    stage_generate,
    stage_ingest,
    stage_serve,
    stage_train,
    train_args,
)
from bench.scale_work import WorkDir, forget_store  # noqa: E402
from kgrec.graph.server import LocalNeo4j  # noqa: E402
from kgrec.settings import Settings, load_settings  # noqa: E402

INSTANCE, BOLT, HTTP = "bench-scale", 7790, 7590
RESULTS = Path(__file__).resolve().parent / "results"


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


def run_stages(
    args: argparse.Namespace, settings: Settings, path: Path, watch: Stopwatch
) -> tuple[WorkDir, dict[str, Any]]:
    """Every stage in ``path``, under the lock; the server stopped and, unless kept, the files removed after."""
    try:
        work = WorkDir.open(path, watch.git, run_options(args))
        return work, pipeline(args, settings, work)
    finally:
        LocalNeo4j(settings).stop()
        if not (args.keep or args.resume):
            shutil.rmtree(path, ignore_errors=True)
            shutil.rmtree(settings.instance_dir / "data", ignore_errors=True)
            forget_store(settings.instance_dir)


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


def shape_of(args: argparse.Namespace) -> synth.CatalogueShape:
    """The catalogue's sizes: the full one, ``--quick``'s, or ``--fraction`` of the full one."""
    if args.fraction:
        full = synth.CatalogueShape()
        sizes = (full.interactions, full.users, full.items, full.triples)
        return synth.CatalogueShape(*(max(10, int(n * args.fraction)) for n in sizes))
    return synth.QUICK_SHAPE if args.quick else synth.CatalogueShape()


def run_options(args: argparse.Namespace) -> dict[str, Any]:
    """What decides a run's result: a kept work folder is resumed only with the same."""
    keys = ("epochs", "threads", "eval_users", "requests", "heap", "pagecache")
    return {"shape": asdict(shape_of(args))} | {k: getattr(args, k) for k in keys}


def pipeline(args: argparse.Namespace, settings: Settings, work: WorkDir) -> dict[str, Any]:
    """Every stage in order, those an earlier sitting finished taken from it; returns the ``stages`` block."""
    where = checked_imports(child_env(settings, work.path))  # before anything long: fail fast
    cat, generated = stage_generate(shape_of(args), work, where)
    env = child_env(settings, cat.data_dir)
    server = LocalNeo4j(settings)
    stages = {"generate": generated, "ingest": stage_ingest(cat, env, server, settings, work)}
    stages["export"] = stage_export(env, server, work)
    stages["train"] = stage_train(args, env, server, work)
    stages["serve"] = work.reuse("serve", True) or work.record("serve", stage_serve(args, env, settings, work))
    server.stop()
    return stages


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1M interactions (smoke run) instead of 10M")
    p.add_argument("--fraction", type=float, help="any other size: this share of the full catalogue")
    p.add_argument("--epochs", type=int, default=1, help="training epochs (default: 1)")
    p.add_argument("--threads", type=int, default=min(4, os.cpu_count() or 1), help="torch threads")
    p.add_argument(
        "--eval-users",
        type=int,
        default=10_000,
        help="validation and test rank a seeded sample of this many users (default: 10,000; 0: every user)",
    )
    p.add_argument("--requests", type=int, default=200, help="explained recommendations timed (default: 200)")
    p.add_argument("--heap", default="1g", help="Neo4j heap (default: 1g)")
    p.add_argument("--pagecache", default="1g", help="Neo4j page cache (default: 1g)")
    p.add_argument("--work-dir", type=Path, help="where files go (default: a temporary folder, removed)")
    p.add_argument("--keep", action="store_true", help="keep the work folder and the instance's store")
    p.add_argument(
        "--resume",
        action="store_true",
        help="use --work-dir itself, keep it, and take the stages an earlier sitting finished there",
    )
    args = p.parse_args(argv)
    if args.resume and args.work_dir is None:
        p.error("--resume needs --work-dir (the folder the sittings share)")
    watch = Stopwatch()
    settings = settings_for(args.heap, args.pagecache)
    path = args.work_dir if args.resume else Path(tempfile.mkdtemp(prefix="kgrec-scale-", dir=args.work_dir))
    try:
        with held(lock_path(settings), "another bench.scale run is using its instance"):
            work, stages = run_stages(args, settings, path, watch)
    except BenchBusyError as e:  # the running one's server and folder are left alone
        raise SystemExit(str(e)) from None
    result = {
        "quick": args.quick,
        "options": {k: str(v) for k, v in vars(args).items()},
        "stages": stages,
        "resumed": work.reused,
        "continued": ["train"] if continued(stages["train"]) and "train" not in work.reused else [],
        "provenance": watch.provenance(neo4j={"heap": args.heap, "pagecache": args.pagecache}),
    }
    load = result["provenance"]["load_average_1min"]
    if args.resume:
        work.end_sitting(result["provenance"]["wall_seconds"], load["after"], load["before"])
    result["sittings"] = work.manifest["sittings"]
    RESULTS.mkdir(exist_ok=True)
    size = f"-fraction{args.fraction:g}" if args.fraction else "-quick" if args.quick else ""
    path = RESULTS / f"scale-{datetime.now():%Y-%m-%d}{size}.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(table(stages))
    print(f"\n{os.cpu_count()} CPUs, load average {load['before']} before / {load['after']} after; result: {path}")
    return 0


__all__ = ["main", "train_args"]


if __name__ == "__main__":
    sys.exit(main())
