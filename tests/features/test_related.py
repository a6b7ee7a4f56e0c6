"""Feature text that follows a declared relationship (``related`` in ``[[features]]``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgrec.errors import SpecError
from kgrec.features.inputs import read_inputs
from kgrec.features.pipeline import FeaturePipeline
from kgrec.graph.declared import record_part
from kgrec.graph.store import GraphStore
from kgrec.ingest.spec import load_spec
from tests.conftest import REPO, write
from tests.features.fakes import FakeText

HEAD = (
    'name = "music-text"\ndataset = "music"\n[[features]]\nmodality = "text"\nencoder = "fake-text"\nlabel = "Artist"\n'
)
TAGS = '{ type = "HAS_TAG", property = "name", order = "times", limit = 3 }'
SPEC = (
    HEAD + f'properties = ["name"]\nrelated = [{TAGS}, {{ type = "MEMBER_OF", property = "name", direction = "in" }}]\n'
)


def _load(tmp_path: Path, text: str) -> None:
    load_spec(write(tmp_path / "f.toml", text))


def test_a_related_entry_is_read_with_its_defaults(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path / "f.toml", HEAD + f"related = [{TAGS}]\n"))
    (rel,) = spec.features[0].related
    assert (rel.type, rel.property, rel.direction, rel.order, rel.ascending, rel.limit, rel.separator) == (
        "HAS_TAG",
        "name",
        "out",
        "times",
        False,
        3,
        ", ",
    )
    assert spec.features[0].properties == []  # related alone is text enough


@pytest.mark.parametrize(
    ("related", "key", "problem"),
    [
        ('{ type = "HAS TAG", property = "name" }', "features.0.related.0.type", "invalid relationship type"),
        ('{ type = "HAS_TAG", property = "na-me" }', "features.0.related.0.property", "invalid property key"),
        ('{ type = "HAS_TAG", property = "name", order = "1x" }', "features.0.related.0.order", "property key"),
        ('{ type = "HAS_TAG", property = "name", limit = 0 }', "features.0.related.0.limit", "greater than or equal"),
        ('{ type = "HAS_TAG", property = "name", direction = "up" }', "features.0.related.0.direction", "'out'"),
        ('{ type = "HAS_TAG" }', "features.0.related.0.property", "Field required"),
        (
            '{ type = "HAS_TAG", property = "name", sort = "times" }',
            "features.0.related.0.sort",
            "unknown key (valid: type, property, direction, order, ascending, limit, separator)",
        ),
    ],
)
def test_a_bad_related_entry_is_one_line_naming_its_key(tmp_path: Path, related: str, key: str, problem: str) -> None:
    path = write(tmp_path / "f.toml", HEAD + f"related = [{related}]\n")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert err.value.key == key and problem in err.value.problem
    assert "\n" not in str(err.value)


def test_related_feeds_text_only(tmp_path: Path) -> None:
    image = 'name = "x"\n[[features]]\nmodality = "image"\nencoder = "efficientnet-lite0"\n'
    with pytest.raises(SpecError, match="'related' adds to text, never to files"):
        _load(tmp_path, image + f'files = "{{id}}.jpg"\nrelated = [{TAGS}]\n')
    with pytest.raises(SpecError, match="text encoders only"):
        _load(tmp_path, image + f"related = [{TAGS}]\n")


def test_the_shipped_lastfm_spec_asks_for_tags_by_count_and_genres() -> None:
    (feature,) = load_spec(REPO / "ingest" / "lastfm-features.toml").features
    assert (feature.label, feature.properties) == ("Artist", ["name"])
    assert [(r.type, r.order, r.limit) for r in feature.related] == [("HAS_TAG", "times", 20), ("IN_GENRE", None, 10)]


# -- against Neo4j --------------------------------------------------------------------------------

GRAPH = """
CREATE (dm:Artist:Item {id: 1, name: 'Depeche Mode'}), (x:Artist:Item {id: 2, name: 'Solo'}),
       (u:Artist:Item {id: 3}), (q:Artist:Item {id: 4, name: 'Quiet'}),
       (t1:Tag {name: 'synthpop'}), (t2:Tag {name: 'new wave'}), (t3:Tag {name: '80s'}),
       (t4:Tag {name: 'electronic'}), (t5:Tag {name: 'hot'}), (t7:Tag),
       (p1:Person {name: 'Martin Gore'}), (p2:Person {name: 'Dave Gahan'})
CREATE (dm)-[:HAS_TAG {times: 30}]->(t1), (dm)-[:HAS_TAG {times: 25}]->(t2), (dm)-[:HAS_TAG {times: 25}]->(t3),
       (dm)-[:HAS_TAG {times: 40}]->(t4), (dm)-[:HAS_TAG]->(t5), (dm)-[:HAS_TAG {times: 98}]->(t7),
       (u)-[:HAS_TAG {times: 1}]->(t5), (u)-[:HAS_TAG {times: 2}]->(t1),
       (p1)-[:MEMBER_OF]->(dm), (p2)-[:MEMBER_OF]->(dm), (dm)-[:MEMBER_OF]->(x), (q)-[:HAS_TAG]->(t5)
