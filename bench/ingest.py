"""Ingestion benchmark: kgrec's Ingestor vs neo4j-admin import vs a naive one-transaction-per-row loader.

Run from the repository root (see bench/README.md)::

    KGREC_DATA_DIR=/path/to/recsys-data .venv/bin/python -m bench.ingest          # full, ~15 min
    KGREC_DATA_DIR=/path/to/recsys-data .venv/bin/python -m bench.ingest --quick  # smoke run, ~3 min

Every method runs against the same dedicated local server (instance ``bench``,
started here and stopped at the end) or, for neo4j-admin, a stopped instance
folder next to it, on the same machine in the same run.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/ingest.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import neo4j  # noqa: E402
import psutil  # noqa: E402

import kgrec  # noqa: E402
from bench import admin_import, ingest_sync, instance, synth  # noqa: E402
from bench.measure import MIB, PeakRss, load_average  # noqa: E402
from bench.provenance import git_state  # noqa: E402
from bench.report import ADMIN, KGREC, NAIVE, DatasetResult, Run, goal_lines, goals, markdown_table  # noqa: E402
from bench.workers import kgrec_load, naive_load, run_worker  # noqa: E402
from kgrec.data import resolve_data_dir  # noqa: E402
from kgrec.graph.batch import NodeKey  # noqa: E402
from kgrec.graph.server import dist_dir  # noqa: E402
from kgrec.graph.store import GraphStore  # noqa: E402
from kgrec.ingest.load import IngestOptions  # noqa: E402
from kgrec.settings import NEO4J_VERSION, load_settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
KG_SPECS = ["movielens-100k", "dbpedia-films", "freebase", "imdb-details"]
RESULTS = Path(__file__).resolve().parent / "results"
NAIVE_WARMUP = 300
"""Ratings the naive loader writes untimed before its timed prefix."""


@dataclass(frozen=True, slots=True)
class Dataset:
    """What one benchmark dataset loads."""

    name: str
    description: str
    data_dir: Path
    specs: list[str]
    ratings: Path
    """MovieLens ``u.data`` whose first rows the naive loader writes."""
    users: Path
    items: Path
    repeats: int


@dataclass(slots=True)
class Context:
    endpoint: instance.Endpoint
    store: GraphStore
    driver: neo4j.Driver
    database: str
    server_pid: int
    work: Path
    args: argparse.Namespace


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    data_dir = (args.data_dir or resolve_data_dir(load_settings())).resolve()
    if not (data_dir / synth.SOURCE / "u.data").is_file():
        _error(f"{data_dir / synth.SOURCE / 'u.data'} not found: set KGREC_DATA_DIR (or --data-dir)")
        return 2
    endpoint = instance.Endpoint(heap=args.heap, pagecache=args.pagecache)
    try:
        with instance.exclusive(endpoint):
            _run(args, endpoint, data_dir)
    except instance.BenchBusyError as e:
        _error(str(e))
        return 3
    return 0


def _run(args: argparse.Namespace, endpoint: instance.Endpoint, data_dir: Path) -> None:
    started = time.perf_counter()
    env = _environment(endpoint, args)
    work = Path(tempfile.mkdtemp(prefix="kgrec-bench-"))
    assert not work.resolve().is_relative_to(REPO), "generated files must stay outside the repository"
    _step(f"work folder {work}; machine load average {env['load_average_start']:.1f} on {env['cpus']} CPUs")
    results: list[DatasetResult] = []
    provenance: list[ingest_sync.Variant] = []
    server = None
    try:
        datasets = _datasets(args, data_dir, work)
        _step(f"starting the bench Neo4j server (instance '{instance.SERVER_INSTANCE}', empty store)")
        server = instance.start_fresh(endpoint)
        settings = endpoint.settings()
        with GraphStore.connect(settings) as store, instance.open_driver(settings) as driver:
            ctx = Context(endpoint, store, driver, settings.neo4j_database, instance.server_pid(server), work, args)
            for ds in datasets:
                results.append(_bench_dataset(ds, ctx))
        if not args.no_provenance:
            server.stop()
            server = None
            _step("the cost of provenance: ml-100k KG loaded plainly and with --sync, each on a fresh store")
            provenance = ingest_sync.measure(endpoint, datasets[0].data_dir, datasets[0].specs, args.batch_size)
            _same_code(provenance, env)
    finally:
        if server is not None:
            _step("stopping the bench server")
            server.stop()
        if not args.keep_files:
            instance.remove_data(endpoint)
            shutil.rmtree(work, ignore_errors=True)
    env["load_average_end"] = load_average()
    env["total_seconds"] = time.perf_counter() - started
    _render(results, env, args, provenance)


def _same_code(variants: list[ingest_sync.Variant], env: dict[str, object]) -> None:
    """The workers must have imported the kgrec this benchmark runs (a worktree's, not the venv's editable one)."""
    other = {str(v.extra["kgrec_module"]) for v in variants} - {str(env["kgrec_module"])}
    if other:
        raise RuntimeError(f"workers imported kgrec from {sorted(other)}, not {env['kgrec_module']}")


def _datasets(args: argparse.Namespace, data_dir: Path, work: Path) -> list[Dataset]:
    """The real KG, and the scaled interactions generated into ``work``."""
    source = data_dir / synth.SOURCE
    copies = max(1, round(args.interactions / 100_000))
    scaled = synth.make_scaled(source, work, copies)
    return [
        Dataset(
            "ml-100k KG",
            "MovieLens-100k + DBpedia + Freebase + IMDb (the four shipped specs)",
            data_dir,
            [str(REPO / "ingest" / f"{s}.toml") for s in KG_SPECS],
            source / "u.data",
            source / "u.user",
            source / "u.item",
            args.repeats,
        ),
        Dataset(
            f"{_short(scaled.ratings)} interactions",
            f"MovieLens-100k users copied {copies}x with their ratings ({scaled.users:,} users, "
            f"{scaled.ratings:,} ratings), same items and genres, no KG",
            work,
            [str(scaled.spec)],
            work / scaled.name / "u.data",
            work / scaled.name / "u.user",
            source / "u.item",
            args.large_repeats,
        ),
    ]


def _bench_dataset(ds: Dataset, ctx: Context) -> DatasetResult:
    res = DatasetResult(ds.name, ds.description)
    _naive(ds, ctx, res)
    for r in range(ds.repeats):
        _wipe(ctx)
        _step(f"[{ds.name}] kgrec run {r + 1}/{ds.repeats}")
        with PeakRss(watch={"server": ctx.server_pid}) as rss:
            out = run_worker(
                kgrec_load,
                rss,
                endpoint=ctx.endpoint,
                data_dir=str(ds.data_dir),
                specs=ds.specs,
                batch_size=ctx.args.batch_size,
            )
        run = Run(
            out["seconds"],
            out["relationships"],
            rss.peaks["client"],
            rss.peaks["server"],
            {
                "per_spec_s": out["per_spec_s"],
                "nodes": out["nodes"],
                "types": out["types"],
                "client_ru_maxrss_bytes": out["client_maxrss"],
                "load_average": load_average(),
                **_server_start(rss),
            },
        )
        res.method(KGREC, "Ingestor.run over the specs into an empty database").runs.append(run)
        _done(run)
    _step(f"[{ds.name}] exporting the loaded graph to admin-import CSVs (not timed)")
    files = admin_import.export_graph(ctx.driver, ctx.database, ctx.work / f"admin-csv-{_slug(ds.name)}")
    imp_settings, imp_env = instance.prepare_import_home(ctx.endpoint)
    for r in range(ds.repeats):
        _step(f"[{ds.name}] neo4j-admin import run {r + 1}/{ds.repeats}")
        log = ctx.work / f"admin-import-{_slug(ds.name)}-{r + 1}.log"
        with PeakRss() as rss:
            imp = admin_import.run_import(files, dist_dir(imp_settings), imp_env, log, rss, ctx.database)
        if imp.relationships != files.rel_count or imp.nodes != files.node_count:
            raise RuntimeError(
                f"neo4j-admin imported {imp.nodes} nodes/{imp.relationships} rels, the export "
                f"had {files.node_count}/{files.rel_count}; see {log}"
            )
        run = Run(
            imp.seconds,
            imp.relationships,
            rss.peaks["client"],
            None,
            {"nodes": imp.nodes, "load_average": load_average(), **_server_start(rss)},
        )
        res.method(ADMIN, "wall time of the import command, JVM start-up included; CSV export not timed").runs.append(
            run
        )
        _done(run)
    return res


def _naive(ds: Dataset, ctx: Context, res: DatasetResult) -> None:
    """Pre-create the users and items (untimed), then time one transaction per rating."""
    _wipe(ctx)
    _step(f"[{ds.name}] naive loader: creating {ds.users.name}/{ds.items.name} nodes (not timed)")
    ctx.store.apply_schema({NodeKey("User", "id"), NodeKey("Item", "id")})
    for label, path in (("User", ds.users), ("Item", ds.items)):
        ids = [int(line.split(b"|", 1)[0]) for line in path.read_bytes().splitlines() if line.strip()]
        ctx.driver.execute_query(_CREATE_NODES[label], ids=ids, database_=ctx.database)
    rows = ctx.args.naive_rows
    _step(f"[{ds.name}] naive loader: first {rows:,} ratings, one transaction per row")
    with PeakRss(watch={"server": ctx.server_pid}) as rss:
        out = run_worker(
            naive_load, rss, endpoint=ctx.endpoint, ratings_file=str(ds.ratings), rows=rows, warmup=NAIVE_WARMUP
        )
    run = Run(
        out["seconds"],
        out["relationships"],
        rss.peaks["client"],
        rss.peaks["server"],
        {"load_average": load_average(), **_server_start(rss)},
    )
    res.method(
        NAIVE,
        f"first {out['relationships']:,} RATED rows of {ds.ratings.name}, users and items "
        "pre-created; MERGE user, item and relationship, one managed transaction per row",
    ).runs.append(run)
    _done(run)


_CREATE_NODES = {  # bench setup for the naive loader only
    "User": "UNWIND $ids AS id MERGE (:User {id: id})",
    "Item": "UNWIND $ids AS id MERGE (:Item {id: id})",
}


def _server_start(rss: PeakRss) -> dict[str, int]:
    """The server's RSS when the run began (the server lives across runs, so its RSS only grows)."""
    return {"server_rss_at_start_bytes": rss.at_start["server"]} if "server" in rss.at_start else {}


