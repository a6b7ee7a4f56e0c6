"""``kgrec export``, ``kgrec train`` and ``kgrec evaluate``: the learning side from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from tqdm import tqdm

from kgrec.cli import render
from kgrec.graph.snapshots import export_training_snapshot
from kgrec.graph.store import GraphStore
from kgrec.settings import load_settings

DEFAULT_SNAPSHOT = Path("runs/snapshot.npz")


@click.command()
@click.option("--out", type=click.Path(path_type=Path), default=DEFAULT_SNAPSHOT, show_default=True)
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def export(out: Path, no_progress: bool) -> None:
    """Export the graph (with item features) from Neo4j into a snapshot file for training."""
    snapshot = _export(out, no_progress)
    click.echo(f"snapshot: {out} ({', '.join(f'{t} {len(k):,}' for t, k in snapshot.node_keys.items())})")


@click.command()
@click.option("--config", "config_file", type=click.Path(exists=True, path_type=Path), help="Training config (TOML).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a config key (repeatable).")
@click.option("--snapshot", type=click.Path(path_type=Path), help="Train from this snapshot (default: export now).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/kgrec"), show_default=True)
@click.option(
    "--cold-items",
    type=click.FloatRange(0, 0.9),
    default=0.0,
    show_default=True,
    help="Share of items held out entirely (cold-start evaluation).",
)
@click.option("--write", is_flag=True, help="Store the learned user/item embeddings in Neo4j (vector indexes).")
@click.option(
    "--nproc",
    type=click.IntRange(1, 256),
    default=1,
    show_default=True,
    help="Data-parallel training processes on this machine (DDP: gloo on CPU, nccl on GPUs).",
)
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def train(
    config_file: Path | None,
    overrides: tuple[str, ...],
    snapshot: Path | None,
    out: Path,
    cold_items: float,
    write: bool,
    nproc: int,
    no_progress: bool,
) -> None:
    """Train a model (kgrec's GNN or a baseline) and write a bundle, metrics and curves to OUT."""
    from kgrec.learn import distributed
    from kgrec.learn.config import load_config
    from kgrec.learn.run import prepare_split, train_run
    from kgrec.snapshot import GraphSnapshot

    config = load_config(config_file, overrides)
    if snapshot is None and distributed.launched_by_torchrun():
        raise click.UsageError("under torchrun, pass --snapshot (export it once with `kgrec export`)")
    snap = GraphSnapshot.load(snapshot) if snapshot else _export(out / "snapshot.npz", no_progress)
    split = prepare_split(snap, out, seed=config.seed, cold_item_share=cold_items)
    bar = tqdm(
        total=config.epochs,
        desc=f"train {config.model}",
        unit="epoch",
        bar_format="{l_bar}{bar}| {n:.2f}/{total} epochs [{elapsed}<{remaining}{postfix}]",
        file=sys.stderr,
        disable=no_progress or nproc > 1,
        dynamic_ncols=True,
    )

    def on_epoch(e: object) -> None:
        valid = getattr(e, "valid", None)
        bar.set_postfix(loss=f"{e.loss:.4f}", ndcg10=f"{valid['ndcg@10']:.4f}" if valid else "-")
        bar.n = e.epoch + 1
        bar.refresh()

    def on_batch(epoch: int, done: int, total: int) -> None:  # a long epoch moves the bar too
        bar.update(epoch + done / total - bar.n)

    if nproc > 1:
        result = distributed.spawn(nproc, snapshot or out / "snapshot.npz", config, out, progress=not no_progress)
    else:
        with distributed.process_group(config.device):
            result = train_run(snap, config, out, split=split, on_epoch=on_epoch, on_batch=on_batch)
        bar.close()
        if not distributed.is_main_environment():
            return
    epochs = f"best epoch {result.best_epoch + 1} of {result.epochs}"
    click.echo(f"{epochs}, median {result.median_epoch_seconds:.2f} s/epoch")
    if config.model == "kgrec" and config.new_item_ridge > 0:
        click.echo(f"new-item map: ridge {config.new_item_ridge:g}, never-rated items scored on the rated items' scale")
    _print_metrics("test", result.test)
    if result.cold:
        _print_metrics("cold items", result.cold)
    if config.eval_users:
        click.echo(
            f"metrics ranked a seeded sample of at most {config.eval_users:,} users a phase (eval_users), "
            f"not every user: {out / 'metrics.json'} says how many"
        )
    click.echo(f"bundle: {out}  (curves: {out / 'curves.png'})")
    if write:
        _write_embeddings(out, no_progress)


@click.command("write-embeddings")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def write_embeddings_cmd(run_dir: Path, no_progress: bool) -> None:
    """Store a bundle's learned user and item embeddings in Neo4j, with a vector index each."""
    _write_embeddings(run_dir, no_progress)


def _write_embeddings(run_dir: Path, no_progress: bool) -> None:
    from kgrec.graph.embeddings import write_bundle_embeddings

    progress = render.silent if no_progress else render.progress_bar
    with GraphStore.connect(load_settings()) as store:
        for done in write_bundle_embeddings(store, run_dir, progress=progress):
            stored = f"{done.written:,}/{done.total:,} nodes, {done.dim} dims, index {done.index}"
            click.echo(f"{done.label}.embedding: {stored}")


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print metrics as JSON.")
def evaluate(run_dir: Path, as_json: bool) -> None:
    """Evaluate a trained bundle on its split's test (and cold-start) interactions."""
    from kgrec.learn.bundle import load_bundle
    from kgrec.learn.run import evaluate_model

    bundle = load_bundle(run_dir)
    test, cold = evaluate_model(bundle.model, bundle.split)
    metrics = {"test": test, **({"cold": cold} if cold else {})}
    if as_json:
        click.echo(json.dumps(metrics, indent=2))
        return
    for phase, values in metrics.items():
        _print_metrics(phase, values)


def _export(out: Path, no_progress: bool):  # noqa: ANN202 - GraphSnapshot, imported lazily
    settings = load_settings()
    progress = render.silent if no_progress else render.progress_bar
    with GraphStore.connect(settings) as store:
        snapshot = export_training_snapshot(store, progress=progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    snapshot.save(out)
    return snapshot


def _print_metrics(phase: str, metrics: dict[str, float]) -> None:
    keys = [k for k in ("recall@10", "recall@20", "ndcg@10", "ndcg@20", "hit@10", "hit@20", "mrr@10") if k in metrics]
    click.echo(f"{phase}: " + "  ".join(f"{k} {metrics[k]:.4f}" for k in keys))
    cold_only = [k for k in metrics if k.startswith("cold_only/") and k.split("/")[1] in ("ndcg@10", "recall@20")]
    if cold_only:
        click.echo("  ranked among cold items only: " + "  ".join(f"{k[10:]} {metrics[k]:.4f}" for k in cold_only))


__all__ = ["evaluate", "export", "train", "write_embeddings_cmd"]