"""


def _texts(store: GraphStore, tmp_path: Path, text: str) -> dict[int, str | Path]:
    """Key -> the text ``kgrec features`` gives the encoder for each Artist of the graph above."""
    store.query(GRAPH)
    (feature,) = load_spec(write(tmp_path / "f.toml", text)).features
    return read_inputs(store, feature, tmp_path).inputs


@pytest.mark.neo4j
def test_the_text_is_own_properties_then_ranked_neighbours(store: GraphStore, tmp_path: Path) -> None:
    texts = _texts(store, tmp_path, SPEC)
    # Tags by times, highest first; a tie (25) by name; at most 3; a nameless tag (times 98) left out.
    # Members come in (direction "in"); the band Depeche Mode is a member of does not (it is "out").
    assert texts == {
        1: "Depeche Mode\nelectronic, synthpop, 80s\nDave Gahan, Martin Gore",
        2: "Solo\nDepeche Mode",
        3: "synthpop, hot",  # no name of its own: its tags alone
        4: "Quiet\nhot",  # a relationship without `times` still counts, ranked last
    }
    pipeline = FeaturePipeline(store, tmp_path, tmp_path / "cache", encoders={"fake-text": FakeText()})
    (coverage,) = pipeline.run(tmp_path / "f.toml")
    assert (coverage.vectors, coverage.total) == (4, 4)


@pytest.mark.neo4j
def test_ascending_order_and_both_directions(store: GraphStore, tmp_path: Path) -> None:
    text = HEAD + (
        'properties = ["name"]\nseparator = " | "\nrelated = [\n'
        '{ type = "HAS_TAG", property = "name", order = "times", ascending = true, limit = 2, separator = "; " },\n'
        '{ type = "MEMBER_OF", property = "name", direction = "both" }]\n'
    )
    texts = _texts(store, tmp_path, text)
    assert texts[1] == "Depeche Mode | 80s; new wave | Dave Gahan, Martin Gore, Solo"


@pytest.mark.neo4j
@pytest.mark.parametrize(
    ("related", "key", "problem"),
    [
        (
            '{ type = "HAS_TAGS", property = "name" }',
            "features.0.related.0.type",
            "unknown relationship type 'HAS_TAGS'",
        ),
        (
            '{ type = "HAS_TAG", property = "id" }',
            "features.0.related.0.property",
            "no HAS_TAG neighbour of Artist nodes has 'id'",
        ),
        ('{ type = "HAS_TAG", property = "name", order = "count" }', "features.0.related.0.order", "has 'count'"),
    ],
)
def test_names_the_graph_lacks_are_a_spec_error(
    store: GraphStore, tmp_path: Path, related: str, key: str, problem: str
) -> None:
    store.query(GRAPH)
    path = write(tmp_path / "f.toml", HEAD + f'properties = ["name"]\nrelated = [{related}]\n')
    pipeline = FeaturePipeline(store, tmp_path, tmp_path / "cache", encoders={"fake-text": FakeText()})
    with pytest.raises(SpecError) as err:
        pipeline.run(path)
    assert (err.value.key, str(err.value).count("\n")) == (key, 0) and problem in err.value.problem
    assert store.query("MATCH (a:Artist) WHERE a.feat_text IS NOT NULL RETURN count(a) AS n")[0]["n"] == 0


@pytest.mark.neo4j
def test_shipped_specs_that_do_not_fit_the_graph_are_skipped(store: GraphStore, tmp_path: Path) -> None:
    store.query("CREATE (:Item {id: 100, title: 'Toy Story (1995)'})")
    pipeline = FeaturePipeline(store, tmp_path, tmp_path / "cache")
    shipped = [REPO / "ingest" / "lastfm-features.toml", REPO / "ingest" / "movielens-100k-features.toml"]
    assert pipeline.fitting(shipped) == []  # loaded from neither catalogue's specs
    record_part(store, load_spec(REPO / "ingest" / "movielens-100k.toml").schema_part())
    assert pipeline.fitting(shipped) == shipped[1:]  # a film graph has no Artist nodes, no HAS_TAG
    store.query(GRAPH + ", (:Entity {name: 'Synthpop'})<-[:IN_GENRE]-(dm)")
    assert pipeline.fitting(shipped) == shipped[1:]  # the music spec's labels, but not loaded from lastfm


@pytest.mark.neo4j
def test_a_features_spec_runs_unnamed_only_on_the_graph_it_applies_to(store: GraphStore, tmp_path: Path) -> None:
    store.query(GRAPH + ", (:Entity {name: 'Synthpop'})<-[:IN_GENRE]-(dm)")
    record_part(store, load_spec(REPO / "ingest" / "lastfm.toml").schema_part())
    pipeline = FeaturePipeline(store, tmp_path, tmp_path / "cache")
    shipped = [REPO / "ingest" / "lastfm-features.toml", REPO / "ingest" / "movielens-100k-features.toml"]
    # the music graph's artists are Items too, but the film spec's {id}.jpg posters are not theirs
    assert pipeline.fitting(shipped) == shipped[:1]