def _wipe(ctx: Context) -> None:
    t = time.perf_counter()
    instance.wipe(ctx.store, ctx.driver, ctx.database)
    if time.perf_counter() - t > 5:
        _step(f"  wiped the database in {time.perf_counter() - t:.0f} s")


def _render(
    results: list[DatasetResult],
    env: dict[str, object],
    args: argparse.Namespace,
    provenance: list[ingest_sync.Variant],
) -> None:
    table = markdown_table(results)
    verdict = goals(results[-1])
    print()
    print(table)
    print()
    for line in goal_lines(verdict):
        print(line)
    print()
    print(
        f"Machine: {env['cpus']} CPUs, {env['ram_gib']:.0f} GiB RAM, load average {env['load_average_start']:.1f}"
        f" at start / {env['load_average_end']:.1f} at end; Neo4j {NEO4J_VERSION} heap {env['heap']}, page "
        f"cache {env['pagecache']}; kgrec batch size {args.batch_size}; total {env['total_seconds'] / 60:.1f} min"
        + (" (--quick)" if args.quick else "")
    )
    if provenance:
        print()
        print(ingest_sync.markdown_table(provenance))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y-%m-%d")
    path = RESULTS / f"ingest-{stamp}{'-quick' if args.quick else ''}.json"
    doc = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "quick": args.quick,
        "environment": env,
        "datasets": [
            {
                "name": ds.name,
                "description": ds.description,
                "methods": [{**m.summary(), "runs_detail": [asdict(r) for r in m.runs]} for m in ds.methods.values()],
            }
            for ds in results
        ],
        "goals": verdict,
        "markdown": table,
        "provenance": ingest_sync.as_json(provenance),
        "provenance_markdown": ingest_sync.markdown_table(provenance) if provenance else "",
    }
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"Results written to {path.relative_to(REPO)}")


