"""Terminal rendering shared by commands: progress bars and summaries."""

from __future__ import annotations

import sys

import click
from tqdm import tqdm

from kgrec.graph.store import GraphCounts
from kgrec.ingest.check import SpecCheck
from kgrec.ingest.load import IngestReport, Progress, silent

__all__ = ["graph_summary", "ingest_report", "progress_bar", "silent"]


def progress_bar(desc: str, total: int | None) -> Progress:
    """A tqdm bar on stderr (hidden when stderr is not a terminal and CI is quiet)."""
    return tqdm(
        total=total,
        desc=desc,
        unit="rec",
        unit_scale=True,
        leave=True,
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=0.5,
    )


def ingest_report(report: IngestReport) -> None:
    """Print what one spec run did."""
    click.echo(f"{report.spec}:")
    for u in report.units:
        state = "up to date (use --force to reload)" if u.up_to_date else f"{u.records:,} records"
        if u.resumed_from:
            state += f" (resumed after {u.resumed_from:,})"
        if u.bad:
            state += f", {len(u.bad):,} rejected"
        click.echo(f"  {u.unit}: {state}")
    c = report.counts
    if c.nodes_created:
        click.echo("  nodes created: " + ", ".join(f"{k} {v:,}" for k, v in sorted(c.nodes_created.items())))
    if c.rels_created:
        click.echo("  relationships created: " + ", ".join(f"{k} {v:,}" for k, v in sorted(c.rels_created.items())))
    for t, n in sorted(c.rels_skipped.items()):
        click.echo(f"  warning: {n:,} {t} relationship(s) skipped: an endpoint node does not exist", err=True)
    for label, n in sorted(c.nodes_missing.items()):
        click.echo(f"  {n:,} {label} update(s) skipped: no such node (the table only updates, create = false)")
    if report.shared_links:
        click.echo(f"  {len(report.shared_links)} entities are linked to several items (each item gets their facts)")
    for b in report.bad[:20]:
        click.echo(f"  rejected: {b}", err=True)
    if len(report.bad) > 20:
        click.echo(f"  ... and {len(report.bad) - 20:,} more rejected record(s)", err=True)


def spec_check(check: SpecCheck) -> None:
    """Print what checking one spec found: every bad record as ``file:line: reason`` (on stderr)."""
    state = "ok" if check.ok else f"{len(check.errors):,} error(s)"
    click.echo(f"{check.spec}: {check.records:,} records, {state}")
    for b in check.errors:
        click.echo(str(b), err=True)


def graph_summary(counts: GraphCounts) -> None:
    """Print node counts by label and relationship counts by type."""
    click.echo(f"Graph: {counts.relationships:,} relationships")
    width = max([len(k) for k in [*counts.labels, *counts.types]] + [10])
    click.echo("  nodes by label:")
    for k, v in sorted(counts.labels.items(), key=lambda kv: -kv[1]):
        click.echo(f"    {k:<{width}} {v:>10,}")
    click.echo("  relationships by type:")
    for k, v in sorted(counts.types.items(), key=lambda kv: -kv[1]):
        click.echo(f"    {k:<{width}} {v:>10,}")
