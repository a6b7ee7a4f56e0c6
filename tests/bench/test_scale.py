"""bench.scale: what it hands the CLI is valid for the product (no Neo4j, no training)."""

from __future__ import annotations

from pathlib import Path

from bench.scale import train_args
from kgrec.learn.config import load_config


def test_training_arguments_are_a_sampled_config_the_cli_accepts() -> None:
    args = train_args(Path("snap.npz"), Path("out"), epochs=3, threads=2)
    assert args[args.index("--snapshot") + 1] == "snap.npz" and args[args.index("--out") + 1] == "out"
    sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
    config = load_config(None, sets)
    assert config.batching == "sampled" and config.epochs == 3 and config.eval_every == 3
    assert config.model == "kgrec" and config.fusion == "none" and config.modalities == [] and config.threads == 2
