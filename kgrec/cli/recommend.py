"""``kgrec recommend``, ``kgrec similar``, ``kgrec explain`` and ``kgrec serve``: the answers from the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from kgrec.errors import ConfigError
from kgrec.graph.answers import AnswerGraph, Filters
from kgrec.graph.store import GraphStore
from kgrec.graph.where import parse_where
from kgrec.recommend.sentences import interactions_noun
from kgrec.settings import load_settings

DEFAULT_MODEL = Path("runs/kgrec")

model_option = click.option(
    "--model",
    "model_dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_MODEL,
    show_default=True,
    envvar="KGREC_MODEL",
    help="Trained bundle folder (from `kgrec train --out`); env KGREC_MODEL.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def parse_key(text: str) -> int | str:
    """An item or user key from the command line: an int when it looks like one."""
    return int(text) if text.lstrip("-").isdigit() else text


@contextmanager
def _service(model_dir: Path) -> Iterator[Any]:
    from kgrec.recommend.model import ModelScores
    from kgrec.recommend.service import Recommendations

    scores = ModelScores.load(model_dir)
    with GraphStore.connect(load_settings()) as store:
        service = Recommendations(AnswerGraph(store), scores)
        if sys.stderr.isatty():  # a few seconds on a large graph: say what is happening (not in pipes)
            click.echo("Reading the graph's knowledge hops and interactions for explanation paths ...", err=True)
            hood = service.neighbourhood.get()
            click.echo(f"  {len(hood.nodes):,} nodes, {len(hood.edge_hop) // 2:,} knowledge hops", err=True)
        yield service


@click.command()
@click.argument("user", required=False)
@click.option("-k", "k", type=click.IntRange(1, 1000), default=10, show_default=True, help="How many items.")
@click.option("--explain/--no-explain", default=True, show_default=True, help="Find explanation paths.")
@click.option("--liked", multiple=True, metavar="ITEM", help="A new user's liked item (repeatable; no USER).")
@click.option(
    "--where",
    "where",
    multiple=True,
    metavar="KEY=VALUE",
    help="Only items linked to a node of kind KEY (a label, its noun, or a relationship type) called VALUE "
    "(repeatable; e.g. genre=Rock, tag=britpop).",
)
@click.option("--genre", help="Only items in this genre (the same as --where genre=GENRE).")
@click.option("--label", help="Only items with this extra label (e.g. Film).")
@click.option("--year-min", type=int, help="Earliest year.")
@click.option("--year-max", type=int, help="Latest year.")
@click.option("--exclude", multiple=True, metavar="ITEM", help="Never recommend this item (repeatable).")
@click.option("--write", is_flag=True, help="Store (:User)-[:RECOMMENDED]->(:Item) in Neo4j.")
@click.option("--all-users", is_flag=True, help="With --write: every user (USER not needed).")
@json_option
@model_option
def recommend(
    user: str | None,
    k: int,
    explain: bool,
    liked: tuple[str, ...],
    where: tuple[str, ...],
    genre: str | None,
    label: str | None,
    year_min: int | None,
    year_max: int | None,
    exclude: tuple[str, ...],
    write: bool,
    all_users: bool,
    as_json: bool,
    model_dir: Path,
) -> None:
    """Top-K items for USER (or for --liked items) with explanation paths."""
    if (user is None) == (not liked) and not (write and all_users):
        raise ConfigError("give a USER or --liked items (not both)")
    filters = Filters(
        label=label,
        genre=genre,
        where=parse_where(where),
        year_min=year_min,
        year_max=year_max,
        exclude=tuple(parse_key(x) for x in exclude),
    )
    with _service(model_dir) as service:
        if write and all_users:
            click.echo(f"wrote {service.write(None, k, explain=explain):,} RECOMMENDED relationships")
            return
        if liked:
            recs = service.recommend_for_items([parse_key(x) for x in liked], k, filters=filters, explain=explain)
        else:
            recs = service.recommend(parse_key(user), k, filters=filters, explain=explain)
            if write:
                service.write([parse_key(user)], k, explain=explain)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in recs], indent=2))
        return
    noun = interactions_noun(service.schema)
    for r in recs:
        cold = f"  (new: no {noun})" if r.cold else ""
        click.echo(f"{r.rank:>3}. {r.title}  [{r.item}]  score {r.score:.3f}{cold}")
        for p in r.paths:
            click.echo(f"       - {p.sentence}")
    if write:
        _browser_hint(user, service.graph)


def _browser_hint(user: str | None, graph: AnswerGraph) -> None:
    """The Browser query that draws the stored recommendations and their first reasons, in this graph's names."""
    from kgrec.graph import cypher

    query = cypher.render("browser/my_recommendations", names=graph.names())
    click.echo(f"\nWritten to Neo4j. Open Neo4j Browser at {load_settings().browser_url} and paste:")
    click.echo(f"  :param user => {json.dumps(parse_key(user)) if user is not None else 'null'}")
    click.echo("  " + " ".join(query.split()))


@click.command()
@click.argument("item")
@click.option("--modality", type=click.Choice(["fused", "text", "image"]), default="fused", show_default=True)
@click.option("-k", "k", type=click.IntRange(1, 1000), default=10, show_default=True)
@json_option
@model_option
def similar(item: str, modality: str, k: int, as_json: bool, model_dir: Path) -> None:
    """Items most like ITEM: by plot (text), poster (image) or the learned, fused embedding."""
    with _service(model_dir) as service:
        hits = service.similar(parse_key(item), k, modality=modality)  # type: ignore[arg-type]
    if as_json:
        click.echo(json.dumps([h.to_dict() for h in hits], indent=2))
        return
    for h in hits:
        click.echo(f"{h.rank:>3}. {h.title}  [{h.item}]  {modality} similarity {h.score:.3f}")


@click.command()
@click.argument("user")
@click.argument("item")
@json_option
@model_option
def explain(user: str, item: str, as_json: bool, model_dir: Path) -> None:
    """Why ITEM suits USER: the model's score, the item's rank and the top paths."""
    with _service(model_dir) as service:
        e = service.explain(parse_key(user), parse_key(item))
    if as_json:
        click.echo(json.dumps(e.to_dict(), indent=2))
        return
    new = f", new: no {interactions_noun(service.schema)}" if e.cold else ""
    rank = f"rank {e.rank}" if e.rank is not None else "already has it"
    click.echo(f"{e.title} [{e.item}] for user {e.user}: score {e.score:.3f}, {rank}{new}")
    if e.note:
        click.echo(f"  {e.note}")
    for p in e.paths:
        click.echo(f"  - {p.sentence}  (support {p.support:.3f})")
    if not e.paths:
        click.echo("  no path of at most 4 hops joins them")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (0.0.0.0: all).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--token", envvar="KGREC_API_TOKEN", help="Require this bearer token (env KGREC_API_TOKEN).")
@model_option
def serve(host: str, port: int, token: str | None, model_dir: Path) -> None:
    """Serve recommendations, explanations and similar items over HTTP (OpenAPI docs at /docs)."""
    import uvicorn

    from kgrec.api import create_app
    from kgrec.recommend.model import ModelScores

    app = create_app(ModelScores.load(model_dir), load_settings(), token=token)
    click.echo(f"kgrec API on http://{host}:{port}/docs", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


answer_commands = (recommend, similar, explain, serve)
