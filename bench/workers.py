"""Loads that run in a fresh child process, so each one's client memory is its own.

The parent starts a worker with :func:`run_worker`, samples the child's RSS while
it runs, and gets back a dict; each worker times only the load itself (not the
interpreter start, imports or connecting).
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import resource
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.instance import Endpoint
from bench.measure import PeakRss

_SPAWN = mp.get_context("spawn")

# The naive loader: one managed transaction per rating, MERGE per node and per relationship.
NAIVE_RATING = """
MERGE (u:User {id: $user})
MERGE (i:Item {id: $item})
MERGE (u)-[r:RATED]->(i)
SET r.rating = $rating, r.timestamp = $timestamp
"""


def run_worker(target: Callable[..., dict[str, Any]], rss: PeakRss, **kwargs: Any) -> dict[str, Any]:
    """Run ``target(**kwargs)`` in a spawned process, sampling its RSS as ``"client"``.

    Raises:
        RuntimeError: The worker raised (its traceback is in the message) or died.
    """
    results: mp.Queue[dict[str, Any]] = _SPAWN.Queue()
    proc = _SPAWN.Process(target=_entry, args=(target, kwargs, results), daemon=True)
    proc.start()
    rss.watch("client", proc.pid)
    while True:
        try:
            out = results.get(timeout=0.5)
            break
        except queue.Empty:
            if not proc.is_alive():
                raise RuntimeError(f"{target.__name__} worker died (exit code {proc.exitcode})") from None
    proc.join()
    if "error" in out:
        raise RuntimeError(f"{target.__name__} worker failed:\n{out['error']}")
    return out


def _entry(target: Callable[..., dict[str, Any]], kwargs: dict[str, Any], results: mp.Queue) -> None:
    try:
        out = target(**kwargs)
        out["client_maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        results.put(out)
    except BaseException:  # report everything to the parent, which re-raises
        results.put({"error": traceback.format_exc()})


def _bar(desc: str, total: int | None) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=f"  {desc}",
        unit="rec",
        unit_scale=True,
        leave=False,
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=0.5,
    )


def kgrec_load(endpoint: Endpoint, data_dir: str, specs: list[str], batch_size: int) -> dict[str, Any]:
    """Run kgrec's ``Ingestor`` over ``specs`` into the (empty) bench database."""
    from kgrec.graph.store import GraphStore
    from kgrec.ingest.load import IngestOptions, Ingestor

    with GraphStore.connect(endpoint.settings()) as store:
        ingestor = Ingestor(store, Path(data_dir), IngestOptions(batch_size=batch_size), _bar)
        per_spec: dict[str, float] = {}
        start = time.perf_counter()
        for spec in specs:
            t = time.perf_counter()
            report = ingestor.run(spec)
            per_spec[report.spec] = time.perf_counter() - t
            if report.bad:
                raise RuntimeError(f"{spec}: {len(report.bad)} bad record(s)")
        seconds = time.perf_counter() - start
        counts = store.counts()
        nodes = store.query("MATCH (n) WHERE NOT n:KgrecCheckpoint RETURN count(n) AS n")[0]["n"]
    return {
        "seconds": seconds,
        "per_spec_s": per_spec,
        "relationships": counts.relationships,
        "nodes": nodes,
        "types": counts.types,
        "labels": counts.labels,
    }


def naive_load(endpoint: Endpoint, ratings_file: str, rows: int, warmup: int) -> dict[str, Any]:
    """Write the first ``rows`` ratings one transaction each (the nodes must already exist).

    The ``warmup`` ratings after them are written first, untimed, so that a server
    fresh from start-up is not judged on its cold JIT.
    """
    from tqdm import tqdm

    from bench.instance import open_driver

    params = []
    with open(ratings_file, "rb") as f:
        for line in f:
            if len(params) == rows + warmup:
                break
            user, item, rating, ts = (int(x) for x in line.split(b"\t"))
            params.append({"user": user, "item": item, "rating": rating, "timestamp": ts})
    params, warm = params[:rows], params[rows:]
    settings = endpoint.settings()
    with open_driver(settings) as driver, driver.session(database=settings.neo4j_database) as session:
        for p in warm:
            session.execute_write(_merge_rating, p)
        start = time.perf_counter()
        for p in tqdm(
            params,
            desc="  naive MERGE, 1 tx/row",
            unit="tx",
            leave=False,
            file=sys.stderr,
            dynamic_ncols=True,
            mininterval=0.5,
        ):
            session.execute_write(_merge_rating, p)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "relationships": len(params)}


def _merge_rating(tx: Any, p: dict[str, int]) -> None:
    tx.run(NAIVE_RATING, p).consume()
