"""The machine-readable leaderboard, ``bench/results/leaderboard.json``, from result files of ONE commit.

A result file (one benchmark run, e.g. ``bench.tune`` on one catalogue or
``bench.recbole``) holds ``{"provenance": {...}, "dataset": ..., "rows": [...]}``.
Its rows already have the leaderboard's form (:data:`ROW_KEYS`); this module
checks them, refuses to combine files whose commits or (per dataset) split
fingerprints differ, adds the paired test of kgrec's default against the best
peer, and writes the list::

    python -m bench.leaderboard RESULT.json [RESULT.json ...] [--out bench/results/leaderboard.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from kgrec.errors import KgrecError

ROW_KEYS = (
    "dataset",
    "model",
    "library",
    "config",
    "selected_on",
    "trials",
    "seeds",
    "valid",
    "test",
    "s_per_epoch",
    "peak_rss_mb",
    "commit",
    "split_fingerprint",
)
TEST_METRICS = ("ndcg@10", "recall@20", "hit@10", "mrr@10")
PROVENANCE_KEYS = ("commit", "dirty", "date", "wall_seconds", "load_average_1min", "machine", "versions")
LEADERBOARD = Path(__file__).parent / "results" / "leaderboard.json"


class LeaderboardError(KgrecError):
    """A result file is malformed, or results that must not be combined were given together."""


def check_row(row: dict[str, Any], where: str) -> None:
    """Raise :class:`LeaderboardError` unless ``row`` has every key of the schema, per-seed lists included."""
    missing = [k for k in ROW_KEYS if k not in row]
    if missing:
        raise LeaderboardError(f"{where}: row {row.get('model')!r} lacks {', '.join(missing)}")
    if row["selected_on"] != "valid":
        raise LeaderboardError(f"{where}: row {row['model']!r} was selected on {row['selected_on']!r}, not 'valid'")
    seeds = len(row["seeds"])
    for part, metrics in (("valid", ("ndcg@10",)), ("test", TEST_METRICS)):
        for metric in metrics:
            values = row[part].get(metric)
            if not isinstance(values, list) or len(values) != seeds:
                raise LeaderboardError(f"{where}: row {row['model']!r}: {part}.{metric} must list one value per seed")


def load_result(path: Path) -> dict[str, Any]:
    """Read and check one result file (provenance block and rows)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise LeaderboardError(f"{path}: {e}") from e
    missing = [k for k in PROVENANCE_KEYS if k not in data.get("provenance", {})]
    if missing:
        raise LeaderboardError(f"{path}: provenance lacks {', '.join(missing)}")
    for row in data.get("rows", []):
        check_row(row, str(path))
    return data


