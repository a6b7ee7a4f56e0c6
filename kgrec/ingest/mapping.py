"""Turns a chunk of records into a write batch, as a table's node and relationship maps say."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kgrec.errors import BadRecord
from kgrec.graph.batch import Batch, NodeGroup, NodeKey, RelGroup, Row
from kgrec.graph.names import check_rel_type, upper_snake
from kgrec.ingest.convert import convert
from kgrec.ingest.link import LinkMap
from kgrec.ingest.spec import Endpoint, Field_, Key, NodeMap, RelMap, Table
from kgrec.ingest.tables import LINE

_FLAG_ON = {"1", "true", "yes", "y"}


@dataclass(slots=True)
class _Columns:
    """Converted columns of one chunk, with the reasons records are rejected."""

    frame: pd.DataFrame
    problems: list[str | None]

    def take(self, field: Field_ | Key) -> list[Any]:
        if field.column not in self.frame.columns:
            raise KeyError(field.column)
        values, errs = convert(self.frame[field.column], field)
        for i, e in enumerate(errs):
            if e and self.problems[i] is None:
                self.problems[i] = f"column {field.column!r}: {e}" if "column" not in e else e
        return values


def map_chunk(
    frame: pd.DataFrame, table: Table, file: str, link: LinkMap | None = None
) -> tuple[Batch, list[BadRecord]]:
    """Map good records to a batch; records with any bad value are rejected whole."""
    cols = _Columns(frame, [None] * len(frame))
    node_parts = [(m, cols.take(m.key), _props(cols, m.properties)) for m in table.nodes]
    rel_parts = [_rel_columns(cols, r) for r in table.relationships]
    bad_index = [i for i, p in enumerate(cols.problems) if p]
    lines = frame[LINE].tolist() if LINE in frame.columns else [None] * len(frame)
    bad = [BadRecord(file, lines[i], cols.problems[i] or "") for i in bad_index]
    good = [p is None for p in cols.problems]
    batch = Batch()
    for m, keys, props in node_parts:
        batch.nodes.append(_node_group(m, keys, props, good))
    for r, parts in zip(table.relationships, rel_parts):
        batch.rels.extend(_rel_groups(r, parts, good, link))
    return batch, bad


def _props(cols: _Columns, fields: dict[str, Field_]) -> list[dict[str, Any]]:
    n = len(cols.frame)
    rows: list[dict[str, Any]] = [{} for _ in range(n)]
    for name, f in fields.items():
        for row, v in zip(rows, cols.take(f)):
            if v is not None:
                row[name] = v
    return rows


def _node_group(m: NodeMap, keys: list[Any], props: list[dict[str, Any]], good: list[bool]) -> NodeGroup:
    group = NodeGroup(NodeKey(m.label, m.key.property), tuple(m.labels))
    group.rows.extend({"key": k, "props": p} for k, p, ok in zip(keys, props, good) if ok)
    return group


def _rel_columns(cols: _Columns, r: RelMap) -> dict[str, list[Any]]:
    n = len(cols.frame)
    parts: dict[str, list[Any]] = {"start": cols.take(r.start), "props": _props(cols, r.properties)}
    if r.type_column:
        parts["type"] = cols.frame[r.type_column].fillna("").astype(str).str.strip().tolist()
        for i, value in enumerate(parts["type"]):
            if not value and cols.problems[i] is None:
                cols.problems[i] = f"column {r.type_column!r}: missing relationship type"
    else:
        parts["type"] = [r.type] * n
    if r.end_flag_columns:
        flags = [cols.frame[c].fillna("").astype(str).str.strip().str.lower().tolist() for c in r.end_flag_columns]
        parts["end"] = [[name for name, col in zip(r.end_flag_columns, flags) if col[i] in _FLAG_ON] for i in range(n)]
    else:
        parts["end"] = [[v] for v in cols.take(r.end)]
    return parts


def _rel_groups(r: RelMap, parts: dict[str, list[Any]], good: list[bool], link: LinkMap | None) -> list[RelGroup]:
    groups: dict[tuple[NodeKey, str, NodeKey, bool, bool], list[Row]] = defaultdict(list)
    excluded = set(r.exclude_types)
    start = NodeKey(r.start.label, r.start.property)
    end = NodeKey(r.end.label, r.end.property)
    types: dict[str, tuple[str, bool]] = {}
    for i, ok in enumerate(good):
        if not ok or parts["type"][i] in excluded:
            continue
        value = parts["type"][i]
        rel_type, reverse = types.get(value) or types.setdefault(value, _rel_type(r, value))
        for end_key in parts["end"][i]:
            for s_key, s_val, s_create in _resolve(r.start, start, parts["start"][i], link):
                for e_key, e_val, e_create in _resolve(r.end, end, end_key, link):
                    a, b = (
                        ((e_key, e_val, e_create), (s_key, s_val, s_create))
                        if reverse
                        else ((s_key, s_val, s_create), (e_key, e_val, e_create))
                    )
                    groups[(a[0], rel_type, b[0], a[2], b[2])].append(
                        {"start": a[1], "end": b[1], "props": parts["props"][i]}
                    )
    return [RelGroup(s, t, e, cs, ce, rows) for (s, t, e, cs, ce), rows in groups.items()]


def _rel_type(r: RelMap, value: str) -> tuple[str, bool]:
    if r.type is not None:
        return r.type, False
    rule = r.types.get(value)
    if rule is not None:
        return rule.type, rule.reverse
    return check_rel_type(upper_snake(value)), False


def _resolve(end: Endpoint, key: NodeKey, value: Any, link: LinkMap | None) -> list[tuple[NodeKey, Any, bool]]:
    if end.linked and link is not None:
        items = link.items_of(str(value))
        if items:
            return [(link.item, item, False) for item in items]
    return [(key, value, end.create)]
