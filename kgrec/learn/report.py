"""The training report: curves as PNG, metrics as JSON, tables as Markdown."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kgrec.learn.trainer import TrainResult

METRICS = ("recall@10", "recall@20", "ndcg@10", "ndcg@20", "hit@10", "hit@20", "mrr@10")


def write_report(out: Path, result: TrainResult, meta: Mapping[str, Any]) -> None:
    """Write ``history.json``, ``metrics.json`` and ``curves.png`` into ``out``."""
    (out / "history.json").write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
    (out / "metrics.json").write_text(json.dumps(meta["metrics"], indent=2), encoding="utf-8")
    if any(e.seconds > 0 for e in result.history):
        plot_curves(result, out / "curves.png")


def plot_curves(result: TrainResult, path: Path, *, title: str = "training") -> Path:
    """Training loss and validation NDCG@10 / Recall@20 per epoch, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [e.epoch + 1 for e in result.history]
    valid = [(e.epoch + 1, e.valid) for e in result.history if e.valid]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.plot(epochs, [e.loss for e in result.history], color="tab:blue")
    left.set(xlabel="epoch", ylabel="training loss", title=f"{title}: loss")
    for key, colour in (("ndcg@10", "tab:green"), ("recall@20", "tab:orange")):
        right.plot([x for x, _ in valid], [v[key] for _, v in valid], label=f"valid {key}", color=colour)
    if result.best_epoch >= 0:
        right.axvline(result.best_epoch + 1, color="grey", linestyle=":", label="best epoch")
    right.set(xlabel="epoch", title=f"{title}: validation")
    right.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, digits: int = 4) -> str:
    """A Markdown table of ``rows`` (dicts) over ``columns``; floats rounded."""
    head = "| " + " | ".join(columns) + " |"
    text = [all(isinstance(r.get(c), str) or r.get(c) is None for r in rows) for c in columns]
    rule = "|" + "|".join("---" if t else "---:" for t in text) + "|"
    body = ["| " + " | ".join(_cell(r.get(c), digits) for c in columns) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def _cell(v: Any, digits: int) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)
