"""Runs a pipeline spec: validate everything, then write in checkpointed batches.

Units are the spec's tables and RDF files. By default every unit is read and
checked before anything is written, so a bad record leaves the graph as it was.
With ``skip_bad=True`` good records are written and each rejected one is
reported (and appended to a rejects file when one is given).

Each batch commits together with its unit's checkpoint, so a killed run resumes
where it stopped; ``MERGE`` on keys makes any repeated batch harmless.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from kgrec.errors import BadRecord, DataNotFoundError, InputDataError
from kgrec.graph.batch import Batch, NodeKey, WriteCounts
from kgrec.graph.store import Checkpoint, GraphStore
from kgrec.ingest import rdf as rdf_io
from kgrec.ingest.link import LinkMap, read_link_file
from kgrec.ingest.mapping import map_chunk
from kgrec.ingest.spec import Rdf, Spec, Table, load_spec
from kgrec.ingest.tables import read_table

log = logging.getLogger(__name__)

FORMAT_VERSION = "1"
"""Bumped when mapping changes, so old checkpoints do not skip work."""


class Progress(Protocol):
    """What ingestion needs from a progress bar (tqdm fits)."""

    def update(self, n: int) -> object: ...
    def close(self) -> None: ...


ProgressFactory = Callable[[str, int | None], Progress]


class _Silent:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def silent(desc: str, total: int | None) -> Progress:
    """A progress factory that shows nothing."""
    return _Silent()


@dataclass(slots=True)
class UnitReport:
    """What happened to one table or RDF file."""

    unit: str
    records: int = 0
    resumed_from: int = 0
    up_to_date: bool = False
    bad: list[BadRecord] = field(default_factory=list)


@dataclass(slots=True)
class IngestReport:
    """What one spec run did."""

    spec: str
    units: list[UnitReport] = field(default_factory=list)
    counts: WriteCounts = field(default_factory=WriteCounts)
    shared_links: dict[str, list[object]] = field(default_factory=dict)
    """Entities linked to several items (each item received the entity's facts)."""

    @property
    def bad(self) -> list[BadRecord]:
        """Every rejected record."""
        return [b for u in self.units for b in u.bad]


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """How to run a spec."""

    batch_size: int = 5_000
    skip_bad: bool = False
    rejects: Path | None = None
    force: bool = False
    """Rewrite units whose checkpoint says they are complete and unchanged."""


class Ingestor:
    """Loads pipeline specs into the graph.

    Args:
        store: The graph to write.
        data_dir: Folder that spec ``dataset`` paths are relative to.
        options: Batch size, bad-record policy, rejects file, force.
        progress: Makes a progress bar per unit (default: none).
    """

    def __init__(
        self,
        store: GraphStore,
        data_dir: Path,
        options: IngestOptions = IngestOptions(),
        progress: ProgressFactory = silent,
    ) -> None:
        self._store = store
        self._data_dir = data_dir
        self._opt = options
        self._progress = progress

    def run(self, spec_path: Path | str) -> IngestReport:
        """Validate and load one spec.

        Raises:
            SpecError: The spec is invalid.
            DataNotFoundError: A file it names is missing.
            InputDataError: A file is malformed (and ``skip_bad`` is off); nothing was written.
        """
        spec = load_spec(spec_path)
        root = self._data_dir / spec.dataset
        report = IngestReport(spec.name)
        link = self._link(spec, root)
        plans = [self._plan_table(spec, root, t, link) for t in spec.tables]
        plans += [self._plan_rdf(spec, root, r, link) for r in spec.rdf]
        if spec.link is not None and spec.link.predicate is not None:
            link = next((p.link for p in plans if p.content is not None and p.link is not None), None)
        self._store.apply_schema(_node_keys(spec, link))
        if not self._opt.skip_bad:
            self._validate(plans)
        for plan in plans:
            report.units.append(self._write(plan, report.counts))
        if link is not None:
            report.shared_links = link.shared()
            self._write_link(spec, link, report.counts)
        self._write_rejects(report.bad)
        return report

    # -- planning -------------------------------------------------------------------------------

    def _link(self, spec: Spec, root: Path) -> LinkMap | None:
        if spec.link is None or spec.link.file is None:
            return None
        return read_link_file(_existing(root / spec.link.file), spec.link)

    def _plan_table(self, spec: Spec, root: Path, table: Table, link: LinkMap | None) -> _Plan:
        path = _existing(root / table.file)
        unit = f"{spec.name}/{table.file}"
        fp = _fingerprint(path, table.model_dump_json())
        total = _count_lines(path) - (1 if table.header and table.format == "csv" else 0)
        return _Plan(unit, fp, path, table=table, link=link, total=total if table.format != "json" else None)

    def _plan_rdf(self, spec: Spec, root: Path, rdf: Rdf, link: LinkMap | None) -> _Plan:
        path = _existing(root / rdf.file)
        graph = rdf_io.parse(path, rdf)
        if spec.link is not None and spec.link.predicate is not None:
            link = rdf_io.link_from_predicate(graph, spec.link)
        content = rdf_io.convert_graph(graph, rdf, link)
        if content.skipped_blank:
            log.warning("%s: skipped %d triple(s) with blank nodes", path, content.skipped_blank)
        unit = f"{spec.name}/{rdf.file}"
        fp = _fingerprint(path, rdf.model_dump_json() + (spec.link.model_dump_json() if spec.link else ""))
        return _Plan(unit, fp, path, content=content, link=link, total=content.rows)

    def _validate(self, plans: list[_Plan]) -> None:
        bad: list[BadRecord] = []
        for plan in plans:
            if plan.table is not None:
                for chunk in read_table(plan.path, plan.table, chunk_size=self._opt.batch_size):
                    _, rejected = map_chunk(chunk.frame, plan.table, str(plan.path), plan.link)
                    bad += chunk.bad + rejected
        if bad:
            bad.sort(key=lambda b: (b.file, b.line or 0))
            raise InputDataError(bad)

    # -- writing --------------------------------------------------------------------------------

    def _write(self, plan: _Plan, counts: WriteCounts) -> UnitReport:
        rep = UnitReport(plan.unit)
        cp = self._store.checkpoint(plan.unit)
        if cp is not None and cp.fingerprint == plan.fingerprint:
            if cp.complete and not self._opt.force:
                rep.up_to_date = True
                rep.records = cp.records_done
                return rep
            if not cp.complete:
                rep.resumed_from = cp.records_done
        bar = self._progress(plan.unit, plan.total)
        bar.update(rep.resumed_from)
        done = rep.resumed_from
        try:
            for batch, done_now, bad in prefetch(self._batches(plan, rep.resumed_from)):
                rep.bad += bad
                counts.add(self._store.write(batch, Checkpoint(plan.unit, plan.fingerprint, done_now, False)))
                bar.update(done_now - done)
                done = done_now
        finally:
            bar.close()
        self._store.write(Batch(), Checkpoint(plan.unit, plan.fingerprint, done, True))
        rep.records = done
        return rep

    def _batches(self, plan: _Plan, skip: int) -> Iterator[tuple[Batch, int, list[BadRecord]]]:
        if plan.content is not None:
            for batch, done in plan.content.batches(self._opt.batch_size, skip):
                yield batch, done, []
            return
        assert plan.table is not None
        done = skip
        for chunk in read_table(plan.path, plan.table, chunk_size=self._opt.batch_size, skip=skip):
            batch, rejected = map_chunk(chunk.frame, plan.table, str(plan.path), plan.link)
            done += chunk.records
            yield batch, done, chunk.bad + rejected

    def _write_link(self, spec: Spec, link: LinkMap, counts: WriteCounts) -> None:
        group = link.item_nodes()
        size = self._opt.batch_size
        for lo in range(0, len(group.rows), size):
            part = Batch(nodes=[type(group)(group.key, group.labels, group.rows[lo : lo + size])])
            counts.add(self._store.write(part))

    def _write_rejects(self, bad: list[BadRecord]) -> None:
        if not bad or self._opt.rejects is None:
            return
        new = not self._opt.rejects.exists()
        with self._opt.rejects.open("a", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["file", "line", "reason", "record"])
            for b in bad:
                w.writerow([b.file, b.line if b.line is not None else "", b.reason, b.raw])


T = TypeVar("T")


def prefetch(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Produce ``items`` in a background thread, up to ``depth`` ahead.

    Reading and mapping the next batch (Python) then overlaps with Neo4j
    writing the current one (the driver releases the GIL while it waits).
    Errors of the producer are raised here; stopping early stops the producer.
    """
    q: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(q, ("item", item), stop):
                    return
            _put(q, ("end", None), stop)
        except BaseException as e:  # handed to the consumer
            _put(q, ("error", e), stop)

    worker = threading.Thread(target=produce, name="kgrec-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=5)


def _put(q: queue.Queue[tuple[str, object]], item: tuple[str, object], stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


@dataclass(slots=True)
class _Plan:
    unit: str
    fingerprint: str
    path: Path
    table: Table | None = None
    content: rdf_io.RdfContent | None = None
    link: LinkMap | None = None
    total: int | None = None


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise DataNotFoundError(
            f"{path}: no such file (set KGREC_DATA_DIR to the folder holding the datasets, or run `kgrec data fetch`)"
        )
    return path


def _fingerprint(path: Path, spec_part: str) -> str:
    h = hashlib.sha256(f"{FORMAT_VERSION}\n{spec_part}\n".encode())
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _count_lines(path: Path) -> int:
    """Non-blank lines: the record count when no field spans lines (for progress bars)."""
    with path.open("rb") as f:
        return sum(1 for line in f if line.strip())


def _node_keys(spec: Spec, link: LinkMap | None) -> set[NodeKey]:
    keys: set[NodeKey] = set()
    for t in spec.tables:
        keys |= {NodeKey(n.label, n.key.property) for n in t.nodes}
        for r in t.relationships:
            keys |= {NodeKey(r.start.label, r.start.property), NodeKey(r.end.label, r.end.property)}
    keys |= {NodeKey(r.entity_label, rdf_io.IRI_KEY) for r in spec.rdf}
    if spec.link is not None:
        keys.add(NodeKey(spec.link.item.label, spec.link.item.property))
    return keys


def load_report_json(report: IngestReport) -> str:
    """The report as JSON (for ``--json`` output)."""
    return json.dumps(
        {
            "spec": report.spec,
            "units": [
                {
                    "unit": u.unit,
                    "records": u.records,
                    "resumed_from": u.resumed_from,
                    "up_to_date": u.up_to_date,
                    "bad": len(u.bad),
                }
                for u in report.units
            ],
            "nodes_created": report.counts.nodes_created,
            "relationships_created": report.counts.rels_created,
            "relationships_skipped": report.counts.rels_skipped,
        },
        indent=2,
    )


__all__ = ["IngestOptions", "IngestReport", "Ingestor", "UnitReport", "load_spec"]
