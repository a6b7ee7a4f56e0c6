"""The Last.fm music catalogue, from files to explained recommendations, through spec files only.

A slice of the real files (the first users' listens, their artists, friends and tags,
the DBpedia and Satori facts of those artists) is written into a temporary data folder
under the same names, then the three shipped specs load it. Expected numbers are
computed here from the slice, independently of the ingestion code.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgrec.graph.store import GraphStore
from kgrec.ingest.load import IngestOptions, Ingestor
from kgrec.settings import Settings
from tests.conftest import REPO

pytestmark = [pytest.mark.neo4j, pytest.mark.realdata]

SPECS = ("lastfm", "lastfm-dbpedia", "lastfm-satori")
USERS = 30
"""Users 2..30 of the real files (about 1,400 listens of 1,000 artists)."""
WEIRD_AL = 1686
"""An artist whose name holds bare double quotes: ``"Weird Al" Yankovic``."""


def _rows(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as f:
        return list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def _write(path: Path, rows: list[list[str]], encoding: str = "utf-8", crlf: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    end = "\r\n" if crlf else "\n"
    path.write_text("".join("\t".join(r) + end for r in rows), encoding=encoding)


@pytest.fixture(scope="module")
def music_slice(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    src, root = data_dir / "lastfm-hetrec", tmp_path_factory.mktemp("data")
    out = root / "lastfm-hetrec"
    listens = _rows(src / "user_artists.dat")
    listens = [listens[0], *[r for r in listens[1:] if int(r[0]) <= USERS]]
    artists_used = {r[1] for r in listens[1:]} | {str(WEIRD_AL)}
    artists = _rows(src / "artists.dat")
    _write(out / "artists.dat", [artists[0], *[r for r in artists[1:] if r[0] in artists_used]])
    _write(out / "user_artists.dat", listens)
    friends = _rows(src / "user_friends.dat")
    _write(out / "user_friends.dat", [friends[0], *[r for r in friends[1:] if int(r[0]) <= USERS]])
    tagged = _rows(src / "user_taggedartists.dat")
    tagged = [tagged[0], *[r for r in tagged[1:] if r[1] in artists_used]]
    _write(out / "user_taggedartists.dat", tagged)
    tags_used = {r[2] for r in tagged[1:]}
    tags = _rows(src / "tags.dat", "latin-1")
    _write(out / "tags.dat", [tags[0], *[r for r in tags[1:] if r[0] in tags_used]], "latin-1")
    links = [r for r in _rows(src / "links.tsv") if r[0] in artists_used]
    _write(out / "links.tsv", links)
    iris = {f"<{r[2]}>" for r in links}
    lines = (src / "dbpedia-artists.nt").read_text(encoding="utf-8").splitlines()
    triples = [x for x in lines if x.split(" ")[0] in iris]
    (out / "dbpedia-artists.nt").write_text("\n".join(triples) + "\n", encoding="utf-8")
    index = [r for r in _rows(src / "satori" / "item_index2entity_id.txt") if r and r[0] in artists_used]
    _write(out / "satori" / "item_index2entity_id.txt", index, crlf=True)
    entities = {r[1] for r in index}
    kg = [r for r in _rows(src / "satori" / "kg.txt") if r and r[0] in entities]
    _write(out / "satori" / "kg.txt", kg, crlf=True)
    return root


@pytest.fixture(scope="module")
def loaded(neo4j_settings: Settings, music_slice: Path) -> Iterator[GraphStore]:
    with GraphStore.connect(neo4j_settings) as store:
        store.delete_all()
        ingestor = Ingestor(store, music_slice, IngestOptions())
        for name in SPECS:
            report = ingestor.run(REPO / "ingest" / f"{name}.toml")
            assert report.bad == []
        yield store


def test_artists_listens_friends_and_counted_tags(loaded: GraphStore, music_slice: Path) -> None:
    src = music_slice / "lastfm-hetrec"
    counts = loaded.counts()
    listens = _rows(src / "user_artists.dat")[1:]
    assert counts.labels["Item"] == counts.labels["Artist"] == len(_rows(src / "artists.dat")) - 1
    assert counts.types["LISTENED"] == len(listens)
    assert counts.types["FRIEND_OF"] == len(_rows(src / "user_friends.dat")) - 1
    times = Counter((r[1], r[2]) for r in _rows(src / "user_taggedartists.dat")[1:])
    assert counts.types["HAS_TAG"] == len(times)
    user, artist, plays = listens[0]
    found = loaded.query(
        "MATCH (:User {id: $u})-[r:LISTENED]->(a:Item {id: $a}) RETURN r.plays AS plays", u=int(user), a=int(artist)
    )
    assert found == [{"plays": int(plays)}]
    (pair, n), *_ = times.most_common(1)
    got = loaded.query(
        "MATCH (:Item {id: $a})-[r:HAS_TAG]->(:Tag {id: $t}) RETURN r.times AS n", a=int(pair[0]), t=int(pair[1])
    )
    assert got == [{"n": n}]
    name = loaded.query("MATCH (a:Item {id: $a}) RETURN a.name AS name", a=WEIRD_AL)
    assert name == [{"name": '"Weird Al" Yankovic'}]


def test_knowledge_attaches_to_the_linked_artists(loaded: GraphStore) -> None:
    counts = loaded.counts()
    assert counts.types.get("IN_GENRE", 0) > 0 and counts.types.get("MUSIC_ARTIST_ORIGIN", 0) > 0
    orphans = loaded.query("MATCH (e:Entity)-[:IN_GENRE]->() RETURN count(e) AS n")
    assert orphans == [{"n": 0}], "genre facts of linked artists belong to the Item, not to a separate entity"


def test_the_snapshot_trains_on_listens_only(loaded: GraphStore) -> None:
    from kgrec.graph.snapshots import export_training_snapshot

    snap = export_training_snapshot(loaded)
    between = {t for t in snap.edges if {t[0], t[2]} == {"User", "Item"}}
    assert between == {("User", "LISTENED", "Item")}
    assert ("User", "FRIEND_OF", "User") in snap.edges and ("Item", "HAS_TAG", "Tag") in snap.edges
    assert snap.edge_props[("User", "LISTENED", "Item")].keys() == {"plays"}
    assert sorted(snap.schema["datasets"]) == sorted(SPECS)