def combine(results: dict[Path, dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of all results, after checking they come from one commit and one split per dataset.

    Raises:
        LeaderboardError: Two results of different commits, or of different splits of one dataset.
    """
    commits = {str(p): r["provenance"]["commit"] for p, r in results.items()}
    if len(set(commits.values())) > 1:
        raise LeaderboardError(f"refusing to merge results of different commits: {commits}")
    for path, result in results.items():
        _check_stamps(path, result)
    splits: dict[str, set[str]] = {}
    rows = [row for result in results.values() for row in result["rows"]]
    for row in rows:
        splits.setdefault(row["dataset"], set()).add(row["split_fingerprint"])
    mixed = {d: sorted(s) for d, s in splits.items() if len(s) > 1}
    if mixed:
        raise LeaderboardError(f"refusing to merge results on different splits of one dataset: {mixed}")
    return rows


def _check_stamps(path: Path, result: dict[str, Any]) -> None:
    """Every row must name the commit and split its file's provenance names (no re-stamped old rows)."""
    provenance = result["provenance"]
    splits = provenance.get("split_fingerprints", {})
    for row in result["rows"]:
        if row["commit"] != provenance["commit"]:
            raise LeaderboardError(
                f"{path}: row {row['model']!r} is of commit {row['commit']}, its file of {provenance['commit']}"
            )
        if row["dataset"] in splits and splits[row["dataset"]] != row["split_fingerprint"]:
            raise LeaderboardError(f"{path}: row {row['model']!r} names another split than its file's provenance")


def wilcoxon(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Two-sided Wilcoxon signed-rank test of paired samples (zero differences dropped, scipy's default)."""
    from scipy.stats import wilcoxon as scipy_wilcoxon

    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if not np.any(diff):
        return {"statistic": 0.0, "p": 1.0, "pairs": int(len(diff)), "nonzero": 0}
    res = scipy_wilcoxon(diff)
    nonzero = int(np.count_nonzero(diff))
    return {"statistic": float(res.statistic), "p": float(res.pvalue), "pairs": len(diff), "nonzero": nonzero}


def paired_tests(rows: list[dict[str, Any]], folders: dict[tuple[str, str, str], Path]) -> None:
    """Add ``paired_test`` to every default row: kgrec's default against the best peer by mean valid NDCG@10;
    and to every ablation row: the ablation against the default (what the part it leaves out adds).

    The peer is the best row of another library or model family (not ``kgrec*``) that stored
    per-user test NDCG@10 (``per_user``: a ``.npz`` beside its result, users x seeds, means over
    seeds are paired by user). ``folders`` maps a row's (dataset, library, model) to the folder of
    its result file, where its per-user file is.
    """
    for row in rows:
        if row.get("ablation"):
            default = next((r for r in rows if r["dataset"] == row["dataset"] and r.get("default")), None)
            if default is None or not (row.get("per_user") and default.get("per_user")):
                row["paired_test"] = {"note": "no default row with per-user results in this run"}
            else:
                row["paired_test"] = _paired(row, default, folders)
        if not row.get("default"):
            continue
        peers = [r for r in rows if r["dataset"] == row["dataset"] and not r["model"].startswith("kgrec")]
        peers = [r for r in peers if r.get("per_user")]
        if not peers or not row.get("per_user"):
            row["paired_test"] = {"note": "no peer with per-user results in this run"}
            continue
        best = max(peers, key=lambda r: float(np.mean(r["valid"]["ndcg@10"])))
        row["paired_test"] = _paired(row, best, folders)


def _paired(row: dict[str, Any], other: dict[str, Any], folders: dict[tuple[str, str, str], Path]) -> dict[str, Any]:
    """Wilcoxon of ``row`` against ``other``: per-user test NDCG@10, means over seeds, paired by user."""
    mine, theirs = (_per_user(folders[_key(r)] / r["per_user"]) for r in (row, other))
    if not np.array_equal(mine[0], theirs[0]):
        raise LeaderboardError(f"{row['dataset']}: per-user users of {row['model']} and {other['model']} differ")
    test = {"against": other["model"], "metric": "test ndcg@10, mean over seeds, paired by user"}
    return test | wilcoxon(mine[1], theirs[1])


def _key(row: dict[str, Any]) -> tuple[str, str, str]:
    return row["dataset"], row["library"], row["model"]


def _per_user(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as npz:
        return npz["users"], npz["test_ndcg@10"].mean(axis=0)


def write(paths: list[Path], out: Path = LEADERBOARD) -> list[dict[str, Any]]:
    """Combine the result files into ``out`` (replaced whole, never merged with what it held)."""
    results = {p: load_result(p) for p in paths}
    rows = combine(results)
    paired_tests(rows, {_key(r): p.parent for p, res in results.items() for r in res["rows"]})
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path, help="result files of one commit")
    parser.add_argument("--out", type=Path, default=LEADERBOARD)
    args = parser.parse_args(argv)
    try:
        rows = write(args.results, args.out)
    except LeaderboardError as e:
        parser.exit(2, f"error: {e}\n")
    print(f"{args.out}: {len(rows)} rows from {len(args.results)} result files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
