"""The side-by-side table and its verdict lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.recbole import compare

METRIC_KEYS = ("recall@10", "recall@20", "ndcg@10", "ndcg@20", "hit@10", "hit@20", "mrr@10", "mrr@20")


def metrics(ndcg10: float, recall20: float) -> dict[str, float]:
    out = dict.fromkeys(METRIC_KEYS, 0.1)
    return out | {"ndcg@10": ndcg10, "recall@20": recall20}


def recbole_json(tmp_path: Path, model: str, ndcg10: float, recall20: float, secs: float) -> Path:
    doc = {
        "model": model,
        "library": "RecBole",
        "test": {k.upper(): v for k, v in metrics(ndcg10, recall20).items()},
        "epoch_seconds": secs,
        "epochs_run": 12,
        "epochs_max": 40,
        "early_stopped": True,
        "best_epoch": 1,
    }
    path = tmp_path / f"{model}.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def recbole_rows(tmp_path: Path) -> list[compare.Row]:
    paths = [recbole_json(tmp_path, "BPR", 0.20, 0.30, 1.0), recbole_json(tmp_path, "KGAT", 0.25, 0.28, 10.0)]
    return compare.load_recbole(paths)


def kgrec_rows(tmp_path: Path, models: dict[str, tuple[float, float, float]]) -> list[compare.Row]:
    doc = {"models": {n: {"test": metrics(a, b), "epoch_seconds": s} for n, (a, b, s) in models.items()}}
    path = tmp_path / "kgrec.json"
    path.write_text(json.dumps(doc))
    return compare.load_kgrec(path)


def test_table_has_one_row_per_model_and_every_column(tmp_path: Path, recbole_rows: list[compare.Row]) -> None:
    mine = kgrec_rows(tmp_path, {"kgrec-full": (0.3, 0.4, 2.0)})
    lines = compare.table([*mine, *recbole_rows]).splitlines()
    assert lines[0] == (
        "| model | library | Recall@10 | Recall@20 | NDCG@10 | NDCG@20 | Hit@10 | Hit@20 | MRR@10 | s/epoch |"
    )
    assert len(lines) == 2 + 3
    assert lines[2].startswith("| kgrec-full | kgrec | 0.1000 | 0.4000 | 0.3000 |")
    assert lines[4].endswith("| 10.00 |")


def test_best_kgrec_beating_every_recbole_model_is_met(tmp_path: Path, recbole_rows: list[compare.Row]) -> None:
    mine = kgrec_rows(tmp_path, {"weak": (0.1, 0.1, 1.0), "best": (0.26, 0.31, 5.0)})
    lines = compare.verdicts(mine, recbole_rows)
    assert lines[0].endswith(": best")
    assert lines[1].startswith("MET ndcg@10: kgrec best 0.2600 vs best RecBole KGAT 0.2500 (+4.0%)")
    assert lines[2].startswith("MET recall@20: kgrec best 0.3100 vs best RecBole BPR 0.3000")
    assert lines[3] == "MET s/epoch: kgrec best 5.00 s vs RecBole KGAT 10.00 s"


def test_losing_on_one_metric_or_on_time_is_missed(tmp_path: Path, recbole_rows: list[compare.Row]) -> None:
    mine = kgrec_rows(tmp_path, {"best": (0.26, 0.29, 12.0)})
    lines = compare.verdicts(mine, recbole_rows)
    assert lines[1].startswith("MET ndcg@10")
    assert lines[2].startswith("MISSED recall@20")
    assert lines[3].startswith("MISSED s/epoch")


def test_the_default_configuration_is_judged_beside_a_better_ablation(
    tmp_path: Path, recbole_rows: list[compare.Row]
) -> None:
    mine = kgrec_rows(tmp_path, {"kgrec-cf": (0.27, 0.32, 1.0), "kgrec-text": (0.24, 0.31, 2.0)})
    lines = compare.verdicts(mine, recbole_rows)
    assert lines[0].endswith(": kgrec-cf")
    assert lines[4] == "kgrec default configuration (configs/train.toml): kgrec-text"
    assert lines[5].startswith("MISSED ndcg@10: kgrec kgrec-text 0.2400 vs best RecBole KGAT 0.2500")
    assert lines[6].startswith("MET recall@20: kgrec kgrec-text 0.3100")
    assert len(compare.verdicts(mine[1:], recbole_rows)) == 4  # the default is the best: no second block


def test_missing_kgrec_results_prints_recbole_rows_and_says_so(tmp_path: Path, recbole_rows: list[compare.Row]) -> None:
    text = compare.write_report(tmp_path / "out" / "comparison.md", [], recbole_rows)
    assert (tmp_path / "out" / "comparison.md").read_text() == text
    assert "| BPR | RecBole |" in text and "| KGAT | RecBole |" in text
    assert "kgrec results missing: RecBole rows only, no verdict." in text
    assert "12/40 epochs, early stopping, best epoch 1" in text


def test_kgrec_file_without_models_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.write_text(json.dumps({"test": {}}))
    with pytest.raises(ValueError, match="'models' mapping"):
        compare.load_kgrec(path)
