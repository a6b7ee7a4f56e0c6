"""Two tastes: small worlds whose right recommendations and explanation paths are known.

Half the users like the films of one taste, half the other's. Films of a taste share a
genre and directors, and carry a text vector near their taste's axis. Each user rates some
warm films of their taste; the last film of each taste is *cold*: nobody has rated it yet,
but its director, genre and text say which taste it belongs to. Every user will rate the
cold film of their taste: those ratings are held out (the learning view's cold test; the
graph view leaves them out).

A world is plain data (:class:`TwoTastes`, drawn by :func:`two_tastes`) with two views: the
learning side's in-memory snapshot and split (:meth:`TwoTastes.snapshot`,
:meth:`TwoTastes.split`; no Neo4j, no torch), and the graph side's writing into Neo4j
(:meth:`TwoTastes.load`). Two sizes are used:

* :data:`TOY`, the learning tests' world: 12 users and 16 films (101..132) per taste, one
  director (``dir:x``, ``dir:y``) and one genre (``X``, ``Y``) per taste; each user likes 8
  films: 6 for training, one for validation, one for test. Its names below use dense ids (rows).
* :data:`FILMS`, the answer tests' world, named: 10 users per taste, animated films
  (101..110) and film noir (201..210); cold films 110 (Cars) and 210 (Night Film). Each user
  rates 7 films, the last 1 star (disliked); whoever rated Toy Story gave it 5. User 1
  rated Toy Story (101) 5 stars and never A Bug's Life (102): the right explanation of A Bug's
  Life for user 1 is user 1 -RATED-> Toy Story -DIRECTED_BY-> John Lasseter <-DIRECTED_BY-
  A Bug's Life (Lasseter directed 101, 102, 103 and 110; Brad Bird the other animated films;
  user 1 never rated 103). Film 111 (Orphan) is reachable from user 1 only in four hops: its
  one fact is that Pixar produced it, and Pixar is where John Lasseter worked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from kgrec.graph.batch import Batch, NodeGroup, NodeKey, RelGroup
from kgrec.graph.store import GraphStore
from kgrec.learn.split import Split
from kgrec.snapshot import GraphSnapshot
from tests.conftest import declare_schema

Fact = tuple[str, object, str, str, object]
"""A knowledge fact: (start label, start key, relationship type, end label, end key)."""

KEYS = {"User": NodeKey("User", "id"), "Item": NodeKey("Item", "id")}
KEYS |= {"Entity": NodeKey("Entity", "iri"), "Genre": NodeKey("Genre", "name")}
DIM = 8


@dataclass(frozen=True, eq=False)
class TwoTastes:
    """A two-tastes world as plain data.

    Args:
        fans: Users per taste; users ``1..fans`` like taste 0, the next ``fans`` taste 1.
        films: The film ids of each taste; the last of each is cold.
        entities: Entity key -> (extra label, name or ``None``), in dense order.
        genres: The genre of each taste.
        facts: Every knowledge relationship.
        ratings: (user, film, stars), each user's in the order they were drawn.
        coming: (user, cold film): the cold films' first ratings, held out.
        text: ``(films, DIM)`` text vectors, in the order of ``films``.
        seed: The seed the ratings were drawn with.
        others: Items of neither taste (no ratings, no text).
        titles: Item id -> title.
        years: Item id -> year.
    """

    fans: int
    films: tuple[tuple[int, ...], tuple[int, ...]]
    entities: Mapping[str, tuple[str, str | None]]
    genres: tuple[str, str]
    facts: tuple[Fact, ...]
    ratings: tuple[tuple[int, int, int], ...]
    coming: tuple[tuple[int, int], ...]
    text: np.ndarray
    seed: int
    others: tuple[int, ...] = ()
    titles: Mapping[int, str] = field(default_factory=dict)
    years: Mapping[int, int] = field(default_factory=dict)

    @property
    def users(self) -> tuple[int, ...]:
        """User ids; the index is the dense user id."""
        return tuple(range(1, 2 * self.fans + 1))

    @property
    def items(self) -> tuple[int, ...]:
        """Item ids (the films of taste 0, of taste 1, the others); the index is the dense item id."""
        return self.films[0] + self.films[1] + self.others

    @property
    def cold(self) -> tuple[int, int]:
        """The cold film of each taste (ids)."""
        return self.films[0][-1], self.films[1][-1]

    def user_taste(self, user: int) -> int:
        """0 or 1: the taste of a user (dense id)."""
        return 0 if user < self.fans else 1

    def taste(self, item: int) -> int:
        """0 or 1: the taste of a film (dense id)."""
        return 0 if item < len(self.films[0]) else 1

    def rows(self, label: str) -> dict[object, int]:
        """Key -> dense id of the nodes of ``label``."""
        keys = {"User": self.users, "Item": self.items, "Entity": tuple(self.entities), "Genre": self.genres}
        return {k: n for n, k in enumerate(keys[label])}

    def snapshot(self, *, text_for: set[int] | None = None) -> GraphSnapshot:
        """The learning view; ``text_for`` limits which items (dense ids) have a text vector (default: all)."""
        rows = {label: self.rows(label) for label in KEYS}
        edges = {("User", "RATED", "Item"): sorted((rows["User"][u], rows["Item"][i]) for u, i in self._interactions())}
        for start, key, rel, end, other in self.facts:
            edges.setdefault((start, rel, end), []).append((rows[start][key], rows[end][other]))
        text = np.full((len(self.items), DIM), np.nan, dtype=np.float32)
        text[: len(self.text)] = self.text
        if text_for is not None:
            text[[i for i in range(len(self.items)) if i not in text_for]] = np.nan
        return GraphSnapshot(
            node_keys={
                "User": np.asarray(self.users, dtype=np.int64),
                "Item": np.asarray(self.items, dtype=np.int64),
                "Entity": np.array(list(self.entities), dtype=object),
                "Genre": np.array(self.genres, dtype=object),
            },
            edges={t: np.asarray(e, dtype=np.int64).T.copy() for t, e in edges.items()},
            node_props={"Item": {"feat_text": text}},
        )

    def split(self) -> Split:
        """The learning split: each user's last rating is their test, the one before their validation."""
        user, item = self.rows("User"), self.rows("Item")
        mine: dict[int, list[int]] = {}
        for u, i, _ in self.ratings:
            mine.setdefault(user[u], []).append(item[i])
        train = [(u, i) for u, films in mine.items() for i in films[:-2]]
        valid, test = ([(u, films[n]) for u, films in mine.items()] for n in (-2, -1))
        cold = [(user[u], item[i]) for u, i in self.coming]
        cold_items = np.asarray(sorted(item[i] for i in self.cold), dtype=np.int64)
        users, items = np.asarray(self.users, dtype=np.int64), np.asarray(self.items, dtype=np.int64)
        return Split(users, items, _pairs(train), _pairs(valid), _pairs(test), cold_items, _pairs(cold), self.seed)

    def load(self, store: GraphStore) -> None:
        """The graph view: write the world into an empty graph, with text vectors and their index."""
        store.apply_schema(list(KEYS.values()))
        declare_schema(store)
        store.write(Batch(nodes=self._nodes(), rels=self._rels()))
        films = self.films[0] + self.films[1]
        store.set_vectors("Item", "id", "feat_text", [(f, [float(x) for x in v]) for f, v in zip(films, self.text)])
        store.ensure_vector_index("item_feat_text", "Item", "feat_text", DIM)

    def _interactions(self) -> list[tuple[int, int]]:
        """Every rating, the held-out ones included (the split tells them apart)."""
        return [(u, i) for u, i, _ in self.ratings] + list(self.coming)

    def _nodes(self) -> list[NodeGroup]:
        def item(i: int) -> dict:
            props = {"title": self.titles.get(i), "year": self.years.get(i)}
            return {"key": i, "props": {k: v for k, v in props.items() if v is not None}}

        groups = [
            NodeGroup(KEYS["User"], (), [{"key": u, "props": {}} for u in self.users]),
            NodeGroup(KEYS["Item"], ("Film",), [item(i) for i in self.films[0] + self.films[1]]),
            NodeGroup(KEYS["Genre"], (), [{"key": g, "props": {}} for g in self.genres]),
        ]
        if self.others:
            groups.append(NodeGroup(KEYS["Item"], (), [item(i) for i in self.others]))
        for label in dict.fromkeys(label for label, _ in self.entities.values()):
            rows = [
                {"key": k, "props": {} if name is None else {"name": name}}
                for k, (other, name) in self.entities.items()
                if other == label
            ]
            groups.append(NodeGroup(KEYS["Entity"], (label,), rows))
        return groups

    def _rels(self) -> list[RelGroup]:
        rated = [
            {"start": u, "end": i, "props": {"rating": s, "timestamp": 1000 + n}}
            for n, (u, i, s) in enumerate(self.ratings)
        ]
        groups: dict[tuple[str, str, str], list[dict]] = {}
        for start, key, rel, end, other in self.facts:
            groups.setdefault((start, rel, end), []).append({"start": key, "end": other, "props": {}})
        knowledge = [RelGroup(KEYS[s], rel, KEYS[e], rows=rows) for (s, rel, e), rows in groups.items()]
        return [RelGroup(KEYS["User"], "RATED", KEYS["Item"], rows=rated), *knowledge]


