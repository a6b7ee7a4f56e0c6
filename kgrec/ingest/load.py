"""Runs a pipeline spec: validate everything, then write in checkpointed batches.

Units are the spec's tables and RDF files. Every unit is read, converted and
checked once, before anything is written, so a bad record leaves the graph as it
was; the converted batches are kept (in memory up to a budget, then in
temporary files) and written from there. With ``skip_bad=True`` good records are
written and each rejected one is reported (and appended to a rejects file when
one is given).

Each batch commits together with its unit's checkpoint, so a killed run resumes
after the last committed batch. Nodes are always ``MERGE``d on their key.
Relationships are ``MERGE``d too, except on a unit's first load when that is
provably the same as ``CREATE`` (much cheaper on a large graph): no
(type, start, end) occurs twice in the unit (:mod:`kgrec.ingest.pairs`), and the
graph holds no relationship of the unit's types but those this unit wrote in
earlier batches of the same load (the checkpoint counts them). A re-run, a
``--force`` reload or a changed file is always merged.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import json
import logging
import queue
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from kgrec.errors import BadRecord, DataNotFoundError, InputDataError, KgrecError
from kgrec.graph.batch import Batch, NodeKey, Stamp, WriteCounts
from kgrec.graph.declared import check_part, record_part
from kgrec.graph.store import Checkpoint, GraphStore
from kgrec.ingest import rdf as rdf_io
from kgrec.ingest import rdf_read, rdf_stream
from kgrec.ingest.compressed import open_binary
from kgrec.ingest.counts import RelCounts
from kgrec.ingest.link import LinkMap, read_link_file
from kgrec.ingest.mapping import map_chunk
from kgrec.ingest.pairs import PairCheck
from kgrec.ingest.spec import Rdf, Spec, Table, load_spec
from kgrec.ingest.spool import Spool, SpooledList
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

    batch_size: int = 20_000
    """Records per batch: one transaction, one checkpoint."""
    skip_bad: bool = False
    rejects: Path | None = None
    force: bool = False
    """Rewrite units whose checkpoint says they are complete and unchanged."""
    memory_rows: int = 500_000
    """Converted rows kept in memory between validating and writing; more go to temporary files."""
    spill_dir: Path | None = None
    """Where those temporary files go (default: the system's temp folder)."""
    create_new: bool = True
    """``CREATE`` the relationships of a unit's first load where provably equal to ``MERGE``."""


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
        self._stamp = Stamp(None)

    def run(self, spec_path: Path | str, *, sync: str | None = None) -> IngestReport:
        """Validate and load one spec.

        Args:
            spec_path: The spec file.
            sync: A sync run id (``kgrec.ingest.sync``): every unit not yet complete in this run is
                written (again), each node and relationship stamped with the run.

        Raises:
            SpecError: The spec is invalid.
            DataNotFoundError: A file it names is missing.
            InputDataError: A file is malformed (and ``skip_bad`` is off); nothing was written.
        """
        spec = load_spec(spec_path)
        self._stamp = Stamp(spec.name, sync)
        check_part(self._store, spec.schema_part())
        report = IngestReport(spec.name)
        plans, link = self.plan(spec)
        self._store.apply_schema(node_keys(spec))
        with Spool(self._opt.memory_rows, self._opt.spill_dir) as spool, _fewer_gc_passes():
            units = [self._prepare(plan, spool) for plan in plans]
            bad = sorted((b for u in units for b in u.bad), key=lambda b: (b.file, b.line or 0))
            if bad and not self._opt.skip_bad:
                raise InputDataError(bad)
            for unit in units:
                report.units.append(self._write(unit, report.counts))
        if link is not None:
            report.shared_links = link.shared()
            self._write_link(spec, link, report.counts)
        self.write_rejects(report.bad)
        for rdf in spec.rdf:
            if rdf.name_from_iri:
                self._store.names_from_iris(rdf.entity_label, rdf.name_from_iri)
        record_part(self._store, spec.schema_part())
        return report

    # -- planning -------------------------------------------------------------------------------

    def plan(self, spec: Spec) -> tuple[list[Plan], LinkMap | None]:
        """Every unit of ``spec``, checked and fingerprinted but not read, and the spec's link map
        (from its link file, or from an RDF file's linking predicate). Also used by ``--bulk``."""
        root = self._data_dir / spec.dataset
        link = self._link(spec, root)
        plans = [self._plan_table(spec, root, t, link) for t in spec.tables]
        plans += [self._plan_rdf(spec, root, r, link) for r in spec.rdf]
        if spec.link is not None and spec.link.predicate is not None:
            rdf_plans = (p for p in plans if p.content is not None or p.stream is not None)
            link = next((p.link for p in rdf_plans if p.link is not None), None)
        return plans, link

    def _link(self, spec: Spec, root: Path) -> LinkMap | None:
        if spec.link is None or spec.link.file is None:
            return None
        return read_link_file(_existing(root / spec.link.file), spec.link)

    def _plan_table(self, spec: Spec, root: Path, table: Table, link: LinkMap | None) -> Plan:
        path = _existing(root / table.file)
        unit = f"{spec.name}/{table.file}"
        fp = _fingerprint(path, table.model_dump_json())
        total = _count_lines(path) - (1 if table.header and table.format == "csv" else 0)
        return Plan(unit, fp, path, table=table, link=link, total=total if table.format != "json" else None)

    def _plan_rdf(self, spec: Spec, root: Path, rdf: Rdf, link: LinkMap | None) -> Plan:
        path = _existing(root / rdf.file)
        fmt = rdf_read.rdf_format(path, rdf.format)
        if fmt in rdf_read.STREAMED:
            return self._plan_stream(spec, path, fmt, rdf, link)
        graph = rdf_io.parse(path, rdf)
        if spec.link is not None and spec.link.predicate is not None:
            link = rdf_io.link_from_predicate(graph, spec.link)
        content = rdf_io.convert_graph(graph, rdf, link)
        if content.skipped_blank:
            log.warning("%s: skipped %d triple(s) with blank nodes", path, content.skipped_blank)
        unit = f"{spec.name}/{rdf.file}"
        fp = _fingerprint(path, rdf.model_dump_json() + (spec.link.model_dump_json() if spec.link else ""))
        return Plan(unit, fp, path, content=content, link=link, total=content.rows)

    def _plan_stream(self, spec: Spec, path: Path, fmt: str, rdf: Rdf, link: LinkMap | None) -> Plan:
        source = rdf_stream.StreamSource.open(path, fmt, rdf, spec.link, link)
        unit = f"{spec.name}/{rdf.file}"
        spec_part = rdf_stream.FINGERPRINT + rdf.model_dump_json() + (spec.link.model_dump_json() if spec.link else "")
        return Plan(unit, _fingerprint(path, spec_part), path, link=source.link, stream=source)

    # -- the one conversion pass ---------------------------------------------------------------

    def _prepare(self, plan: Plan, spool: Spool) -> _Unit:
        """Read, convert and check a unit; keep what is to be written."""
        cp = self._store.checkpoint(plan.unit)
        run = self._stamp.run
        if run is not None and cp is not None and cp.sync == run and cp.fingerprint != plan.fingerprint:
            raise SourceChanged(plan.unit)
        same = cp is not None and cp.fingerprint == plan.fingerprint and (run is None or cp.sync == run)
        unit = _Unit(plan, cp, spool.list())
        if same and cp is not None and cp.complete and not self._opt.force:
            unit.up_to_date = True
            if plan.table is not None and not self._opt.skip_bad:
                for _, bad, _ in self.mapped(plan, 0, None):  # checked as before, not kept
                    unit.bad += bad
            return unit
        if same and cp is not None and not cp.complete:
            unit.skip = cp.records_done
        if plan.content is not None:
            for batch, _ in plan.content.batches(self._opt.batch_size):
                unit.pairs.add(batch)
            return unit
        if plan.stream is not None:
            return self._prepare_stream(plan.stream, unit)
        if unit.skip and (not self._opt.skip_bad or unit.resumes_create or _counts(plan)):
            for batch, bad, _ in self.mapped(plan, 0, unit.skip):  # already written: checked, not kept
                unit.pairs.add(batch)
                unit.counts.add(batch)
                unit.bad += [] if self._opt.skip_bad else bad
        done = unit.skip
        for batch, bad, records in self.mapped(plan, unit.skip, None):
            done += records
            unit.pairs.add(batch)
            unit.counts.add(batch)
            unit.bad += bad
            unit.batches.append((batch, done, bad), len(batch))
        return unit

    def _prepare_stream(self, source: rdf_stream.StreamSource, unit: _Unit) -> _Unit:
        """Convert a streamed RDF file: every batch is checked, those not written yet are kept."""
        for batch, part, done in source.batches(self._opt.batch_size, unit.skip, self._opt.spill_dir):
            unit.pairs.add(batch)
            if part is not None:
                unit.batches.append((part, done, []), len(part))
        unit.plan.total = source.stats.rows
        if source.stats.skipped_blank:
            log.warning("%s: skipped %d triple(s) with blank nodes", source.path, source.stats.skipped_blank)
        return unit

    def mapped(self, plan: Plan, skip: int, stop: int | None) -> Iterator[tuple[Batch, list[BadRecord], int]]:
        """Batches of a table's records after ``skip`` (up to ``stop``), the records rejected, the records read."""
        assert plan.table is not None
        chunks = read_table(plan.path, plan.table, chunk_size=self._opt.batch_size, skip=skip, stop=stop)
        for chunk in chunks:
            batch, rejected = map_chunk(chunk.frame, plan.table, str(plan.path), plan.link)
            yield batch, chunk.bad + rejected, chunk.records

    # -- writing --------------------------------------------------------------------------------

    def _write(self, unit: _Unit, counts: WriteCounts) -> UnitReport:
        plan = unit.plan
        rep = UnitReport(plan.unit, resumed_from=unit.skip)
        if unit.up_to_date:
            assert unit.checkpoint is not None
            rep.up_to_date = True
            rep.records = unit.checkpoint.records_done
            return rep
        create = self._creates(unit)
        written = unit.checkpoint.rels_written if create and unit.skip and unit.checkpoint else 0
        log.info("%s: relationships by %s", plan.unit, "CREATE (first load)" if create else "MERGE")
        bar = self._progress(plan.unit, plan.total)
        bar.update(rep.resumed_from)
        done = rep.resumed_from
        try:
            for batch, done_now, bad in prefetch(self._batches(unit)):
                rep.bad += bad
                cp = Checkpoint(plan.unit, plan.fingerprint, done_now, False, written, create, self._stamp.run)
                made = self._store.write(batch, cp, create=create, stamp=self._stamp)
                counts.add(made)
                written += sum(made.rels_created.values())
                bar.update(done_now - done)
                done = done_now
        finally:
            bar.close()
        last = Checkpoint(plan.unit, plan.fingerprint, done, True, written, create, self._stamp.run)
        self._store.write(Batch(), last)
        rep.records = done
        return rep

    def _creates(self, unit: _Unit) -> bool:
        """Whether ``CREATE`` writes exactly what ``MERGE`` would (see the module docstring)."""
        if not self._opt.create_new or not unit.pairs.unique():
            return False
        cp = unit.checkpoint
        if cp is None:
            return self._store.relationship_count(unit.pairs.types) == 0
        if unit.resumes_create:
            return self._store.relationship_count(unit.pairs.types) == cp.rels_written
        return False

    def _batches(self, unit: _Unit) -> Iterator[tuple[Batch, int, list[BadRecord]]]:
        content = unit.plan.content
        if content is not None:
            for batch, done in content.batches(self._opt.batch_size, unit.skip):
                yield batch, done, []
            return
        for batch, done, bad in unit.batches:
            yield unit.counts.fill(batch), done, bad

    def _write_link(self, spec: Spec, link: LinkMap, counts: WriteCounts) -> None:
        group = link.item_nodes()
        size = self._opt.batch_size
        for lo in range(0, len(group.rows), size):
            part = Batch(nodes=[type(group)(group.key, group.labels, group.rows[lo : lo + size])])
            counts.add(self._store.write(part, stamp=self._stamp))

    def write_rejects(self, bad: list[BadRecord]) -> None:
        if not bad or self._opt.rejects is None:
            return
        new = not self._opt.rejects.exists()
        with self._opt.rejects.open("a", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["file", "line", "reason", "record"])
            for b in bad:
                w.writerow([b.file, b.line if b.line is not None else "", b.reason, b.raw])


class SourceChanged(KgrecError):
    """A unit's file changed while a sync run of its spec was unfinished (the sync starts a new run)."""


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


@contextmanager
def _fewer_gc_passes() -> Iterator[None]:
    """Run the cyclic garbage collector less often while millions of small rows are built and kept.

    The rows hold no cycles; with the default threshold the collector would
    rescan them thousands of times (a fifth of the conversion time). Restored
    on exit.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], 100_000), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


@dataclass(slots=True)
class Plan:
    """One unit of a spec (a table or an RDF file), planned by :meth:`Ingestor.plan`: what to read and
    its fingerprint, not yet read."""

    unit: str
    fingerprint: str
    path: Path
    table: Table | None = None
    content: rdf_io.RdfContent | None = None
    stream: rdf_stream.StreamSource | None = None
    link: LinkMap | None = None
    total: int | None = None


@dataclass(slots=True)
class _Unit:
    """A planned unit after the conversion pass: its checkpoint, batches to write, rejects and pairs."""

    plan: Plan
    checkpoint: Checkpoint | None
    batches: SpooledList[tuple[Batch, int, list[BadRecord]]]
    skip: int = 0
    """Records already written (a resumed load)."""
    up_to_date: bool = False
    bad: list[BadRecord] = field(default_factory=list)
    pairs: PairCheck = field(default_factory=PairCheck)
    counts: RelCounts = field(default_factory=RelCounts)
    """Records per relationship, for relationship maps with ``count``."""

    @property
    def resumes_create(self) -> bool:
        """A resumed load whose earlier batches were created, not merged."""
        return self.skip > 0 and self.checkpoint is not None and self.checkpoint.create


def _counts(plan: Plan) -> bool:
    """Whether a table plan counts records per relationship (so a resumed load must count the written part too)."""
    return plan.table is not None and any(r.count for r in plan.table.relationships)


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


_CONTENT_LINE = re.compile(rb"(?m)^[^\S\n]*\S")
"""The start of a line holding something besides whitespace."""


def _count_lines(path: Path) -> int:
    """Non-blank lines: the record count when no field spans lines (for progress bars)."""
    count, tail = 0, b""
    with open_binary(path) as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            block = tail + block
            cut = block.rfind(b"\n") + 1
            count += len(_CONTENT_LINE.findall(block, 0, cut))
            tail = block[cut:]
    return count + (1 if tail.strip() else 0)


def node_keys(spec: Spec) -> set[NodeKey]:
    """The node keys ``spec`` writes: each gets a uniqueness constraint before the first write."""
    return {NodeKey(label, key) for label, key in spec.mapped_keys()}


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
            "nodes_missing": report.counts.nodes_missing,
        },
        indent=2,
    )


__all__ = ["IngestOptions", "IngestReport", "Ingestor", "UnitReport", "load_spec"]
