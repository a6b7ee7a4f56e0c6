"""Bulk first loads: ``kgrec ingest --bulk`` vs a hand-written neo4j-admin import vs plain ``kgrec ingest``.

Run from the repository root (see bench/README.md, "Bulk first loads")::

    KGREC_DATA_DIR=/path/to/recsys-data .venv/bin/python -m bench.bulk          # 10M relationships
    KGREC_DATA_DIR=/path/to/recsys-data .venv/bin/python -m bench.bulk --quick  # 1M relationships

The catalogue is MovieLens-100k scaled by :mod:`bench.synth`. Each method loads
it into an empty store: plain ``kgrec ingest`` (:class:`~kgrec.ingest.load.Ingestor`)
into the bench server; then the graph it made is exported (not timed) to
admin-import CSVs and imported by hand into the stopped ``<instance>-import``
instance (:mod:`bench.admin_import`: the import command alone is timed); then the
hand-written path end to end into that instance: the pandas script a user would
write (:mod:`bench.handwritten_import`), the import, and starting that server until
Bolt answers, timed together, twice: lean (the script's own graph), and the same graph
``--bulk`` makes (kgrec's provenance columns in the script, and the same constraints and
indexes created once the server answers); then ``kgrec ingest --bulk``
(:class:`~kgrec.ingest.bulk.BulkLoader`, wall time of everything: reading,
CSV files with the server stopping beside them, the import, starting the server,
the constraints and checkpoints; each stage is recorded too). The issue's goal
(within 1.2x of a hand-written import of the same graph) is judged against the
hand-written end to end of the same graph; the other rows are reported beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/bulk.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402

from bench import admin_import, handwritten_import, instance, synth  # noqa: E402
from bench.measure import MIB, PeakRss, load_average  # noqa: E402
from kgrec.data import resolve_data_dir  # noqa: E402
from kgrec.graph.batch import NodeKey  # noqa: E402
from kgrec.graph.server import LocalNeo4j, dist_dir, read_password  # noqa: E402
from kgrec.graph.store import GraphStore  # noqa: E402
from kgrec.ingest.bulk import BulkLoader  # noqa: E402
from kgrec.ingest.load import Ingestor, node_keys  # noqa: E402
from kgrec.ingest.spec import load_spec  # noqa: E402
from kgrec.settings import NEO4J_VERSION, Settings, load_settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bulk", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1M relationships instead of 10M")
    p.add_argument("--data-dir", type=Path, help="dataset folder (default: $KGREC_DATA_DIR)")
    p.add_argument("--copies", type=int, help="copies of each MovieLens user (default: 100, --quick: 10)")
    p.add_argument("--heap", help="bench server heap (default: kgrec's)")
    p.add_argument("--pagecache", help="bench server page cache (default: kgrec's)")
    args = p.parse_args(argv)
    copies = args.copies or (10 if args.quick else 100)
    data_dir = (args.data_dir or resolve_data_dir(load_settings())).resolve()
    if not (data_dir / synth.SOURCE / "u.data").is_file():
        print(f"error: {data_dir / synth.SOURCE / 'u.data'} not found: set KGREC_DATA_DIR", file=sys.stderr)
        return 2
    endpoint = instance.Endpoint(heap=args.heap, pagecache=args.pagecache)
    try:
        with instance.exclusive(endpoint):
            _run(args, endpoint, data_dir, copies)
    except instance.BenchBusyError as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    return 0


def _run(args: argparse.Namespace, endpoint: instance.Endpoint, data_dir: Path, copies: int) -> None:
    env = _environment(endpoint, copies)
    work = Path(tempfile.mkdtemp(prefix="kgrec-bench-bulk-"))
    server = None
    try:
        scaled = synth.make_scaled(data_dir / synth.SOURCE, work, copies)
        settings = endpoint.settings()
        _step(f"{scaled.ratings:,} ratings of {scaled.users:,} users in {work}")
        server = instance.start_fresh(endpoint)
        _step("plain kgrec ingest")
        start = time.perf_counter()
        with GraphStore.connect(settings) as store:
            Ingestor(store, work).run(scaled.spec)
            plain = time.perf_counter() - start
            rels = store.counts().relationships
        _step(f"  {plain:.1f} s; exporting the graph to admin-import CSVs (not timed)")
        with instance.open_driver(settings) as driver:
            files = admin_import.export_graph(driver, settings.neo4j_database, work / "admin-csv")
        imp_settings, imp_env = instance.prepare_import_home(endpoint)
        _step("hand-written neo4j-admin database import full")
        with PeakRss() as rss:
            hand = admin_import.run_import(files, dist_dir(imp_settings), imp_env, work / "admin.log", rss)
        _step(f"  {hand.seconds:.1f} s; hand-written end to end: pandas script, import, server start")
        end_to_end = _hand_end_to_end(work / scaled.name, work / "hand-csv", imp_settings, imp_env, work)
        _step(f"  {end_to_end.seconds:.1f} s ({end_to_end.stages}); the same graph by hand (provenance, schema)")
        keys = node_keys(load_spec(scaled.spec))
        same = _hand_end_to_end(
            work / scaled.name, work / "same-csv", imp_settings, imp_env, work, same_graph=(scaled.name, keys)
        )
        _step(f"  {same.seconds:.1f} s ({same.stages}); kgrec ingest --bulk (fresh store)")
        server = instance.start_fresh(endpoint)
        start = time.perf_counter()
        report = BulkLoader(settings, work, say=_step).run([scaled.spec])
        bulk = time.perf_counter() - start  # wall time: the server's stop overlaps the CSV files
        bulk_rels = sum(report.rels_by_type.values())
    finally:
        if server is not None:
            server.stop()
        instance.remove_data(endpoint)
        shutil.rmtree(work, ignore_errors=True)
    if bulk_rels != rels or hand.relationships != rels or {end_to_end.relationships, same.relationships} != {rels}:
        raise RuntimeError(
            f"relationship counts differ: plain {rels}, hand-written {hand.relationships} (end to end "
            f"{end_to_end.relationships}), bulk {bulk_rels}"
        )
    env["load_average_end"] = load_average()
    _render(args, env, rels, plain, hand.seconds, (end_to_end, same), bulk, report.seconds)


@dataclass(frozen=True, slots=True)
class _EndToEnd:
    seconds: float
    stages: dict[str, float]
    relationships: int


def _hand_end_to_end(
    source: Path, out: Path, settings: Settings, env: dict[str, str], work: Path,
    same_graph: tuple[str, set[NodeKey]] | None = None,
) -> _EndToEnd:  # fmt: skip
    """Time the hand-written path whole: the pandas script, the import, starting the server until Bolt answers.

    With ``same_graph`` (the spec's name and node keys) the script also writes kgrec's provenance
    columns and, once the server answers, the same constraints and indexes are created
    (``GraphStore.apply_schema``, what a user would type as ``CREATE CONSTRAINT``/``CREATE INDEX``):
    the graph ``--bulk`` makes. The import instance gets its password first (not timed: a user's
    server has one already).
    """
    server = LocalNeo4j(settings)
    _write_password(settings.password_file)
    server.run_admin(["dbms", "set-initial-password", read_password(settings)], work / "password.log")
    stages: dict[str, float] = {}
    start = time.perf_counter()
    files = handwritten_import.write_import_files(source, out, same_graph[0] if same_graph else None)
    stages["script"] = time.perf_counter() - start
    with PeakRss() as rss:
        run = admin_import.run_import(files, dist_dir(settings), env, work / "admin-e2e.log", rss)
    stages["import"] = run.seconds
    mark = time.perf_counter()
    try:
        server.start(timeout=600)
        stages["start"] = time.perf_counter() - mark
        if same_graph is not None:
            mark = time.perf_counter()
            with GraphStore.connect(settings) as store:
                store.apply_schema(same_graph[1])
            stages["schema"] = time.perf_counter() - mark
        seconds = time.perf_counter() - start
    finally:
        server.stop()
        shutil.rmtree(server.home / "data", ignore_errors=True)
    return _EndToEnd(seconds, {k: round(v, 1) for k, v in stages.items()}, run.relationships)


def _write_password(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as f:
        f.write(secrets.token_urlsafe(18) + "\n")


def _render(
    args: argparse.Namespace,
    env: dict[str, object],
    rels: int,
    plain: float,
    hand: float,
    hands: tuple[_EndToEnd, _EndToEnd],
    bulk: float,
    stages: dict[str, float],
) -> None:
    lean, e2e = hands
    script = ", ".join(f"{k} {v:.1f} s" for k, v in lean.stages.items())
    same = ", ".join(f"{k} {v:.1f} s" for k, v in e2e.stages.items())
    rows = [
        ("kgrec ingest --bulk", bulk, "read and check, CSV files, stop, import, start, schema, checkpoints"),
        (
            "hand-written end to end, same graph",
            e2e.seconds,
            f"pandas script with kgrec's provenance columns, import, start, the same constraints and indexes ({same})",
        ),
        ("hand-written end to end, lean", lean.seconds, f"pandas script, import, start until Bolt answers ({script})"),
        ("hand-written import alone", hand, "the import command alone (its CSVs exported from the graph, not timed)"),
        ("plain kgrec ingest", plain, "transactional, checkpointed"),
    ]
    lines = [
        "| method | relationships | seconds | vs hand-written, same graph | vs import alone | what is timed |",
        "|---|---|---|---|---|---|",
        *(f"| {name} | {rels:,} | {s:,.1f} | {s / e2e.seconds:.2f}x | {s / hand:.2f}x | {what} |"
          for name, s, what in rows),
    ]  # fmt: skip
    table = "\n".join(lines)
    print()
    print(table)
    print("bulk stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()) + " (stop runs beside files)")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y-%m-%d")
    path = RESULTS / f"bulk-{stamp}{'-quick' if args.quick else ''}.json"
    doc = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "commit": _commit(),
        "quick": args.quick,
        "environment": env,
        "relationships": rels,
        "seconds": {
            "bulk": bulk,
            "hand_written_same_graph": e2e.seconds,
            "hand_written_end_to_end": lean.seconds,
            "hand_written_import": hand,
            "plain": plain,
        },
        "hand_written_same_graph_stages_s": e2e.stages,
        "hand_written_end_to_end_stages_s": lean.stages,
        "bulk_stages_s": stages,
        "bulk_fixed_s": {k: stages.get(k, 0.0) for k in ("stop", "stop_wait", "start", "finish")},
        "ratios": {
            "bulk_vs_hand_written_same_graph": bulk / e2e.seconds,
            "bulk_vs_hand_written_end_to_end": bulk / lean.seconds,
            "bulk_vs_hand_written_import": bulk / hand,
            "plain_vs_bulk": plain / bulk,
        },
        "goal_within_1_2x": bulk / e2e.seconds <= 1.2,
        "goal_judged_against": "hand-written end to end of the same graph (pandas script with kgrec's provenance "
        "columns, import, server start, the same constraints and indexes)",
        "markdown": table,
    }
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"Results written to {path.relative_to(REPO)}")


def _environment(endpoint: instance.Endpoint, copies: int) -> dict[str, object]:
    settings = endpoint.settings()
    return {
        "cpus": psutil.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / (1024 * MIB), 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "neo4j": NEO4J_VERSION,
        "heap": settings.heap,
        "pagecache": settings.pagecache,
        "copies": copies,
        "load_average_start": load_average(),
    }


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def _step(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
