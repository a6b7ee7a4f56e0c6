"""What a bulk load did (:class:`BulkReport`), for the terminal and as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from kgrec.ingest.load import IngestReport, load_report_json


@dataclass(slots=True)
class BulkReport:
    """What a bulk load did: per spec its units (records, rejects), then the graph imported."""

    specs: list[IngestReport] = field(default_factory=list)
    nodes_by_label: dict[str, int] = field(default_factory=dict)
    rels_by_type: dict[str, int] = field(default_factory=dict)
    rels_skipped: int = 0
    """Relationships not imported because an endpoint node does not exist."""
    nodes_missing: dict[str, int] = field(default_factory=dict)
    """Update-only node rows (``create = false``) whose node does not exist, by label."""
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall time of each stage: read, files, import, start, finish; ``stop`` ran beside ``files``
    (``stop_wait``: how long the import then still waited for it)."""


def summary_lines(report: BulkReport) -> list[str]:
    """What the import made, for the terminal."""
    lines = ["bulk import: " + ", ".join(f"{k}:{v:.1f}s" for k, v in report.seconds.items())]
    lines.append("  nodes: " + ", ".join(f"{k} {v:,}" for k, v in sorted(report.nodes_by_label.items())))
    lines.append("  relationships: " + ", ".join(f"{k} {v:,}" for k, v in sorted(report.rels_by_type.items())))
    if report.rels_skipped:
        lines.append(f"  warning: {report.rels_skipped:,} relationship(s) skipped: an endpoint node does not exist")
    for label, n in sorted(report.nodes_missing.items()):
        lines.append(f"  {n:,} {label} update(s) skipped: no such node (the table only updates, create = false)")
    return lines


def bulk_report_json(report: BulkReport) -> str:
    """The report as JSON (for ``--json``)."""
    doc = {
        "specs": [json.loads(load_report_json(r)) for r in report.specs],
        "nodes": report.nodes_by_label,
        "relationships": report.rels_by_type,
        "relationships_skipped": report.rels_skipped,
        "nodes_missing": report.nodes_missing,
        "seconds": report.seconds,
    }
    return json.dumps(doc, indent=2)
