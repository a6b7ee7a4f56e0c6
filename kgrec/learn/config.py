"""Training configuration: a TOML file plus ``key=value`` overrides from the command line.

Example (``configs/train.toml``)::

    model = "kgrec"
    fusion = "hybrid"
    modalities = ["text", "image"]
    loss = "bpr"
    epochs = 60
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import tomllib
from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, ValidationError, model_serializer

from kgrec.errors import ConfigError

ModelName = Literal["kgrec", "lightgcn", "bprmf", "pop"]


class TrainConfig(BaseModel):
    """Everything that decides a training run (and so its checkpoint's identity)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: ModelName = "kgrec"
    """Which model: kgrec's GNN, or a baseline (``lightgcn``, ``bprmf``, ``pop``)."""
    fusion: Literal["none", "early", "late", "hybrid"] = "late"
    """How item modalities are fused (kgrec only); ``none`` ignores modalities. ``late`` measured best (README)."""
    modalities: list[str] = ["text"]
    """Item modalities to use (kgrec only); those the graph lacks are skipped with a warning. Text alone
    measured best: posters add nothing for known items and hurt the ranking of new ones (README)."""
    kg: bool = True
    """Use the knowledge-graph relationships (kgrec only); ``false`` keeps interactions only."""
    drop_relations: list[str] = []
    """Relationship types left out of training (kgrec only), as names or shell patterns (``"FILM_*"``):
    how an ablation measures what one source adds (``["HAS_TAG"]``: no tags). Explanations may still
    walk them. Each entry must match a type of the graph; the interaction cannot be dropped."""
    loss: Literal["bpr", "bce", "softmax"] = "bpr"
    """Pairwise BPR, binary cross-entropy over positives and sampled negatives, or sampled softmax: each
    positive against its ``negatives`` uniform negatives at once (``kgrec.learn.losses``). The shipped configs
    (``configs/demo.toml``, ``configs/lastfm.toml``) use ``softmax`` with 64 negatives, chosen on validation;
    the default stays ``bpr`` so that configs and bundles written before keep their meaning."""
    negatives: int = Field(1, ge=1)
    """Uniform negatives drawn per training interaction (never a training positive of the user)."""
    temperature: float = Field(1.0, gt=0)
    """Divisor of the scores in the ``softmax`` loss (smaller: sharper; unused by the other losses)."""
    dim: int = Field(64, ge=1)
    """Embedding width."""
    layers: int = Field(2, ge=0)
    """Propagation layers (kgrec, lightgcn)."""
    lr: float = Field(2e-3, gt=0)
    """Adam learning rate."""
    batch_size: int = Field(4096, ge=1)
    """Training triples (user, positive, negative) per step."""
    epochs: int = Field(60, ge=0)
    """Upper bound on epochs."""
    patience: int = Field(8, ge=1)
    """Stop after this many validations without a better validation NDCG@10."""
    eval_every: int = Field(1, ge=1)
    """Validate every this many epochs."""
    eval_users: int | None = Field(None, ge=1)
    """Rank a seeded sample of this many users in validation and in the final valid/test/cold reports
    (``None``: every user with a positive in the phase). The same users every epoch and run (the
    evaluator's seed), each ranked over all items; for catalogues where a full-ranking pass takes
    hours (1M users x 200k items). Reports say how many users were ranked; the learning benchmark
    refuses it (docs/learning.md, "Evaluation on a sample of users")."""
    reg_weight: float = Field(1e-5, ge=0)
    """L2 weight on the batch's ego embeddings."""
    id_dropout: float = Field(0.0, ge=0, lt=1)
    """Probability of dropping an item's id embedding per step: teaches the model to score items from
    content and the knowledge graph alone (cold start; the cold-start benchmark uses 0.1). 0 measured
    best on warm items (README, learning results)."""
    cold_simulation: float = Field(0.0, ge=0, lt=1)
    """Share of rated items treated as never rated at each training step (kgrec only): their id
    embedding is dropped and their interaction edges are hidden from that pass, while their
    interactions still count in the loss. Improves the ranking of new items among themselves, at a
    cost to known items (README: cold start); full-batch training only."""
    new_item_ridge: float = Field(0.0, ge=0)
    """Ridge strength of the new-item map fitted after training (kgrec only; ``0``: none). Never-rated
    items then get vectors predicted from their content and knowledge-graph neighbours on the rated
    items' scale, so they can enter a top-k: smaller values show new items more often, at a cost to
    the ranking of known ones (the trade-off is measured in the README)."""
    interaction_share: float = Field(0.5, gt=0, lt=1)
    """Initial attention share of the interactions among the relations that reach an item
    (kgrec, ``kg_mode = "attention"`` only)."""
    kg_inputs: Literal["learned", "zero"] = "zero"
    """Knowledge-graph nodes' input (kgrec only): a learned embedding each, or zero, so that they only
    relay their neighbours' signal (item-item smoothing through shared entities, no free parameters).
    ``zero`` measured better: 13.7k free entity embeddings let the model fit the training interactions
    in ways that do not generalise (README, learning results)."""
    kg_mode: Literal["attention", "residual"] = "residual"
    """How knowledge-graph messages reach items (kgrec only). ``attention``: one softmax over every
    relation into an item, interactions included (starting at ``interaction_share``); ``residual``:
    interactions propagate with weight 1, as in LightGCN, and the knowledge-graph relations add a
    residual of total weight ``kg_gate`` (shared among them by a learned softmax)."""
    kg_gate: float = Field(0.1, gt=0, lt=1)
    """Weight of the knowledge-graph messages into items under ``kg_mode = "residual"``: a fixed
    hyperparameter (a learned gate grew from 0.1 to 0.6 to fit the training data and hurt validation)."""
    kg_reg: float = Field(0.0, ge=0)
    """L2 weight on the knowledge-graph side (kgrec only): the mean squared norm of the embeddings of
    every node type other than users and items, plus the relation vectors' squared distance from 1."""
    batching: Literal["full", "sampled"] = "full"
    """``full``: one pass over the whole graph per batch; ``sampled``: a neighbour-sampled
    subgraph around each batch (kgrec only; for graphs too large for full-batch steps)."""
    fanouts: list[Annotated[int, Field(ge=1)]] = [10, 10]
    """Neighbours drawn per node and relation at each hop, one per layer (``sampled`` only)."""
    seed: int = 2020
    """Seed of everything random: init, sampling, dropout."""
    device: str = "auto"
    """``auto`` (GPU when present), ``cpu``, ``cuda``, ``cuda:1``..."""
    threads: int = Field(0, ge=0)
    """CPU threads for torch (0: torch's default)."""
    checkpoint_minutes: float = Field(10.0, ge=0)
    """Also checkpoint inside an epoch after this many minutes of it (wall clock), so that an interrupted
    long epoch resumes at its next batch, not at its start (0: at epoch ends only; single-process runs)."""

    @model_serializer(mode="wrap")
    def _unset_additions_left_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Dumps leave the fields added later (:data:`_LATER_ADDITIONS`) out while they hold their "as before"
        value, so configs, bundles and cache keys made before them keep their form (and fingerprint)."""
        data: dict[str, Any] = handler(self)
        for key, unset in _LATER_ADDITIONS.items():
            if getattr(self, key) == unset:
                data.pop(key, None)
        return data

    def fingerprint(self) -> str:
        """SHA-256 of the settings that change the result (not ``device``/``threads``/``epochs``/checkpointing)."""
        data = self.model_dump(exclude={"device", "threads", "epochs", "patience", "eval_every", "checkpoint_minutes"})
        if not data["drop_relations"]:  # added later: configs without it keep their fingerprint
            del data["drop_relations"]
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


_LATER_ADDITIONS: dict[str, Any] = {"eval_users": None, "negatives": 1, "temperature": 1.0, "checkpoint_minutes": 10.0}
"""Fields added after bundles and benchmark caches existed, with the value that means "as before"."""


def load_config(path: Path | str | None = None, overrides: Sequence[str] | Mapping[str, Any] = ()) -> TrainConfig:
    """Read a config file (optional) and apply overrides (``"key=value"`` strings or a mapping).

    Override values are parsed as TOML values (``lr=1e-3``, ``modalities=["text"]``,
    ``kg=false``); anything that does not parse is taken as a string (``fusion=late``).

    Raises:
        ConfigError: The file cannot be read, or a key or value is invalid (the message names it).
    """
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"{path}: {e}") from e
    values.update(overrides if isinstance(overrides, Mapping) else _parse_overrides(overrides))
    try:
        return TrainConfig(**values)
    except ValidationError as e:
        where = f"{path}: " if path else ""
        problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        raise ConfigError(f"{where}invalid training config: {problems}") from e


def _parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r}: expected key=value")
        try:
            out[key.strip()] = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = raw.strip()
    return out
