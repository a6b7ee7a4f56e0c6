"""The declared schema: spec declarations, merging across sources, defaults, words, fingerprints."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgrec.errors import SpecError
from kgrec.ingest.spec import load_spec
from kgrec.schema import GraphSchema, RelDecl, SchemaConflict, SchemaDecl, SchemaPart, merge
from tests.conftest import REPO, write

MUSIC = """
name = "music"
dataset = "music"

[[tables]]
file = "listens.csv"
  [[tables.relationships]]
  type = "LISTENED"
  start = { label = "Listener", column = "user", create = true }
  end = { label = "Track", column = "track", type = "int" }

[[tables]]
file = "tags.csv"
  [[tables.nodes]]
  label = "Tag"
  key = { column = "tag", property = "name" }

[schema]
users = "Listener"
items = "Track"

[schema.relationships.LISTENED]
role = "interaction"
weight = "plays"
kind = "count"
unit = "plays"
verb = "play"

[schema.relationships.FOLLOWS]
role = "social"
phrase = "follows"
"""


def _part(source: str, **decl: object) -> SchemaPart:
    return SchemaPart(source, SchemaDecl.model_validate(decl), ())


def test_a_spec_declares_labels_keys_and_roles(tmp_path: Path) -> None:
    schema = merge([load_spec(write(tmp_path / "music.toml", MUSIC)).schema_part()])
    assert (schema.users, schema.items) == ("Listener", "Track")
    assert schema.keys == {"Listener": "id", "Track": "id", "Tag": "name"}
    assert schema.edge_type() == ("Listener", "LISTENED", "Track")
    assert schema.role("FOLLOWS") == "social" and schema.role("IN_GENRE") == "knowledge"
    assert schema.role("RECOMMENDED") == "exclude"
    assert schema.verb() == "play"


def test_undeclared_types_read_from_their_name() -> None:
    schema = GraphSchema()
    assert schema.phrase("RECORD_LABEL", True) == "has record label"
    assert schema.phrase("RECORD_LABEL", False) == "is the record label of"


def test_declared_phrases_win() -> None:
    schema = merge([_part("a", relationships={"HAS_MEMBER": {"phrase": "has member", "reverse": "is a member of"}})])
    assert schema.phrase("HAS_MEMBER", True) == "has member"
    assert schema.phrase("HAS_MEMBER", False) == "is a member of"


def test_two_sources_may_not_disagree() -> None:
    a = _part("a", relationships={"LISTENED": {"role": "interaction"}})
    b = _part("b", relationships={"LISTENED": {"role": "knowledge"}})
    with pytest.raises(SchemaConflict, match="LISTENED"):
        merge([a, b])
    with pytest.raises(SchemaConflict, match="items declared differently"):
        merge([_part("a", items="Track"), _part("b", items="Film")])


def test_one_interaction_type_is_trained_on() -> None:
    parts = [_part("a", relationships={"RATED": {"role": "interaction"}, "BOUGHT": {"role": "interaction"}})]
    with pytest.raises(SchemaConflict, match="BOUGHT, RATED"):
        merge(parts)


def test_interaction_options_belong_to_interactions() -> None:
    with pytest.raises(ValueError, match="only for role"):
        RelDecl(role="knowledge", weight="plays")
    with pytest.raises(ValueError, match="scale"):
        RelDecl(role="interaction", weight="stars", kind="rating")
    with pytest.raises(ValueError, match="needs a 'weight'"):
        RelDecl(role="interaction", min_weight=3)


def test_a_bad_declaration_names_the_spec_key(tmp_path: Path) -> None:
    text = MUSIC.replace('role = "social"', 'role = "friends"')
    with pytest.raises(SpecError, match=r"schema\.relationships\.FOLLOWS\.role"):
        load_spec(write(tmp_path / "music.toml", text))


def test_json_round_trip_keeps_the_fingerprint(tmp_path: Path) -> None:
    schema = merge([load_spec(write(tmp_path / "music.toml", MUSIC)).schema_part()])
    again = GraphSchema.from_json(schema.to_json())
    assert again == schema and again.fingerprint() == schema.fingerprint()
    part = load_spec(tmp_path / "music.toml").schema_part()
    assert SchemaPart.from_json(part.to_json()) == part


def test_the_fingerprint_follows_roles_not_words() -> None:
    base = {"relationships": {"RATED": {"role": "interaction"}, "IN_GENRE": {"phrase": "is in"}}}
    reworded = {"relationships": {"RATED": {"role": "interaction"}, "IN_GENRE": {"phrase": "belongs to"}}}
    excluded = {"relationships": {"RATED": {"role": "interaction"}, "IN_GENRE": {"role": "exclude"}}}
    fp = merge([_part("a", **base)]).fingerprint()
    assert merge([_part("a", **reworded)]).fingerprint() == fp
    assert merge([_part("a", **excluded)]).fingerprint() != fp


def test_shipped_catalogues_declare_one_interaction_each() -> None:
    films = merge(load_spec(REPO / "ingest" / f"{n}.toml").schema_part() for n in ("movielens-100k", "dbpedia-films"))
    assert films.edge_type() == ("User", "RATED", "Item") and films.interaction.scale == 5
    music = merge(
        load_spec(REPO / "ingest" / f"{n}.toml").schema_part() for n in ("lastfm", "lastfm-dbpedia", "lastfm-satori")
    )
    assert music.edge_type() == ("User", "LISTENED", "Item") and music.interaction.kind == "count"
    assert music.of_role("social") == ["FRIEND_OF"]
    assert list(music.keys)[:2] == ["User", "Item"]
