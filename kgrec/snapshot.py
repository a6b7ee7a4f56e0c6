"""The plain hand-off between the graph side and the learning side.

A :class:`GraphSnapshot` holds numpy arrays and id maps only: no Neo4j, no
torch. The graph side builds one (:func:`kgrec.graph.export.export_snapshot`),
the learning side reads it, and :meth:`GraphSnapshot.save` lets training run
from a file without a database.

File format: one ``.npz`` (read with ``allow_pickle=False``) whose array
``manifest`` holds a UTF-8 JSON document naming the other arrays. Text columns
are stored as UTF-8 bytes plus offsets and a validity mask, so any string
(and ``None``) survives a round trip exactly and no pickle is ever loaded.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kgrec.errors import ConfigError, DataNotFoundError
from kgrec.types import EdgeType, NodeType

FORMAT = "kgrec-snapshot"
VERSION = 1


@dataclass(frozen=True, eq=False)
class GraphSnapshot:
    """Node id maps, node properties, edge arrays and edge properties of one graph.

    Node ``i`` of type ``t`` is the node whose key is ``node_keys[t][i]``; keys
    are sorted, so ids are deterministic. Text columns are object arrays of
    ``str`` (or ``None``); key arrays are ``int64`` or object arrays of ``str``.

    Args:
        node_keys: Node type -> sorted array of keys (index = node id).
        edges: Edge type -> ``int64`` array of shape ``(2, E)``: source ids over
            destination ids, sorted by (source, destination).
        node_props: Node type -> property -> array aligned with ``node_keys``
            (default: none).
        edge_props: Edge type -> property -> numeric array aligned with the
            edge's columns (default: none).
        schema: The graph's declared schema as plain JSON (``kgrec.schema.GraphSchema.to_json``);
            empty for a snapshot made without one (default: empty).
    """

    node_keys: dict[NodeType, np.ndarray]
    edges: dict[EdgeType, np.ndarray]
    node_props: dict[NodeType, dict[str, np.ndarray]] = field(default_factory=dict)
    edge_props: dict[EdgeType, dict[str, np.ndarray]] = field(default_factory=dict)
    schema: dict[str, Any] = field(default_factory=dict)

    def num_nodes(self, label: NodeType) -> int:
        """Number of nodes of type ``label``."""
        return len(self.node_keys[label])

    def id_of(self, label: NodeType, key: Any) -> int:
        """The node id of ``key`` in type ``label``.

        Raises:
            KeyError: No node of that type has that key.
        """
        keys = self.node_keys[label]
        try:
            i = int(np.searchsorted(keys, key))
        except TypeError as e:
            raise KeyError(f"{label} has no key {key!r}") from e
        if i >= len(keys) or keys[i] != key:
            raise KeyError(f"{label} has no key {key!r}")
        return i

    def key_of(self, label: NodeType, idx: int) -> Any:
        """The key of node ``idx`` of type ``label`` (a plain ``int`` or ``str``)."""
        key = self.node_keys[label][idx]
        return key.item() if isinstance(key, np.generic) else key

    def schema_fingerprint(self) -> str:
        """SHA-256 (hex) of the sorted node types and edge types."""
        schema = {"nodes": sorted(self.node_keys), "edges": sorted(list(t) for t in self.edges)}
        return hashlib.sha256(json.dumps(schema, sort_keys=True).encode()).hexdigest()

    def save(self, path: Path | str) -> Path:
        """Write the snapshot to ``path`` (one ``.npz``, replaced atomically) and return it."""
        path = Path(path)
        arrays: dict[str, np.ndarray] = {}
        manifest = {"format": FORMAT, "version": VERSION, "nodes": [], "edges": [], "schema": self.schema}
        for i, (label, keys) in enumerate(sorted(self.node_keys.items())):
            props = self.node_props.get(label, {})
            manifest["nodes"].append(
                {"label": label, "keys": _pack(arrays, f"n{i}.keys", keys), "props": _pack_all(arrays, f"n{i}", props)}
            )
        for i, (etype, index) in enumerate(sorted(self.edges.items())):
            props = self.edge_props.get(etype, {})
            arrays[f"e{i}.index"] = np.asarray(index, dtype=np.int64)
            manifest["edges"].append({"type": list(etype), "props": _pack_all(arrays, f"e{i}", props)})
        arrays["manifest"] = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
        return save_npz_atomic(path, arrays)

    @classmethod
    def load(cls, path: Path | str) -> GraphSnapshot:
        """Read a snapshot written by :meth:`save`.

        Raises:
            DataNotFoundError: No file there.
            ConfigError: The file is not a kgrec snapshot of a known version.
        """
        try:
            npz = np.load(Path(path), allow_pickle=False)
        except FileNotFoundError as e:
            raise DataNotFoundError(f"{path}: no such snapshot (write one with `kgrec export --out {path}`)") from e
        except (OSError, ValueError) as e:
            raise ConfigError(f"{path}: not a kgrec snapshot ({e})") from e
        with npz:
            try:
                manifest = json.loads(npz["manifest"].tobytes().decode())
            except (KeyError, ValueError) as e:
                raise ConfigError(f"{path}: not a kgrec snapshot (no manifest)") from e
            if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
                raise ConfigError(f"{path}: not a kgrec snapshot of version {VERSION}; export it again")
            node_keys, node_props, edges, edge_props = {}, {}, {}, {}
            for n in manifest["nodes"]:
                node_keys[n["label"]] = _unpack(npz, n["keys"])
                if n["props"]:
                    node_props[n["label"]] = {p: _unpack(npz, ref) for p, ref in n["props"].items()}
            for i, e in enumerate(manifest["edges"]):
                etype: EdgeType = tuple(e["type"])  # type: ignore[assignment]
                edges[etype] = npz[f"e{i}.index"]
                if e["props"]:
                    edge_props[etype] = {p: _unpack(npz, ref) for p, ref in e["props"].items()}
        return cls(node_keys, edges, node_props, edge_props, manifest.get("schema", {}))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GraphSnapshot):
            return NotImplemented
        return (
            _same_map(self.node_keys, other.node_keys)
            and _same_map(self.edges, other.edges)
            and _same_nested(self.node_props, other.node_props)
            and _same_nested(self.edge_props, other.edge_props)
            and self.schema == other.schema
        )

    __hash__ = None  # type: ignore[assignment]


def save_npz_atomic(path: Path | str, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write ``arrays`` as one ``.npz`` at ``path``, replacing it atomically (no half-written file on a crash)."""
    path = Path(path)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, path)
    return path


