"""Streaming RDF benchmark: a generated N-Triples file through kgrec's Ingestor vs neo4j-admin import.

Run from the repository root (see bench/README.md, "Streaming RDF")::

    .venv/bin/python -m bench.rdf_stream            # 20 million triples (hours on a small machine)
    .venv/bin/python -m bench.rdf_stream --quick    # 200k triples, a few minutes

The file is generated from a seed (films, people, companies and categories,
with names, years and abstracts; a tenth of each film's facts are written at
the end of the file, away from the rest, as real dumps sometimes do). kgrec
loads it in this process, so the peak client memory is this process's RSS
(goal: under 1 GB whatever the file size). The loaded graph is then exported
and loaded again by ``neo4j-admin database import full`` (helpers of
``bench.ingest``), and both rates are reported in triples per second.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/rdf_stream.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402

from bench import admin_import, instance  # noqa: E402
from bench.measure import MIB, PeakRss, load_average  # noqa: E402
from bench.provenance import Stopwatch  # noqa: E402
from bench.report import ADMIN, KGREC, DatasetResult, Run, markdown_table  # noqa: E402
from kgrec.graph.server import dist_dir  # noqa: E402
from kgrec.graph.store import GraphStore  # noqa: E402
from kgrec.ingest.load import IngestOptions, Ingestor  # noqa: E402
from kgrec.settings import NEO4J_VERSION  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
MEMORY_GOAL = 1 << 30
R = "http://example.org/resource/"
ONT = "http://example.org/ontology/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD_INT = "http://www.w3.org/2001/XMLSchema#integer"
SPEC = """name = "rdf-bench"
dataset = "rdf"
[[rdf]]
file = "dump.nt"
  [rdf.type_labels]
  "http://example.org/ontology/Film" = "Film"
  "http://example.org/ontology/Person" = "Person"
  [rdf.literals]
  "http://www.w3.org/2000/01/rdf-schema#label" = "name"
