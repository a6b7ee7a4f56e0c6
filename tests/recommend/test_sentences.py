"""Sentences and display names of explanation paths (no database)."""

from __future__ import annotations

from kgrec.recommend.results import Step
from kgrec.recommend.sentences import display_name, sentence


def test_collaborative_and_knowledge_sentences() -> None:
    user = Step("User", 1, "user 1", "RATED", True)
    star_wars = Step("Item", 50, "Star Wars (1977)", "RATED", False)
    other = Step("User", 42, "user 42", "RATED", True)
    jedi = Step("Item", 181, "Return of the Jedi (1983)")
    assert sentence([user, star_wars, other, jedi], 5) == (
        "You rated Star Wars (1977) 5/5, which was also rated by user 42, who also rated Return of the Jedi (1983)."
    )
    liked = Step("Item", 1, "Toy Story (1995)", "IN_GENRE", True)
    genre = Step("Genre", "Animation", "Animation", "IN_GENRE", False)
    cars = Step("Item", 9, "Cars (2006)")
    text = sentence([liked, genre, cars], cold=True)
    assert text.startswith("You liked Toy Story (1995), which is in the genre Animation, which also contains Cars")
    assert "Cars (2006) is new" in text


def test_freebase_and_unnamed_entities() -> None:
    film = Step("Item", 1, "Heat (1995)", "FB_GENRE", True)
    entity = Step("Entity", "http://rdf.freebase.com/ns/m.04xvlr", "m.04xvlr", "FB_GENRE", False)
    assert sentence([film, entity, Step("Item", 2, "Ronin (1998)")]) == (
        "You liked Heat (1995), which has the Freebase genre m.04xvlr, "
        "which is also the Freebase genre of Ronin (1998)."
    )
    assert display_name(("Entity", "http://dbpedia.org/resource/John_Lasseter"), None) == "John Lasseter"
    assert display_name(("User", 7), None) == "user 7"
