"""``kgrec data``: where the datasets are, and fetching MovieLens-100k."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from kgrec import data as datasets
from kgrec.settings import load_settings


@click.group()
def data() -> None:
    """Datasets: show the data folder, fetch what can be downloaded."""


@data.command("status")
@click.argument("specs", nargs=-1, type=click.Path(path_type=Path))
def status_cmd(specs: tuple[Path, ...]) -> None:
    """Show which datasets are present: kgrec's own and those the SPECS name (default: ingest/*.toml)."""
    folder = datasets.resolve_data_dir(load_settings())
    click.echo(f"data folder: {folder}  (set KGREC_DATA_DIR to change it)")
    for name, present in datasets.status(folder, specs or sorted(Path("ingest").glob("*.toml"))).items():
        click.echo(f"  {'present' if present else 'missing':8} {name}")


@data.command("fetch")
def fetch_cmd() -> None:
    """Download MovieLens-100k (checksum-verified) and say what to add by hand."""
    folder = datasets.resolve_data_dir(load_settings())
    with tqdm(desc="movielens-100k", unit="B", unit_scale=True, file=sys.stderr) as bar:

        def report(n: int, total: int | None) -> None:
            bar.total = total
            bar.update(n)

        path = datasets.fetch(datasets.MOVIELENS_100K, folder, report)
    click.echo(f"movielens-100k: {path}")
    for name, present in datasets.status(folder).items():
        if not present and name in datasets.MANUAL:
            click.echo(f"{name}: {datasets.missing_help(name, folder)}")
