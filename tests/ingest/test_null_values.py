"""Placeholders declared ``null_values`` on a field are read as no value: the property is not set."""

from pathlib import Path

import pandas as pd

from kgrec.ingest.mapping import map_chunk
from kgrec.ingest.spec import Table
from kgrec.ingest.tables import read_table
from tests.conftest import write

FILMS = Table.model_validate(
    {
        "file": "f.csv",
        "delimiter": "|",
        "header": False,
        "columns": ["id", "title", "plot", "rating"],
        "nodes": [
            {
                "label": "Item",
                "key": {"column": "id", "type": "int"},
                "properties": {
                    "title": {"column": "title", "null_values": ["unknown"]},
                    "plot": {"column": "plot", "null_values": ["It looks like we don't have any Plot Summaries*"]},
                    "rating": {"column": "rating", "type": "float", "null_values": ["n/a"]},
                },
            }
        ],
    }
)


def _props(path: Path) -> dict[int, dict]:
    chunk = next(iter(read_table(path, FILMS)))
    batch, bad = map_chunk(pd.DataFrame(chunk.frame), FILMS, "f.csv")
    assert bad == []
    return {row["key"]: row["props"] for row in batch.nodes[0].rows}


def test_declared_placeholders_are_not_set(tmp_path: Path) -> None:
    path = write(
        tmp_path / "f.csv",
        "1|unknown|It looks like we don't have any Plot Summaries for this title yet. Be the first|n/a\n"
        "2|Unknown Soldier (1998)|A soldier is unknown.| 7.5\n"
        "3| unknown |It looks like we have one|6\n",
    )
    props = _props(path)
    assert props[1] == {}  # all three placeholders dropped; the float is not rejected
    assert props[2] == {"title": "Unknown Soldier (1998)", "plot": "A soldier is unknown.", "rating": 7.5}
    assert props[3] == {"plot": "It looks like we have one", "rating": 6.0}  # whole value only, spaces ignored


def test_the_shipped_specs_declare_their_placeholders() -> None:
    from kgrec.ingest.spec import load_spec

    root = Path(__file__).resolve().parents[2] / "ingest"
    movielens = load_spec(root / "movielens-100k.toml").tables[2].nodes[0].properties["title"]
    imdb = load_spec(root / "imdb-details.toml").tables[0].nodes[0].properties["description"]
    assert movielens.null_values == ["unknown"]
    assert imdb.null_values and imdb.null_values[0].startswith("It looks like we don't have any Plot Summaries")
