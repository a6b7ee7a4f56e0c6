"""What the learning benchmark trains: the shared settings, every case, the cold-start and seed sets.

Read by :mod:`bench.learn`; one place to see (and extend) every configuration the
README's tables come from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

COMMON: dict[str, Any] = {"lr": 5e-3, "batch_size": 8192, "epochs": 150, "patience": 10, "dim": 64, "threads": 1}
QUICK: dict[str, Any] = {"epochs": 8, "patience": 3}
METRICS = ("recall@10", "recall@20", "ndcg@10", "ndcg@20", "hit@10", "hit@20", "mrr@10")


@dataclass(frozen=True)
class Case:
    """One training configuration of the benchmark."""

    name: str
    group: str
    settings: dict[str, Any]
    what: str


CASES = [
    Case("pop", "baseline", {"model": "pop"}, "most interacted items first"),
    Case("bprmf", "baseline", {"model": "bprmf"}, "matrix factorisation, BPR"),
    Case("lightgcn", "baseline", {"model": "lightgcn", "layers": 2}, "LightGCN, 2 layers"),
    Case(
        "kgrec-hybrid", "ablation", {"fusion": "hybrid", "modalities": ["text", "image"]}, "KG + text + image, hybrid"
    ),
    Case("kgrec-early", "ablation", {"fusion": "early", "modalities": ["text", "image"]}, "KG + text + image, early"),
    Case("kgrec-late", "kgrec", {"fusion": "late", "modalities": ["text", "image"]}, "KG + text + image, late"),
    Case("kgrec-text", "kgrec", {"fusion": "late", "modalities": ["text"]}, "KG + text, late (the default)"),
    Case(
        "kgrec-text-sim",
        "ablation",
        {"fusion": "late", "modalities": ["text"], "cold_simulation": 0.1},
        "KG + text, late; cold-start simulation 0.1",
    ),
    Case("kgrec-image", "ablation", {"fusion": "late", "modalities": ["image"]}, "KG + image only, late"),
    Case("kgrec-nomodal", "ablation", {"fusion": "none"}, "KG, no modalities"),
    Case(
        "kgrec-nokg",
        "ablation",
        {"fusion": "late", "modalities": ["text", "image"], "kg": False},
        "text + image, no KG, late",
    ),
    Case("kgrec-cf", "ablation", {"fusion": "none", "kg": False}, "interactions only (kgrec's propagation)"),
    Case(
        "kgrec-kg-attention",
        "ablation",
        {"fusion": "late", "modalities": ["text", "image"], "kg_mode": "attention", "kg_inputs": "learned"},
        "KG + text + image, late; KG in the attention with learned entities",
    ),
    Case(
        "kgrec-kg-learned",
        "ablation",
        {"fusion": "late", "modalities": ["text"], "kg_inputs": "learned"},
        "KG + text, late; entities with learned embeddings",
    ),
    Case(
        "kgrec-nokg-hybrid",
        "ablation",
        {"fusion": "hybrid", "modalities": ["text", "image"], "kg": False},
        "text + image, no KG, hybrid",
    ),
]
BY_NAME = {c.name: c for c in CASES}
TRADEOFF_CASES = ("cold-kgrec-text", "cold-sim-text", "cold-kgrec-late")
"""The cold-start runs whose new-item map trade-off is measured (bench/cold_tradeoff.py)."""
SEED_CASES = (
    "lightgcn",
    "bprmf",
    "kgrec-late",
    "kgrec-text",
    "kgrec-text-sim",
    "kgrec-nomodal",
    "kgrec-nokg",
    "kgrec-cf",
)
"""The models the seed-spread table reruns under other seeds."""
COLD = {"id_dropout": 0.1}
"""First cold-start recipe: drop item ids in training so that items are also scored without one."""
SIM = {"cold_simulation": 0.1}
"""Cold-start simulation: 10% of rated items per step lose their id *and* their interaction edges."""
COLD_CASES = [
    Case("cold-pop", "cold", {"model": "pop"}, "popularity (never-rated items have no count: they tie, at random)"),
    Case("cold-kgrec-hybrid", "cold", {**BY_NAME["kgrec-hybrid"].settings, **COLD}, "KG + text + image, hybrid"),
    Case("cold-kgrec-nomodal", "cold", {**BY_NAME["kgrec-nomodal"].settings, **COLD}, "KG only"),
    Case("cold-kgrec-nokg", "cold", {**BY_NAME["kgrec-nokg-hybrid"].settings, **COLD}, "text + image only, hybrid"),
    Case("cold-lightgcn", "cold", BY_NAME["lightgcn"].settings, "LightGCN (collaborative only)"),
    Case("cold-kgrec-late", "cold", BY_NAME["kgrec-late"].settings, "KG + text + image, late; no cold recipe"),
    Case("cold-kgrec-text", "cold", BY_NAME["kgrec-text"].settings, "KG + text only, late; no cold recipe"),
    Case("cold-sim-late", "cold", {**BY_NAME["kgrec-late"].settings, **SIM}, "KG + text + image, late; simulated"),
    Case(
        "cold-sim-hybrid", "cold", {**BY_NAME["kgrec-hybrid"].settings, **SIM}, "KG + text + image, hybrid; simulated"
    ),
    Case("cold-sim-nomodal", "cold", {**BY_NAME["kgrec-nomodal"].settings, **SIM}, "KG only; simulated"),
    Case("cold-sim-text", "cold", {**BY_NAME["kgrec-text"].settings, **SIM}, "KG + text only, late; simulated"),
    Case("cold-sim-image", "cold", {**BY_NAME["kgrec-image"].settings, **SIM}, "KG + image only, late; simulated"),
    Case(
        "cold-sim-text-nokg",
        "cold",
        {"fusion": "late", "modalities": ["text"], "kg": False, **SIM},
        "text only, no KG, late; simulated",
    ),
    Case(
        "cold-kgrec-text-nokg",
        "cold",
        {"fusion": "late", "modalities": ["text"], "kg": False},
        "text only, no KG, late; no cold recipe",
    ),
    Case("cold-sim-nokg", "cold", {**BY_NAME["kgrec-nokg"].settings, **SIM}, "text + image only, late; simulated"),
]