def two_tastes(
    *,
    fans: int,
    films: tuple[Sequence[int], Sequence[int]],
    genres: tuple[str, str],
    directors: Mapping[int, str],
    picks: int,
    seed: int,
    graded: bool = True,
    first: Mapping[int, int] | None = None,
    unseen: Mapping[int, tuple[int, ...]] | None = None,
) -> TwoTastes:
    """Draw a world: each user rates ``picks`` warm films of their taste.

    Args:
        fans: Users per taste.
        films: The film ids of each taste; the last of each is cold.
        genres: The genre of each taste.
        directors: Film id -> the key of its director (an entity labelled ``Person``).
        picks: Ratings per user.
        seed: Seeds the ratings drawn.
        graded: Whether stars are drawn: a film of ``first`` gets 5 (from anyone), each user's last
            film 1 (disliked), the others 3 to 5. Without, every rating is a like: 5 stars.
        first: User -> the film they rated first.
        unseen: User -> films of their taste they never rated.
    """
    tastes = (tuple(films[0]), tuple(films[1]))
    rng, first, unseen = np.random.default_rng(seed), first or {}, unseen or {}
    loved = set(first.values())
    ratings = []
    for user in range(1, 2 * fans + 1):
        picked = [first[user]] if user in first else []
        warm = [f for f in tastes[user > fans][:-1] if f not in picked and f not in unseen.get(user, ())]
        picked += rng.choice(warm, size=picks - len(picked), replace=False).tolist()
        stars = [_stars(f, n, loved, picks, rng) for n, f in enumerate(picked)] if graded else [5] * picks
        ratings += [(user, f, s) for f, s in zip(picked, stars)]
    text_rng, axes = np.random.default_rng(0), np.eye(DIM, dtype=np.float32)
    text = [axes[t] + 0.2 * text_rng.standard_normal(DIM).astype(np.float32) for t in (0, 1) for _ in tastes[t]]
    facts = [("Item", f, "DIRECTED_BY", "Entity", directors[f]) for f in tastes[0] + tastes[1]]
    facts += [("Item", f, "IN_GENRE", "Genre", genres[t]) for t in (0, 1) for f in tastes[t]]
    return TwoTastes(
        fans=fans,
        films=tastes,
        entities={d: ("Person", None) for d in directors.values()},
        genres=genres,
        facts=tuple(facts),
        ratings=tuple(ratings),
        coming=tuple((u, tastes[u > fans][-1]) for u in range(1, 2 * fans + 1)),
        text=np.stack(text).astype(np.float32),
        seed=seed,
    )


