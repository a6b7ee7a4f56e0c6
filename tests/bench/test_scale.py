"""bench.scale: what it hands the CLI is valid for the product (no Neo4j, no training)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.scale import train_args
from kgrec.learn.config import load_config

REPO = Path(__file__).resolve().parents[2]


def test_training_arguments_are_a_sampled_config_the_cli_accepts() -> None:
    args = train_args(Path("snap.npz"), Path("out"), epochs=3, threads=2)
    assert args[args.index("--snapshot") + 1] == "snap.npz" and args[args.index("--out") + 1] == "out"
    sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
    config = load_config(None, sets)
    assert config.batching == "sampled" and config.epochs == 3 and config.eval_every == 3
    assert config.model == "kgrec" and config.fusion == "none" and config.modalities == [] and config.threads == 2


def test_the_training_stage_passes_the_user_sample_or_none() -> None:
    def sets(eval_users: int | None) -> list[str]:
        args = train_args(Path("snap.npz"), Path("out"), epochs=1, threads=1, eval_users=eval_users)
        return [args[i + 1] for i, a in enumerate(args) if a == "--set"]

    assert load_config(None, sets(10_000)).eval_users == 10_000
    assert load_config(None, sets(None)).eval_users is None


def test_the_report_command_prints_a_committed_results_table() -> None:
    result = REPO / "bench" / "results" / "scale-2026-12-02.json"
    cmd = [sys.executable, "-m", "bench.scale_report", str(result), "--no-readme"]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert "200 explained top-10s (0 errors); neighbourhood 157.2 s, masking effects 41.0 s, near users: index" in out
    assert "p50 36.6 ms vs Bolt RETURN 1 3.66 ms = 10.0x (goal 10x: yes)" in out


def test_the_serve_row_names_the_effects_time_and_the_near_users_index() -> None:
    from bench.scale_report import _effects

    assert _effects({}) == ""  # results from before either was made at start
    serve = {"effects_seconds": 41.04, "near_users": "index of 1,000,000 users ...", "near_users_seconds": 15.84}
    assert _effects(serve) == ", masking effects 41.0 s, near users: index of 1,000,000 users ... (15.8 s)"
