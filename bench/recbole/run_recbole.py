"""Train and evaluate one RecBole model on exported benchmark files; write a JSON result.

Runs INSIDE the RecBole virtual environment (see ``env.py``), so it imports
nothing from kgrec. The whole RecBole pipeline is the function :func:`run`:
config -> dataset -> split by benchmark files -> model -> trainer -> test.

Usage::

    python run_recbole.py MODEL --data-dir D --out result.json [--epochs N] [--threads T] \
        [--params JSON] [--scores scores.npz] [--no-test]

``--scores`` writes the best-validated model's full score matrix (every user x
every item, RecBole's padding row and column dropped) with the user and item
tokens, so that kgrec's evaluator scores it on the identical split;
``--no-test`` (tuning trials) never evaluates the test set.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")

DATASET = "ml-100k-kgrec"
KG_MODELS = ("CKE", "KGAT", "KGIN", "KGCN", "MCCLK")


def recbole_config(model: str, data_dir: Path, *, dataset: str, epochs: int, work_dir: Path) -> dict[str, Any]:
    """The RecBole config: kgrec's split as benchmark files, full ranking, defaults elsewhere.

    Args:
        model: RecBole model name (its own default hyper-parameters apply).
        data_dir: RecBole's ``data_path`` (holds ``<dataset>/<dataset>.train.inter`` ...).
        dataset: Dataset name (file stem).
        epochs: Upper bound on training epochs (early stopping may end sooner).
        work_dir: Where checkpoints go.
    """
    load_col: dict[str, list[str]] = {"inter": ["user_id", "item_id"]}
    if model in KG_MODELS:
        load_col |= {"kg": ["head_id", "relation_id", "tail_id"], "link": ["item_id", "entity_id"]}
    return {
        "data_path": str(data_dir),
        "dataset": dataset,
        "benchmark_filename": ["train", "valid", "test"],
        "load_col": load_col,
        "eval_args": {"mode": "full", "order": "RO", "group_by": "user"},
        "train_neg_sample_args": {"distribution": "uniform", "sample_num": 1},
        "metrics": ["Recall", "NDCG", "Hit", "MRR"],
        "topk": [10, 20],
        "valid_metric": "NDCG@10",
        "stopping_step": 10,
        "epochs": epochs,
        "seed": 2020,
        "reproducibility": True,
        "use_gpu": False,
        "device": "cpu",
        "checkpoint_dir": str(work_dir / "saved"),
        "show_progress": False,
        "save_dataset": False,
        "save_dataloaders": False,
        "log_wandb": False,
    }


def patch_dgl_for_recbole() -> list[str]:
    """Let RecBole 1.2.1's ``KGAT.init_graph`` use DGL 0.x calls on DGL >= 1.0; return what was patched.

    ``KGAT.init_graph`` calls ``dgl.edge_subgraph(g, e, preserve_nodes=True)`` and
    ``g.adjacency_matrix(transpose=False, scipy_fmt="coo")``. DGL renamed the first
    keyword to ``relabel_nodes`` (opposite meaning) and, in 1.0, moved the scipy form of
    ``adjacency_matrix`` to ``adj_external`` with the same arguments. PyPI's Linux DGL
    wheels (1.x, 2.1.0) have neither old form, and RecBole does not pin DGL. These two
    wrappers translate the old calls the way DGL's migration notes say; nothing else changes.
    """
    import inspect

    import dgl

    patched = []
    edge_subgraph = dgl.edge_subgraph
    if "preserve_nodes" not in inspect.signature(edge_subgraph).parameters:

        def edge_subgraph_compat(
            graph: Any, edges: Any, *args: Any, preserve_nodes: bool | None = None, **kwargs: Any
        ) -> Any:
            if preserve_nodes is not None:
                kwargs.setdefault("relabel_nodes", not preserve_nodes)
            return edge_subgraph(graph, edges, *args, **kwargs)

        dgl.edge_subgraph = edge_subgraph_compat
        patched.append("dgl.edge_subgraph(preserve_nodes=) -> relabel_nodes=not preserve_nodes")
    adjacency_matrix = dgl.DGLGraph.adjacency_matrix
    if "scipy_fmt" not in inspect.signature(adjacency_matrix).parameters:

        def adjacency_matrix_compat(self: Any, *args: Any, **kwargs: Any) -> Any:
            if {"transpose", "scipy_fmt", "ctx"} & kwargs.keys():
                return self.adj_external(*args, **kwargs)
            return adjacency_matrix(self, *args, **kwargs)

        dgl.DGLGraph.adjacency_matrix = adjacency_matrix_compat
        patched.append("DGLGraph.adjacency_matrix(transpose=, scipy_fmt=) -> adj_external(...)")
    return patched


class TimeBudgetExceeded(Exception):
    """Raised from the epoch callback to end training once the wall-clock budget is spent."""


def budget_callback(scores: list[float], budget_s: float) -> Callable[[int, float], None]:
    """An epoch callback that records the valid score and stops training after ``budget_s`` seconds (0: never)."""
    start = time.perf_counter()

    def callback(epoch: int, score: float) -> None:
        scores.append(float(score))
        if budget_s and time.perf_counter() - start > budget_s:
            raise TimeBudgetExceeded(f"time budget of {budget_s:.0f} s spent after epoch {epoch}")

    return callback


def timed(fn: Callable[..., Any], seconds: list[float], cpu_seconds: list[float]) -> Callable[..., Any]:
    """Wrap ``fn`` so that the wall and process CPU time of every call are appended to the lists."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, cpu_start = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - start)
            cpu_seconds.append(time.process_time() - cpu_start)

    return wrapper


