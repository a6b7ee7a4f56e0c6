"""Why LightGCN, which knows nothing of never-seen items, ranked them above chance: a rerun and a look.

    python -m bench.cold_lightgcn [--snapshot runs/snapshot.npz] [--out /tmp/cold-lightgcn] \
        [--json bench/results/cold-lightgcn.json]

Trains ``bench.learn``'s ``cold-lightgcn`` case (LightGCN, 2 layers, the old shared
settings) on the cold-start split (10% of the items held out entirely) through
:func:`kgrec.learn.run.train_run`, or reads the bundle already in ``--out``. It
then ranks each user's held-out items among the cold items only, three ways:
kgrec's evaluator (ties broken at random, five tie seeds), ties by ascending
item id (what the old ``torch.topk`` evaluator was said to do) and the expected value of a random
ranking; and reports how many cold-item scores are tied, how far the users' cold
rankings are one shared order, and what one random order shared by every user scores.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bench.learn_cases import BY_NAME, COMMON
from bench.recbole.protocol import ScoreMatrix
from kgrec.learn.config import TrainConfig
from kgrec.learn.evaluator import Evaluator
from kgrec.learn.metrics import chance_ndcg_at_k, ndcg_at_k
from kgrec.learn.run import split_of, train_run
from kgrec.learn.split import Split
from kgrec.snapshot import GraphSnapshot


def scores_of(bundle: Path, split: Split) -> np.ndarray:
    """User x item scores (dot products of the bundle's final vectors) on the split's dense ids."""
    with np.load(bundle / "embeddings.npz", allow_pickle=True) as npz:
        users = _align(npz["User.keys"], split.user_keys, npz["User.vectors"])
        items = _align(npz["Item.keys"], split.item_keys, npz["Item.vectors"])
    return (users @ items.T).astype(np.float32)


def _align(keys: np.ndarray, wanted: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    index = {str(k): i for i, k in enumerate(keys)}
    return vectors[[index[str(k)] for k in wanted]]


def old_rule(scores: np.ndarray, split: Split, k: int = 10) -> float:
    """Cold-only NDCG@k on the raw scores with ties in ascending item id (what the old evaluator was said to do)."""
    cold = split.cold_items
    users = np.unique(split.cold_test[0])
    relevant = np.zeros((split.num_users, split.num_items), dtype=bool)
    relevant[split.cold_test[0], split.cold_test[1]] = True
    top = np.argsort(-scores[np.ix_(users, cold)], axis=1, kind="stable")[:, :k]
    hits = np.take_along_axis(relevant[np.ix_(users, cold)], top, axis=1)
    return float(ndcg_at_k(hits, relevant[users].sum(axis=1), k).mean())


def tie_report(scores: np.ndarray, split: Split) -> dict[str, float]:
    """Share of (user, cold item) scores equal to another cold item's score of that user; spread of cold scores."""
    sub = scores[np.ix_(np.unique(split.cold_test[0]), split.cold_items)]
    tied = [1.0 - len(np.unique(row)) / len(row) for row in sub]
    warm = np.setdiff1d(np.arange(split.num_items), split.cold_items)
    return {
        "tied_share_mean": float(np.mean(tied)),
        "cold_score_sd_within_user_mean": float(sub.std(axis=1).mean()),
        "warm_score_sd_within_user_mean": float(scores[:, warm].std(axis=1).mean()),
    }


def shared_order(scores: np.ndarray, split: Split, draws: int = 2000, seed: int = 0) -> dict[str, float]:
    """How much the users' cold rankings are one shared order, and what a random shared order scores.

    Returns the mean per-user Spearman correlation between a user's cold-item scores and the
    mean over users, the popularity (held-out interactions) of the top-10 of that shared order,
    and the mean, sd and 95th percentile of cold-only NDCG@10 when ONE uniformly random order of
    the cold items is given to every user (``draws`` draws).
    """
    from scipy.stats import spearmanr

    users, cold = np.unique(split.cold_test[0]), split.cold_items
    sub = scores[np.ix_(users, cold)]
    shared = sub.mean(axis=0)
    relevant = np.zeros((split.num_users, split.num_items), dtype=bool)
    relevant[split.cold_test[0], split.cold_test[1]] = True
    rel = relevant[np.ix_(users, cold)]
    n_pos, rng = rel.sum(axis=1), np.random.default_rng(seed)
    values = np.array([ndcg_at_k(rel[:, rng.permutation(len(cold))[:10]], n_pos, 10).mean() for _ in range(draws)])
    popularity = rel.sum(axis=0)
    return {
        "per_user_spearman_with_shared_order_mean": float(np.mean([spearmanr(r, shared).statistic for r in sub])),
        "shared_top10_popularity": popularity[np.argsort(-shared)[:10]].tolist(),
        "cold_popularity_max_median": [int(popularity.max()), float(np.median(popularity))],
        "random_shared_order_ndcg@10_mean_sd_p95": [
            float(values.mean()),
            float(values.std()),
            float(np.quantile(values, 0.95)),
        ],
    }


def measure(bundle: Path, split: Split) -> dict[str, Any]:
    """Everything the module docstring lists, as one dict."""
    scores = scores_of(bundle, split)
    random_ties = [
        float(Evaluator(split, seed=s).per_user(ScoreMatrix(scores), "cold")["cold_only/ndcg@10"].mean())  # type: ignore[arg-type]
        for s in range(5)
    ]
    users, n_pos = np.unique(split.cold_test[0], return_counts=True)
    return {
        "cold_items": int(len(split.cold_items)),
        "users": int(len(users)),
        "cold_only_ndcg@10": {
            "random_ties_5_seeds": random_ties,
            "ascending_id_ties_old_rule": old_rule(scores, split),
            "chance": float(chance_ndcg_at_k(n_pos, len(split.cold_items), 10).mean()),
        },
        "ties": tie_report(scores, split),
        "shared_order": shared_order(scores, split),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=Path, default=Path("runs/snapshot.npz"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/cold-lightgcn"))
    parser.add_argument("--json", type=Path, default=None, help="also write the figures there")
    args = parser.parse_args(argv)
    snapshot = GraphSnapshot.load(args.snapshot)
    split = split_of(snapshot, seed=2020, cold_item_share=0.1)
    if not (args.out / "bundle.json").exists():
        config = TrainConfig(**{**COMMON, **BY_NAME["lightgcn"].settings})
        print("training cold-lightgcn ...", file=sys.stderr, flush=True)
        train_run(snapshot, config, args.out, split=split)
    found = measure(args.out, Split.load(args.out / "split.npz"))
    text = json.dumps(found, indent=1)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
