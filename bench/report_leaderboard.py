"""Markdown tables from ``bench/results/leaderboard.json``, one per catalogue, into a marked block of README.md.

    python -m bench.report_leaderboard [--leaderboard bench/results/leaderboard.json] [--readme README.md]

Replaces everything between ``<!-- leaderboard:begin -->`` and
``<!-- leaderboard:end -->`` in the README (the markers stay) and writes the
same text to ``leaderboard.md`` beside the leaderboard. Nothing else of the
README changes; the tables hold nothing that is not in the leaderboard.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from bench.leaderboard import LEADERBOARD
from bench.readme import add_arguments, publish

COLUMNS = ("model", "library", "trials", "seeds", "valid NDCG@10", "test NDCG@10", "Recall@20", "Hit@10", "MRR@10")


def _mean_sd(values: list[float]) -> str:
    arr = np.asarray(values, dtype=np.float64)
    sd = float(arr.std(ddof=1)) if len(arr) > 1 else 0.0
    return f"{arr.mean():.4f} ± {sd:.4f}"


def table(rows: list[dict[str, Any]]) -> str:
    """One Markdown table of a catalogue's rows, best mean valid NDCG@10 first; the default row in bold."""
    rows = sorted(rows, key=lambda r: -float(np.mean(r["valid"]["ndcg@10"])))
    lines = ["| " + " | ".join((*COLUMNS, "s/epoch", "peak RSS MiB")) + " |", "|" + "---|" * (len(COLUMNS) + 2)]
    for row in rows:
        name = f"**{row['model']}** (default)" if row.get("default") else row["model"]
        cells = [
            name,
            row["library"],
            str(row["trials"]),
            str(len(row["seeds"])),
            _mean_sd(row["valid"]["ndcg@10"]),
            *(_mean_sd(row["test"][m]) for m in ("ndcg@10", "recall@20", "hit@10", "mrr@10")),
            f"{row['s_per_epoch']:.2f}" if row.get("s_per_epoch") is not None else "-",
            f"{row['peak_rss_mb']:.0f}" if row.get("peak_rss_mb") is not None else "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render(rows: list[dict[str, Any]]) -> str:
    """Every catalogue's table with its commit, split fingerprint and the default row's paired test,
    then its ablation table when the run has ablation rows."""
    parts = []
    for dataset in sorted({r["dataset"] for r in rows}):
        mine = [r for r in rows if r["dataset"] == dataset and not r.get("ablation")]
        head = mine[0]
        parts.append(
            f"#### {dataset} (commit `{head['commit'][:10]}`, split `{head['split_fingerprint'][:12]}`; "
            "mean ± sd over seeds; chosen on validation, test read once per seed)\n\n" + table(mine)
        )
        parts += [_test_line(row) for row in mine if row.get("paired_test")]
        parts += _notes(mine)
        ablations = [r for r in rows if r["dataset"] == dataset and r.get("ablation")]
        if ablations:
            parts.append(ablation_table(dataset, [r for r in mine if r.get("default")], ablations))
    return "\n\n".join(parts) + "\n"


def _test_line(row: dict[str, Any]) -> str:
    test = row["paired_test"]
    if "p" not in test:
        return f"Paired test of {row['model']}: {test.get('note', 'not run')}."
    return (
        f"Wilcoxon signed-rank, {row['model']} vs {test['against']} ({test['metric']}): "
        f"p = {test['p']:.3g} over {test['pairs']} users ({test['nonzero']} non-zero differences)."
    )


def ablation_table(dataset: str, defaults: list[dict[str, Any]], ablations: list[dict[str, Any]]) -> str:
    """kgrec's default beside each variant without one part: valid and test, the change, its paired test."""
    base = float(np.mean(defaults[0]["test"]["ndcg@10"])) if defaults else None
    lines = [
        f"##### {dataset}: what each part adds (kgrec's default without it; same seeds, no tuning)",
        "",
        "| variant | left out | valid NDCG@10 | test NDCG@10 | Recall@20 | Δ test NDCG@10 | paired p |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in [*defaults, *sorted(ablations, key=lambda r: -float(np.mean(r["valid"]["ndcg@10"])))]:
        mean = float(np.mean(row["test"]["ndcg@10"]))
        delta = "-" if base is None or row.get("default") else f"{mean - base:+.4f}"
        test = row.get("paired_test", {})
        p = f"{test['p']:.3g}" if row.get("ablation") and "p" in test else "-"
        cells = [
            row["model"],
            row.get("ablation", "nothing (the default)"),
            _mean_sd(row["valid"]["ndcg@10"]),
            _mean_sd(row["test"]["ndcg@10"]),
            _mean_sd(row["test"]["recall@20"]),
            delta,
            p,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _notes(rows: list[dict[str, Any]]) -> list[str]:
    """Per library, the defaults it runs with changed by the protocol (rows' ``notes``), once each."""
    out = []
    for library in sorted({r["library"] for r in rows if r.get("notes")}):
        notes = dict.fromkeys(n for r in rows if r["library"] == library for n in r.get("notes", []))
        out.append(f"{library} settings changed from its defaults (every {library} row):\n\n" + "\n".join(
            f"- {note}" for note in notes
        ))  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaderboard", type=Path, default=LEADERBOARD)
    add_arguments(parser, "write leaderboard.md only")
    args = parser.parse_args(argv)
    rows = json.loads(args.leaderboard.read_text(encoding="utf-8"))
    block = render(rows)
    args.leaderboard.with_suffix(".md").write_text(block, encoding="utf-8")
    publish(parser, args, "leaderboard", block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
