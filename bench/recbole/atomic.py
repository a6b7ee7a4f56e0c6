"""Export a kgrec :class:`~kgrec.learn.split.Split` as RecBole benchmark atomic files.

RecBole reads a pre-split dataset from ``<dir>/<ds>.train.inter``,
``<ds>.valid.inter`` and ``<ds>.test.inter`` (config ``benchmark_filename``),
its knowledge graph from ``<ds>.kg`` and the item-entity links from
``<ds>.link``. Tokens are the ORIGINAL keys (MovieLens ids), so the files read
the same as RecBole's own ml-100k and the KG links match without remapping.
Runs in kgrec's environment (numpy only, no RecBole import).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kgrec.learn.split import Split

DATASET = "ml-100k-kgrec"
PHASES = ("train", "valid", "test")
INTER_HEADER = ("user_id:token", "item_id:token")
KG_HEADER = ("head_id:token", "relation_id:token", "tail_id:token")
LINK_HEADER = ("item_id:token", "entity_id:token")
KG_FOLDER = "movielens-100k-freebase"


@dataclass(frozen=True, slots=True)
class AtomicFiles:
    """What :func:`write_atomic` wrote.

    Args:
        folder: The dataset folder (RecBole's ``data_path`` joined with the dataset name).
        dataset: The dataset name (file stem).
        counts: Rows written per file suffix (``train.inter``, ..., ``kg``, ``link``).
    """

    folder: Path
    dataset: str
    counts: dict[str, int]


def default_data_dir() -> Path:
    """The dataset mirror: ``KGREC_DATA_DIR``, else ``../shared/recsys-data`` beside the checkout (as the
    Makefile does), else kgrec's own data folder."""
    from kgrec.data import resolve_data_dir
    from kgrec.settings import load_settings

    settings = load_settings()
    beside = Path(__file__).resolve().parents[3] / "shared" / "recsys-data"
    if settings.data_dir is None and (beside / "movielens-100k" / "u.data").is_file():
        return beside
    return resolve_data_dir(settings)


def write_atomic(
    split: Split,
    out_dir: Path | str,
    *,
    dataset: str = DATASET,
    kg_dir: Path | str | None = None,
    inter_only: bool = False,
) -> AtomicFiles:
    """Write ``split`` and the Freebase KG as RecBole benchmark files under ``out_dir/dataset``.

    Args:
        split: The split to export (dense ids are written as their original keys).
        out_dir: RecBole's ``data_path``; the files go to ``out_dir/<dataset>/``.
        dataset: Dataset name and file stem (default: ``"ml-100k-kgrec"``).
        kg_dir: Folder with ``triples.tsv`` and ``links.tsv`` in RecBole's headers
            (default: ``movielens-100k-freebase`` in :func:`default_data_dir`).
        inter_only: Write the ``.inter`` files only (the KG comes from elsewhere, e.g. a snapshot).

    Raises:
        ValueError: A KG file does not have the expected header or column count.
    """
    folder = Path(out_dir) / dataset
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for phase in PHASES:
        rows = _inter_rows(split, getattr(split, phase))
        counts[f"{phase}.inter"] = _write_tsv(folder / f"{dataset}.{phase}.inter", INTER_HEADER, rows)
    if inter_only:
        return AtomicFiles(folder=folder, dataset=dataset, counts=counts)
    kg = Path(kg_dir) if kg_dir is not None else default_data_dir() / KG_FOLDER
    counts["kg"] = _write_tsv(folder / f"{dataset}.kg", KG_HEADER, _read_tsv(kg / "triples.tsv", KG_HEADER))
    items = {str(k) for k in split.item_keys}
    links = (row for row in _read_tsv(kg / "links.tsv", LINK_HEADER) if row[0] in items)
    counts["link"] = _write_tsv(folder / f"{dataset}.link", LINK_HEADER, links)
    return AtomicFiles(folder=folder, dataset=dataset, counts=counts)


def read_interactions(files: AtomicFiles, split_keys: Split) -> dict[str, np.ndarray]:
    """Read the ``.inter`` files back as ``(2, E)`` dense-id arrays per phase.

    Args:
        files: What :func:`write_atomic` returned.
        split_keys: A split whose ``user_keys``/``item_keys`` map tokens back to dense ids.

    Raises:
        KeyError: A token is not a key of ``split_keys``.
    """
    users = {str(k): i for i, k in enumerate(split_keys.user_keys)}
    items = {str(k): i for i, k in enumerate(split_keys.item_keys)}
    out = {}
    for phase in PHASES:
        rows = list(_read_tsv(files.folder / f"{files.dataset}.{phase}.inter", INTER_HEADER))
        pairs = [(users[u], items[i]) for u, i in rows]
        out[phase] = np.asarray(pairs, dtype=np.int64).reshape(-1, 2).T
    return out


def _inter_rows(split: Split, edges: np.ndarray) -> Iterator[tuple[str, str]]:
    user_tokens = [str(k) for k in split.user_keys]
    item_tokens = [str(k) for k in split.item_keys]
    for u, i in np.asarray(edges, dtype=np.int64).T:
        yield user_tokens[u], item_tokens[i]


def _write_tsv(path: Path, header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> int:
    """Write a tab-separated file with ``header`` (replaced atomically); return the row count."""
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8", newline="") as f:
        f.write("\t".join(header) + "\n")
        for row in rows:
            if any(("\t" in v or "\n" in v) for v in row):
                raise ValueError(f"{path.name}: token with a tab or newline in {row!r}")
            f.write("\t".join(row) + "\n")
            n += 1
    os.replace(tmp, path)
    return n


def _read_tsv(path: Path, header: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """Rows of a tab-separated atomic file whose first line must be ``header``."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        first = next(reader, None)
        if first is None or tuple(first) != header:
            raise ValueError(f"{path}: expected header {header!r}, got {first!r}")
        for line_no, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise ValueError(f"{path}:{line_no}: expected {len(header)} columns, got {len(row)}: {row!r}")
            yield tuple(row)
