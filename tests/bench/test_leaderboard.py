"""The leaderboard writer: row schema, provenance required, one commit and one split per dataset, paired test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.leaderboard import LeaderboardError, check_row, wilcoxon, write
from bench.report_leaderboard import render


def _row(model: str, ndcg: list[float], **extra: Any) -> dict[str, Any]:
    seeds = list(range(2020, 2020 + len(ndcg)))
    return {
        "dataset": "toy",
        "model": model,
        "library": "kgrec",
        "config": {"model": model},
        "selected_on": "valid",
        "trials": 8,
        "seeds": seeds,
        "valid": {"ndcg@10": ndcg},
        "test": {m: ndcg for m in ("ndcg@10", "recall@20", "hit@10", "mrr@10")},
        "s_per_epoch": 0.1,
        "peak_rss_mb": 100.0,
        "commit": "c1",
        "split_fingerprint": "f1",
        **extra,
    }


def _result(path: Path, rows: list[dict[str, Any]], commit: str = "c1") -> Path:
    provenance = {
        "commit": commit,
        "dirty": False,
        "date": "2026-12-01T00:00:00+00:00",
        "wall_seconds": 1.0,
        "load_average_1min": {"before": 1.0, "after": 1.0},
        "machine": {"cpu": "x", "cores": 2},
        "versions": {"python": "3.11"},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"dataset": "toy", "rows": rows, "provenance": provenance}))
    return path


def test_a_row_missing_a_field_or_a_seed_value_is_refused() -> None:
    check_row(_row("bprmf", [0.1, 0.2]), "here")
    broken = _row("bprmf", [0.1, 0.2])
    del broken["split_fingerprint"]
    with pytest.raises(LeaderboardError, match="lacks split_fingerprint"):
        check_row(broken, "here")
    short = _row("bprmf", [0.1, 0.2])
    short["test"]["recall@20"] = [0.3]
    with pytest.raises(LeaderboardError, match="one value per seed"):
        check_row(short, "here")
    with pytest.raises(LeaderboardError, match="selected on 'test'"):
        check_row(_row("bprmf", [0.1]) | {"selected_on": "test"}, "here")


def test_refuses_to_merge_results_of_another_commit(tmp_path: Path) -> None:
    a = _result(tmp_path / "a" / "result.json", [_row("bprmf", [0.1])])
    b = _result(tmp_path / "b" / "result.json", [_row("lightgcn", [0.2])], commit="c2")
    out = tmp_path / "leaderboard.json"
    with pytest.raises(LeaderboardError, match="different commits"):
        write([a, b], out)
    assert not out.exists()


def test_refuses_two_splits_of_one_dataset(tmp_path: Path) -> None:
    a = _result(tmp_path / "a" / "result.json", [_row("bprmf", [0.1])])
    b = _result(tmp_path / "b" / "result.json", [_row("lightgcn", [0.2], split_fingerprint="f2")])
    with pytest.raises(LeaderboardError, match="different splits"):
        write([a, b], tmp_path / "leaderboard.json")


def test_a_result_without_provenance_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"rows": [_row("bprmf", [0.1])], "provenance": {"commit": "c1"}}))
    with pytest.raises(LeaderboardError, match="provenance lacks dirty"):
        write([path], tmp_path / "leaderboard.json")


def test_writes_rows_replacing_the_old_file_and_tests_default_against_best_peer(tmp_path: Path) -> None:
    folder = tmp_path / "toy"
    (folder / "per_user").mkdir(parents=True)
    users = np.arange(40)
    rng = np.random.default_rng(0)
    peer = rng.random((2, 40)) * 0.2
    np.savez(folder / "per_user" / "lightgcn.npz", users=users, **{"test_ndcg@10": peer})
    np.savez(folder / "per_user" / "kgrec-default.npz", users=users, **{"test_ndcg@10": peer + 0.1})
    np.savez(folder / "per_user" / "bprmf.npz", users=users, **{"test_ndcg@10": peer - 0.05})
    rows = [
        _row("bprmf", [0.10, 0.11], per_user="per_user/bprmf.npz"),
        _row("lightgcn", [0.20, 0.21], per_user="per_user/lightgcn.npz"),
        _row("kgrec-default", [0.30, 0.31], per_user="per_user/kgrec-default.npz", default=True),
    ]
    result = _result(folder / "result.json", rows)
    out = tmp_path / "leaderboard.json"
    out.write_text(json.dumps([_row("stale", [0.9])]))
    write([result], out)
    written = json.loads(out.read_text())
    assert [r["model"] for r in written] == ["bprmf", "lightgcn", "kgrec-default"]
    test = written[2]["paired_test"]
    assert test["against"] == "lightgcn"  # the best peer by validation, not bprmf
    assert test["pairs"] == 40 and test["nonzero"] == 40
    assert test["p"] < 1e-6  # every one of 40 users better: exact two-sided p = 2 / 2**40


def test_an_ablation_is_tested_against_the_default_and_reported_in_its_own_table(tmp_path: Path) -> None:
    folder = tmp_path / "toy"
    (folder / "per_user").mkdir(parents=True)
    users = np.arange(30)
    base = np.random.default_rng(1).random((2, 30)) * 0.2
    np.savez(folder / "per_user" / "lightgcn.npz", users=users, **{"test_ndcg@10": base})
    np.savez(folder / "per_user" / "kgrec-default.npz", users=users, **{"test_ndcg@10": base + 0.05})
    np.savez(folder / "per_user" / "kgrec-no-tags.npz", users=users, **{"test_ndcg@10": base + 0.05})
    rows = [
        _row("lightgcn", [0.20, 0.21], per_user="per_user/lightgcn.npz"),
        _row("kgrec-default", [0.25, 0.26], per_user="per_user/kgrec-default.npz", default=True),
        _row("kgrec-no-tags", [0.25, 0.26], per_user="per_user/kgrec-no-tags.npz", ablation="the tags"),
    ]
    written = write([_result(folder / "result.json", rows)], tmp_path / "leaderboard.json")
    default, ablation = written[1], written[2]
    assert default["paired_test"]["against"] == "lightgcn"  # an ablation is never the default's "best peer"
    assert ablation["paired_test"]["against"] == "kgrec-default"
    assert ablation["paired_test"]["nonzero"] == 0 and ablation["paired_test"]["p"] == 1.0  # identical per user
    text = render(written)
    main, _, ablations = text.partition("what each part adds")
    assert "kgrec-no-tags" not in main
    spread = "0.2550 ± 0.0071"
    assert f"| kgrec-no-tags | the tags | {spread} | {spread} | {spread} | +0.0000 | 1 |" in ablations


def test_wilcoxon_on_a_known_example() -> None:
    # scipy.stats.wilcoxon's documented example (Cushny and Peebles, via Fisher): T = 24, p = 0.0413
    d = np.array([6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75], dtype=float)
    res = wilcoxon(d, np.zeros_like(d))
    assert res["statistic"] == 24.0
    assert res["p"] == pytest.approx(0.041259765625)
    assert wilcoxon(np.ones(5), np.ones(5))["p"] == 1.0


def test_refuses_recbole_results_of_another_commit_or_restamped_rows(tmp_path: Path) -> None:
    kgrec = _result(tmp_path / "learn" / "result.json", [_row("bprmf", [0.1])])
    recbole = _result(tmp_path / "recbole" / "result.json", [_row("BPR", [0.2], library="RecBole")], commit="c0")
    with pytest.raises(LeaderboardError, match="different commits"):
        write([kgrec, recbole], tmp_path / "leaderboard.json")
    # an old row (commit c0) inside a file whose provenance says c1: refused, not merged
    old = _result(tmp_path / "old" / "result.json", [_row("BPR", [0.2], library="RecBole", commit="c0")])
    with pytest.raises(LeaderboardError, match="row 'BPR' is of commit c0, its file of c1"):
        write([kgrec, old], tmp_path / "leaderboard.json")
    restamped = _result(tmp_path / "split" / "result.json", [_row("BPR", [0.2], library="RecBole")])
    data = json.loads(restamped.read_text())
    data["provenance"]["split_fingerprints"] = {"toy": "f0"}
    restamped.write_text(json.dumps(data))
    with pytest.raises(LeaderboardError, match="names another split"):
        write([kgrec, restamped], tmp_path / "leaderboard.json")


def test_the_paired_test_reads_a_recbole_peer_from_its_own_result_folder(tmp_path: Path) -> None:
    users = np.arange(30)
    peer = np.random.default_rng(1).random((2, 30)) * 0.2
    (tmp_path / "learn" / "per_user").mkdir(parents=True)
    (tmp_path / "recbole" / "per_user").mkdir(parents=True)
    np.savez(tmp_path / "learn" / "per_user" / "kgrec-default.npz", users=users, **{"test_ndcg@10": peer - 0.1})
    np.savez(tmp_path / "recbole" / "per_user" / "LightGCN.npz", users=users, **{"test_ndcg@10": peer})
    mine = _row("kgrec-default", [0.2, 0.2], per_user="per_user/kgrec-default.npz", default=True)
    theirs = _row("LightGCN", [0.3, 0.3], library="RecBole", per_user="per_user/LightGCN.npz")
    a = _result(tmp_path / "learn" / "result.json", [mine])
    b = _result(tmp_path / "recbole" / "result.json", [theirs])
    rows = write([a, b], tmp_path / "leaderboard.json")
    test = rows[0]["paired_test"]
    assert test["against"] == "LightGCN" and test["pairs"] == 30 and test["nonzero"] == 30
