import pytest

from kgrec.graph import cypher
from kgrec.graph.names import check_label, check_property, check_rel_type, lower_snake, quote, upper_snake


@pytest.mark.parametrize("bad", ["", "1abc", "a b", "A`B", "x}) DETACH DELETE n //", "Ünïcode", "a" * 65, "a-b"])
def test_invalid_names_are_refused(bad: str) -> None:
    for check in (check_label, check_rel_type, check_property):
        with pytest.raises(ValueError):
            check(bad)


def test_valid_names_pass_and_are_quoted() -> None:
    assert check_label("Item") == "Item"
    assert quote(check_rel_type("DIRECTED_BY")) == "`DIRECTED_BY`"
    with pytest.raises(ValueError):
        quote("a`b")


@pytest.mark.parametrize(
    ("raw", "upper", "lower"),
    [
        ("film.film.directed_by", "FILM_FILM_DIRECTED_BY", "film_film_directed_by"),
        ("birthPlace", "BIRTH_PLACE", "birth_place"),
        ("subject", "SUBJECT", "subject"),
        ("123", "X_123", "x_123"),
    ],
)
def test_snake_case_of_local_names(raw: str, upper: str, lower: str) -> None:
    assert upper_snake(raw) == upper
    assert lower_snake(raw) == lower


def test_render_quotes_names_and_refuses_foreign_fragments() -> None:
    text = cypher.render(
        "graph/merge_nodes",
        names={"LABEL": "Item", "KEY": "id"},
        raw={"SET_PROPS": cypher.set_props("n", ["title"]), "SET_LABELS": cypher.set_labels(("Film",))},
    )
    assert "MERGE (n:`Item` {`id`: row.key})" in text
    assert "SET n.`title` = row.props.`title`" in text
    assert "SET n:`Film`" in text
    with pytest.raises(ValueError):
        cypher.render("graph/merge_rels", raw={"START_VERB": "DETACH DELETE"})
