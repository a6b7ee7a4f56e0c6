"""How far new items get into a top-10 among rated ones, and what it costs the rated ones.

The cold-start split's "all items" metrics rank a user's never-rated items among
every item, so a model can raise them just by pushing new items up, at the
expense of the known items a user would also pick. This table reads both sides
for one trained cold-start model and a range of new-item map strengths
(:class:`kgrec.learn.new_items.NewItemMap`, fitted after training, no retraining):

* new items ranked among all items (NDCG@10, Hit@10, share of top-10 slots);
* new items ranked among themselves (``cold_only``);
* warm test items ranked among all items, new ones included (the cost).

Used by ``python -m bench.learn`` (``bench.learn_cases.TRADEOFF_CASES``); rows are kept in
``kgrec-results.json`` so ``--report-only`` can redraw the table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from kgrec.learn.bundle import load_bundle
from kgrec.learn.config import TrainConfig
from kgrec.learn.evaluator import Evaluator, tie_broken
from kgrec.learn.factory import build_model, training_graph
from kgrec.learn.kgrec_model import KGRecModel
from kgrec.learn.report import markdown_table
from kgrec.snapshot import GraphSnapshot

RIDGES = (0.0, 3000.0, 1000.0, 300.0, 100.0, 30.0)
"""Map strengths measured (0: no map)."""
COLUMNS = (
    "model",
    "ridge",
    "new: ndcg@10",
    "new: hit@10",
    "new: top-10 share",
    "new among new: ndcg@10",
    "warm: ndcg@10",
    "warm change",
)


def tradeoff(snapshot: GraphSnapshot, bundle_dir: Path, ridges: tuple[float, ...] = RIDGES) -> list[dict[str, Any]]:
    """One row per map strength for the cold-start model in ``bundle_dir``."""
    bundle = load_bundle(bundle_dir)
    evaluator = Evaluator(bundle.split)
    rows, base = [], None
    for ridge in ridges:
        model = _with_map(bundle, snapshot, ridge)
        with torch.no_grad():
            state = model.embed()
        cold, warm = evaluator.evaluate(model, "cold", state), evaluator.evaluate(model, "test", state)
        base = warm["ndcg@10"] if base is None else base
        rows.append(
            {
                "ridge": "no map" if ridge == 0 else f"{ridge:g}",
                "new: ndcg@10": cold["ndcg@10"],
                "new: hit@10": cold["hit@10"],
                "new: top-10 share": _new_share_of_top10(model, state, bundle.split),
                "new among new: ndcg@10": cold["cold_only/ndcg@10"],
                "warm: ndcg@10": warm["ndcg@10"],
                "warm change": f"{(warm['ndcg@10'] / base - 1) * 100:+.1f}%",
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The Markdown section (rows carry the model's name under ``model``)."""
    head = "### New items in a top-10 among rated ones (cold-start split, new-item map fitted after training)"
    return head + "\n\n" + markdown_table(rows, list(COLUMNS))


def _with_map(bundle: Any, snapshot: GraphSnapshot, ridge: float) -> KGRecModel:
    config = TrainConfig(**{**bundle.config.model_dump(), "new_item_ridge": ridge})
    model = build_model(config, bundle.split, training_graph(snapshot, bundle.split, config))
    missing, unexpected = model.load_state_dict(bundle.model.state_dict(), strict=False)
    if unexpected or any(not k.startswith("new_items.") for k in missing):
        raise RuntimeError(f"{bundle.path}: weights do not fit (missing {missing}, unexpected {unexpected})")
    assert isinstance(model, KGRecModel)
    model.eval()
    if ridge > 0:
        model.fit_new_items(seed=config.seed)
    return model


def _new_share_of_top10(model: KGRecModel, state: Any, split: Any) -> float:
    """Share of the users' top-10 slots (train and validation items masked) held by never-rated items."""
    with torch.no_grad():
        scores = model.score_users(state, torch.arange(split.num_users))
    seen = np.concatenate([split.train, split.valid], axis=1)
    scores[torch.as_tensor(seen[0]), torch.as_tensor(seen[1])] = -torch.inf
    top = tie_broken(scores, torch.Generator().manual_seed(split.seed)).topk(10, dim=1).indices.numpy()
    new = np.zeros(split.num_items, dtype=bool)
    new[split.cold_items] = True
    return float(new[top].mean())


def plot(rows: list[dict[str, Any]], path: Path) -> Path:
    """Known items' NDCG@10 against new items' Hit@10, one line per model through its ridges."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for name in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == name]
        xs, ys = [r["new: hit@10"] for r in mine], [r["warm: ndcg@10"] for r in mine]
        ax.plot(xs, ys, "o-", label=name)
        for r, x, y in zip(mine, xs, ys):
            ax.annotate(r["ridge"], (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set(
        xlabel="new items: Hit@10 among all items",
        ylabel="known items: test NDCG@10",
        title="New-item map: showing new items vs ranking known ones",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
