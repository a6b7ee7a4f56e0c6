"""A small music world, declared like a Last.fm catalogue: listens counted, friends, tags, genres.

Two tastes. Users 1..6 play rock artists (301..308), users 7..12 jazz artists
(401..408). Every user plays five artists of their taste many times and one more
(of the other taste) only twice: a lightly played artist paths must not start from.
Artists are tagged (``britpop`` / ``cool jazz``, through ``HAS_TAG``), in a genre
(``Rock`` / ``Jazz``, through ``IN_GENRE``), and the rock ones signed to a record
label (``RECORD_LABEL``, an undeclared knowledge type: its phrase is made from its name).

User 1 plays Deacon Blue (301) 1,559 times and never Muse (302); user 1's friend
Anna (user 2, ``FRIEND_OF``) plays Muse. User 12 has no name: a friend shown as
``user 12``. The schema is recorded as ``kgrec ingest`` would, through
:func:`kgrec.graph.declared.record_part`.
"""

from __future__ import annotations

import numpy as np

from kgrec.graph.batch import Batch, NodeGroup, NodeKey, RelGroup
from kgrec.graph.declared import record_part
from kgrec.graph.store import GraphStore
from kgrec.schema import NodeDecl, RelDecl, SchemaDecl, SchemaPart

USERS = list(range(1, 13))
ROCK = list(range(301, 309))
JAZZ = list(range(401, 409))
NAMES = {1: "Kim", 2: "Anna", 3: "Ben", 7: "Cleo", 8: "Dev"}
ARTISTS = {301: "Deacon Blue", 302: "Muse", 303: "Oasis", 304: "Blur", 401: "Miles Davis", 402: "Chet Baker"}
DEACON_BLUE, MUSE = 301, 302
FRIENDS = [(1, 2), (3, 1), (1, 12), (7, 8)]
LIGHT = 2
"""Plays of each user's one lightly played artist (of the other taste)."""
USER_KEY, ITEM_KEY = NodeKey("User", "id"), NodeKey("Item", "id")
TAG_KEY, GENRE_KEY, LABEL_KEY = NodeKey("Tag", "id"), NodeKey("Genre", "name"), NodeKey("Label", "name")

SCHEMA = SchemaDecl(
    users="User",
    items="Item",
    nodes={"Item": NodeDecl(noun="artist"), "Tag": NodeDecl(noun="tag"), "Genre": NodeDecl(noun="genre")},
    relationships={
        "LISTENED": RelDecl(
            role="interaction",
            weight="plays",
            kind="count",
            unit="plays",
            verb="play",
            phrase="also plays",
            reverse="is also played by",
        ),
        "FRIEND_OF": RelDecl(role="social", phrase="is a friend of", reverse="is a friend of", person=True),
        "HAS_TAG": RelDecl(phrase="is tagged", reverse="is also the tag of"),
        "IN_GENRE": RelDecl(phrase="is in the genre", reverse="also contains"),
    },
)
PART = SchemaPart(
    "music-world",
    SCHEMA,
    (("User", "id"), ("Item", "id"), ("Tag", "id"), ("Genre", "name"), ("Label", "name")),
)


def artist(item: int) -> str:
    """The name of an artist of the world."""
    return ARTISTS.get(item, f"{'Band' if item < 400 else 'Quartet'} {item}")


def listens(seed: int = 3) -> list[tuple[int, int, int]]:
    """(user, artist, plays): five artists of the user's taste played 20..1,999 times, one of the other
    taste played :data:`LIGHT` times; user 1 plays Deacon Blue 1,559 times and never Muse."""
    rng = np.random.default_rng(seed)
    out = []
    for user in USERS:
        mine, other = (ROCK, JAZZ) if user <= 6 else (JAZZ, ROCK)
        pool = [a for a in mine if not (user == 1 and a in (DEACON_BLUE, MUSE))]
        picked = ([DEACON_BLUE] if user == 1 else []) + [int(a) for a in rng.choice(pool, 5 - (user == 1), False)]
        if user == 2 and MUSE not in picked:
            picked[-1] = MUSE
        plays = [1559 if a == DEACON_BLUE and user == 1 else int(rng.integers(20, 2000)) for a in picked]
        out += [(user, a, p) for a, p in zip(picked, plays)]
        out.append((user, int(rng.choice(other)), LIGHT))
    return out


def load_music(store: GraphStore) -> None:
    """Write the world into an empty graph and record its schema."""
    store.apply_schema([USER_KEY, ITEM_KEY, TAG_KEY, GENRE_KEY, LABEL_KEY])
    record_part(store, PART)
    artists = ROCK + JAZZ
    users = [{"key": u, "props": {"name": NAMES[u]} if u in NAMES else {}} for u in USERS]
    batch = Batch(
        nodes=[
            NodeGroup(USER_KEY, (), users),
            NodeGroup(ITEM_KEY, ("Artist",), [{"key": a, "props": {"name": artist(a)}} for a in artists]),
            NodeGroup(
                TAG_KEY, (), [{"key": 1, "props": {"name": "britpop"}}, {"key": 2, "props": {"name": "cool jazz"}}]
            ),
            NodeGroup(GENRE_KEY, (), [{"key": "Rock", "props": {}}, {"key": "Jazz", "props": {}}]),
            NodeGroup(LABEL_KEY, (), [{"key": "Warner", "props": {}}]),
        ],
        rels=[
            RelGroup(USER_KEY, "LISTENED", ITEM_KEY, rows=[_rel(u, a, {"plays": p}) for u, a, p in listens()]),
            RelGroup(USER_KEY, "FRIEND_OF", USER_KEY, rows=[_rel(a, b) for a, b in FRIENDS]),
            RelGroup(ITEM_KEY, "HAS_TAG", TAG_KEY, rows=[_rel(a, 1 if a < 400 else 2) for a in artists]),
            RelGroup(ITEM_KEY, "IN_GENRE", GENRE_KEY, rows=[_rel(a, "Rock" if a < 400 else "Jazz") for a in artists]),
            RelGroup(ITEM_KEY, "RECORD_LABEL", LABEL_KEY, rows=[_rel(a, "Warner") for a in ROCK[::2]]),
        ],
    )
    store.write(batch)


def _rel(start: object, end: object, props: dict | None = None) -> dict:
    return {"start": start, "end": end, "props": props or {}}
