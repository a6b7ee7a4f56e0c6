"""Answers on the music world: wording from its declared schema, strongest starts, friends, --where, owned items."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from kgrec.cli.main import cli
from kgrec.errors import ConfigError, NotTrainedError
from kgrec.graph.answers import AnswerGraph, Filters
from kgrec.graph.server import read_password
from kgrec.recommend.service import Recommendations
from kgrec.settings import Settings
from tests.recommend.music_world import DEACON_BLUE, FRIENDS, JAZZ, LIGHT, MUSE, ROCK, listens
from tests.recommend.test_service import assert_real

pytestmark = pytest.mark.neo4j
PLAYS = re.compile(r"^You play (.+) \((\d{1,3}(?:,\d{3})*) plays\)")


@pytest.fixture(scope="module")
def graph(world_bundle: tuple[Path, Path], music_graph: AnswerGraph) -> AnswerGraph:
    """The music world in Neo4j (after the film world's model exists: its fixture reloads the database)."""
    return music_graph


@pytest.fixture(scope="module")
def service(graph: AnswerGraph, music_scores) -> Recommendations:  # noqa: ANN001
    return Recommendations(graph, music_scores, per_item=6)


@pytest.fixture(scope="module")
def run(graph: AnswerGraph, music_bundle: Path, neo4j_settings: Settings):  # noqa: ANN201
    def invoke(*args: str, model: Path = music_bundle) -> tuple[int, str, str]:
        env = {
            "KGREC_INSTANCE": neo4j_settings.instance,
            "KGREC_BOLT_PORT": str(neo4j_settings.bolt_port),
            "KGREC_HTTP_PORT": str(neo4j_settings.http_port),
            "KGREC_MODEL": str(model),
        }
        result = CliRunner().invoke(cli, list(args), env=env)
        return result.exit_code, result.stdout, result.stderr

    return invoke


@pytest.fixture(scope="module")
def client(graph: AnswerGraph, music_scores, neo4j_settings: Settings) -> Iterator[TestClient]:  # noqa: ANN001
    from kgrec.api import create_app

    uri = f"bolt://127.0.0.1:{neo4j_settings.bolt_port}"
    settings = Settings(NEO4J_URI=uri, NEO4J_PASSWORD=read_password(neo4j_settings))
    with TestClient(create_app(music_scores, settings)) as c:
        yield c


def plays_of(user: int) -> dict[int, int]:
    return {a: p for u, a, p in listens() if u == user}


def test_counts_read_as_plays_not_ratings(service: Recommendations) -> None:
    seen = crowd = 0
    for user in (2, 7):
        plays = plays_of(user)
        for r in service.recommend(user, k=4):
            for p in r.paths:
                assert "rated" not in p.sentence and "/5" not in p.sentence, p.sentence
                if p.kind == "knowledge":
                    m = PLAYS.match(p.sentence)
                    assert m, p.sentence
                    assert int(m.group(2).replace(",", "")) == plays[p.steps[1].key]
                    seen += 1
                elif p.kind == "collaborative":  # about people, counted in the graph: any plays count
                    said = f"{p.steps[1].name} also play{'s' if p.count == 1 else ''} {r.title}."
                    assert p.sentence.endswith(said) and "user " not in p.sentence, p.sentence
                    assert p.count == service.graph.co_raters(p.steps[1].key, r.item, (None, None), but=user)
                    crowd += 1
    assert seen and crowd


def test_paths_start_from_the_most_played_artists(service: Recommendations) -> None:
    for user in (1, 2, 7, 9):
        plays = plays_of(user)
        light = next(a for a, n in plays.items() if n == LIGHT)
        starts = {p.steps[1].key for r in service.recommend(user, k=5) for p in r.paths if p.kind != "social"}
        assert starts and light not in starts, (user, starts)
    text = service.explain(1, MUSE).paths[0].sentence
    assert "(2 plays)" not in text


def test_a_friend_is_a_reason_and_the_path_is_real(service: Recommendations) -> None:
    explanation = service.explain(1, MUSE)
    social = [p for p in explanation.paths if p.kind == "social"]
    assert [p.sentence for p in social] == ["Your friend Anna also plays Muse."]
    assert [(s.label, s.key) for s in social[0].steps] == [("User", 1), ("User", 2), ("Item", MUSE)]
    assert [s.rel_type for s in social[0].steps[:-1]] == ["FRIEND_OF", "LISTENED"]
    for p in explanation.paths:
        assert_real(service.graph, p, ("User", 1), MUSE)
    # a friend without a name reads "user 12"; only user 12 among user 1's friends plays this one
    friends = {b if a == 1 else a for a, b in FRIENDS if 1 in (a, b)}
    others = set().union(*(plays_of(f) for f in friends - {12})) | set(plays_of(1))
    only_12 = sorted(set(plays_of(12)) - others)[0]
    reasons = [p for p in service.explain(1, only_12).paths if p.kind == "social"]
    assert [p.sentence.split(" also ")[0] for p in reasons] == ["Your friend user 12"]
    assert_real(service.graph, reasons[0], ("User", 1), only_12)


def test_where_through_tags_genres_and_relationship_types(service: Recommendations) -> None:
    def items(*where: tuple[str, str], user: int = 1) -> list[int]:
        return [r.item for r in service.recommend(user, k=3, filters=Filters(where=where), explain=False)]

    assert items(("tag", "Cool Jazz")) and set(items(("tag", "Cool Jazz"))) <= set(JAZZ)
    assert items(("GENRE", "rock"), user=7) and set(items(("GENRE", "rock"), user=7)) <= set(ROCK)
    assert set(items(("has_tag", "britpop"), user=7)) <= set(ROCK)
    warner = items(("record_label", "Warner"), ("genre", "Rock"), user=7)
    assert warner and set(warner) <= set(ROCK[::2]) - set(plays_of(7))
    by_alias = service.recommend(7, k=3, filters=Filters(genre="Rock"), explain=False)
    assert [r.item for r in by_alias] == items(("genre", "Rock"), user=7)


def test_unknown_where_keys_and_values_are_one_line_errors(service: Recommendations, run, client) -> None:  # noqa: ANN001
    with pytest.raises(ConfigError, match="valid keys: genre, label, tag, has_tag, in_genre, record_label"):
        service.recommend(1, filters=Filters(where=(("mood", "happy"),)))
    with pytest.raises(ConfigError, match="closest: britpop"):
        service.recommend(1, filters=Filters(where=(("tag", "britpopp"),)))
    for args in (["--where", "mood=happy"], ["--where", "tag=polka"], ["--genre", "Polka"], ["--where", "tag"]):
        code, out, err = run("recommend", "1", *args)
        assert code == 1 and not out and len(err.strip().splitlines()) == 1, (args, out, err)
    r = client.get("/users/1/recommendations", params={"where": "mood=happy"})
    assert r.status_code == 422 and "valid keys" in r.json()["detail"]
    r = client.get("/users/1/recommendations", params={"where": ["genre=Jazz", "tag=nope"]})
    assert r.status_code == 422 and "no tag is called 'nope'" in r.json()["detail"]
    r = client.get("/users/1/recommendations", params={"where": "genre=Jazz", "explain": False})
    assert r.status_code == 200 and {x["item"] for x in r.json()} <= set(JAZZ)


def test_explain_says_when_the_user_already_has_the_item(service: Recommendations, run) -> None:  # noqa: ANN001
    e = service.explain(1, DEACON_BLUE)
    assert e.owned and e.rank is None and e.note == "You already play Deacon Blue (1,559 plays)."
    assert not service.explain(1, MUSE).owned
    code, out, _ = run("explain", "1", str(DEACON_BLUE))
    assert code == 0 and "already has it" in out and "You already play Deacon Blue (1,559 plays)." in out
    code, out, _ = run("explain", "1", str(DEACON_BLUE), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["owned"] is True and doc["rank"] is None


def test_a_model_of_the_film_world_is_refused_on_the_music_world(graph: AnswerGraph, world_bundle, run) -> None:  # noqa: ANN001
    from kgrec.recommend.model import ModelScores

    with pytest.raises(NotTrainedError, match="trained on another graph"):
        Recommendations(graph, ModelScores.load(world_bundle[0]))
    code, out, err = run("recommend", "1", model=world_bundle[0])
    assert code == 1 and not out and len(err.strip().splitlines()) == 1 and "another graph" in err


def test_an_undeclared_type_reads_from_its_name(service: Recommendations) -> None:
    from kgrec.recommend.results import Step
    from kgrec.recommend.sentences import sentence

    hood = service.neighbourhood.get()
    deacon, warner = hood.id_of("Item", DEACON_BLUE), hood.id_of("Label", "Warner")
    hop = next(h for h in hood.hops[deacon] if h.node == warner)
    back = next(h for h in hood.hops[warner] if hood.nodes[h.node].key == ROCK[2])
    steps = [
        Step("Item", DEACON_BLUE, hood.item_title(DEACON_BLUE), hop.rel_type, hop.forward),
        Step("Label", "Warner", hood.nodes[warner].name or "", back.rel_type, back.forward),
        Step("Item", ROCK[2], hood.item_title(ROCK[2])),
    ]
    assert sentence(service.schema, steps) == (
        "You liked Deacon Blue, which has record label Warner, which is the record label of Oasis."
    )


def test_the_refusal_says_what_changed_when_the_sources_are_the_same() -> None:
    from types import SimpleNamespace

    from kgrec.recommend.model import ModelScores
    from kgrec.schema import GraphSchema

    schema = GraphSchema(keys={"User": "id", "Item": "id", "ImdbPerson": "name"}, datasets=("films", "imdb"))

    def refusal(graph: dict) -> str:
        trained = SimpleNamespace(bundle=SimpleNamespace(meta={"graph": graph}, path="run"))
        with pytest.raises(NotTrainedError) as e:
            ModelScores.check_graph(trained, schema)  # the public check, on a bundle's recorded graph alone
        return str(e.value)

    same_sources = {"schema_fingerprint": "older", "datasets": ["imdb", "films"], "nodes": {"User": 943, "Item": 1}}
    assert "(the same sources, but their declared schema has changed since (node labels +ImdbPerson))" in refusal(
        same_sources
    )
    other = {"schema_fingerprint": schema.fingerprint(), "datasets": ["films"], "nodes": {}}
    assert "(its sources: films; this graph's: films, imdb)" in refusal(other)
