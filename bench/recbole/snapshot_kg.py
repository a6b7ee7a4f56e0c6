"""Export the knowledge graph kgrec trains on, from its snapshot, as RecBole ``.kg`` and ``.link`` files.

Every relationship of the snapshot that does not start or end at a user becomes
``.kg`` triples (every source: Freebase, DBpedia, Satori, tags, item-item
links), with entity tokens ``<Type>:<key>`` and relation tokens
``<Src>.<REL>.<Dst>``; every item with an interaction in the split is linked
to its own entity ``Item:<key>`` in ``.link``. User-side relationships (e.g.
Last.fm friends) and item modality vectors (text) have no place in RecBole's
knowledge graph format and are left out: that difference is stated beside
every KG peer in the tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from bench.recbole.atomic import KG_HEADER, LINK_HEADER, _write_tsv
from kgrec.learn.data import interaction_type
from kgrec.learn.split import Split
from kgrec.snapshot import GraphSnapshot


def kg_triples(snapshot: GraphSnapshot) -> Iterator[tuple[str, str, str]]:
    """``(head, relation, tail)`` tokens of every non-user relationship, in the snapshot's edge order."""
    user_type = interaction_type(snapshot)[0]
    for (src, rel, dst), edges in sorted(snapshot.edges.items()):
        if user_type in (src, dst):
            continue
        heads, tails = _tokens(snapshot, src), _tokens(snapshot, dst)
        relation = f"{src}.{rel}.{dst}"
        for h, t in np.asarray(edges, dtype=np.int64).T:
            yield heads[h], relation, tails[t]


def write_snapshot_kg(snapshot: GraphSnapshot, split: Split, folder: Path, dataset: str) -> dict[str, int]:
    """Write ``<dataset>.kg`` and ``<dataset>.link`` into ``folder``; return the row counts.

    Raises:
        ValueError: An item of the split is not an item of the snapshot.
    """
    item_type = interaction_type(snapshot)[2]
    known = {str(k) for k in snapshot.node_keys[item_type]}
    missing = [str(k) for k in split.item_keys if str(k) not in known]
    if missing:
        raise ValueError(f"{len(missing)} items of the split are not in the snapshot (first: {missing[0]!r})")
    counts = {"kg": _write_tsv(folder / f"{dataset}.kg", KG_HEADER, kg_triples(snapshot))}
    links = ((str(k), f"{item_type}:{k}") for k in split.item_keys)
    counts["link"] = _write_tsv(folder / f"{dataset}.link", LINK_HEADER, links)
    return counts


def _tokens(snapshot: GraphSnapshot, node_type: str) -> list[str]:
    return [f"{node_type}:{k}" for k in snapshot.node_keys[node_type]]