def _stars(film: int, n: int, loved: set[int], picks: int, rng: np.random.Generator) -> int:
    return 5 if film in loved else 1 if n == picks - 1 else int(rng.integers(3, 6))


def _pairs(pairs: list[tuple[int, int]]) -> np.ndarray:
    return np.asarray(sorted(pairs), dtype=np.int64).T.reshape(2, -1)


TOY = two_tastes(
    fans=12,
    films=(range(101, 117), range(117, 133)),
    genres=("X", "Y"),
    directors={f: "dir:x" if f < 117 else "dir:y" for f in range(101, 133)},
    picks=8,
    seed=3,
    graded=False,
)
"""The learning tests' world."""

# The learning tests' names: dense ids (rows of the snapshot), not keys.
NUM_USERS, NUM_ITEMS = len(TOY.users), len(TOY.items)
COLD_ROWS = tuple(TOY.rows("Item")[i] for i in TOY.cold)
taste, user_taste = TOY.taste, TOY.user_taste
toy_snapshot, toy_split = TOY.snapshot, TOY.split

# The answer tests' names: keys, as in Neo4j.
FANS = 10
ANIMATED, NOIR = tuple(range(101, 111)), tuple(range(201, 211))
COLD = (ANIMATED[-1], NOIR[-1])
LASSETER = "http://dbpedia.org/resource/John_Lasseter"
BIRD = "http://dbpedia.org/resource/Brad_Bird"
WILDER = "http://dbpedia.org/resource/Billy_Wilder"
PIXAR = "http://dbpedia.org/resource/Pixar"
LASSETER_FILMS = (101, 102, 103, 110)
ORPHAN = 111
TITLES = {
    101: "Toy Story (1995)",
    102: "A Bug's Life (1998)",
    103: "Toy Story 2 (1999)",
    110: "Cars (2006)",
    ORPHAN: "Orphan (2001)",
    201: "Double Indemnity (1944)",
    202: "Sunset Boulevard (1950)",
    210: "Night Film (1951)",
}


