"""A small film world whose right recommendations and explanation paths are known.

Two tastes. The first ``FANS`` users like animated films (ids 101..110), the
others film noir (201..210). Animated films share the director John Lasseter
and the genre Animation; noir films the director Billy Wilder and Film-Noir.
Films 110 (Cars) and 210 (Night Film) are *cold*: nobody rated them, but the
director, the genre and the text vector say which taste they belong to.

Film 111 (Orphan) is reachable from user 1 only in four hops: its one fact is that Pixar
produced it, and Pixar is where John Lasseter worked (an entity-entity relationship).

User 1 rated Toy Story (101) 5 stars and never A Bug's Life (102): the right
explanation of A Bug's Life for user 1 is
user 1 -RATED-> Toy Story -DIRECTED_BY-> John Lasseter <-DIRECTED_BY- A Bug's Life
(Lasseter directed 101, 102, 103 and 110; Brad Bird the other animated films; user 1
never rated 103).
"""

from __future__ import annotations

import numpy as np

from kgrec.graph.batch import Batch, NodeGroup, NodeKey, RelGroup
from kgrec.graph.store import GraphStore
from tests.conftest import declare_schema

FANS = 10
USERS = list(range(1, 2 * FANS + 1))
ANIMATED = list(range(101, 111))
NOIR = list(range(201, 211))
COLD = (110, 210)
TITLES = {
    101: "Toy Story (1995)",
    102: "A Bug's Life (1998)",
    103: "Toy Story 2 (1999)",
    110: "Cars (2006)",
    201: "Double Indemnity (1944)",
    202: "Sunset Boulevard (1950)",
    210: "Night Film (1951)",
}
LASSETER = "http://dbpedia.org/resource/John_Lasseter"
BIRD = "http://dbpedia.org/resource/Brad_Bird"
LASSETER_FILMS = (101, 102, 103, 110)
PIXAR = "http://dbpedia.org/resource/Pixar"
ORPHAN = 111
WILDER = "http://dbpedia.org/resource/Billy_Wilder"
USER_KEY, ITEM_KEY = NodeKey("User", "id"), NodeKey("Item", "id")
ENTITY_KEY, GENRE_KEY = NodeKey("Entity", "iri"), NodeKey("Genre", "name")


def title(item: int) -> str:
    """The title of a film of the world."""
    return TITLES.get(item, f"{'Cartoon' if item < 200 else 'Noir'} {item}")


def ratings(seed: int = 7) -> list[tuple[int, int, int]]:
    """(user, item, stars): every user rates 7 warm films of their taste, the last one 1 star (disliked);
    user 1 rates 101 (5 stars), never 102 or 103."""
    rng = np.random.default_rng(seed)
    out = []
    for user in USERS:
        films = ANIMATED if user <= FANS else NOIR
        warm = [f for f in films if f not in COLD and not (user == 1 and f in (102, 103))]
        picked = [101] if user == 1 else []
        picked += [int(f) for f in rng.choice([f for f in warm if f not in picked], 7 - len(picked), replace=False)]
        stars = [5 if f == 101 else 1 if n == 6 else int(rng.integers(3, 6)) for n, f in enumerate(picked)]
        out += [(user, f, s) for f, s in zip(picked, stars)]
    return out


def load_world(store: GraphStore) -> None:
    """Write the world into an empty graph, with text vectors and their index."""
    store.apply_schema([USER_KEY, ITEM_KEY, ENTITY_KEY, GENRE_KEY])
    declare_schema(store)
    films = ANIMATED + NOIR
    items = [
        {"key": f, "props": {"title": title(f), "year": 1990 + f % 100 if f < 200 else 1940 + f % 100}} for f in films
    ]
    batch = Batch(
        nodes=[
            NodeGroup(USER_KEY, (), [{"key": u, "props": {}} for u in USERS]),
            NodeGroup(ITEM_KEY, ("Film",), items),
            NodeGroup(
                ENTITY_KEY,
                ("Person",),
                [
                    {"key": LASSETER, "props": {"name": "John Lasseter"}},
                    {"key": BIRD, "props": {"name": "Brad Bird"}},
                    {"key": WILDER, "props": {"name": "Billy Wilder"}},
                ],
            ),
            NodeGroup(GENRE_KEY, (), [{"key": "Animation", "props": {}}, {"key": "Film-Noir", "props": {}}]),
            NodeGroup(ITEM_KEY, (), [{"key": ORPHAN, "props": {"title": "Orphan (2001)", "year": 2001}}]),
            NodeGroup(ENTITY_KEY, ("Company",), [{"key": PIXAR, "props": {"name": "Pixar"}}]),
        ],
        rels=[
            RelGroup(
                USER_KEY,
                "RATED",
                ITEM_KEY,
                rows=[
                    {"start": u, "end": i, "props": {"rating": r, "timestamp": 1000 + n}}
                    for n, (u, i, r) in enumerate(ratings())
                ],
            ),
            RelGroup(
                ITEM_KEY, "DIRECTED_BY", ENTITY_KEY, rows=[{"start": f, "end": director(f), "props": {}} for f in films]
            ),
            RelGroup(
                ITEM_KEY,
                "IN_GENRE",
                GENRE_KEY,
                rows=[{"start": f, "end": "Animation" if f < 200 else "Film-Noir", "props": {}} for f in films],
            ),
            RelGroup(ENTITY_KEY, "WORKED_FOR", ENTITY_KEY, rows=[{"start": LASSETER, "end": PIXAR, "props": {}}]),
            RelGroup(ITEM_KEY, "PRODUCED_BY", ENTITY_KEY, rows=[{"start": ORPHAN, "end": PIXAR, "props": {}}]),
        ],
    )
    store.write(batch)
    store.set_vectors("Item", "id", "feat_text", [(f, text_vector(f)) for f in films])
    store.ensure_vector_index("item_feat_text", "Item", "feat_text", 8)


def director(item: int) -> str:
    """The IRI of the film's director."""
    return LASSETER if item in LASSETER_FILMS else BIRD if item < 200 else WILDER


def text_vector(item: int) -> list[float]:
    """A plot vector near axis 0 for animated films, axis 1 for noir."""
    rng = np.random.default_rng(item)
    v = np.eye(8)[0 if item < 200 else 1] + 0.2 * rng.standard_normal(8)
    return [float(x) for x in v]