def history_mask_check(test_data: Any, train_ds: Any, valid_ds: Any) -> dict[str, Any]:
    """Check that the test loader masks exactly each user's train and valid items.

    RecBole's full ranking sets the score of ``uid2history_item[u]`` to ``-inf``;
    this compares that set with the union of the user's train and valid items.
    """
    uid, iid = train_ds.uid_field, train_ds.iid_field
    expected: dict[int, set[int]] = {}
    for ds in (train_ds, valid_ds):
        for u, i in zip(ds.inter_feat[uid].tolist(), ds.inter_feat[iid].tolist()):
            expected.setdefault(u, set()).add(i)
    mismatched = 0
    for u in test_data.uid_list.tolist():
        got = test_data.uid2history_item[u]
        got_set = set(got.tolist()) if got is not None else set()
        mismatched += got_set != expected.get(u, set())
    return {"users_checked": len(test_data.uid_list), "mismatched_users": mismatched}


def run(
    model_name: str,
    data_dir: Path,
    *,
    epochs: int,
    work_dir: Path,
    dataset: str = DATASET,
    budget_s: float = 0.0,
    params: dict[str, Any] | None = None,
    scores: Path | None = None,
    with_test: bool = True,
) -> dict[str, Any]:
    """Train ``model_name`` with early stopping on valid NDCG@10 and evaluate the best model on test.

    Training ends at the first of: early stopping (``stopping_step`` evaluations without a
    better valid NDCG@10), ``epochs``, or ``budget_s`` seconds of training and validation
    (checked after each epoch; 0 means no budget). The best-validated model is tested.
    ``params`` override RecBole's settings (a tuning trial's hyper-parameters, ``seed``).
    ``scores``: write the best model's full score matrix there (:func:`write_scores`).
    ``with_test=False``: never evaluate the test set (tuning trials).
    """
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_logger, init_seed

    sys.argv = sys.argv[:1]  # RecBole's Config also parses --key=value from the command line
    config = Config(
        model=model_name,
        config_dict=recbole_config(model_name, data_dir, dataset=dataset, epochs=epochs, work_dir=work_dir)
        | (params or {}),
    )
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    patched = patch_dgl_for_recbole() if model_name == "KGAT" else []
    dataset_obj = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset_obj)
    train_ds, valid_ds, test_ds = (d._dataset for d in (train_data, valid_data, test_data))
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model = get_model(config["model"])(config, train_data._dataset).to(config["device"])
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    epoch_seconds: list[float] = []
    epoch_cpu_seconds: list[float] = []
    valid_scores: list[float] = []
    trainer._train_epoch = timed(trainer._train_epoch, epoch_seconds, epoch_cpu_seconds)
    stopped_by = "epoch cap"
    try:
        trainer.fit(
            train_data, valid_data, saved=True, show_progress=False, callback_fn=budget_callback(valid_scores, budget_s)
        )
    except TimeBudgetExceeded:
        stopped_by = "time budget"
    if stopped_by != "time budget" and len(epoch_seconds) < epochs:
        stopped_by = "early stopping"
    best_score, best_valid = trainer.best_valid_score, trainer.best_valid_result
    if with_test:
        test = trainer.evaluate(test_data, load_best_model=True, show_progress=False)
    else:
        test = {}
        load_best(trainer, model, config["device"])
    if scores is not None:
        write_scores(scores, model, dataset_obj, config["device"])
    return {
        "model": model_name,
        "library": "RecBole",
        "test": {k: float(v) for k, v in test.items()},
        "best_valid": {k: float(v) for k, v in (best_valid or {}).items()},
        "best_valid_ndcg@10": float(best_score),
        "best_epoch": int(max(range(len(valid_scores)), key=valid_scores.__getitem__)) if valid_scores else None,
        "epochs_max": epochs,
        "epochs_run": len(epoch_seconds),
        "early_stopped": stopped_by == "early stopping",
        "stopped_by": stopped_by,
        "time_budget_s": budget_s,
        "epoch_seconds": statistics.median(epoch_seconds) if epoch_seconds else None,
        "epoch_seconds_all": [round(s, 4) for s in epoch_seconds],
        "epoch_cpu_seconds": statistics.median(epoch_cpu_seconds) if epoch_cpu_seconds else None,
        "valid_ndcg@10_per_epoch": [round(s, 6) for s in valid_scores],
        "counts": {
            "users": dataset_obj.user_num - 1,
            "items": dataset_obj.item_num - 1,
            "train": len(train_ds),
            "valid": len(valid_ds),
            "test": len(test_ds),
        },
        "compat_patches": patched,
        "history_mask_check": history_mask_check(test_data, train_ds, valid_ds),
        "hyper_parameters": _hyper_parameters(config, model_name),
    }