def column(values: list[Any]) -> np.ndarray:
    """Turn plain values into a column: ``int64``, ``float64`` (``None`` -> NaN), ``bool`` or text.

    Raises:
        ValueError: The values are not all numbers, all booleans or all text/``None``.
    """
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present) and len(present) == len(values):
        return np.asarray(values, dtype=bool)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present) and len(present) == len(values):
        return np.asarray(values, dtype=np.int64)
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
    if all(isinstance(v, str) for v in present):
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    kinds = sorted({type(v).__name__ for v in present})
    raise ValueError(f"cannot store a column of mixed or unsupported values: {', '.join(kinds)}")


def _pack_all(arrays: dict[str, np.ndarray], prefix: str, props: Mapping[str, np.ndarray]) -> dict[str, dict]:
    return {p: _pack(arrays, f"{prefix}.p{j}", _array(a)) for j, (p, a) in enumerate(sorted(props.items()))}


def _array(a: np.ndarray | list[Any]) -> np.ndarray:
    return column(a) if isinstance(a, list) else np.asarray(a)


def _pack(arrays: dict[str, np.ndarray], name: str, a: np.ndarray) -> dict[str, str]:
    if a.dtype != object:
        arrays[name] = a
        return {"name": name, "kind": "plain"}
    if not all(v is None or isinstance(v, str) for v in a):
        raise ValueError(f"column {name} holds values that are neither text nor None")
    encoded = [b"" if v is None else v.encode("utf-8", "surrogatepass") for v in a]
    arrays[name + ".utf8"] = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    arrays[name + ".offsets"] = np.cumsum([0] + [len(b) for b in encoded], dtype=np.int64)
    arrays[name + ".valid"] = np.asarray([v is not None for v in a], dtype=bool)
    return {"name": name, "kind": "text"}


def _unpack(npz: Any, ref: dict[str, str]) -> np.ndarray:
    name = ref["name"]
    if ref["kind"] == "plain":
        return npz[name]
    data = npz[name + ".utf8"].tobytes()
    offsets, valid = npz[name + ".offsets"], npz[name + ".valid"]
    out = np.empty(len(valid), dtype=object)
    out[:] = [
        data[offsets[i] : offsets[i + 1]].decode("utf-8", "surrogatepass") if ok else None for i, ok in enumerate(valid)
    ]
    return out


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype == object:
        return a.tolist() == b.tolist()
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


def _same_map(a: Mapping[Any, np.ndarray], b: Mapping[Any, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)


def _same_nested(a: Mapping[Any, Mapping[str, np.ndarray]], b: Mapping[Any, Mapping[str, np.ndarray]]) -> bool:
    a = {k: v for k, v in a.items() if v}
    b = {k: v for k, v in b.items() if v}
    return a.keys() == b.keys() and all(_same_map(a[k], b[k]) for k in a)
