"""The training loop, separate from the models: one harness for kgrec and every baseline.

Per epoch: shuffled (user, positive, negative) triples from the training
interactions, one full forward pass per batch (:meth:`Recommender.embed`),
BPR or binary cross-entropy, Adam. With ``batching = "sampled"`` each batch
instead propagates over a subgraph sampled around its users and items
(:mod:`kgrec.learn.neighbours`); losses, validation, early stopping and
checkpoints are the same, and validation still ranks all items with a
full-graph pass without autograd (every user with a validation positive, or the seeded sample
of ``eval_users`` of them, the same every epoch). Validation NDCG@10 decides early stopping
and which weights are kept. After every epoch a checkpoint (model, optimiser,
random states, history) is written atomically, and inside a long epoch every
``checkpoint_minutes`` too (with the batch reached and the samplers' states), so
an interrupted run resumes where it stopped and ends with the same result as an
uninterrupted one.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from kgrec.errors import ConfigError
from kgrec.learn.config import TrainConfig
from kgrec.learn.evaluator import Evaluator
from kgrec.learn.losses import batch_loss
from kgrec.learn.neighbours import NeighbourSampler
from kgrec.learn.recommender import Recommender
from kgrec.learn.sampling import NegativeSampler, bpr_batches
from kgrec.learn.split import Split

log = logging.getLogger(__name__)

VALID_METRIC = "ndcg@10"


@dataclass
class EpochLog:
    """One epoch: mean training loss, wall time, validation metrics when validated."""

    epoch: int
    loss: float
    seconds: float
    valid: dict[str, float] | None = None


@dataclass
class EpochProgress:
    """How far an epoch has gone: kept in a checkpoint written inside it, to go on from its next batch."""

    epoch: int
    batch: int = 0
    """Batches done."""
    loss_sum: float = 0.0
    seconds: float = 0.0
    """Wall time spent on the epoch so far (over every sitting)."""
    negatives: dict[str, Any] | None = None
    """The negative sampler's generator state after ``batch`` batches."""
    subgraphs: dict[str, Any] | None = None
    """The subgraph generator's state after ``batch`` batches (``batching = "sampled"``)."""


@dataclass
class TrainResult:
    """The history of a run and where it ended."""

    history: list[EpochLog] = field(default_factory=list)
    best_epoch: int = -1
    best_valid: dict[str, float] = field(default_factory=dict)
    stopped_early: bool = False
    resumed_from: int | None = None
    """The epoch a resumed run went on from (``None``: not resumed)."""
    resumed_at_batch: int | None = None
    """When it went on from inside that epoch: the batches of it already done."""
    valid_users: dict[str, Any] | None = None
    """How many users validation ranked, of how many, whether a sample (:meth:`Evaluator.coverage`)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable form."""
        return asdict(self)