def title(item: int) -> str:
    """The title of an item of :data:`FILMS`."""
    return TITLES.get(item, f"{'Cartoon' if item < 200 else 'Noir'} {item}")


def _films() -> TwoTastes:
    directors = {f: LASSETER if f in LASSETER_FILMS else BIRD for f in ANIMATED} | {f: WILDER for f in NOIR}
    world = two_tastes(
        fans=FANS,
        films=(ANIMATED, NOIR),
        genres=("Animation", "Film-Noir"),
        directors=directors,
        picks=7,
        seed=7,
        first={1: 101},
        unseen={1: (102, 103)},
    )
    people = {LASSETER: "John Lasseter", BIRD: "Brad Bird", WILDER: "Billy Wilder"}
    return replace(
        world,
        entities={**{k: ("Person", people[k]) for k in world.entities}, PIXAR: ("Company", "Pixar")},
        facts=(
            *world.facts,
            ("Entity", LASSETER, "WORKED_FOR", "Entity", PIXAR),
            ("Item", ORPHAN, "PRODUCED_BY", "Entity", PIXAR),
        ),
        others=(ORPHAN,),
        titles={i: title(i) for i in (*ANIMATED, *NOIR, ORPHAN)},
        years={f: 1990 + f % 100 if f < 200 else 1940 + f % 100 for f in ANIMATED + NOIR} | {ORPHAN: 2001},
    )


FILMS = _films()
"""The answer tests' world."""


def ratings() -> list[tuple[int, int, int]]:
    """(user, film, stars) of :data:`FILMS`: every user rates 7 warm films of their taste, the last one 1 star."""
    return list(FILMS.ratings)


load_world = FILMS.load