"""


def generate(path: Path, triples: int, seed: int) -> int:
    """Write about ``triples`` N-Triples lines to ``path``; returns how many were written."""
    rng = random.Random(seed)
    films = max(10, triples // 20)
    people, companies, cats = films // 2, max(5, films // 50), max(5, films // 20)
    written, late = 0, []
    with path.open("w", encoding="utf-8") as f:
        for i in range(films):
            s = f"<{R}Film_{i}>"
            lines = [
                f"{s} <{RDF_TYPE}> <{ONT}Film> .",
                f'{s} <{LABEL}> "Film number {i}"@en .',
                f'{s} <{ONT}year> "{1900 + rng.randrange(120)}"^^<{XSD_INT}> .',
                f'{s} <{ONT}abstract> "A film about {rng.randrange(10**9)} things, in {rng.choice("ABCDE")}."@en .',
                f"{s} <{ONT}director> <{R}Person_{rng.randrange(people)}> .",
                f"{s} <{ONT}distributor> <{R}Company_{rng.randrange(companies)}> .",
            ]
            lines += [f"{s} <{ONT}starring> <{R}Person_{p}> ." for p in rng.sample(range(people), min(6, people))]
            lines += [f"{s} <{ONT}subject> <{R}Category_{c}> ." for c in rng.sample(range(cats), min(6, cats))]
            lines += [f'{s} <{ONT}genre> "genre {g}" .' for g in rng.sample(range(30), 2)]  # always a list
            rng.shuffle(lines)
            late += lines[:2]  # scattered: written after every film
            f.write("\n".join(lines[2:]) + "\n")
            written += len(lines) - 2
        for p in range(people):
            f.write(f'<{R}Person_{p}> <{RDF_TYPE}> <{ONT}Person> .\n<{R}Person_{p}> <{LABEL}> "Person {p}"@en .\n')
            written += 2
        f.write("\n".join(late) + "\n")
        written += len(late)
    return written


class _OwnRss(PeakRss):
    """Samples ``client`` as this process alone: the bench server it started is a child, sampled as ``server``."""

    def _sample(self, name: str, pid: int) -> None:
        if name != "client":
            super()._sample(name, pid)
            return
        with contextlib.suppress(psutil.Error):
            self.peaks[name] = max(self.peaks.get(name, 0), psutil.Process(pid).memory_info().rss)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    endpoint = instance.Endpoint(heap=args.heap, pagecache=args.pagecache)
    try:
        with instance.exclusive(endpoint):
            _run(args, endpoint)
    except instance.BenchBusyError as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    return 0


def _run(args: argparse.Namespace, endpoint: instance.Endpoint) -> None:
    clock = Stopwatch()  # the commit this run loaded, whatever the checkout does meanwhile
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="kgrec-rdf-bench-", dir=args.work_dir))
    server = None
    try:
        (work / "rdf").mkdir()
        _step(f"generating {args.triples:,} triples (seed {args.seed}) in {work}")
        triples = generate(work / "rdf" / "dump.nt", args.triples, args.seed)
        (work / "spec.toml").write_text(SPEC, encoding="utf-8")
        _step(f"starting the bench Neo4j server (instance '{instance.SERVER_INSTANCE}', empty store)")
        server = instance.start_fresh(endpoint)
        settings = endpoint.settings()
        res = DatasetResult(f"{triples:,} triples", "generated N-Triples (films, people, companies, categories)")
        with GraphStore.connect(settings) as store, instance.open_driver(settings) as driver:
            _step("kgrec Ingestor (streaming), in this process")
            with _OwnRss(watch={"client": os.getpid(), "server": instance.server_pid(server)}) as rss:
                t0 = time.perf_counter()
                report = Ingestor(store, work, IngestOptions(batch_size=args.batch_size, spill_dir=work)).run(
                    work / "spec.toml"
                )
                seconds = time.perf_counter() - t0
            rels = sum(report.counts.rels_created.values())
            extra = {"triples": triples, "triples_per_s": triples / seconds, "nodes": report.counts.nodes_created}
            res.method(KGREC, "Ingestor.run, streaming, in this process").runs.append(
                Run(seconds, rels, rss.peaks["client"], rss.peaks["server"], extra)
            )
            _step(
                f"  {seconds:.1f} s, {triples / seconds:,.0f} triples/s, "
                f"client peak {rss.peaks['client'] / MIB:,.0f} MiB",
            )
            _step("exporting the loaded graph to admin-import CSVs (not timed)")
            files = admin_import.export_graph(driver, settings.neo4j_database, work / "admin-csv")
        server.stop()
        server = None
        imp_settings, imp_env = instance.prepare_import_home(endpoint)
        _step("neo4j-admin database import full")
        with PeakRss() as rss:
            imp = admin_import.run_import(
                files, dist_dir(imp_settings), imp_env, work / "admin.log", rss, settings.neo4j_database
            )
        extra = {"triples": triples, "triples_per_s": triples / imp.seconds, "nodes": imp.nodes}
        res.method(ADMIN, "wall time of the import command, JVM start-up included").runs.append(
            Run(imp.seconds, imp.relationships, rss.peaks["client"], None, extra)
        )
    finally:
        if server is not None:
            server.stop()
        if not args.keep_files:
            instance.remove_data(endpoint)
            shutil.rmtree(work, ignore_errors=True)
    _render(res, args, time.perf_counter() - started, clock)


def _render(res: DatasetResult, args: argparse.Namespace, total: float, clock: Stopwatch) -> None:
    kg, adm = res.methods[KGREC].runs[0], res.methods[ADMIN].runs[0]
    table = markdown_table([res])
    lines = [
        f"kgrec: {kg.extra['triples_per_s']:,.0f} triples/s; neo4j-admin import: {adm.extra['triples_per_s']:,.0f} "
        f"triples/s (kgrec takes {kg.seconds / adm.seconds:.1f}x as long)",
        f"kgrec client peak RSS {kg.client_peak_rss / MIB:,.0f} MiB (goal: under {MEMORY_GOAL // MIB:,} MiB): "
        + ("met" if kg.client_peak_rss < MEMORY_GOAL else "NOT met"),
        f"Machine: {psutil.cpu_count()} CPUs, {psutil.virtual_memory().total / (1 << 30):.0f} GiB RAM, load average "
        f"{load_average():.1f} at end; Neo4j {NEO4J_VERSION}; batch size {args.batch_size}; total {total / 60:.1f} min"
        + (" (--quick)" if args.quick else ""),
    ]
    print("\n" + table + "\n\n" + "\n".join(lines))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"rdf-stream-{datetime.now():%Y-%m-%d}{'-quick' if args.quick else ''}.json"
    doc = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "args": {k: str(v) for k, v in vars(args).items()},
        "methods": [{**m.summary(), "extra": m.runs[0].extra} for m in res.methods.values()],
        "markdown": table,
        "lines": lines,
        "provenance": clock.provenance(),
    }
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"Results written to {path.relative_to(REPO)}")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.rdf_stream", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 200k triples")
    p.add_argument("--triples", type=int, help="triples to generate (default: 20,000,000; --quick 200,000)")
    p.add_argument("--seed", type=int, default=11, help="generator seed (default: 11)")
    p.add_argument("--batch-size", type=int, default=IngestOptions().batch_size, help="kgrec batch size")
    p.add_argument("--work-dir", type=Path, help="where the file, spill files and CSVs go (default: temp folder)")
    p.add_argument("--heap", help="bench server heap, e.g. 1g")
    p.add_argument("--pagecache", help="bench server page cache")
    p.add_argument("--keep-files", action="store_true", help="keep the generated files and bench stores")
    args = p.parse_args(argv)
    if args.triples is None:
        args.triples = 200_000 if args.quick else 20_000_000
    return args


def _step(text: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