def resolve_device(name: str) -> torch.device:
    """``auto`` -> the first GPU when present, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(name)
    except RuntimeError as e:
        raise ConfigError(f"device {name!r}: {e}") from e


class Trainer:
    """Trains one model on one split.

    Args:
        model: The model (already on its device).
        split: The split; ``train`` feeds the sampler, ``valid`` early stopping.
        config: The run's settings (loss, lr, batch size, epochs, patience, seed).
        checkpoint: File to checkpoint into and resume from (default: none).
        on_epoch: Called after every epoch (the CLI draws progress with it).
        on_batch: Called after every batch with the epoch, the batches done in it and its number of batches.
    """

    def __init__(
        self,
        model: Recommender,
        split: Split,
        config: TrainConfig,
        *,
        checkpoint: Path | None = None,
        on_epoch: Callable[[EpochLog], None] | None = None,
        on_batch: Callable[[int, int, int], None] | None = None,
    ) -> None:
        self.model, self.split, self.config = model, split, config
        self.checkpoint, self.on_epoch, self.on_batch = checkpoint, on_epoch, on_batch
        self._kept: tuple[TrainResult, dict[str, Tensor] | None] = (TrainResult(), None)
        self.evaluator = Evaluator(split, sample_users=config.eval_users)
        params = [p for p in model.parameters() if p.requires_grad]
        self.optim = torch.optim.Adam(params, lr=config.lr) if params and model.trainable else None
        tensors = itertools.chain(model.parameters(), model.buffers())
        self.device = next((t.device for t in tensors), torch.device("cpu"))
        self.sampler = self._sampler() if config.batching == "sampled" else None

    def _sampler(self) -> NeighbourSampler:
        make = getattr(self.model, "neighbour_sampler", None)
        if make is None:
            raise ConfigError(f"batching='sampled' needs a model with a sampled path (kgrec), not {self.config.model}")
        sampler: NeighbourSampler = make(self.config.fanouts)
        return sampler

    def fit(self) -> TrainResult:
        """Train until ``epochs`` or early stopping; the model ends with its best weights."""
        result, best_state, start, partial = TrainResult(), None, 0, None
        torch.manual_seed(self.config.seed)
        if self.checkpoint is not None and self.checkpoint.exists():
            result, best_state, start, partial = self._resume()
        result.valid_users = self.evaluator.coverage("valid")
        if self.optim is None:
            return self._closed_form(result)
        bad = self._validations_since_best(result)
        for epoch in range(start, self.config.epochs if not result.stopped_early else start):
            self._kept = (result, best_state)  # what a checkpoint inside the epoch holds besides its progress
            entry = self._epoch(epoch, partial if partial is not None and partial.epoch == epoch else None)
            if (epoch + 1) % self.config.eval_every == 0 or epoch + 1 == self.config.epochs:
                entry.valid = self._validate()
                if entry.valid[VALID_METRIC] > result.best_valid.get(VALID_METRIC, -1.0):
                    result.best_epoch, result.best_valid, bad = epoch, entry.valid, 0
                    best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
                else:
                    bad += 1
            result.history.append(entry)
            result.stopped_early = bad >= self.config.patience
            self._save(result, best_state, epoch + 1)
            if self.on_epoch:
                self.on_epoch(entry)
            if result.stopped_early:
                log.info("early stop at epoch %d (best %d)", epoch, result.best_epoch)
                break
        if best_state is not None:
            self.model.load_state_dict(best_state)
        return result

    def _validate(self) -> dict[str, float]:
        """Validation metrics of the current weights (the distributed trainer computes them on rank 0 only)."""
        return self.evaluator.evaluate(self.model, "valid")

    @property
    def batches_per_epoch(self) -> int:
        """Optimisation steps in one epoch."""
        return math.ceil(self.split.train.shape[1] / self.config.batch_size)

    def _epoch(self, epoch: int, partial: EpochProgress | None = None) -> EpochLog:
        """One epoch, from its start or from ``partial`` (a checkpoint written inside it)."""
        self.model.train()
        seed = self.config.seed * 1_000_003 + epoch
        sampler = NegativeSampler(self.split.train, self.split.num_items, seed=seed)
        subgraphs = np.random.default_rng([self.config.seed, epoch, 1])
        at = partial or EpochProgress(epoch)
        if partial is None:
            torch.manual_seed(seed)
        else:  # torch's generator came back with the checkpoint
            sampler.state, subgraphs.bit_generator.state = partial.negatives, partial.subgraphs
            log.info("epoch %d: going on after batch %d of %d", epoch, at.batch, self.batches_per_epoch)
        saved = time.perf_counter()
        started = saved - at.seconds
        for users, pos, neg in self._batches(sampler, epoch, start_batch=at.batch):
            at.loss_sum, at.batch = at.loss_sum + self.step(users, pos, neg, subgraphs), at.batch + 1
            if self.on_batch:
                self.on_batch(epoch, at.batch, self.batches_per_epoch)
            if self._checkpoint_due(saved):
                at.seconds, at.negatives = time.perf_counter() - started, sampler.state
                at.subgraphs = subgraphs.bit_generator.state
                self._save(*self._kept, epoch, at)
                saved = time.perf_counter()
        return EpochLog(epoch, at.loss_sum / max(at.batch, 1), time.perf_counter() - started)

    def _checkpoint_due(self, since: float) -> bool:
        minutes = self.config.checkpoint_minutes
        return self.checkpoint is not None and minutes > 0 and time.perf_counter() - since >= minutes * 60

    def _batches(
        self, sampler: NegativeSampler, epoch: int, start_batch: int = 0
    ) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
        """The epoch's shuffled triples from ``start_batch`` on, with the config's number of negatives each."""
        config = self.config
        return bpr_batches(
            self.split.train,
            sampler,
            config.batch_size,
            seed=config.seed,
            epoch=epoch,
            negatives=config.negatives,
            start_batch=start_batch,
        )

    def step(self, users: Tensor, pos: Tensor, neg: Tensor, rng: np.random.Generator) -> float:
        """One optimisation step on a batch of triples; ``rng`` draws its subgraph when sampled. Returns the loss."""
        if self.sampler is None:
            state = self.model.embed()
        else:  # the batch's ids become rows of its subgraph's seeds
            sub, users, pos, neg = self.sampler.around_triples(users, pos, neg, rng)
            state = self.model.embed_sampled(sub.to(self.device))
        users, pos, neg = users.to(self.device), pos.to(self.device), neg.to(self.device)
        loss = batch_loss(self.model, state, (users, pos, neg), self.config.loss, self.config.temperature)
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        self.optim.step()
        return float(loss.detach())

    def _closed_form(self, result: TrainResult) -> TrainResult:
        valid = self.evaluator.evaluate(self.model, "valid")
        result.history.append(EpochLog(0, 0.0, 0.0, valid))
        result.best_epoch, result.best_valid = 0, valid
        return result

    @staticmethod
    def _validations_since_best(result: TrainResult) -> int:
        validated = [e.epoch for e in result.history if e.valid is not None]
        return sum(1 for e in validated if e > result.best_epoch)

    def _save(
        self,
        result: TrainResult,
        best_state: dict[str, Tensor] | None,
        next_epoch: int,
        partial: EpochProgress | None = None,
    ) -> None:
        """Checkpoint before ``next_epoch``, or inside it (``partial``: how far it has gone)."""
        if self.checkpoint is None:
            return
        if partial is not None:
            log.info("epoch %d: checkpoint after batch %d of %d", next_epoch, partial.batch, self.batches_per_epoch)
        payload = {
            "fingerprint": self.config.fingerprint(),
            "split": self.split.fingerprint(),
            "next_epoch": next_epoch,
            "partial": asdict(partial) if partial is not None else None,
            "model": self.model.state_dict(),
            "optim": self.optim.state_dict() if self.optim else None,
            "best": best_state,
            "result": result.to_dict(),
            "torch_rng": torch.get_rng_state(),
        }
        self.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.checkpoint.with_name(self.checkpoint.name + ".tmp")
        torch.save(payload, tmp)
        os.replace(tmp, self.checkpoint)

    def _resume(self) -> tuple[TrainResult, dict[str, Tensor] | None, int, EpochProgress | None]:
        payload = torch.load(self.checkpoint, map_location=self.device, weights_only=False)
        if payload["fingerprint"] != self.config.fingerprint() or payload["split"] != self.split.fingerprint():
            raise ConfigError(
                f"{self.checkpoint}: checkpoint of another config or split; delete it or choose another output folder"
            )
        self.model.load_state_dict(payload["model"])
        if self.optim is not None and payload["optim"] is not None:
            self.optim.load_state_dict(payload["optim"])
        torch.set_rng_state(payload["torch_rng"])
        raw = payload["result"]
        history = [EpochLog(**e) for e in raw.pop("history")]
        result = TrainResult(history=history, **{k: v for k, v in raw.items() if not k.startswith("resumed_")})
        partial = payload.get("partial")  # absent from checkpoints written before there were any inside epochs
        result.resumed_from, result.resumed_at_batch = payload["next_epoch"], partial["batch"] if partial else None
        log.info("resuming from %s at epoch %d", self.checkpoint, payload["next_epoch"])
        return result, payload["best"], payload["next_epoch"], EpochProgress(**partial) if partial else None
