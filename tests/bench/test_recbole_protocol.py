"""RecBole peers under the protocol: spaces, scores through kgrec's evaluator, rows, and the loop (RecBole mocked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.leaderboard import check_row, load_result
from bench.recbole import __main__ as recbole_main
from bench.recbole import protocol
from bench.spaces import check_budget, load_spaces
from kgrec.errors import ConfigError
from kgrec.learn.split import Split
from tests.twotastes import toy_snapshot

SPACES = """
[common]
epochs = 150
patience = 10
eval_every = 1
threads = 1

[datasets.toy]
snapshot = "{snapshot}"
default_config = "configs/demo.toml"

[models.pop]
base = {{ model = "pop" }}

[recbole.models.BPR]
space.learning_rate = [1e-3, 5e-3]
"""


def _spaces(tmp_path: Path, extra: str = "", snapshot: str = "s.npz") -> Path:
    path = tmp_path / "spaces.toml"
    path.write_text(SPACES.format(snapshot=snapshot) + extra)
    return path


def test_recbole_spaces_parse_and_take_the_common_stopping_rule(tmp_path: Path) -> None:
    spaces = load_spaces(_spaces(tmp_path, "\n[recbole.models.KGAT]\nspace.layers = [[64], [64, 32]]\n"))
    assert spaces.recbole["BPR"].space == {"learning_rate": [1e-3, 5e-3]}
    assert spaces.recbole["KGAT"].space["layers"] == [[64], [64, 32]]
    assert spaces.recbole_stopping() == {"epochs": 150, "stopping_step": 10, "eval_step": 1}
    with pytest.raises(ConfigError, match="grid of 2 points < 8 trials"):
        check_budget(spaces.recbole["BPR"], 8, "spaces.toml")


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("space.epochs = [10, 20]", "epochs fixed by the protocol"),
        ("base = { valid_metric = 'MRR@10' }", "valid_metric fixed by the protocol"),
        ("space.reg_weight = []", "non-empty list"),
        ("space.reg_weight = [1e-5, 1e-5]", "repeated values"),
        ("spaces.reg_weight = [1e-5]", "unknown keys"),
    ],
)
def test_a_recbole_space_that_breaks_the_protocol_is_refused(tmp_path: Path, extra: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        load_spaces(_spaces(tmp_path, f"\n[recbole.models.SGL]\n{extra}\n"))


def test_every_shipped_recbole_model_has_the_full_budget_of_trials() -> None:
    spaces = load_spaces()
    assert {"BPR", "LightGCN", "SGL", "NCL", "CKE", "KGAT", "KGIN", "KGCN", "MCCLK"} <= set(spaces.recbole)
    for model in spaces.recbole.values():
        check_budget(model, 8, spaces.path)
    # signature hyper-parameters of the graph and contrastive peers are searched, not only the learning rate
    assert {"ssl_tau", "ssl_weight"} <= set(spaces.recbole["SGL"].space)
    assert {"ssl_temp", "proto_reg"} <= set(spaces.recbole["NCL"].space)
    assert {"mess_dropout", "layers"} <= set(spaces.recbole["KGAT"].space)
    assert {"n_factors", "context_hops"} <= set(spaces.recbole["KGIN"].space)


def _tiny_split() -> Split:
    """Users 1, 2; items 10, 20, 30, 40, 50 (50 never interacted with)."""
    return Split(
        user_keys=np.array([1, 2]),
        item_keys=np.array([10, 20, 30, 40, 50]),
        train=np.array([[0, 1], [0, 1]]),
        valid=np.array([[0, 1], [1, 2]]),
        test=np.array([[0, 1], [2, 3]]),
        cold_items=np.empty(0, dtype=np.int64),
        cold_test=np.empty((2, 0), dtype=np.int64),
        seed=1,
    )


def _recbole_scores(path: Path) -> Path:
    # RecBole's own order: users "2", "1"; items "40", "10", "30", "20" (it never saw item 50).
    # On kgrec's ids this is user 1 -> [9, 8, 1, 5, -], user 2 -> [0, 9, 7, 8, -].
    np.savez(
        path,
        scores=np.array([[8, 0, 7, 9], [5, 9, 1, 8]], dtype=np.float32),
        user_tokens=np.array(["2", "1"]),
        item_tokens=np.array(["40", "10", "30", "20"]),
    )
    return path


def test_recbole_scores_are_put_on_kgrec_ids_and_scored_by_kgrec_evaluator(tmp_path: Path) -> None:
    split = _tiny_split()
    scores = protocol.dense_scores(_recbole_scores(tmp_path / "s.npz"), split)
    assert scores[:, :4].tolist() == [[9, 8, 1, 5], [0, 9, 7, 8]]
    assert np.isneginf(scores[:, 4]).all()
    test = protocol.per_user(scores, split, "test", seed=3)
    # user 1: train+valid (10, 20) masked, 40 (5) above 30 (1): its test item at rank 2; user 2: 40 at rank 1
    assert test["users"].tolist() == [0, 1]
    assert test["ndcg@10"] == pytest.approx([1 / np.log2(3), 1.0])
    valid = protocol.per_user(scores, split, "valid", seed=3)
    # user 1: only 10 masked, 20 (8) first; user 2: 20 masked, 40 (8) above its valid item 30 (7)
    assert valid["ndcg@10"] == pytest.approx([1.0, 1 / np.log2(3)])


def test_scores_of_another_split_are_refused(tmp_path: Path) -> None:
    path = _recbole_scores(tmp_path / "s.npz")
    other = Split(**{**_tiny_split().__dict__, "item_keys": np.array([10, 20, 31, 40, 50])})
    with pytest.raises(protocol.ScoresError, match="item tokens not in the split: \\['30'\\]"):
        protocol.dense_scores(path, other)


def _recbole_json(epochs: int, valid: float, test: float | None) -> dict[str, Any]:
    return {
        "best_valid": {"ndcg@10": valid},
        "test": {} if test is None else {"ndcg@10": test, "recall@20": 0.5},
        "epoch_seconds": 0.5,
        "epochs_run": epochs,
        "best_epoch": epochs - 10,
        "stopped_by": "early stopping",
        "peak_rss_mb": 700.0,
        "hyper_parameters": {"learning_rate": 0.005, "embedding_size": 64},
    }


def test_a_recbole_model_becomes_one_leaderboard_row() -> None:
    users = np.array([0, 1])
    runs = [
        protocol.run_summary(
            _recbole_json(40, 0.31, 0.29),
            {"users": users, "ndcg@10": np.array([0.2, 0.4])},
            {"users": users, **{m: np.array([0.1, 0.3]) for m in ("ndcg@10", "recall@20", "hit@10", "mrr@10")}},
        ),
        protocol.run_summary(
            _recbole_json(50, 0.33, 0.30),
            {"users": users, "ndcg@10": np.array([0.4, 0.4])},
            {"users": users, **{m: np.array([0.5, 0.3]) for m in ("ndcg@10", "recall@20", "hit@10", "mrr@10")}},
        ),
    ]
    row = protocol.row(
        dataset="movielens", model="BPR", config={"learning_rate": 0.005}, trials=8, runs=runs, seeds=[2020, 2021],
        commit="c1", split_fingerprint="f1", notes=["valid_metric MRR@10 -> NDCG@10"],
    )  # fmt: skip
    check_row(row, "here")
    assert row["library"] == "RecBole" and row["trials"] == 8
    assert row["valid"]["ndcg@10"] == pytest.approx([0.3, 0.4])  # kgrec's evaluator, not RecBole's 0.31/0.33
    assert row["test"]["ndcg@10"] == pytest.approx([0.2, 0.4])
    assert row["recbole_test"]["ndcg@10"] == [0.29, 0.30]
    assert row["epochs_run"] == [40, 50] and row["peak_rss_mb"] == 700.0 and row["s_per_epoch"] == 0.5
    assert row["per_user"] == "per_user/BPR.npz" and row["notes"] == ["valid_metric MRR@10 -> NDCG@10"]


def test_changed_defaults_name_the_stopping_rule_and_the_validation_metric() -> None:
    notes = protocol.changed_defaults({"epochs": 150, "stopping_step": 10, "eval_step": 1}, threads=1)
    assert notes[0] == "epochs 300 -> 150 ([common] of bench/spaces.toml)"
    assert not any(n.startswith("stopping_step") for n in notes)  # RecBole's own 10 equals [common]
    assert any("valid_metric MRR@10 -> NDCG@10" in n for n in notes)


def test_the_loop_tunes_on_valid_only_and_reruns_the_choice_per_seed(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """RecBole mocked: the fake scores like an oracle only with learning_rate 5e-3."""
    snapshot = toy_snapshot()
    snapshot.save(tmp_path / "snap.npz")
    calls: list[dict[str, Any]] = []

    def fake_run(python, model, files, work, params, **opts):  # noqa: ANN001, ANN003, ANN202
        calls.append({"params": params, "test": opts["test"]})
        split = Split.load(tmp_path / "split.npz")
        scores = np.zeros((split.num_users, split.num_items), dtype=np.float32)
        if params["learning_rate"] == 5e-3:
            for edges in (split.valid, split.test):
                scores[edges[0], edges[1]] = 1.0
        work.mkdir(parents=True, exist_ok=True)
        np.savez(work / "scores.npz", scores=scores, user_tokens=split.user_keys.astype(str),
                 item_tokens=split.item_keys.astype(str))  # fmt: skip
        return _recbole_json(12, 0.5, 0.5 if opts["test"] else None)

    from kgrec.learn.run import split_of

    split_of(snapshot, seed=2020).save(tmp_path / "split.npz")
    monkeypatch.setattr(recbole_main, "run_model", fake_run)
    monkeypatch.setattr(recbole_main, "ensure_venv", lambda: Path("python"))
    argv = ["--dataset", "toy", "--spaces", str(_spaces(tmp_path, snapshot=str(tmp_path / "snap.npz"))), "--quick"]
    argv += ["--out", str(tmp_path / "out"), "--work-dir", str(tmp_path / "work"), "--models", "BPR"]
    assert recbole_main.main(argv) == 0
    trials, seeds = calls[:2], calls[2:]
    assert [c["test"] for c in trials] == [False, False] and [c["test"] for c in seeds] == [True, True]
    assert {c["params"]["learning_rate"] for c in trials} == {1e-3, 5e-3}
    assert [c["params"]["seed"] for c in seeds] == [2020, 2021]
    assert all(c["params"]["learning_rate"] == 5e-3 for c in seeds)
    assert all(c["params"]["epochs"] == 3 and c["params"]["stopping_step"] == 2 for c in calls)
    result = load_result(tmp_path / "out-quick" / "toy" / "result.json")
    (row,) = result["rows"]
    assert row["test"]["ndcg@10"] == [1.0, 1.0] and row["config"]["learning_rate"] == 5e-3
    assert row["commit"] == result["provenance"]["commit"]
    with np.load(tmp_path / "out-quick" / "toy" / row["per_user"]) as npz:
        assert npz["test_ndcg@10"].shape == (2, len(npz["users"]))
    calls.clear()
    assert recbole_main.main(argv) == 0
    assert calls == []  # a rerun of the same commit and split resumes from the cache
    assert json.loads((tmp_path / "out-quick" / "toy" / "result.json").read_text())["rows"][0]["trials"] == 2
