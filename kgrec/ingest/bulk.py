"""``kgrec ingest --bulk``: a first load of an empty database through ``neo4j-admin database import full``.

The specs are read with the same planning, reading and mapping as
:class:`kgrec.ingest.load.Ingestor` (so the same checks, the same
``file:line: reason`` errors, the same nodes and relationships), but the
batches go to partition files (:mod:`kgrec.ingest.bulk_spill`) instead of
transactions. Once every unit is read without error, nodes and relationships
are combined as ``MERGE`` would combine them, written as admin-import CSV files
(:mod:`kgrec.ingest.bulk_csv`) while the local server stops, and imported into
it (:mod:`kgrec.ingest.bulk_import`).
Then kgrec's constraints and indexes, every unit's checkpoint (complete, with
the fingerprint :mod:`kgrec.ingest.load` computes) and the declared schema are
written, so a later plain ``kgrec ingest`` of the same specs finds them up to
date and reloads only what changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from kgrec.errors import BadRecord, ConfigError, InputDataError
from kgrec.graph.batch import Batch, NodeKey
from kgrec.graph.declared import check_part, record_part
from kgrec.graph.server import LocalNeo4j
from kgrec.graph.store import Checkpoint, GraphStore
from kgrec.ingest.bulk_csv import AdminCsvWriter, ImportFiles
from kgrec.ingest.bulk_fast import fast_unit, read_unit
from kgrec.ingest.bulk_import import Say, ServerPause, finished, import_args, unfinished
from kgrec.ingest.bulk_report import BulkReport, bulk_report_json, summary_lines
from kgrec.ingest.bulk_spill import GraphSpill, spill_folder
from kgrec.ingest.load import (
    IngestOptions,
    Ingestor,
    IngestReport,
    Plan,
    ProgressFactory,
    UnitReport,
    node_keys,
    silent,
)
from kgrec.ingest.spec import Spec, load_spec
from kgrec.settings import Settings

_T = TypeVar("_T")


def _quiet(text: str) -> None:
    pass


@dataclass(slots=True)
class _UnitDone:
    spec: int
    plan: Plan
    records: int
    rels: int


class BulkLoader:
    """Loads pipeline specs into kgrec's empty local database with ``neo4j-admin database import full``.

    Args:
        settings: The local server's settings (``NEO4J_URI`` must not point elsewhere).
        data_dir: Folder that spec ``dataset`` paths are relative to.
        options: Batch size (rows per converted chunk), bad-record policy, rejects file, spill folder.
        say: Prints one progress line per stage.
        progress: Makes a progress bar per unit while reading.
    """

    def __init__(
        self,
        settings: Settings,
        data_dir: Path,
        options: IngestOptions | None = None,
        say: Say = _quiet,
        progress: ProgressFactory = silent,
    ) -> None:
        self._settings = settings
        self._data_dir = data_dir
        self._opt = options or IngestOptions()
        self._say = say
        self._progress = progress

    def run(self, spec_paths: list[Path]) -> BulkReport:
        """Check, convert, import, then write schema, checkpoints and the declared schema.

        Raises:
            ConfigError: The target is not kgrec's local server, or its database is not empty.
            SpecError, DataNotFoundError: As for a plain ingest.
            InputDataError: A file is malformed (and ``skip_bad`` is off); nothing was imported.
            ServerError: ``neo4j-admin`` failed (the server is started again first).

        A load interrupted from the import on (the instance keeps a mark until the load is
        finished) is loaded again by the next run, whatever the database then holds.
        """
        if not self._settings.uses_local_server:
            raise ConfigError(
                "--bulk needs kgrec's local Neo4j server (neo4j-admin writes its files), but NEO4J_URI "
                f"points to {self._settings.bolt_uri}: use plain `kgrec ingest`"
            )
        specs = [load_spec(p) for p in spec_paths]
        report = BulkReport([IngestReport(s.name) for s in specs])
        redo = unfinished(self._settings)
        if redo:  # the database holds what that import wrote (or less), and nothing else
            self._say("bulk: the last --bulk load of this instance did not finish: loading again")
            LocalNeo4j(self._settings).start()
        with spill_folder(self._opt.spill_dir) as tmp:
            spill = GraphSpill(Path(tmp))
            with GraphStore.connect(self._settings) as store:
                if not redo:
                    _refuse_non_empty(store)
                    for spec in specs:
                        check_part(store, spec.schema_part())
                units, keys = self._timed(report, "read", lambda: self._read(store, specs, spill, report))
            pause = ServerPause(self._settings, self._say, report.seconds)
            pause.stop_in_background()  # nothing read can fail any more: stop while the files are written
            try:
                files = self._timed(report, "files", lambda: self._files(spill, Path(tmp), report))
            except BaseException:
                pause.resume()
                raise
            pause.run_import(files, Path(tmp))
        with GraphStore.connect(self._settings) as store:
            self._timed(report, "finish", lambda: self._finish(store, specs, units, keys, files, report))
        finished(self._settings)
        return report

    # -- stages ---------------------------------------------------------------------------------

    def _read(
        self, store: GraphStore, specs: list[Spec], spill: GraphSpill, report: BulkReport
    ) -> tuple[list[_UnitDone], set[NodeKey]]:
        """Read, convert and check every unit into ``spill``; raise before anything is imported."""
        ing = Ingestor(store, self._data_dir, self._opt)
        done: list[_UnitDone] = []
        keys: set[NodeKey] = set()
        bad: list[BadRecord] = []
        for si, spec in enumerate(specs):
            plans, link = ing.plan(spec)
            self._say(f"bulk: reading {spec.name} ({len(plans)} file(s))")
            spill.source = spec.name
            for plan in plans:
                spill.unit = len(done)
                records, rels, unit_bad = self._read_unit(ing, plan, spill)
                done.append(_UnitDone(si, plan, records, rels))
                report.specs[si].units.append(UnitReport(plan.unit, records, bad=unit_bad))
                bad += unit_bad
            if link is not None:
                report.specs[si].shared_links = link.shared()
                spill.add(Batch(nodes=[link.item_nodes()]))
            keys |= node_keys(spec)
        if bad and not self._opt.skip_bad:
            raise InputDataError(sorted(bad, key=lambda b: (b.file, b.line or 0)))
        ing.write_rejects(bad)
        return done, keys

    def _read_unit(self, ing: Ingestor, plan: Plan, spill: GraphSpill) -> tuple[int, int, list[BadRecord]]:
        """One unit's batches into ``spill``: records read (the checkpoint's count), relationship rows, rejects."""
        bar = self._progress(plan.unit, plan.total)
        records, rels, bad = 0, 0, []
        rels_before = spill.rels.rows
        try:
            if fast_unit(plan):  # large blocks, converted column-wise
                for unit_bad, n in read_unit(plan, spill, self._opt.batch_size):
                    bad += unit_bad
                    records += n
                    bar.update(n)
                return records, spill.rels.rows - rels_before, bad
            for batch, unit_bad, n in _batches(ing, plan, self._opt):
                spill.add(batch)
                bad += unit_bad
                rels += sum(len(g.rows) for g in batch.rels)
                records += n
                bar.update(n)
        finally:
            bar.close()
        return records, rels, bad

    def _files(self, spill: GraphSpill, folder: Path, report: BulkReport) -> ImportFiles:
        writer = AdminCsvWriter(folder, list(spill.spaces), list(spill.rel_files), spill.kinds)
        spaces = list(spill.spaces)
        try:
            for nodes, missing in spill.nodes():
                for space, key, labels, props in nodes:
                    writer.node(space, key, labels, props)
                for space, n in missing.items():
                    label = spaces[space].label
                    report.nodes_missing[label] = report.nodes_missing.get(label, 0) + n
            spill.rels.write(writer, spill.kinds)
        except ValueError as e:
            writer.abort()
            raise ConfigError(f"--bulk cannot write this graph for neo4j-admin: {e}; use plain `kgrec ingest`") from e
        files = writer.close()
        if not files.nodes:
            raise ConfigError("--bulk: the specs give no nodes to import")
        files.integer_ids = spill.integer_ids()
        self._say(f"bulk: wrote {files.node_count:,} nodes and {files.rel_count:,} relationships as admin-import files")
        return files

    def _finish(
        self,
        store: GraphStore,
        specs: list[Spec],
        units: list[_UnitDone],
        keys: set[NodeKey],
        files: ImportFiles,
        report: BulkReport,
    ) -> None:
        self._say(f"bulk: constraints and indexes ({len(keys)} node keys), checkpoints of {len(units)} unit(s)")
        store.apply_schema(keys)
        for u in units:
            store.write(Batch(), Checkpoint(u.plan.unit, u.plan.fingerprint, u.records, True, u.rels, False))
        for spec in specs:
            for rdf in spec.rdf:  # as a plain ingest names entities, once their spec is loaded
                if rdf.name_from_iri:
                    store.names_from_iris(rdf.entity_label, rdf.name_from_iri)
            record_part(store, spec.schema_part())
        counts = store.counts()
        report.nodes_by_label, report.rels_by_type = counts.labels, counts.types
        report.rels_skipped = files.rel_count - counts.relationships

    def _timed(self, report: BulkReport, stage: str, step: Callable[[], _T]) -> _T:
        start = time.perf_counter()
        try:
            return step()
        finally:
            report.seconds[stage] = time.perf_counter() - start


def _batches(ing: Ingestor, plan: Plan, opt: IngestOptions) -> Iterator[tuple[Batch, list[BadRecord], int]]:
    """A unit's batches as the transactional path makes them: (batch, rejected records, records read)."""
    if plan.table is not None:
        yield from ing.mapped(plan, 0, None)
    elif plan.content is not None:
        before = 0
        for batch, done in plan.content.batches(opt.batch_size):
            yield batch, [], done - before
            before = done
    else:
        assert plan.stream is not None
        for batch, _, _ in plan.stream.batches(opt.batch_size, 0, opt.spill_dir):
            yield batch, [], len(batch)


def _refuse_non_empty(store: GraphStore) -> None:
    counts = store.counts()
    if counts.nodes or counts.relationships:
        raise ConfigError(
            f"--bulk loads an empty database only, and this one holds {counts.nodes:,} node(s) and "
            f"{counts.relationships:,} relationship(s): use plain `kgrec ingest` (or --reset to empty it first)"
        )


__all__ = ["BulkLoader", "BulkReport", "bulk_report_json", "import_args", "summary_lines"]
