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
SAMPLER_SEED = 2020
"""Seed of the one sampler every model's trials are drawn with (harness and RecBole alike)."""
_STOPPING = ("epochs", "patience", "eval_every", "threads")
_EVERY_USER = "eval_users"
"""Refused in the benchmark: its selection, figures and paired tests rank every user."""


@dataclass(frozen=True)
class ModelSpace:
    """One model of the benchmark: fixed settings, searched settings, whether it is kgrec's shipped default."""

    name: str
    base: dict[str, Any]
    space: dict[str, list[Any]] = field(default_factory=dict)
    from_default: bool = False
    default: bool = False
    datasets: tuple[str, ...] = ()
    """Catalogues the model runs on (empty: every one)."""
    ablation: str = ""
    """What this variant of kgrec's default leaves out (an ablation row, reported in its own table)."""

    def runs_on(self, dataset: str) -> bool:
        """Whether the model is declared for ``dataset``."""
        return not self.datasets or dataset in self.datasets

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
    recbole: dict[str, ModelSpace] = field(default_factory=dict)
    """RecBole models (``[recbole.models.X]``): RecBole settings, searched with the same sampler and count."""

    def recbole_stopping(self) -> dict[str, Any]:
        """The common stopping rule in RecBole's terms (epochs cap, stopping_step, eval_step)."""
        names = {"epochs": "epochs", "patience": "stopping_step", "eval_every": "eval_step"}
        return {names[k]: v for k, v in self.common.items() if k in names}

    def base_config(self, model: ModelSpace, dataset: str, root: Path = Path()) -> dict[str, Any]:
        """The model's fixed settings on ``dataset``: its base (or the dataset's shipped config) + the common rule."""
        if model.from_default:
            path = root / self.dataset(dataset)["default_config"]
            shipped = load_config(path)
            if shipped.eval_users is not None:
                raise ConfigError(f"{path}: {_EVERY_USER}: the learning benchmark ranks every user; remove it")
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
    for model in models.values():
        unknown = sorted(set(model.datasets) - set(datasets))
        if unknown:
            raise ConfigError(f"{path}: models.{model.name}.datasets: unknown {', '.join(unknown)}")
    recbole = {name: _recbole_model(path, name, e) for name, e in raw.get("recbole", {}).get("models", {}).items()}
    return Spaces(common=common, datasets=datasets, models=models, path=path, recbole=recbole)


RECBOLE_FIXED = frozenset(
    {
        *("data_path", "dataset", "benchmark_filename", "load_col", "eval_args", "metrics", "topk"),
        *("valid_metric", "valid_metric_bigger", "stopping_step", "epochs", "eval_step", "seed"),
        *("reproducibility", "device", "use_gpu", "gpu_id", "checkpoint_dir", "train_neg_sample_args"),
        "eval_batch_size",
    }
)
"""RecBole settings the protocol fixes for every model (data, split, evaluation, stopping, seeds, negatives)."""


def _recbole_model(path: Path, name: str, entry: dict[str, Any]) -> ModelSpace:
    where = f"recbole.models.{name}"
    unknown = set(entry) - {"base", "space"}
    if unknown:
        raise ConfigError(f"{path}: {where}: unknown keys {sorted(unknown)} (expected base, space)")
    base, space = dict(entry.get("base", {})), entry.get("space", {})
    fixed = sorted((set(base) | set(space)) & RECBOLE_FIXED)
    if fixed:
        raise ConfigError(f"{path}: {where}: {', '.join(fixed)} fixed by the protocol for every model, not per model")
    for key, values in space.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{path}: {where}.space.{key}: expected a non-empty list of values")
        if len({repr(v) for v in values}) != len(values):
            raise ConfigError(f"{path}: {where}.space.{key}: repeated values {values}")
    return ModelSpace(name, base, space)


def _model(path: Path, name: str, entry: dict[str, Any]) -> ModelSpace:
    unknown = set(entry) - {"base", "space", "default", "datasets", "ablation"}
    if unknown:
        raise ConfigError(
            f"{path}: models.{name}: unknown keys {sorted(unknown)} (expected base, space, default, datasets, ablation)"
        )
    if entry.get("ablation") and (entry.get("space") or entry.get("default")):
        raise ConfigError(f"{path}: models.{name}: an ablation is the default minus one part (no space, not default)")
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
    return ModelSpace(
        name,
        base,
        space,
        from_default,
        bool(entry.get("default", False)),
        tuple(entry.get("datasets", ())),
        str(entry.get("ablation", "")),
    )


def _check_keys(path: Path, where: str, values: dict[str, Any]) -> None:
    unknown = set(values) - set(TrainConfig.model_fields)
    if unknown:
        raise ConfigError(f"{path}: {where}: unknown training settings {sorted(unknown)}")
    if _EVERY_USER in values:
        raise ConfigError(f"{path}: {where}: {_EVERY_USER}: the learning benchmark ranks every user")


def _check_value(path: Path, where: str, values: dict[str, Any]) -> None:
    try:
        load_config(None, values)
    except ConfigError as e:
        raise ConfigError(f"{path}: {where}: {e}") from e


def check_budget(model: ModelSpace, trials: int, where: Path | str) -> None:
    """Refuse a space whose grid has fewer points than ``trials`` (every searched model gets the same count).

    Raises:
        ConfigError: ``where: model: grid of N points < T trials``.
    """
    if model.space and model.grid_size() < trials:
        raise ConfigError(f"{where}: {model.name}: grid of {model.grid_size()} points < {trials} trials")


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
