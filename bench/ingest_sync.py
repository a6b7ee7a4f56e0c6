"""The cost of provenance, a variant of the ingestion benchmark: the same specs loaded plainly and with ``--sync``.

Four loads of the ml-100k KG specs, each timed in a fresh worker process as the
main runs are, on two fresh bench stores:

1. **plain**: ``Ingestor.run`` over the specs into an empty store (every ingest
   records ``kgrec_sources`` and ``kgrec_props``);
2. **plain again, unchanged**: the same, once more (every unit up to date, skipped);
3. **--sync**: ``kgrec.ingest.sync.sync`` over the specs into another empty store
   (every node and relationship also stamped with its run, ``kgrec_seen``, then
   the three sweep steps);
4. **--sync again, unchanged**: the same syncs once more on that store: every
   unit is written again and swept, and nothing changes (what keeping a source
   in sync costs when it did not change).

Store size: the files of the database's store once the server has stopped (a
clean shutdown checkpoints it). The transaction logs' size is in the result file
only: Neo4j preallocates them (256 MiB), so it says little at this scale.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import instance
from bench.measure import MIB, PeakRss
from bench.workers import run_worker
from kgrec.graph.server import LocalNeo4j

PLAIN = "plain"
PLAIN_AGAIN = "plain again, unchanged"
SYNC = "--sync"
SYNC_AGAIN = "--sync again, unchanged"
STORES = ((PLAIN, PLAIN_AGAIN), (SYNC, SYNC_AGAIN))
"""The variants, by fresh store they run on, in order."""


@dataclass(frozen=True, slots=True)
class Variant:
    """One timed load of the variant, and the store it left."""

    name: str
    seconds: float
    relationships: int
    nodes: int
    store_bytes: int
    tx_log_bytes: int
    client_peak_rss: int
    server_peak_rss: int
    extra: dict[str, Any] = field(default_factory=dict)


def measure(endpoint: instance.Endpoint, data_dir: Path, specs: list[str], batch_size: int) -> list[Variant]:
    """Run the four loads (module docstring), each pair on a freshly started, empty bench store.

    The server is stopped after each load (a clean shutdown checkpoints the
    store) so that the store files are measured whole, and started again on the
    same store for the second load of a pair. The bench server must be stopped.
    """
    out: list[Variant] = []
    for names in STORES:
        for again, name in enumerate(names):
            server = instance.start_fresh(endpoint) if not again else _restart(endpoint)
            try:
                _step(f"[provenance] {name}")
                done, peaks = _load(name in (SYNC, SYNC_AGAIN), endpoint, server, data_dir, specs, batch_size)
            finally:
                server.stop()
            out.append(_variant(name, done, peaks, endpoint))
            _step(f"  {_line(out[-1])}")
    return out


def _restart(endpoint: instance.Endpoint) -> LocalNeo4j:
    server = LocalNeo4j(endpoint.settings())
    server.start(timeout=600)
    return server


def _load(
    sync: bool, endpoint: instance.Endpoint, server: LocalNeo4j, data_dir: Path, specs: list[str], batch: int
) -> tuple[dict[str, Any], dict[str, int]]:
    """One timed load in a worker: what it reports, and the peak RSS of client and server."""
    with PeakRss(watch={"server": instance.server_pid(server)}) as rss:
        done = run_worker(
            provenance_load, rss, endpoint=endpoint, data_dir=str(data_dir), specs=specs, batch_size=batch, sync=sync
        )
    return done, rss.peaks


def _variant(name: str, done: dict[str, Any], peaks: dict[str, int], endpoint: instance.Endpoint) -> Variant:
    """The variant's figures, with the sizes of the (stopped) store and its transaction logs."""
    store, logs = store_sizes(endpoint)
    extra = {k: done[k] for k in ("per_spec_s", "rels_deleted", "nodes_deleted", "kgrec_module", "client_maxrss")}
    return Variant(
        name,
        done["seconds"],
        done["relationships"],
        done["nodes"],
        store,
        logs,
        peaks["client"],
        peaks["server"],
        extra,
    )


def provenance_load(endpoint: instance.Endpoint, data_dir: str, specs: list[str], batch_size: int, sync: bool) -> dict:
    """Worker: ingest (or sync) ``specs`` into the bench database; the seconds, counts, and where kgrec came from."""
    import kgrec
    from kgrec.graph.store import GraphStore
    from kgrec.ingest.load import IngestOptions, Ingestor
    from kgrec.ingest.sync import sync as sync_spec

    per_spec: dict[str, float] = {}
    deleted = {"rels_deleted": 0, "nodes_deleted": 0}
    with GraphStore.connect(endpoint.settings()) as store:
        ingestor = Ingestor(store, Path(data_dir), IngestOptions(batch_size=batch_size))
        start = time.perf_counter()
        for spec in specs:
            t = time.perf_counter()
            if sync:
                report = sync_spec(store, ingestor, spec, batch_size=batch_size)
                deleted["rels_deleted"] += report.rels_deleted
                deleted["nodes_deleted"] += report.nodes_deleted
                bad = report.load.bad
            else:
                bad = ingestor.run(spec).bad
            per_spec[Path(spec).stem] = time.perf_counter() - t
            if bad:
                raise RuntimeError(f"{spec}: {len(bad)} bad record(s)")
        seconds = time.perf_counter() - start
        rels = store.counts().relationships
        nodes = store.query("MATCH (n) WHERE NOT n:KgrecCheckpoint AND NOT n:KgrecSync RETURN count(n) AS n")[0]["n"]
    return {
        "seconds": seconds,
        "per_spec_s": per_spec,
        "relationships": rels,
        "nodes": nodes,
        "kgrec_module": str(Path(kgrec.__file__).resolve().parent),
        **deleted,
    }


def store_sizes(endpoint: instance.Endpoint) -> tuple[int, int]:
    """Bytes of the bench database's store files and of its transaction logs."""
    settings = endpoint.settings()
    data = settings.instance_dir / "data"
    return _bytes(data / "databases" / settings.neo4j_database), _bytes(data / "transactions" / settings.neo4j_database)


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def markdown_table(variants: list[Variant]) -> str:
    """One row per variant, time and store size beside the plain load's."""
    base = next(v for v in variants if v.name == PLAIN)
    head = ["variant", "seconds", "time vs plain", "relationships", "nodes", "store", "store vs plain",
            "peak RSS client", "peak RSS server"]  # fmt: skip
    rows = [head, ["---"] + ["---:"] * (len(head) - 1)]
    for v in variants:
        rows.append(
            [
                v.name,
                f"{v.seconds:,.1f}",
                f"{v.seconds / base.seconds:.2f}x",
                f"{v.relationships:,}",
                f"{v.nodes:,}",
                _mib(v.store_bytes),
                f"{v.store_bytes / base.store_bytes:.2f}x",
                _mib(v.client_peak_rss),
                _mib(v.server_peak_rss),
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows)


def as_json(variants: list[Variant]) -> list[dict[str, Any]]:
    """The variants for the result file."""
    return [asdict(v) for v in variants]


def _mib(n: int) -> str:
    return f"{n / MIB:,.1f} MiB"


def _line(v: Variant) -> str:
    return (
        f"{v.relationships:,} rels in {v.seconds:,.1f} s; store {_mib(v.store_bytes)}, tx logs "
        f"{_mib(v.tx_log_bytes)}; kgrec from {v.extra['kgrec_module']}"
    )


def _step(text: str) -> None:
    import sys

    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)