def _environment(endpoint: instance.Endpoint, args: argparse.Namespace) -> dict[str, object]:
    settings = endpoint.settings()
    return {
        "cpus": psutil.cpu_count(),
        "ram_gib": psutil.virtual_memory().total / (1024 * MIB),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "neo4j": NEO4J_VERSION,
        "heap": settings.heap,
        "pagecache": settings.pagecache,
        "batch_size": args.batch_size,
        "naive_rows": args.naive_rows,
        "interactions": args.interactions,
        "load_average_start": load_average(),
        "kgrec_module": str(Path(kgrec.__file__).resolve().parent),
        "git": git_state(REPO),
    }


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.splitlines()[0])
    p.add_argument(
        "--quick", action="store_true", help="smoke run: 200k interactions, 1 repeat, 1,000 naive rows (~3 min)"
    )
    p.add_argument("--data-dir", type=Path, help="dataset folder (default: $KGREC_DATA_DIR)")
    p.add_argument("--interactions", type=int, help="ratings in the scaled dataset (default: 1,000,000)")
    p.add_argument("--repeats", type=int, help="runs per method on ml-100k KG (default: 3)")
    p.add_argument("--large-repeats", type=int, help="runs per method on the scaled dataset (default: 1)")
    p.add_argument("--naive-rows", type=int, help="ratings the naive loader times (default: 5,000)")
    default_batch = IngestOptions().batch_size
    p.add_argument(
        "--batch-size", type=int, default=default_batch, help=f"kgrec batch size (default: kgrec's, {default_batch})"
    )
    p.add_argument("--heap", help="bench server heap, e.g. 1g (default: $KGREC_HEAP or kgrec's default)")
    p.add_argument("--pagecache", help="bench server page cache (default: $KGREC_PAGECACHE or kgrec's default)")
    p.add_argument("--keep-files", action="store_true", help="keep the generated files and bench stores")
    p.add_argument(
        "--no-provenance", action="store_true", help="skip the cost-of-provenance variant (plain vs --sync loads)"
    )
    args = p.parse_args(argv)
    quick = {"interactions": 200_000, "repeats": 1, "large_repeats": 1, "naive_rows": 1_000}
    full = {"interactions": 1_000_000, "repeats": 3, "large_repeats": 1, "naive_rows": 5_000}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def _short(n: int) -> str:
    return f"{n / 1_000_000:g}M" if n >= 1_000_000 else f"{n // 1000}k"


def _error(text: str) -> None:
    print(f"error: {text}", file=sys.stderr)


def _step(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def _done(run: Run) -> None:
    server = f", server {run.server_peak_rss / MIB:,.0f} MiB" if run.server_peak_rss else ""
    _step(
        f"  {run.relationships:,} rels in {run.seconds:,.1f} s = {run.rate:,.0f} rels/s; peak RSS client "
        f"{run.client_peak_rss / MIB:,.0f} MiB{server}"
    )


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()


if __name__ == "__main__":
    sys.exit(main())
