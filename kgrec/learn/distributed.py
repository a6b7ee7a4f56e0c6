"""Data-parallel training over several processes: ``torch.distributed`` with DistributedDataParallel.

Started by ``kgrec train --nproc N`` (N local processes, :func:`spawn`) or by
``torchrun`` (one or several machines: ``torchrun ... -m kgrec.learn.distributed
<kgrec train options>``, which reads ``RANK``/``WORLD_SIZE``/``MASTER_ADDR`` from
the environment). The backend follows the device: ``nccl`` on GPUs (rank ``r``
of a machine on ``cuda:LOCAL_RANK``), ``gloo`` on CPUs.

What each rank does (:class:`DistributedTrainer`):

* every rank draws the same shuffled global batches and negatives (seeded by
  seed and epoch, as one process would) and trains on its own contiguous,
  disjoint share of each batch; its sampled subgraph is drawn with a generator
  seeded by seed, epoch and rank;
* DDP averages the gradients; each rank's loss is scaled by its share of the
  batch, so the average is the gradient of the global batch's mean loss, as in
  one process with the same ``batch_size``. Embeddings are dense
  ``nn.Embedding`` tables, so DDP's all-reduce covers them; relations missing
  from one rank's subgraph leave parameters unused there, hence
  ``find_unused_parameters=True``;
* rank 0 validates and broadcasts the metrics, so every rank takes the same
  keep-best and early-stop decisions; rank 0 alone writes the checkpoint, the
  split, the bundle and the report.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from kgrec.errors import ConfigError, KgrecError
from kgrec.learn.losses import batch_loss
from kgrec.learn.neighbours import Subgraph
from kgrec.learn.recommender import Recommender
from kgrec.learn.sampling import NegativeSampler
from kgrec.learn.trainer import EpochLog, EpochProgress, Trainer, resolve_device

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Context:
    """This process's place in the group."""

    rank: int
    world: int
    local_rank: int