def load_best(trainer: Any, model: Any, device: Any) -> None:
    """Load the best-validated checkpoint into ``model`` (what ``evaluate(load_best_model=True)`` does)."""
    import torch

    checkpoint = torch.load(trainer.saved_model_file, map_location=device)
    model.load_state_dict(checkpoint["state_dict"])
    model.load_other_parameter(checkpoint.get("other_parameter"))


def write_scores(path: Path, model: Any, dataset: Any, device: Any, batch: int = 256) -> None:
    """The full score matrix of every user over every item, as ``.npz`` (``scores``, ``user_tokens``, ``item_tokens``).

    Row ``r`` is RecBole's internal user id ``r + 1``, column ``c`` its item id ``c + 1``
    (id 0 is RecBole's padding); the tokens are the original keys, so the reader maps
    them onto its own ids. No history is masked here: the reader's evaluator does that.
    """
    import numpy as np
    import torch
    from recbole.data.interaction import Interaction

    for name in list(vars(model)):  # cached propagations (restore_user_e, ...) may predate the best weights
        if name.startswith("restore_"):
            setattr(model, name, None)
    model.eval()
    uid, iid, n_items = dataset.uid_field, dataset.iid_field, dataset.item_num
    rows = []
    with torch.no_grad():
        for start in range(1, dataset.user_num, batch):
            users = torch.arange(start, min(start + batch, dataset.user_num), device=device)
            try:
                part = model.full_sort_predict(Interaction({uid: users}).to(device)).view(len(users), -1)
            except NotImplementedError:
                items = torch.arange(n_items, device=device).repeat(len(users))
                pairs = Interaction({uid: users.repeat_interleave(n_items), iid: items})
                part = model.predict(pairs.to(device)).view(len(users), n_items)
            rows.append(part[:, 1:].float().cpu().numpy())
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        scores=np.concatenate(rows),
        user_tokens=np.asarray(dataset.field2id_token[uid][1:]).astype(str),
        item_tokens=np.asarray(dataset.field2id_token[iid][1:]).astype(str),
    )


def _hyper_parameters(config: Any, model_name: str) -> dict[str, Any]:
    """The model's own default parameters and the shared training ones, as RecBole resolved them."""
    keys = ["train_batch_size", "learning_rate", "weight_decay", "eval_batch_size", "train_neg_sample_args"]
    keys += _model_yaml_keys(model_name)
    return {k: _plain(config[k]) for k in keys if k in config}


def _model_yaml_keys(model_name: str) -> list[str]:
    import recbole

    path = Path(recbole.__file__).parent / "properties" / "model" / f"{model_name}.yaml"
    if not path.exists():
        return []
    return [line.split(":", 1)[0].strip() for line in path.read_text().splitlines() if ":" in line and line[0] != " "]


def _plain(v: Any) -> Any:
    try:
        json.dumps(v)
        return v
    except TypeError:
        return str(v)


def versions() -> dict[str, str]:
    """Versions of the libraries that shaped the result."""
    import importlib.metadata as md

    out = {"python": sys.version.split()[0]}
    for name in ("recbole", "torch", "numpy", "scipy", "pandas", "dgl", "torch-scatter"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "missing"
    return out


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run one model, write its JSON result."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("--data-dir", type=Path, required=True, help="RecBole data_path (holds <dataset>/)")
    p.add_argument("--out", type=Path, required=True, help="result JSON to write")
    p.add_argument("--epochs", type=int, default=300, help="upper bound on epochs (default: 300, RecBole's)")
    p.add_argument("--time-budget", type=float, default=0.0, help="seconds of training+validation (0: none)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    p.add_argument("--dataset", default=DATASET)
    p.add_argument("--work-dir", type=Path, default=None, help="checkpoints (default: beside --out)")
    p.add_argument("--params", default="{}", help="JSON object of RecBole settings to override (trial, seed)")
    p.add_argument("--scores", type=Path, default=None, help="write the best model's full score matrix (.npz)")
    p.add_argument("--no-test", action="store_true", help="do not evaluate the test set (tuning trials)")
    args = p.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    work_dir = args.work_dir or args.out.parent
    started, load_before = time.perf_counter(), os.getloadavg()
    result = run(
        args.model,
        args.data_dir.resolve(),
        epochs=args.epochs,
        work_dir=work_dir,
        dataset=args.dataset,
        budget_s=args.time_budget,
        params=json.loads(args.params),
        scores=args.scores,
        with_test=not args.no_test,
    )
    result |= {
        "threads": torch.get_num_threads(),
        "wall_seconds": time.perf_counter() - started,
        "load_average_1min_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "versions": versions(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
