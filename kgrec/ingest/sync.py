"""``kgrec ingest --sync``: make the graph state exactly what one source now says.

A sync of spec ``S`` runs in two phases, recorded in the graph (``KgrecSync``)
so that a killed run is finished by the next one:

1. **load**: every unit of ``S`` is written again under a new run id
   (``"S@<id>"``), as a plain ingest would write it (validated first, batches
   committed with checkpoints), and every node and relationship it writes is
   stamped with the run (``kgrec_seen``);
2. **sweep**: what ``S`` stated before (``S`` in ``kgrec_sources``, or
   ``"S:<property>"`` in ``kgrec_props``) but not in this run loses ``S``:
   relationships no source states any more are deleted (interactions excepted,
   see below), properties only ``S`` stated are removed, and nodes no source
   states any more are deleted when nothing refers to them.

A relationship whose type is an ``interaction`` of the declared schema is never
deleted by the sync of a spec that does not itself declare that type as an
interaction: a knowledge source cannot delete ratings.

See docs/ingestion.md, "Sources that change: --sync".
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from kgrec.graph.batch import Stamp
from kgrec.graph.declared import read_schema
from kgrec.graph.store import GraphStore
from kgrec.ingest.load import Ingestor, IngestReport, SourceChanged, load_report_json
from kgrec.ingest.spec import Spec, load_spec

log = logging.getLogger(__name__)

SWEEP_STEPS = ("rels", "nodes", "orphans")


@dataclass(slots=True)
class SyncReport:
    """What one sync of a spec did."""

    load: IngestReport
    run: str
    """The run id every statement of this sync carries (``"<spec>@<id>"``)."""
    resumed: bool = False
    """It finished a sync that an earlier run left unfinished."""
    rels_deleted: int = 0
    nodes_deleted: int = 0
    protected: tuple[str, ...] = ()
    """Interaction types this sync never deletes."""


def sync(store: GraphStore, ingestor: Ingestor, spec_path: Path | str, *, batch_size: int = 10_000) -> SyncReport:
    """Load ``spec_path`` and remove what its source no longer states (resuming an unfinished sync).

    Raises:
        SpecError, DataNotFoundError, InputDataError: As :meth:`Ingestor.run`; nothing is
            written or swept.
    """
    spec = load_spec(spec_path)
    state = store.sync_state(spec.name)
    resumed = state is not None and state[1] != "done"
    run = state[0] if state is not None and resumed else _new_run(spec.name)
    try:
        load = _load(store, ingestor, spec_path, spec.name, run)
    except SourceChanged as e:
        log.info("%s changed since the unfinished sync %s: starting a new sync run", e, run)
        run, resumed = _new_run(spec.name), False
        load = _load(store, ingestor, spec_path, spec.name, run)
    store.set_sync_state(spec.name, run, "sweep")
    report = SyncReport(load, run, resumed, protected=_protected(store, spec))
    stamp = Stamp(spec.name, run)
    report.rels_deleted = store.sweep("rels", stamp, protected=report.protected, size=batch_size)
    store.sweep("nodes", stamp, size=batch_size)
    report.nodes_deleted = store.sweep("orphans", stamp, size=batch_size)
    store.set_sync_state(spec.name, run, "done")
    return report


def _load(store: GraphStore, ingestor: Ingestor, spec_path: Path | str, source: str, run: str) -> IngestReport:
    """The load phase: units already complete in ``run`` are skipped, a partial one resumes."""
    store.set_sync_state(source, run, "load")
    return ingestor.run(spec_path, sync=run)


def _new_run(source: str) -> str:
    return f"{source}@{uuid.uuid4().hex[:16]}"


def _protected(store: GraphStore, spec: Spec) -> tuple[str, ...]:
    """Interaction types of the declared schema that ``spec`` does not declare as its own interactions."""
    own = {t for t, d in spec.schema_.relationships.items() if d.role == "interaction"}
    return tuple(sorted(t for t in read_schema(store).of_role("interaction") if t not in own))


def sync_report_json(report: SyncReport) -> str:
    """The report as JSON (for ``--json`` output): the load's report plus a ``sync`` entry."""
    doc = json.loads(load_report_json(report.load))
    doc["sync"] = {
        "run": report.run,
        "resumed": report.resumed,
        "relationships_deleted": report.rels_deleted,
        "nodes_deleted": report.nodes_deleted,
        "protected": list(report.protected),
    }
    return json.dumps(doc, indent=2)


def sync_summary(report: SyncReport) -> str:
    """One line for people: what the sweep removed."""
    resumed = " (finished an interrupted sync)" if report.resumed else ""
    kept = f"; never deleted: {', '.join(report.protected)}" if report.protected else ""
    return (
        f"{report.load.spec}: synced{resumed}: {report.rels_deleted:,} relationship(s) and "
        f"{report.nodes_deleted:,} node(s) no longer stated were deleted{kept}"
    )