def context() -> Context | None:
    """The process group this process belongs to, or ``None`` when it trains alone."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    return Context(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def is_main() -> bool:
    """Whether this process writes files and prints results (rank 0, or no group)."""
    ctx = context()
    return ctx is None or ctx.rank == 0


def launched_by_torchrun() -> bool:
    """Whether the environment describes a group of several processes (``WORLD_SIZE`` > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def is_main_environment() -> bool:
    """Whether the environment names this process rank 0 (or no rank): valid after the group is left."""
    return int(os.environ.get("RANK", "0")) == 0


def device_for(name: str) -> torch.device:
    """The config's device; in a group, a bare ``cuda`` (or ``auto`` on a GPU machine) means ``cuda:LOCAL_RANK``."""
    device = resolve_device(name)
    ctx = context()
    if ctx is not None and device.type == "cuda" and device.index is None:
        return torch.device("cuda", ctx.local_rank)
    return device


@contextmanager
def process_group(device: str) -> Iterator[Context | None]:
    """Join the group the environment describes (``WORLD_SIZE`` > 1), for the duration of the block.

    Backend ``nccl`` when the device is a GPU, else ``gloo``. Without ``WORLD_SIZE``
    (or with 1) this does nothing and yields ``None``.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) < 2 or dist.is_initialized():
        yield context()
        return
    cuda = resolve_device(device).type == "cuda"
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if cuda else "gloo", timeout=timedelta(minutes=30))
    try:
        yield context()
    finally:
        dist.destroy_process_group()


def make_trainer(model: Recommender, split: Any, config: Any, **options: Any) -> Trainer:
    """A :class:`DistributedTrainer` inside a process group, else a plain :class:`Trainer`."""
    if context() is None:
        return Trainer(model, split, config, **options)
    return DistributedTrainer(model, split, config, **options)


class _BatchLoss(nn.Module):
    """The model's loss on one batch: what DDP wraps, so its forward drives the gradient sync."""

    def __init__(self, trainer: Trainer) -> None:
        super().__init__()
        self.model, self.loss, self.temperature = trainer.model, trainer.config.loss, trainer.config.temperature

    def forward(self, sub: Subgraph | None, users: Tensor, pos: Tensor, neg: Tensor, weight: float) -> Tensor:
        state = self.model.embed() if sub is None else self.model.embed_sampled(sub)
        return batch_loss(self.model, state, (users, pos, neg), self.loss, self.temperature) * weight


class DistributedTrainer(Trainer):
    """:class:`Trainer` on one rank of a process group (see the module's docstring).

    Same arguments as :class:`Trainer`; ``on_epoch``, ``on_batch`` and the checkpoint are used on rank 0 only.
    """

    def __init__(self, model: Recommender, split: Any, config: Any, **options: Any) -> None:
        ctx = context()
        if ctx is None:
            raise ConfigError("DistributedTrainer needs a process group (torchrun, or kgrec train --nproc N)")
        self.ctx = ctx
        if ctx.rank != 0:  # rank 0 alone shows progress
            options["on_epoch"] = options["on_batch"] = None
        super().__init__(model, split, config, **options)
        self.ddp = (
            DistributedDataParallel(_BatchLoss(self), find_unused_parameters=True, broadcast_buffers=False)
            if self.optim is not None
            else None
        )

    def _epoch(self, epoch: int, partial: EpochProgress | None = None) -> EpochLog:
        """One epoch on this rank; it has no checkpoints inside (a ``partial`` one restarts the epoch)."""
        if partial is not None:
            log.warning("epoch %d: a checkpoint inside it is not resumed by several processes; restarting it", epoch)
        self.model.train()
        started, total, steps = time.perf_counter(), 0.0, 0
        seed = self.config.seed * 1_000_003 + epoch
        torch.manual_seed(seed + 7_919 * self.ctx.rank)  # dropout differs per rank, as it would per batch
        negatives = NegativeSampler(self.split.train, self.split.num_items, seed=seed)  # same on every rank
        subgraphs = np.random.default_rng([self.config.seed, epoch, 1, *([self.ctx.rank] if self.ctx.rank else [])])
        for users, pos, neg in self._batches(negatives, epoch):
            share, weight = self._share(len(users))
            total += self.step(users[share], pos[share], neg[share], subgraphs, weight)
            steps += 1
        summed = torch.tensor([total], dtype=torch.float64, device=self.device)
        dist.all_reduce(summed)  # every rank logs the mean loss of the global batches
        return EpochLog(epoch, float(summed) / self.ctx.world / max(steps, 1), time.perf_counter() - started)

    def _share(self, size: int) -> tuple[slice, float]:
        """This rank's rows of a global batch of ``size``, and the weight that makes the DDP mean exact.

        A rank left without rows (a last batch smaller than the group) still takes part
        in the all-reduce, on one row with weight 0.
        """
        bounds = np.linspace(0, size, self.ctx.world + 1).round().astype(int)
        lo, hi = int(bounds[self.ctx.rank]), int(bounds[self.ctx.rank + 1])
        if hi == lo:
            return slice(0, 1), 0.0
        return slice(lo, hi), (hi - lo) * self.ctx.world / size

    def step(self, users: Tensor, pos: Tensor, neg: Tensor, rng: np.random.Generator, weight: float = 1.0) -> float:
        """One synchronised step on this rank's share of a batch; returns its weighted loss."""
        sub = None
        if self.sampler is not None:
            sub, users, pos, neg = self.sampler.around_triples(users, pos, neg, rng)
            sub = sub.to(self.device)
        loss = self.ddp(sub, users.to(self.device), pos.to(self.device), neg.to(self.device), weight)
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        self.optim.step()
        return float(loss.detach())

    def _validate(self) -> dict[str, float]:
        box: list[Any] = [super()._validate() if self.ctx.rank == 0 else None]
        dist.broadcast_object_list(box, src=0, device=self.device if self.device.type == "cuda" else None)
        return box[0]

    def _save(self, *args: Any) -> None:
        if self.ctx.rank == 0:
            super()._save(*args)


def spawn(nproc: int, snapshot: Path, config: Any, out: Path, *, progress: bool = False) -> Any:
    """Train ``config`` in ``nproc`` local processes (one group on this machine); returns rank 0's ``RunResult``.

    Every process loads ``snapshot`` and ``out/split.npz`` (write the split first);
    rank 0 writes the bundle into ``out``.

    Raises:
        KgrecError: A process failed (its last error line is the message).
    """
    import torch.multiprocessing as mp

    results = mp.get_context("spawn").SimpleQueue()
    args = (nproc, _free_port(), snapshot, config, out, results, progress)
    try:
        mp.spawn(_worker, args=args, nprocs=nproc)
    except mp.ProcessRaisedException as e:
        lines = [line for line in str(e).splitlines() if line.strip()]
        raise KgrecError(f"a training process failed: {lines[-1] if lines else e}") from None
    except mp.ProcessExitedException as e:
        raise KgrecError(f"a training process died: {e}") from None
    return results.get()


def _worker(
    rank: int, nproc: int, port: int, snapshot: Path, config: Any, out: Path, results: Any, progress: bool
) -> None:
    """One spawned process: the environment ``torchrun`` would give it, then the ordinary training run."""
    from kgrec.learn.run import train_run
    from kgrec.snapshot import GraphSnapshot

    env = {"RANK": rank, "LOCAL_RANK": rank, "WORLD_SIZE": nproc, "LOCAL_WORLD_SIZE": nproc, "MASTER_PORT": port}
    os.environ.update({k: str(v) for k, v in env.items()}, MASTER_ADDR="127.0.0.1")
    if not config.threads:  # N processes share the machine's cores
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // nproc))
    on_epoch = _progress_bar(config.epochs) if progress and rank == 0 else None
    with process_group(config.device):
        result = train_run(GraphSnapshot.load(snapshot), config, out, on_epoch=on_epoch)
    if rank == 0:
        results.put(result)


def _progress_bar(epochs: int) -> Any:
    from tqdm import tqdm

    bar = tqdm(total=epochs, desc="train (rank 0)", unit="epoch", file=sys.stderr, dynamic_ncols=True)

    def on_epoch(e: EpochLog) -> None:
        bar.set_postfix(loss=f"{e.loss:.4f}", ndcg10=f"{e.valid['ndcg@10']:.4f}" if e.valid else "-")
        bar.update(1)

    return on_epoch


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":  # torchrun ... -m kgrec.learn.distributed <kgrec train options>
    from kgrec.cli.main import cli

    cli(["train", *sys.argv[1:]])
