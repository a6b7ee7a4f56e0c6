"""Where the knowledge graph could help: held-out interactions by how often their item was seen in training.

    python -m bench.tail --dataset lastfm [--snapshot S] [--models kgrec-default,kgrec-no-kg,lightgcn-softmax] \
        [--seeds 2020] [--json bench/results/tail-lastfm.json] [--quick]

On a random split a held-out interaction can be of an item with no training
interaction at all (on Last.fm one validation listen in eight): collaborative
filtering cannot rank it, only content and the knowledge graph can. This
benchmark trains each model of ``bench/spaces.toml`` named in ``--models`` with
its fixed settings (``base``, no tuning; early stopping on validation) and
reads **validation only** (test is left to the leaderboard): every held-out
(user, item) pair gets its rank among all items the user has not interacted with
in training, and the pairs are grouped by the item's training degree (0, 1-5,
6-20, more). Per group: the share of pairs, and how many reach the user's top 10
and top 20. For the never-seen items also their rank among never-seen items
only, beside a random ranking's expected value: the knowledge graph may order
new items well and still not lift one above the known ones. ``--quick``: at most
3 epochs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.provenance import Stopwatch
from bench.spaces import load_spaces
from bench.tune import fit
from kgrec.learn.config import TrainConfig
from kgrec.learn.evaluator import tie_broken
from kgrec.learn.recommender import Recommender
from kgrec.learn.run import split_of
from kgrec.learn.split import Split
from kgrec.snapshot import GraphSnapshot

BUCKETS = ((0, 0), (1, 5), (6, 20), (21, None))
"""Training degree ranges of the held-out pairs' items (inclusive; ``None``: no upper bound)."""
MODELS = ("kgrec-default", "kgrec-no-kg", "lightgcn-softmax")
USERS_PER_BATCH = 256


def ranks(model: Recommender, split: Split, pairs: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """0-based rank of each ``(user, item)`` of ``pairs`` among the items unseen by its user in training, and
    among the never-trained items only (``-1`` for a pair whose item was trained); ties broken at random."""
    new = torch.as_tensor(train_degree(split) == 0)
    generator = torch.Generator().manual_seed(seed)
    history = _history(split)
    all_ranks = np.empty(pairs.shape[1], dtype=np.int64)
    new_ranks = np.full(pairs.shape[1], -1, dtype=np.int64)
    model.eval()
    with torch.no_grad():
        state = model.embed()
        users = np.unique(pairs[0])
        for start in range(0, len(users), USERS_PER_BATCH):
            batch = users[start : start + USERS_PER_BATCH]
            keys = tie_broken(model.score_users(state, torch.as_tensor(batch)), generator)
            for row, user in enumerate(batch):
                _rank_user(keys[row], history.get(int(user), []), new, pairs, int(user), all_ranks, new_ranks)
    return all_ranks, new_ranks


def _rank_user(
    keys: torch.Tensor, seen: list[int], new: torch.Tensor, pairs: np.ndarray, user: int,
    all_ranks: np.ndarray, new_ranks: np.ndarray,
) -> None:  # fmt: skip
    keys = keys.clone()
    keys[seen] = -torch.inf
    new_keys = keys[new]  # the never-trained items' keys, for this user's pairs of them
    for j in np.flatnonzero(pairs[0] == user):
        item = int(pairs[1, j])
        all_ranks[j] = int((keys > keys[item]).sum())
        if bool(new[item]):
            new_ranks[j] = int((new_keys > keys[item]).sum())


def _history(split: Split) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for user, item in split.train.T.tolist():
        out.setdefault(user, []).append(item)
    return out


def train_degree(split: Split) -> np.ndarray:
    """Each item's number of training interactions."""
    return np.bincount(split.train[1], minlength=split.num_items)


def summary(split: Split, pairs: np.ndarray, all_ranks: np.ndarray, new_ranks: np.ndarray) -> dict[str, Any]:
    """Per degree bucket: pairs, their share, top-10 and top-20 rates; for never-seen items the new-only ranking."""
    item_degree = train_degree(split)
    degree = item_degree[pairs[1]]
    out: dict[str, Any] = {"pairs": int(pairs.shape[1]), "buckets": {}}
    for low, high in BUCKETS:
        inside = (degree >= low) & (degree <= (high if high is not None else degree.max()))
        name = f"{low}" if low == high else f"{low}-{high}" if high is not None else f">{low - 1}"
        out["buckets"][name] = {
            "pairs": int(inside.sum()),
            "share": round(float(inside.mean()), 4),
            "in_top10": round(float((all_ranks[inside] < 10).mean()), 4) if inside.any() else None,
            "in_top20": round(float((all_ranks[inside] < 20).mean()), 4) if inside.any() else None,
        }
    new_count = int((item_degree == 0).sum())
    cold = new_ranks >= 0
    out["new_items"] = {
        "count": new_count,
        "median_rank_among_new": float(np.median(new_ranks[cold])) if cold.any() else None,
        "random_median": (new_count - 1) / 2,
        "in_new_top10": round(float((new_ranks[cold] < 10).mean()), 4) if cold.any() else None,
        "random_in_new_top10": round(min(1.0, 10 / max(new_count, 1)), 4),
    }
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every model and seed; the result (provenance included)."""
    clock, spaces = Stopwatch(), load_spaces()
    snapshot_path = args.snapshot or Path(spaces.dataset(args.dataset)["snapshot"])
    snapshot = GraphSnapshot.load(snapshot_path)
    split = split_of(snapshot, seed=2020)
    pairs = split.valid
    rows = []
    for name in args.models:
        base = spaces.base_config(spaces.models[name], args.dataset) | ({"epochs": 3} if args.quick else {})
        for seed in args.seeds:
            config = TrainConfig(**(base | {"seed": seed}))
            model, trained = fit(snapshot, split, config)
            all_ranks, new_ranks = ranks(model, split, pairs, seed)
            found = summary(split, pairs, all_ranks, new_ranks)
            rows.append({"model": name, "seed": seed, "valid": trained["valid"]} | found)
            print(_line(rows[-1]), file=sys.stderr, flush=True)
    return {
        "dataset": args.dataset,
        "phase": "valid",
        "quick": args.quick,
        "rows": rows,
        "provenance": clock.provenance(split_fingerprints={args.dataset: split.fingerprint()}),
    }


def _line(row: dict[str, Any]) -> str:
    parts = [f"{b}: {v['share']:.1%} of pairs, {v['in_top20'] or 0:.1%} in top 20" for b, v in row["buckets"].items()]
    new = row["new_items"]
    return (
        f"[{row['model']} seed {row['seed']}] valid ndcg@10 {row['valid']['ndcg@10']:.4f}; " + "; ".join(parts)
        + f"; new items: median rank among new {new['median_rank_among_new']} (random {new['random_median']})"
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, help="a catalogue of bench/spaces.toml")
    parser.add_argument("--snapshot", type=Path, help="default: the dataset's snapshot in bench/spaces.toml")
    parser.add_argument("--models", default=",".join(MODELS), help="model names of bench/spaces.toml")
    parser.add_argument("--seeds", default="2020", help="comma-separated seeds")
    parser.add_argument("--json", type=Path, help="default: bench/results/tail-<dataset>.json")
    parser.add_argument("--quick", action="store_true", help="at most 3 epochs: a smoke run")
    args = parser.parse_args(argv)
    args.models = [m for m in args.models.split(",") if m]
    args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    result = run(args)
    out = args.json or Path(f"bench/results/tail-{args.dataset}{'-quick' if args.quick else ''}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
