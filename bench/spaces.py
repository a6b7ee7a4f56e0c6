"""Declared search spaces of the learning benchmark (``bench/spaces.toml``) and their seeded sampler.

A space maps :class:`~kgrec.learn.config.TrainConfig` keys to lists of values; its
grid is their Cartesian product. :func:`sample` draws ``trials`` distinct grid
points with a seeded generator, the same way for every model, so that every
model gets the same tuning budget.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tomllib

from kgrec.errors import ConfigError
from kgrec.learn.config import TrainConfig, load_config

SPACES = Path(__file__).with_name("spaces.toml")
_STOPPING = ("epochs", "patience", "eval_every", "threads")


@dataclass(frozen=True)
class ModelSpace:
    """One model of the benchmark: fixed settings, searched settings, whether it is kgrec's shipped default."""

    name: str
    base: dict[str, Any]
    space: dict[str, list[Any]] = field(default_factory=dict)
    from_default: bool = False
    default: bool = False

    def grid_size(self) -> int:
        """Number of points in the grid (1 without a space)."""
        return int(np.prod([len(v) for v in self.space.values()])) if self.space else 1


@dataclass(frozen=True)
class Spaces:
    """The whole declaration: common stopping rule, datasets, models."""

    common: dict[str, Any]
    datasets: dict[str, dict[str, str]]
    models: dict[str, ModelSpace]
    path: Path

    def base_config(self, model: ModelSpace, dataset: str, root: Path = Path()) -> dict[str, Any]:
        """The model's fixed settings on ``dataset``: its base (or the dataset's shipped config) + the common rule."""
        if model.from_default:
            shipped = load_config(root / self.dataset(dataset)["default_config"])
            values = shipped.model_dump(exclude={"device"}) | model.base
        else:
            values = dict(model.base)
        return values | self.common

    def dataset(self, name: str) -> dict[str, str]:
        """The dataset's entry (``snapshot``, ``default_config``)."""
        if name not in self.datasets:
            raise ConfigError(f"{self.path}: unknown dataset {name!r}; declared: {', '.join(self.datasets)}")
        return self.datasets[name]


def load_spaces(path: Path = SPACES) -> Spaces:
    """Read and check a spaces file: every key must be a training setting, every space a non-empty list.

    Raises:
        ConfigError: ``file: where: reason`` for the first problem found.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: {e}") from e
    common = raw.get("common", {})
    _check_keys(path, "common", common)
    if set(common) - set(_STOPPING):
        raise ConfigError(f"{path}: common: only {', '.join(_STOPPING)} may be common, got {sorted(common)}")
    models = {name: _model(path, name, entry) for name, entry in raw.get("models", {}).items()}
    if not models:
        raise ConfigError(f"{path}: no [models.*] declared")
    datasets = raw.get("datasets", {})
    for name, entry in datasets.items():
        missing = {"snapshot", "default_config"} - set(entry)
        if missing:
            raise ConfigError(f"{path}: datasets.{name}: missing {', '.join(sorted(missing))}")
    return Spaces(common=common, datasets=datasets, models=models, path=path)


def _model(path: Path, name: str, entry: dict[str, Any]) -> ModelSpace:
    unknown = set(entry) - {"base", "space", "default"}
    if unknown:
        raise ConfigError(f"{path}: models.{name}: unknown keys {sorted(unknown)} (expected base, space, default)")
    base = dict(entry.get("base", {}))
    from_default = bool(base.pop("from_default", False))
    _check_keys(path, f"models.{name}.base", base)
    space = entry.get("space", {})
    _check_keys(path, f"models.{name}.space", space)
    for key, values in space.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{path}: models.{name}.space.{key}: expected a non-empty list of values")
        for value in values:
            _check_value(path, f"models.{name}.space.{key}", {**base, key: value})
    if not from_default and "model" not in base:
        raise ConfigError(f"{path}: models.{name}.base: needs model = ... or from_default = true")
    return ModelSpace(name, base, space, from_default, bool(entry.get("default", False)))


def _check_keys(path: Path, where: str, values: dict[str, Any]) -> None:
    unknown = set(values) - set(TrainConfig.model_fields)
    if unknown:
        raise ConfigError(f"{path}: {where}: unknown training settings {sorted(unknown)}")


def _check_value(path: Path, where: str, values: dict[str, Any]) -> None:
    try:
        load_config(None, values)
    except ConfigError as e:
        raise ConfigError(f"{path}: {where}: {e}") from e


def sample(space: dict[str, list[Any]], trials: int, seed: int) -> list[dict[str, Any]]:
    """``min(trials, grid size)`` distinct points of the grid, drawn uniformly with a seeded generator.

    Args:
        space: Setting -> candidate values.
        trials: How many points.
        seed: Seed of the draw (the same seed and space always give the same points, in the same order).
    """
    if trials < 1:
        raise ConfigError(f"trials must be >= 1, got {trials}")
    if not space:
        return [{}]
    keys = sorted(space)
    grid = list(itertools.product(*(space[k] for k in keys)))
    picks = np.random.default_rng(seed).choice(len(grid), size=min(trials, len(grid)), replace=False)
    return [dict(zip(keys, grid[int(i)], strict=True)) for i in picks]
