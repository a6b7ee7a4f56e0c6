"""Entry point of the ``kgrec`` program: global options and error rendering."""

from __future__ import annotations

import logging
import sys
import warnings

import click

from kgrec.errors import KgrecError


class _Group(click.Group):
    """A click group that renders kgrec errors as one line and exit code 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KgrecError as e:
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                logging.getLogger("kgrec").exception("failed")
            click.echo(f"kgrec: error: {e}", err=True)
            sys.exit(1)


@click.group(cls=_Group)
@click.option("-v", "--verbose", count=True, help="Show more (-v info, -vv debug).")
@click.version_option(package_name="kgrec")
def cli(verbose: int) -> None:
    """kgrec: knowledge-graph recommendations backed by Neo4j."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not verbose:  # torch-geometric's import-time deprecation notice is not the user's to act on
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning)


def _register() -> None:
    from kgrec.cli.data import data
    from kgrec.cli.features import features
    from kgrec.cli.ingest import ingest, summary
    from kgrec.cli.learn import evaluate, export, train, write_embeddings_cmd
    from kgrec.cli.neo4j import neo4j
    from kgrec.cli.recommend import answer_commands

    for command in (
        neo4j,
        ingest,
        summary,
        data,
        features,
        export,
        train,
        evaluate,
        write_embeddings_cmd,
        *answer_commands,
    ):
        cli.add_command(command)


_register()


def main() -> None:
    """Run the program (console-script entry point)."""
    cli()


if __name__ == "__main__":
    main()
