"""Compute the modality features a spec declares, cache them, attach them to nodes in Neo4j.

For each ``[[features]]`` entry: collect every node's input, look each one up
in the cache by content hash, encode only the misses in batches, write one
vector per node (``feat_<modality>``), remove vectors whose input disappeared,
and keep one cosine vector index per modality. Nodes without an input (a film
without a poster, a dataset without audio) simply get no vector; the
:class:`Coverage` says how many did.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kgrec.errors import BadRecord, DataNotFoundError, InputDataError
from kgrec.features.cache import FeatureCache, content_key
from kgrec.features.encoder import Encoder, check_output, create_encoder
from kgrec.features.inputs import load, read_inputs
from kgrec.features.related import check_related
from kgrec.graph import cypher
from kgrec.graph.store import GraphStore
from kgrec.ingest.load import ProgressFactory, silent
from kgrec.ingest.spec import Feature, load_spec
from kgrec.modalities import Modality

log = logging.getLogger(__name__)

SHIPPED_SPECS = Path(__file__).resolve().parents[2] / "ingest"
"""The repository's ``ingest/`` folder of shipped pipeline specs."""


@dataclass(frozen=True, slots=True)
class Coverage:
    """What one feature run did, and how many nodes have the modality."""

    spec: str
    label: str
    modality: Modality
    encoder: str
    property: str
    total: int
    """Nodes of the label (with a key)."""
    vectors: int
    """Nodes that have a vector now."""
    cached: int
    """Distinct inputs found in the cache."""
    computed: int
    """Distinct inputs encoded in this run."""
    seconds: float
    written: bool
    """Whether the vectors were written to Neo4j."""
    unreadable: list[BadRecord] = field(default_factory=list)
    """Inputs the encoder could not decode (those nodes get no vector)."""

    @property
    def missing(self) -> int:
        """Nodes without a vector."""
        return self.total - self.vectors

    @property
    def fraction(self) -> float:
        """``vectors / total`` (0 when there are no nodes)."""
        return self.vectors / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class FeatureOptions:
    """How to run the features of a spec."""

    batch_size: int = 32
    """Inputs per encoder call (and per progress step)."""
    write_batch: int = 500
    """Vectors per Neo4j write."""
    modalities: Collection[Modality] | None = None
    """Only these modalities (default: all the spec declares)."""
    write: bool = True
    """Attach the vectors to the nodes (off: compute and cache only)."""


