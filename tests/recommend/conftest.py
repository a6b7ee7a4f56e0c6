"""Fixtures of the answer tests: the small film and music worlds in Neo4j and models trained on them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kgrec.graph.answers import AnswerGraph
from kgrec.graph.snapshots import export_training_snapshot
from kgrec.graph.store import GraphStore
from kgrec.settings import Settings
from tests.recommend.music_world import load_music
from tests.twotastes import load_world

FAST = {
    "model": "kgrec",
    "fusion": "none",
    "dim": 16,
    "layers": 2,
    "lr": 0.02,
    "batch_size": 64,
    "epochs": 40,
    "patience": 40,
    "eval_every": 40,
    "threads": 1,
    "seed": 5,
}


@pytest.fixture(scope="session")
def world_bundle(neo4j_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(bundle folder, snapshot file) of a GNN trained on the film world (trained once per session)."""
    from kgrec.learn.config import TrainConfig
    from kgrec.learn.run import train_run

    out = tmp_path_factory.mktemp("world-bundle")
    with GraphStore.connect(neo4j_settings) as store:
        store.delete_all()
        load_world(store)
        snapshot = export_training_snapshot(store)
    path = snapshot.save(out / "snapshot.npz")
    train_run(snapshot, TrainConfig(**FAST), out / "bundle")
    return out / "bundle", path


@pytest.fixture(scope="session")
def world_scores(world_bundle: tuple[Path, Path]):  # noqa: ANN201 - ModelScores (torch imported lazily)
    """The trained model of the film world, loaded once."""
    from kgrec.recommend.model import ModelScores

    return ModelScores.load(world_bundle[0])


@pytest.fixture(scope="module")
def world_graph(neo4j_settings: Settings, world_bundle: tuple[Path, Path]) -> Iterator[AnswerGraph]:
    """The film world freshly loaded into the test database (once per module)."""
    with GraphStore.connect(neo4j_settings) as store:
        store.delete_all()
        load_world(store)
        yield AnswerGraph(store)


@pytest.fixture(scope="session")
def music_bundle(neo4j_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle folder of a GNN trained on the music world (trained once per session)."""
    from kgrec.learn.config import TrainConfig
    from kgrec.learn.run import train_run

    out = tmp_path_factory.mktemp("music-bundle")
    with GraphStore.connect(neo4j_settings) as store:
        store.delete_all()
        load_music(store)
        snapshot = export_training_snapshot(store)
    train_run(snapshot, TrainConfig(**FAST), out / "bundle")
    return out / "bundle"


@pytest.fixture(scope="session")
def music_scores(music_bundle: Path):  # noqa: ANN201 - ModelScores (torch imported lazily)
    """The trained model of the music world, loaded once."""
    from kgrec.recommend.model import ModelScores

    return ModelScores.load(music_bundle)


@pytest.fixture(scope="module")
def music_graph(neo4j_settings: Settings, music_bundle: Path) -> Iterator[AnswerGraph]:
    """The music world freshly loaded into the test database (once per module)."""
    with GraphStore.connect(neo4j_settings) as store:
        store.delete_all()
        load_music(store)
        yield AnswerGraph(store)
