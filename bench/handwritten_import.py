"""The hand-written way to load the scaled MovieLens catalogue with neo4j-admin: a plain pandas script.

What a competent user writes instead of ``kgrec ingest --bulk``: ``pd.read_csv`` of
each source file, duplicate keys and ratings dropped, and the admin-import CSVs
written with typed headers (integer ids per label, ``--id-type=integer``). The
graph is the one the shipped spec describes (users, items, genres, ``RATED`` with
rating and timestamp, ``IN_GENRE`` from the genre flags). With ``provenance`` (the
spec's name) every node and relationship also carries kgrec's provenance
properties (``kgrec_sources``; nodes ``kgrec_props``), so the files describe the
same graph ``kgrec ingest --bulk`` makes. ``bench/bulk.py`` times this script, the
import and the server start together (and, for the same graph, its constraints and
indexes): the "hand-written end to end" rows.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kgrec.ingest.bulk_csv import ImportFiles

GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
]  # fmt: skip
ITEM_COLUMNS = ["id", "title", "release_date", "video_release_date", "imdb_url", *GENRES]


def write_import_files(source: Path, out: Path, provenance: str | None = None) -> ImportFiles:
    """Read the MovieLens files in ``source`` and write the admin-import CSVs into ``out``.

    Args:
        source: The folder of ``u.genre``, ``u.user``, ``u.item``, ``u.data``.
        out: Where the CSVs go.
        provenance: The spec's name: add kgrec's provenance columns (the same graph as ``--bulk``).
    """
    out.mkdir(parents=True, exist_ok=True)
    stamp = _Provenance(provenance)
    genres = pd.read_csv(source / "u.genre", sep="|", header=None, names=["name", "genre_id"], encoding="latin-1")
    genres = genres.dropna().drop_duplicates("name", keep="last")
    users = pd.read_csv(
        source / "u.user", sep="|", header=None, names=["id", "age", "gender", "occupation", "zip_code"],
        encoding="latin-1", dtype={"zip_code": str},
    ).drop_duplicates("id", keep="last")  # fmt: skip
    items = pd.read_csv(source / "u.item", sep="|", header=None, names=ITEM_COLUMNS, encoding="latin-1")
    items = items.drop_duplicates("id", keep="last")
    ratings = pd.read_csv(source / "u.data", sep="\t", header=None, names=["user", "item", "rating", "timestamp"])
    ratings = ratings.drop_duplicates(["user", "item"], keep="last")

    files = {name: out / f"{name}.csv" for name in ("genres", "users", "items", "in_genre", "ratings")}
    genre_rows = genres[["genre_id", "name"]].set_axis(["genre_id:ID(Genre)", "name"], axis=1)
    stamp.nodes(genre_rows).to_csv(files["genres"], index=False)
    user_rows = users.set_axis(["id:ID(User)", "age:long", "gender", "occupation", "zip_code"], axis=1)
    stamp.nodes(user_rows).to_csv(files["users"], index=False)
    released = pd.to_datetime(items["release_date"], format="%d-%b-%Y", errors="coerce")
    item_rows = pd.DataFrame(
        {
            "id:ID(Item)": items["id"],
            "title": items["title"].mask(items["title"] == "unknown"),
            "release_date:date": released.dt.strftime("%Y-%m-%d"),
            "year:long": released.dt.year.astype("Int64"),
            "imdb_url": items["imdb_url"],
        }
    )
    stamp.nodes(item_rows).to_csv(files["items"], index=False)
    flags = items.melt(id_vars="id", value_vars=GENRES, var_name="genre")
    flags = flags[flags["value"] == 1]
    ids = flags["genre"].map(genres.set_index("name")["genre_id"])
    in_genre = pd.DataFrame({":START_ID(Item)": flags["id"], ":END_ID(Genre)": ids})
    stamp.relationships(in_genre).to_csv(files["in_genre"], index=False)
    ratings = ratings.set_axis([":START_ID(User)", ":END_ID(Item)", "rating:long", "timestamp:long"], axis=1)
    stamp.relationships(ratings).to_csv(files["ratings"], index=False)
    return ImportFiles(
        nodes=[f"Genre={files['genres']}", f"User={files['users']}", f"Item={files['items']}"],
        relationships=[f"IN_GENRE={files['in_genre']}", f"RATED={files['ratings']}"],
    )


class _Provenance:
    """kgrec's provenance columns (one spec stated everything), or nothing without a spec name."""

    def __init__(self, spec: str | None) -> None:
        self.spec = spec

    def nodes(self, rows: pd.DataFrame) -> pd.DataFrame:
        if self.spec is None:
            return rows
        props = [c.split(":")[0] for c in rows.columns if ":ID(" not in c]
        stated = ";".join(f"{self.spec}:{p}" for p in props)
        return rows.assign(**{"kgrec_sources:string[]": self.spec, "kgrec_props:string[]": stated})

    def relationships(self, rows: pd.DataFrame) -> pd.DataFrame:
        return rows if self.spec is None else rows.assign(**{"kgrec_sources:string[]": self.spec})
