"""One Markdown table of RecBole's and kgrec's results on the same split, with verdict lines.

Reads the per-model JSON files that ``run_recbole.py`` wrote and, when given, a
kgrec results JSON of the form::

    {"models": {"<name>": {"test": {"ndcg@10": ..., "recall@20": ...}, "epoch_seconds": ...}}}

Runs in kgrec's environment; needs only the standard library.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

METRICS = ("recall@10", "recall@20", "ndcg@10", "ndcg@20", "hit@10", "hit@20", "mrr@10")
HEADERS = ("Recall@10", "Recall@20", "NDCG@10", "NDCG@20", "Hit@10", "Hit@20", "MRR@10")
GOAL_METRICS = ("ndcg@10", "recall@20")
TIME_REFERENCE = "KGAT"


@dataclass(frozen=True, slots=True)
class Row:
    """One model's test metrics and median seconds per training epoch.

    Args:
        model: Model name.
        library: ``"kgrec"`` or ``"RecBole"``.
        test: Test metrics keyed like ``"ndcg@10"``.
        epoch_seconds: Median wall seconds of one training epoch (``None`` when unknown).
        note: Free text (epochs run, early stopping).
    """

    model: str
    library: str
    test: Mapping[str, float]
    epoch_seconds: float | None = None
    note: str = field(default="")


def load_recbole(paths: Iterable[Path]) -> list[Row]:
    """Rows from ``run_recbole.py`` result files, in the given order."""
    rows = []
    for path in paths:
        doc = json.loads(Path(path).read_text())
        stopped = doc.get("stopped_by") or ("early stopping" if doc.get("early_stopped") else "epoch cap")
        note = f"{doc.get('epochs_run')}/{doc.get('epochs_max')} epochs, {stopped}, best epoch {doc.get('best_epoch')}"
        rows.append(Row(doc["model"], "RecBole", _lower(doc["test"]), doc.get("epoch_seconds"), note))
    return rows


def load_kgrec(path: Path) -> list[Row]:
    """Rows from a kgrec results JSON (``{"models": {name: {"test": ..., "epoch_seconds": ...}}}``).

    Raises:
        ValueError: The file has no ``models`` mapping.
    """
    doc = json.loads(Path(path).read_text())
    models = doc.get("models")
    if not isinstance(models, dict):
        raise ValueError(f"{path}: expected a 'models' mapping of model name to results")
    return [
        Row(name, _library(name, m), _lower(m["test"]), m.get("epoch_seconds"), m.get("note", ""))
        for name, m in models.items()
    ]


def _library(name: str, doc: Mapping[str, Any]) -> str:
    """``kgrec`` for kgrec's own model; ``kgrec harness`` for baselines re-implemented in kgrec's harness."""
    kind = doc.get("kind") or ("kgrec" if name.startswith("kgrec") else "baseline")
    return "kgrec" if kind == "kgrec" else "kgrec harness"


def table(rows: Iterable[Row]) -> str:
    """The Markdown table: model | library | the seven metrics | s/epoch."""
    head = ("model", "library", *HEADERS, "s/epoch")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * (len(HEADERS) + 1)]
    for r in rows:
        cells = [r.model, r.library, *(_num(r.test.get(m), 4) for m in METRICS), _num(r.epoch_seconds, 2)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


DEFAULT_MODEL = "kgrec-text"
"""The configuration ``configs/train.toml`` ships: judged on its own beside the best one."""


def verdicts(kgrec: list[Row], recbole: list[Row], *, default: str | None = DEFAULT_MODEL) -> list[str]:
    """Goal lines: kgrec's best beats every RecBole model on NDCG@10 and Recall@20; faster per epoch than KGAT.

    The same lines follow for kgrec's ``default`` configuration when it is not the best one,
    so that a win by an ablation (say, interactions only) is not read as the shipped model's.
    """
    if not kgrec:
        return ["kgrec results missing: RecBole rows only, no verdict."]
    if not recbole:
        return ["RecBole results missing: no verdict."]
    own = [r for r in kgrec if r.library == "kgrec"] or kgrec
    best = max(own, key=lambda r: r.test.get("ndcg@10", float("-inf")))
    out = [f"kgrec best configuration (by test NDCG@10): {best.model}"]
    cut = [r.model for r in recbole if "time budget" in r.note]
    if cut:
        out.append(
            f"CAUTION: RecBole {', '.join(cut)} stopped on a time budget before converging; "
            "metric verdicts against them are not established."
        )
    out += _goal_lines(best, recbole)
    shipped = next((r for r in own if r.model == default), None)
    if shipped is not None and shipped is not best:
        out.append(f"kgrec default configuration (configs/train.toml): {shipped.model}")
        out += _goal_lines(shipped, recbole)
    return out


def _goal_lines(mine: Row, recbole: list[Row]) -> list[str]:
    out = []
    for metric in GOAL_METRICS:
        top = max(recbole, key=lambda r: r.test.get(metric, float("-inf")))
        ours, theirs = mine.test.get(metric), top.test.get(metric)
        ok = ours is not None and theirs is not None and ours > theirs
        out.append(
            f"{_verdict(ok)} {metric}: kgrec {mine.model} {_num(ours, 4)} vs best RecBole "
            f"{top.model} {_num(theirs, 4)} ({_rel(ours, theirs)})"
        )
    return [*out, _time_verdict(mine, recbole)]


def render(kgrec: list[Row], recbole: list[Row]) -> str:
    """The whole report: table, then verdict lines, then per-row notes."""
    parts = [table([*kgrec, *recbole]), "", *(f"- {v}" for v in verdicts(kgrec, recbole))]
    notes = [f"- {r.library} {r.model}: {r.note}" for r in [*kgrec, *recbole] if r.note]
    return "\n".join(parts + ([""] + notes if notes else [])) + "\n"


def write_report(out: Path, kgrec: list[Row], recbole: list[Row]) -> str:
    """Render the report, write it to ``out`` (Markdown) and return it."""
    text = render(kgrec, recbole)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return text


def _time_verdict(best: Row, recbole: list[Row]) -> str:
    ref = next((r for r in recbole if r.model == TIME_REFERENCE), None)
    if ref is None or ref.epoch_seconds is None or best.epoch_seconds is None:
        return f"UNKNOWN s/epoch: no {TIME_REFERENCE} or kgrec epoch time to compare"
    ok = best.epoch_seconds < ref.epoch_seconds
    return (
        f"{_verdict(ok)} s/epoch: kgrec {best.model} {best.epoch_seconds:.2f} s vs RecBole "
        f"{TIME_REFERENCE} {ref.epoch_seconds:.2f} s"
    )


def _lower(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {str(k).lower(): float(v) for k, v in metrics.items()}


def _verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def _rel(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{(a / b - 1) * 100:+.1f}%"


def _num(v: float | None, digits: int) -> str:
    return "-" if v is None else f"{v:.{digits}f}"
