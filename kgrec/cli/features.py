"""``kgrec features``: compute the modality features specs declare and attach them to nodes."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from kgrec.cli import render
from kgrec.data import resolve_data_dir
from kgrec.features.pipeline import Coverage, FeatureOptions, FeaturePipeline, shipped_feature_specs
from kgrec.graph.store import GraphStore
from kgrec.modalities import MODALITIES, feature_index
from kgrec.settings import load_settings


@click.command()
@click.argument("specs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--data-dir", type=click.Path(path_type=Path), help="Dataset folder (default: $KGREC_DATA_DIR).")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Vector cache (default: $KGREC_HOME/features).")
@click.option(
    "--batch-size", default=32, show_default=True, type=click.IntRange(1, 4096), help="Inputs per encoder call."
)
@click.option(
    "--modality", "modalities", multiple=True, type=click.Choice(MODALITIES), help="Only this modality (repeatable)."
)
@click.option("--no-write", is_flag=True, help="Compute and cache only; leave the graph as it is.")
@click.option("--json", "as_json", is_flag=True, help="Print the coverage as JSON.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def features(
    specs: tuple[Path, ...],
    data_dir: Path | None,
    cache_dir: Path | None,
    batch_size: int,
    modalities: tuple[str, ...],
    no_write: bool,
    as_json: bool,
    no_progress: bool,
) -> None:
    """Encode text, images and audio as the SPEC files' [[features]] declare, and attach the vectors.

    Without SPEC, runs the shipped specs that declare features (ingest/*.toml) and fit the
    graph (it has their labels and related relationship types).
    Vectors are cached by content hash under $KGREC_HOME/features, so a second
    run encodes nothing.
    """
    settings = load_settings(data_dir=data_dir)
    options = FeatureOptions(batch_size=batch_size, modalities=modalities or None, write=not no_write)
    progress = render.silent if (no_progress or as_json) else render.progress_bar
    shipped = [] if specs else shipped_feature_specs()
    with GraphStore.connect(settings) as store:
        cache = cache_dir or settings.home / "features"
        pipeline = FeaturePipeline(store, resolve_data_dir(settings), cache, options, progress)
        paths = list(specs) or pipeline.fitting(shipped)
        results = [c for path in paths for c in pipeline.run(path)]
    if as_json:
        click.echo(json.dumps([_as_dict(c) for c in results], indent=2))
        return
    _report(results)


def _report(results: list[Coverage]) -> None:
    click.echo("Feature coverage:")
    for c in results:
        where = f"{c.label}.{c.property}"
        share = f"{c.vectors:,}/{c.total:,} ({100 * c.fraction:.1f}%)"
        work = f"{c.computed:,} encoded, {c.cached:,} cached, {c.seconds:.1f} s"
        click.echo(f"  {c.modality:<6} {where:<16} {share:<22} {c.encoder:<18} {work}")
        for b in c.unreadable[:10]:
            click.echo(f"    unreadable: {b}", err=True)
    if any(c.written for c in results):
        names = ", ".join(sorted({feature_index(c.label, c.modality) for c in results if c.written}))
        click.echo(f"Vector indexes: {names} (try cypher/browser/similar_posters.cypher in Neo4j Browser)")


def _as_dict(c: Coverage) -> dict[str, object]:
    d = asdict(c)
    d["unreadable"] = [str(b) for b in c.unreadable]
    d["missing"] = c.missing
    return d


__all__ = ["features"]
