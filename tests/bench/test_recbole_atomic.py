"""The RecBole export writes kgrec's split exactly, with original keys and the Freebase KG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.recbole.atomic import INTER_HEADER, KG_FOLDER, read_interactions, write_atomic
from kgrec.learn.split import Split, make_split
from tests.conftest import write

KG = "head_id:token\trelation_id:token\ttail_id:token\nm.a\tfilm.film.actor\tm.x\nm.b\tfilm.film.genre\tm.y\n"
LINKS = "item_id:token\tentity_id:token\n10\tm.a\n30\tm.b\n99\tm.z\n"


@pytest.fixture
def kg_dir(tmp_path: Path) -> Path:
    write(tmp_path / "kg" / "triples.tsv", KG)
    write(tmp_path / "kg" / "links.tsv", LINKS)
    return tmp_path / "kg"


def tiny_split() -> Split:
    """7 users with non-contiguous keys over 3 items with keys 10, 20, 30."""
    users = np.array([101, 205, 307, 400, 512, 633, 777])
    items = np.array([10, 20, 30])
    pairs = np.array([(u, i) for u in range(7) for i in range(3) if (u + i) % 4 != 0]).T
    return make_split(users, items, pairs, seed=7)


def test_inter_files_read_back_as_the_split(tmp_path: Path, kg_dir: Path) -> None:
    split = tiny_split()
    files = write_atomic(split, tmp_path / "out", dataset="tiny", kg_dir=kg_dir)
    back = read_interactions(files, split)
    for phase in ("train", "valid", "test"):
        assert np.array_equal(back[phase], getattr(split, phase)), phase
    assert sum(files.counts[f"{p}.inter"] for p in ("train", "valid", "test")) == 16


def test_tokens_are_original_keys_with_recbole_headers(tmp_path: Path, kg_dir: Path) -> None:
    split = tiny_split()
    files = write_atomic(split, tmp_path, dataset="tiny", kg_dir=kg_dir)
    lines = (files.folder / "tiny.train.inter").read_text().splitlines()
    assert lines[0] == "\t".join(INTER_HEADER)
    u, i = split.train[:, 0]
    assert lines[1] == f"{split.user_keys[u]}\t{split.item_keys[i]}"
    assert files.folder == tmp_path / "tiny"


def test_kg_copied_and_links_limited_to_split_items(tmp_path: Path, kg_dir: Path) -> None:
    files = write_atomic(tiny_split(), tmp_path, dataset="tiny", kg_dir=kg_dir)
    assert (files.folder / "tiny.kg").read_text() == KG
    assert (files.folder / "tiny.link").read_text().splitlines()[1:] == ["10\tm.a", "30\tm.b"]
    assert files.counts["kg"] == 2 and files.counts["link"] == 2


def test_wrong_kg_header_is_an_error(tmp_path: Path, kg_dir: Path) -> None:
    write(kg_dir / "triples.tsv", "head\trelation\ttail\nm.a\tr\tm.b\n")
    with pytest.raises(ValueError, match="triples.tsv: expected header"):
        write_atomic(tiny_split(), tmp_path, kg_dir=kg_dir)


def test_short_kg_row_names_the_line(tmp_path: Path, kg_dir: Path) -> None:
    write(kg_dir / "links.tsv", "item_id:token\tentity_id:token\n10\tm.a\n20\n")
    with pytest.raises(ValueError, match=r"links.tsv:3: expected 2 columns"):
        write_atomic(tiny_split(), tmp_path, kg_dir=kg_dir)


@pytest.mark.realdata
def test_real_split_round_trip(tmp_path: Path, data_dir: Path) -> None:
    raw = np.loadtxt(data_dir / "movielens-100k" / "u.data", dtype=np.int64, usecols=(0, 1))
    users, u_idx = np.unique(raw[:, 0], return_inverse=True)
    items, i_idx = np.unique(raw[:, 1], return_inverse=True)
    split = make_split(users, items, np.stack([u_idx, i_idx]), seed=2020)
    files = write_atomic(split, tmp_path, kg_dir=data_dir / KG_FOLDER)
    back = read_interactions(files, split)
    for phase in ("train", "valid", "test"):
        assert np.array_equal(back[phase], getattr(split, phase)), phase
    assert (split.num_users, split.num_items) == (943, 1682)
    assert sum(files.counts[f"{p}.inter"] for p in ("train", "valid", "test")) == 100_000
    assert files.counts["kg"] == 91_631
    assert files.counts["link"] == 1_598
