"""Sentences and display names of explanation paths, worded by the declared schema (no database)."""

from __future__ import annotations

from kgrec.ingest.spec import load_spec
from kgrec.recommend.results import Step
from kgrec.recommend.sentences import display_name, interaction, owned, sentence
from kgrec.recommend.starts import strongest
from kgrec.schema import GraphSchema, RelDecl, merge
from tests.conftest import FILM_SPECS, REPO

FILMS = merge(load_spec(REPO / "ingest" / f"{name}.toml").schema_part() for name in FILM_SPECS)
MUSIC = GraphSchema(
    relationships={
        "LISTENED": RelDecl(role="interaction", weight="plays", kind="count", unit="plays", verb="play"),
        "FRIEND_OF": RelDecl(role="social"),
        "HAS_TAG": RelDecl(phrase="is tagged", reverse="is also the tag of"),
        "HAS_MEMBER": RelDecl(phrase="has member", reverse="is also a member of", person=True),
    }
)


def test_collaborative_and_knowledge_sentences_read_as_movielens_declares() -> None:
    user = Step("User", 1, "user 1", "RATED", True)
    star_wars = Step("Item", 50, "Star Wars (1977)", "RATED", False)
    other = Step("User", 42, "user 42", "RATED", True)
    jedi = Step("Item", 181, "Return of the Jedi (1983)")
    assert sentence(FILMS, [user, star_wars, other, jedi], 5) == (
        "You rated Star Wars (1977) 5/5, which was also rated by user 42, who also rated Return of the Jedi (1983)."
    )
    liked = Step("Item", 1, "Toy Story (1995)", "IN_GENRE", True)
    genre = Step("Genre", "Animation", "Animation", "IN_GENRE", False)
    cars = Step("Item", 9, "Cars (2006)")
    text = sentence(FILMS, [liked, genre, cars], cold=True)
    assert text.startswith("You liked Toy Story (1995), which is in the genre Animation, which also contains Cars")
    assert "Cars (2006) is new: it has no ratings the model learned from" in text


def test_counts_read_with_their_unit_and_thousands_separators() -> None:
    assert interaction(MUSIC, "Deacon Blue", 1559) == "You play Deacon Blue (1,559 plays)"
    assert interaction(MUSIC, "Muse", 37.0) == "You play Muse (37 plays)"
    assert owned(MUSIC, "Muse", 37) == "You already play Muse (37 plays)."
    cold = sentence(
        MUSIC, [Step("Item", 1, "Muse", "HAS_TAG", True), Step("Tag", 2, "britpop"), Step("Item", 3, "X")], cold=True
    )
    assert "ratings" not in cold and "it has no plays the model learned from" in cold
    binary = GraphSchema(relationships={"BOUGHT": RelDecl(role="interaction", verb="bought")})
    assert interaction(binary, "Dune", None) == "You bought Dune"


def test_undeclared_types_read_from_their_name_and_person_says_who() -> None:
    muse = Step("Item", 1, "Muse", "HAS_MEMBER", True)
    matt = Step("Entity", "http://dbpedia.org/resource/Matt_Bellamy", "Matt Bellamy", "HAS_MEMBER", False)
    dolls = Step("Item", 2, "Rocket Baby Dolls", "RECORDED_FOR", True)  # undeclared: read from its name
    label = Step("Entity", "http://dbpedia.org/resource/Warner_Records", "Warner Records")
    assert sentence(MUSIC, [muse, matt, dolls, label]) == (
        "You liked Muse, which has member Matt Bellamy, who is also a member of Rocket Baby Dolls, "
        "which has recorded for Warner Records."
    )
    film = Step("Item", 1, "Heat (1995)", "FB_GENRE", True)
    entity = Step("Entity", "http://rdf.freebase.com/ns/m.04xvlr", "m.04xvlr", "FB_GENRE", False)
    assert sentence(FILMS, [film, entity, Step("Item", 2, "Ronin (1998)")]) == (
        "You liked Heat (1995), which has fb genre m.04xvlr, which is the fb genre of Ronin (1998)."
    )


def test_display_names() -> None:
    assert display_name(FILMS, "Entity", "http://dbpedia.org/resource/John_Lasseter", None) == "John Lasseter"
    assert display_name(FILMS, "User", 7, None) == "user 7"
    assert display_name(MUSIC, "User", 7, "Anna") == "Anna"
    assert display_name(MUSIC, "Tag", 12, None) == "12"


def test_paths_start_from_the_strongest_interactions() -> None:
    plays = {"a": 5, "b": 900, "c": 40, "d": 30, "e": 3, "f": 1200, "g": 2, "h": 700}
    assert list(strongest(plays)) == ["f", "b", "h", "c", "d"]  # median 35: four at or above it, at least five
    assert list(strongest(plays, minimum=2)) == ["f", "b", "h", "c"]
    stars = {1: 5, 2: 4, 3: 1}
    assert list(strongest(stars)) == [1, 2, 3]  # fewer than five: all, strongest first
    assert strongest({"x": None, "y": None}) == {"x": None, "y": None}
