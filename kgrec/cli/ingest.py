"""``kgrec ingest`` and ``kgrec summary``: load pipeline specs, show the graph."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kgrec.cli import render
from kgrec.data import resolve_data_dir
from kgrec.graph.store import GraphStore
from kgrec.ingest.bulk import BulkLoader, bulk_report_json, summary_lines
from kgrec.ingest.check import refuse_list_columns, validate_spec
from kgrec.ingest.load import IngestOptions, Ingestor, ProgressFactory, load_report_json
from kgrec.ingest.sync import sync as sync_spec
from kgrec.ingest.sync import sync_report_json, sync_summary
from kgrec.settings import Settings, load_settings


@click.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--data-dir", type=click.Path(path_type=Path), help="Dataset folder (default: $KGREC_DATA_DIR).")
@click.option("--batch-size", default=IngestOptions().batch_size, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--skip-bad-rows", is_flag=True, help="Write good records; report each rejected one.")
@click.option("--rejects", type=click.Path(path_type=Path), help="Append rejected records to this CSV file.")
@click.option("--force", is_flag=True, help="Reload sources whose checkpoint says they are up to date.")
@click.option("--reset", is_flag=True, help="Delete the whole graph first.")
@click.option("--json", "as_json", is_flag=True, help="Print reports as JSON.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
@click.option(
    "--dry-run", is_flag=True, help="Read and check every file of every spec; no database, nothing written."
)
@click.option(
    "--sync",
    is_flag=True,
    help="Make the graph exactly what each source now says: remove what it no longer states.",
)
@click.option(
    "--bulk", is_flag=True, help="First load of an empty local database through neo4j-admin import (fastest)."
)
def ingest(
    specs: tuple[Path, ...],
    data_dir: Path | None,
    batch_size: int,
    skip_bad_rows: bool,
    rejects: Path | None,
    force: bool,
    reset: bool,
    as_json: bool,
    no_progress: bool,
    dry_run: bool,
    sync: bool,
    bulk: bool,
) -> None:
    """Load knowledge sources into Neo4j as the SPEC files (ingest/*.toml) declare.

    With --dry-run, check them instead: every bad record is reported as
    file:line: reason, and the exit code is 1 when any spec failed.
    """
    settings = load_settings(data_dir=data_dir)
    if dry_run:
        _dry_run(specs, resolve_data_dir(settings), batch_size, as_json)
        return
    if sync and bulk:
        raise click.UsageError("--sync and --bulk cannot be combined (--bulk loads an empty database)")
    options = IngestOptions(batch_size=batch_size, skip_bad=skip_bad_rows, rejects=rejects, force=force)
    progress = render.silent if (no_progress or as_json) else render.progress_bar
    if bulk:
        refuse_list_columns(specs, "--bulk")
        _bulk(specs, settings, options, progress, reset, as_json)
        return
    with GraphStore.connect(settings) as store:
        if reset:
            store.delete_all()
        ingestor = Ingestor(store, resolve_data_dir(settings), options, progress)
        any_bad = False
        for spec in specs:
            if sync:
                any_bad |= _sync(store, ingestor, spec, batch_size, as_json)
                continue
            report = ingestor.run(spec)
            any_bad |= bool(report.bad)
            click.echo(load_report_json(report)) if as_json else render.ingest_report(report)
        if not as_json:
            render.graph_summary(store.counts())
    if any_bad and rejects is not None:
        click.echo(f"rejected records written to {rejects}", err=True)


def _sync(store: GraphStore, ingestor: Ingestor, spec: Path, batch_size: int, as_json: bool) -> bool:
    """Sync one spec and print its report; whether records were rejected."""
    report = sync_spec(store, ingestor, spec, batch_size=batch_size)
    if as_json:
        click.echo(sync_report_json(report))
    else:
        render.ingest_report(report.load)
        click.echo(sync_summary(report))
    return bool(report.load.bad)


def _bulk(
    specs: tuple[Path, ...],
    settings: Settings,
    options: IngestOptions,
    progress: ProgressFactory,
    reset: bool,
    as_json: bool,
) -> None:
    if reset:
        with GraphStore.connect(settings) as store:
            store.delete_all()
    loader = BulkLoader(settings, resolve_data_dir(settings), options, lambda s: click.echo(s, err=True), progress)
    report = loader.run(list(specs))
    if as_json:
        click.echo(bulk_report_json(report))
        return
    for spec in report.specs:
        render.ingest_report(spec)
    for line in summary_lines(report):
        click.echo(line)


def _dry_run(specs: tuple[Path, ...], data_dir: Path, batch_size: int, as_json: bool) -> None:
    checks = [validate_spec(spec, data_dir, chunk_size=batch_size) for spec in specs]
    if as_json:
        click.echo(json.dumps([c.as_dict() for c in checks], indent=2))
    else:
        for c in checks:
            render.spec_check(c)
    if not all(c.ok for c in checks):
        sys.exit(1)


@click.command()
def summary() -> None:
    """Print node and relationship counts of the graph."""
    settings = load_settings()
    with GraphStore.connect(settings) as store:
        render.graph_summary(store.counts())
    click.echo(f"Neo4j Browser: {settings.browser_url}")


__all__ = ["ingest", "summary"]