class FeaturePipeline:
    """Runs the ``[[features]]`` entries of specs.

    Args:
        store: The graph to read inputs from and write vectors to.
        data_dir: Folder that spec ``dataset`` paths are relative to.
        cache_dir: Folder of the vector caches (kgrec uses ``<KGREC_HOME>/features``).
        options: Batch sizes, modality filter, write switch.
        progress: Makes a progress bar per feature (default: none).
        encoders: Encoder name -> instance to use instead of the registered one (tests).
    """

    def __init__(
        self,
        store: GraphStore,
        data_dir: Path,
        cache_dir: Path,
        options: FeatureOptions = FeatureOptions(),
        progress: ProgressFactory = silent,
        encoders: Mapping[str, Encoder] | None = None,
    ) -> None:
        self._store = store
        self._data_dir = data_dir
        self._cache_dir = cache_dir
        self._opt = options
        self._progress = progress
        self._encoders: dict[str, Encoder] = dict(encoders or {})

    def run(self, spec_path: Path | str) -> list[Coverage]:
        """Compute and attach every (selected) feature of one spec.

        Raises:
            SpecError: The spec is invalid, or names a relationship type or property the graph lacks.
        """
        spec = load_spec(spec_path)
        root = self._data_dir / spec.dataset
        wanted = self._opt.modalities
        chosen = [(i, f) for i, f in enumerate(spec.features) if wanted is None or f.modality in wanted]
        for i, f in chosen:
            check_related(self._store, spec_path, i, f)
        return [self._feature(spec.name, f, root) for _, f in chosen]

    def fitting(self, specs: list[Path]) -> list[Path]:
        """The ``specs`` whose features fit this graph: it was loaded from a spec they apply to
        (``applies_to``, when declared) and has nodes of every label and the related types.

        For running the shipped specs of every catalogue on one graph: a music
        spec is skipped (and logged) on a film graph instead of failing there.
        """
        labels = {r["label"] for r in self._store.read(cypher.statement("graph/labels"))}
        types = {r["type"] for r in self._store.read(cypher.statement("graph/rel_types"))}
        sources = set(self._store.declared())
        out = []
        for path in specs:
            spec = load_spec(path)
            lacking = sorted({f.label for f in spec.features} - labels) + sorted(
                {r.type for f in spec.features for r in f.related} - types
            )
            if spec.applies_to and not sources & set(spec.applies_to):
                log.info("%s: skipped, the graph was not loaded from %s", path, " or ".join(spec.applies_to))
            elif lacking:
                log.info("%s: skipped, the graph has no %s", path, ", ".join(lacking))
            else:
                out.append(path)
        return out

    def _encoder(self, name: str) -> Encoder:
        if name not in self._encoders:
            self._encoders[name] = create_encoder(name)
        return self._encoders[name]

    def _feature(self, spec: str, feature: Feature, root: Path) -> Coverage:
        start = time.perf_counter()
        encoder = self._encoder(feature.encoder)
        found = read_inputs(self._store, feature, root)
        keys = {k: content_key(encoder, load(src)) for k, src in found.inputs.items()}
        with FeatureCache(self._cache_dir, encoder) as cache:
            vectors = cache.get_many(keys.values())
            cached = len(vectors)
            todo = {h: found.inputs[k] for k, h in keys.items() if h not in vectors}
            bad = self._encode(encoder, cache, todo, vectors, f"{feature.modality} {feature.label}")
        by_key = {k: vectors[h] for k, h in keys.items() if h in vectors}
        if self._opt.write:
            self._write(feature, by_key, encoder.dim)
        seconds = time.perf_counter() - start
        log.info("%s %s: %d/%d vectors in %.1f s", feature.label, feature.modality, len(by_key), found.total, seconds)
        return Coverage(
            spec=spec,
            label=feature.label,
            modality=feature.modality,
            encoder=encoder.name,
            property=feature.vector_property,
            total=found.total,
            vectors=len(by_key),
            cached=cached,
            computed=len(todo) - len(bad),
            seconds=seconds,
            written=self._opt.write,
            unreadable=bad,
        )

    def _encode(
        self,
        encoder: Encoder,
        cache: FeatureCache,
        todo: dict[str, str | Path],
        out: dict[str, np.ndarray],
        desc: str,
    ) -> list[BadRecord]:
        """Encode ``todo`` (hash -> source) in batches into ``out`` and the cache; return the unreadable ones."""
        bad: list[BadRecord] = []
        items = list(todo.items())
        bar = self._progress(desc, len(items))
        for i in range(0, len(items), self._opt.batch_size):
            batch = items[i : i + self._opt.batch_size]
            done = _encode_batch(encoder, batch, bad)
            cache.put_many(done)
            out.update(done)
            bar.update(len(batch))
        bar.close()
        for b in bad:
            log.warning("no vector: %s", b)
        return bad

    def _write(self, feature: Feature, by_key: dict[Any, np.ndarray], dim: int) -> None:
        label, key, prop = feature.label, feature.key, feature.vector_property
        self._store.ensure_vector_index(feature.index_name, label, prop, dim)
        rows = [(k, v.tolist()) for k, v in by_key.items()]
        for i in range(0, len(rows), self._opt.write_batch):
            self._store.set_vectors(label, key, prop, rows[i : i + self._opt.write_batch])
        removed = self._store.remove_vectors(label, key, prop, keep=list(by_key))
        if removed:
            log.info("%s.%s: removed %d stale vector(s)", label, prop, removed)


def shipped_feature_specs(folder: Path = SHIPPED_SPECS) -> list[Path]:
    """The specs in ``folder`` that declare ``[[features]]`` (sorted by name).

    Raises:
        SpecError: A spec there is invalid.
        DataNotFoundError: None declares features.
    """
    found = sorted(p for p in folder.glob("*.toml") if load_spec(p).features)
    if not found:
        raise DataNotFoundError(f"no spec in {folder} declares [[features]]; name one: kgrec features SPEC")
    return found


def _encode_batch(encoder: Encoder, batch: list[tuple[str, str | Path]], bad: list[BadRecord]) -> dict[str, np.ndarray]:
    """Encode one batch; when an input is unreadable, retry one by one and record the failures in ``bad``."""
    try:
        vecs = check_output(encoder, encoder.encode([load(src) for _, src in batch]), len(batch))
        return {h: v for (h, _), v in zip(batch, vecs)}
    except InputDataError as e:
        if len(batch) == 1:
            h, src = batch[0]
            where = str(src) if isinstance(src, Path) else f"text {h[:12]}"
            bad.append(BadRecord(where, None, e.records[0].reason if e.records else str(e)))
            return {}
    done: dict[str, np.ndarray] = {}
    for item in batch:
        done.update(_encode_batch(encoder, [item], bad))
    return done
