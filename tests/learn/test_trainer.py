"""The training harness: losses, early stopping, resume from checkpoint, bundles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from kgrec.cli.main import cli
from kgrec.errors import ConfigError, NotTrainedError
from kgrec.learn.bundle import load_bundle
from kgrec.learn.config import TrainConfig
from kgrec.learn.evaluator import Evaluator
from kgrec.learn.factory import build_model, training_graph
from kgrec.learn.losses import bce_loss, bpr_loss, pair_scores, softmax_loss
from kgrec.learn.run import train_run
from kgrec.learn.trainer import Trainer
from tests.twotastes import NUM_USERS, toy_snapshot, toy_split

SMALL = {"dim": 8, "lr": 0.02, "batch_size": 64, "fusion": "hybrid", "modalities": ["text"], "patience": 50}


def test_bpr_loss_matches_its_formula() -> None:
    pos, neg = torch.tensor([2.0, 0.0]), torch.tensor([1.0, 1.0])
    expected = -(torch.log(torch.sigmoid(torch.tensor(1.0))) + torch.log(torch.sigmoid(torch.tensor(-1.0)))) / 2
    assert torch.isclose(bpr_loss(pos, neg), expected)


def test_bce_loss_matches_its_formula() -> None:
    pos, neg = torch.tensor([2.0]), torch.tensor([-1.0])
    f_pos, f_neg = torch.sigmoid(pos), torch.sigmoid(neg)
    expected = -(torch.log(f_pos) + torch.log(1 - f_neg)) / 2  # y=1 for the positive, y=0 for the negative
    assert torch.isclose(bce_loss(pos, neg), expected.squeeze())


def test_softmax_loss_matches_its_formula() -> None:
    pos, neg = torch.tensor([2.0, 0.0]), torch.tensor([[1.0, 0.0], [3.0, -1.0]])
    rows = [(2.0, [1.0, 0.0]), (0.0, [3.0, -1.0])]
    expected = [-(p / 0.5) + torch.logsumexp(torch.tensor([p, *n]) / 0.5, 0) for p, n in rows]
    assert torch.isclose(softmax_loss(pos, neg, 0.5), torch.stack(expected).mean())


def test_bpr_over_several_negatives_is_the_mean_over_every_pair() -> None:
    pos, neg = torch.tensor([2.0, 0.0]), torch.tensor([[1.0, 0.0], [3.0, -1.0]])
    pairs = torch.tensor([2.0 - 1.0, 2.0 - 0.0, 0.0 - 3.0, 0.0 + 1.0])
    assert torch.isclose(bpr_loss(pos, neg), -torch.log(torch.sigmoid(pairs)).mean())


def test_pair_scores_of_several_negatives_are_those_of_each_pair() -> None:
    config = TrainConfig(**SMALL, epochs=0)
    model, _ = _model(config)
    model.eval()
    state = model.embed()
    users, items = torch.tensor([0, 3]), torch.tensor([[1, 2, 5], [4, 0, 1]])
    scores = pair_scores(model, state, users, items)
    assert scores.shape == (2, 3)
    for b in range(2):
        for k in range(3):
            one = model.score_pairs(state, users[b : b + 1], items[b, k : k + 1])
            assert torch.isclose(scores[b, k], one[0])


def test_softmax_training_learns_the_two_tastes() -> None:
    config = TrainConfig(**SMALL, loss="softmax", negatives=8, temperature=0.5, epochs=25)
    model, split = _model(config)
    before = Evaluator(split).evaluate(model, "valid")["ndcg@10"]
    result = Trainer(model, split, config).fit()
    assert result.best_valid["ndcg@10"] > before + 0.1


def test_the_pass_that_records_messages_gives_the_plain_pass_state() -> None:
    model, _ = _model(TrainConfig(**SMALL, epochs=0))
    model.eval()
    state, messages = model.embed_with_messages()
    with torch.no_grad():
        plain = model.embed()
    assert torch.equal(state.user, plain.user) and torch.equal(state.item, plain.item)
    assert messages.sent.shape[1] == state.user.shape[1]
    assert len(messages.sent) >= len(state.user) + len(state.item)  # every stacked node, users and items among them


def _model(config: TrainConfig):
    snapshot, split = toy_snapshot(), toy_split()
    return build_model(config, split, training_graph(snapshot, split, config)), split


def test_training_is_reproducible_with_a_seed() -> None:
    config = TrainConfig(**SMALL, epochs=3)
    runs = []
    for _ in range(2):
        model, split = _model(config)
        runs.append((Trainer(model, split, config).fit(), model.state_dict()))
    assert [e.loss for e in runs[0][0].history] == [e.loss for e in runs[1][0].history]
    assert all(torch.equal(runs[0][1][k], runs[1][1][k]) for k in runs[0][1])


def test_an_interrupted_run_resumes_to_the_same_result(tmp_path: Path) -> None:
    full_cfg = TrainConfig(**SMALL, epochs=6)
    model, split = _model(full_cfg)
    straight = Trainer(model, split, full_cfg).fit()
    straight_state = model.state_dict()

    ckpt = tmp_path / "checkpoint.pt"
    first, split = _model(TrainConfig(**SMALL, epochs=3))  # "killed" after epoch 3: its checkpoint stays
    Trainer(first, split, TrainConfig(**SMALL, epochs=3), checkpoint=ckpt).fit()
    resumed_model, split = _model(full_cfg)
    resumed = Trainer(resumed_model, split, full_cfg, checkpoint=ckpt).fit()

    assert resumed.resumed_from == 3
    assert [e.loss for e in resumed.history] == pytest.approx([e.loss for e in straight.history], rel=1e-5)
    state = resumed_model.state_dict()
    assert all(torch.allclose(state[k], straight_state[k], atol=1e-5) for k in state)


class _Killed(Exception):
    """Stands for the process being killed in the middle of an epoch."""


@pytest.mark.parametrize("batching", ["full", "sampled"])
def test_a_run_interrupted_inside_an_epoch_goes_on_from_its_batch(tmp_path: Path, batching: str) -> None:
    config = TrainConfig(**SMALL, loss="softmax", negatives=4, batching=batching, epochs=3, checkpoint_minutes=1e-9)
    model, split = _model(config)
    straight = Trainer(model, split, config).fit()
    straight_state = model.state_dict()

    ckpt, seen = tmp_path / "checkpoint.pt", []

    def kill_in_epoch_1(epoch: int, done: int, total: int) -> None:
        seen.append((epoch, done, total))
        if (epoch, done) == (1, total // 2 + 1):  # the checkpoint written after the batch before stays
            raise _Killed

    first, split = _model(config)
    with pytest.raises(_Killed):
        Trainer(first, split, config, checkpoint=ckpt, on_batch=kill_in_epoch_1).fit()
    assert seen[-1][2] > 2 and torch.load(ckpt, weights_only=False)["partial"]["batch"] == seen[-1][1] - 1
    resumed_model, split = _model(config)
    batches: list[tuple[int, int, int]] = []
    resumed = Trainer(resumed_model, split, config, checkpoint=ckpt, on_batch=lambda *b: batches.append(b)).fit()

    assert batches[0] == (1, seen[-1][1], seen[-1][2])  # the killed batch again, not the epoch's first
    assert (resumed.resumed_from, resumed.resumed_at_batch) == (1, seen[-1][1] - 1)
    assert [e.loss for e in resumed.history] == pytest.approx([e.loss for e in straight.history], rel=1e-6)
    state = resumed_model.state_dict()
    assert all(torch.allclose(state[k], straight_state[k], atol=1e-6) for k in state)


def test_a_checkpoint_of_another_config_is_refused(tmp_path: Path) -> None:
    ckpt = tmp_path / "checkpoint.pt"
    model, split = _model(TrainConfig(**SMALL, epochs=1))
    Trainer(model, split, TrainConfig(**SMALL, epochs=1), checkpoint=ckpt).fit()
    other = TrainConfig(**{**SMALL, "lr": 0.5}, epochs=2)
    model, split = _model(other)
    with pytest.raises(ConfigError, match="another config"):
        Trainer(model, split, other, checkpoint=ckpt).fit()


def test_early_stopping_keeps_the_best_weights() -> None:
    config = TrainConfig(**{**SMALL, "patience": 2, "lr": 0.5}, epochs=40)
    model, split = _model(config)
    result = Trainer(model, split, config).fit()
    validated = [e for e in result.history if e.valid]
    best = max(e.valid["ndcg@10"] for e in validated)
    assert result.best_valid["ndcg@10"] == best
    if result.stopped_early:
        assert len(result.history) - 1 - result.best_epoch == config.patience


def test_a_bundle_scores_exactly_like_the_trained_model(tmp_path: Path) -> None:
    snapshot, split = toy_snapshot(), toy_split()
    config = TrainConfig(**SMALL, epochs=2)
    result = train_run(snapshot, config, tmp_path / "run", split=split)
    assert (tmp_path / "run" / "curves.png").stat().st_size > 1000
    meta = json.loads((tmp_path / "run" / "bundle.json").read_text())
    assert meta["schema_fingerprint"] == snapshot.schema_fingerprint()
    assert meta["coverage"][0] == {"modality": "text", "present": 32, "total": 32, "dim": 8}
    shutil.move(tmp_path / "run", tmp_path / "moved")  # the folder alone restores the model
    bundle = load_bundle(tmp_path / "moved")
    assert bundle.split == split and bundle.snapshot == snapshot
    assert Evaluator(bundle.split).evaluate(bundle.model, "test") == result.test
    saved = json.loads((tmp_path / "moved" / "metrics.json").read_text())
    assert saved["test"] == pytest.approx(result.test)
    emb = np.load(tmp_path / "moved" / "embeddings.npz", allow_pickle=False)
    assert emb["User.vectors"].shape == (NUM_USERS, 8) and emb["Item.vectors"].shape == (32, 8)
    assert emb["Entity.keys"].tolist() == ["dir:x", "dir:y"]


def test_a_bundle_refuses_a_graph_of_another_schema(tmp_path: Path) -> None:
    snapshot, split = toy_snapshot(), toy_split()
    train_run(snapshot, TrainConfig(**SMALL, epochs=1), tmp_path / "run", split=split)
    other = toy_snapshot()
    other.edges.pop(("Item", "IN_GENRE", "Genre"))
    other.save(tmp_path / "run" / "snapshot.npz")
    with pytest.raises(ConfigError, match="another schema"):
        load_bundle(tmp_path / "run")


def test_a_bundle_of_an_older_format_is_refused_in_one_line(tmp_path: Path) -> None:
    train_run(toy_snapshot(), TrainConfig(**SMALL, epochs=1), tmp_path / "run", split=toy_split())
    meta = json.loads((tmp_path / "run" / "bundle.json").read_text())
    (tmp_path / "run" / "bundle.json").write_text(json.dumps({**meta, "version": 1}))
    with pytest.raises(NotTrainedError, match="format version 1.*retrain") as caught:
        load_bundle(tmp_path / "run")
    assert "\n" not in str(caught.value)
    with pytest.raises(NotTrainedError, match="no trained model bundle"):
        load_bundle(tmp_path / "nowhere")


@pytest.mark.parametrize("model", ["pop", "bprmf", "lightgcn"])
def test_baselines_run_through_the_same_harness_into_a_bundle(tmp_path: Path, model: str) -> None:
    snapshot, split = toy_snapshot(), toy_split()
    config = TrainConfig(model=model, dim=8, batch_size=64, epochs=2)
    result = train_run(snapshot, config, tmp_path / model, split=split)
    bundle = load_bundle(tmp_path / model)
    assert Evaluator(bundle.split).evaluate(bundle.model, "test") == result.test
    assert result.cold is not None and "cold_only/ndcg@10" in result.cold


def test_kgrec_evaluate_needs_the_bundle_folder_only(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kgrec.cli.main import cli

    result = train_run(toy_snapshot(), TrainConfig(**SMALL, epochs=1), tmp_path / "run", split=toy_split())
    shutil.move(tmp_path / "run", tmp_path / "moved")
    done = CliRunner().invoke(cli, ["evaluate", str(tmp_path / "moved"), "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["test"] == pytest.approx(result.test)


def test_validation_ranks_the_same_user_sample_every_epoch_and_run(monkeypatch: pytest.MonkeyPatch) -> None:
    ranked: list[list[int]] = []
    hits = Evaluator._hits

    def recording(self, model, state, users, *args, **kwargs):  # noqa: ANN001, ANN202
        ranked.append(users.tolist())
        return hits(self, model, state, users, *args, **kwargs)

    monkeypatch.setattr(Evaluator, "_hits", recording)
    config = TrainConfig(**SMALL, epochs=3, eval_users=5)
    results = []
    for _ in range(2):
        model, split = _model(config)
        results.append(Trainer(model, split, config).fit())
    assert len(ranked) == 6 and len(ranked[0]) == 5 and all(r == ranked[0] for r in ranked)
    everyone = Evaluator(split).evaluated_users("valid")
    assert set(ranked[0]) < set(everyone.tolist())
    assert results[0].valid_users == {"users": 5, "of": len(everyone), "sample": True, "seed": 2020}


def test_a_run_on_a_user_sample_says_so_in_its_metrics_and_history(tmp_path: Path) -> None:
    snapshot, split = toy_snapshot(), toy_split()
    result = train_run(snapshot, TrainConfig(**SMALL, epochs=1, eval_users=4), tmp_path / "run", split=split)
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    for phase in ("valid", "test", "cold"):
        assert saved["users"][phase]["users"] == 4 and saved["users"][phase]["sample"] is True
        assert saved["users"][phase]["of"] == len(Evaluator(split).evaluated_users(phase)) > 4
    assert json.loads((tmp_path / "run" / "history.json").read_text())["valid_users"] == saved["users"]["valid"]
    bundle = load_bundle(tmp_path / "run")
    assert bundle.config.eval_users == 4
    assert Evaluator(split, sample_users=4).evaluate(bundle.model, "test") == result.test
    assert Evaluator(split).evaluate(bundle.model, "test") != result.test  # the full evaluation differs


def test_fields_added_later_keep_every_fingerprint_and_dump_of_before() -> None:
    # fingerprints computed by the code before eval_users, negatives and temperature existed (commit 48ffc57)
    assert TrainConfig().fingerprint() == "4dd071c2697f67bfdbbb07de904a899f1a953dd4cc31897a116ebc2ff2b9b069"
    sampled = TrainConfig(batching="sampled", fusion="none", modalities=[])
    assert sampled.fingerprint() == "2ea263ba3ed9a32c7b31e22f86e4b6bf5fe23abff3f56265063a9ce9d3d05b7f"
    assert "eval_users" not in TrainConfig().model_dump() and "eval_users" not in TrainConfig().model_dump_json()
    assert TrainConfig(eval_users=10).fingerprint() != TrainConfig().fingerprint()
    assert TrainConfig(**TrainConfig(eval_users=10).model_dump()).eval_users == 10
    for key, value in (("negatives", 64), ("temperature", 0.5)):
        assert key not in TrainConfig().model_dump_json()
        assert TrainConfig(**{key: value}).fingerprint() != TrainConfig().fingerprint()
        assert getattr(TrainConfig(**TrainConfig(**{key: value}).model_dump()), key) == value


def test_kgrec_train_says_when_its_metrics_come_from_a_user_sample(tmp_path: Path) -> None:
    toy_snapshot().save(tmp_path / "toy.npz")
    args = ["train", "--snapshot", str(tmp_path / "toy.npz"), "--no-progress"]
    options = ["epochs=1", "dim=8", "fusion=none", "threads=1"]
    sets = [x for o in options for x in ("--set", o)]
    sampled = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "a"), *sets, "--set", "eval_users=4"])
    assert sampled.exit_code == 0, sampled.output
    assert "seeded sample of at most 4 users" in sampled.output
    full = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "b"), *sets])
    assert full.exit_code == 0, full.output
    assert "sample" not in full.output
