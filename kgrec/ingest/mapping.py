"""Turns a chunk of records into a write batch, as a table's node and relationship maps say."""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kgrec.errors import BadRecord
from kgrec.graph.batch import Batch, NodeGroup, NodeKey, RelGroup, Row
from kgrec.graph.names import check_rel_type, upper_snake
from kgrec.ingest.convert import convert
from kgrec.ingest.link import LinkMap
from kgrec.ingest.lists import scalar_problems, split_column
from kgrec.ingest.spec import Endpoint, Field_, Key, NodeMap, RelMap, Table
from kgrec.ingest.tables import LINE

_FLAG_ON = {"1", "true", "yes", "y"}


@dataclass(slots=True)
class _Columns:
    """Converted columns of one chunk, with the reasons records are rejected."""

    frame: pd.DataFrame
    problems: list[str | None]
    parsed: bool = False
    """Values come parsed from JSON (lists, objects), not only as text."""

    def take(self, field: Field_ | Key) -> list[Any]:
        column = self.column(field.column)
        if self.parsed and isinstance(field, Key):
            self.note(field.column, scalar_problems(column, field))
        values, errs = convert(_blank_nulls(column, field), field)
        self.note(field.column, errs)
        return values

    def take_many(self, key: Key) -> list[list[Any]]:
        """Per record, the keys of a list column (``many``/``split``), converted to the key's type."""
        parts, errs = split_column(self.column(key.column), key)
        self.note(key.column, errs)
        flat = pd.Series([x for p in parts for x in p], dtype=object)
        values, conv = convert(flat, key)
        out: list[list[Any]] = []
        pos = 0
        for i, p in enumerate(parts):
            self.note(key.column, {i: next((e for e in conv[pos : pos + len(p)] if e), None)})
            out.append(list(dict.fromkeys(values[pos : pos + len(p)])))
            pos += len(p)
        return out

    def note(self, column: str | None, errs: list[str | None] | dict[int, str | None]) -> None:
        """Record each record's first problem (errors from ``convert`` get the column named)."""
        if not isinstance(errs, dict) and not any(errs):
            return
        for i, e in errs.items() if isinstance(errs, dict) else enumerate(errs):
            if e and self.problems[i] is None:
                self.problems[i] = f"column {column!r}: {e}" if "column" not in e else e

    def column(self, name: str | None) -> pd.Series:
        """A column by name; one that no record of the chunk has (JSON fields are optional) is all empty."""
        if name in self.frame.columns:
            return self.frame[name]
        return pd.Series([""] * len(self.frame), index=self.frame.index, dtype=object)


def _blank_nulls(values: pd.Series, field: Field_ | Key) -> pd.Series:
    """``values`` with the field's declared placeholders (``null_values``) made empty."""
    nulls = getattr(field, "null_values", None)
    if not nulls:
        return values
    placeholder = re.compile("|".join(fnmatch.translate(p) for p in nulls))
    text = values.fillna("").astype(str).str.strip()
    return values.where(~text.map(lambda v: bool(placeholder.match(v))), "")


def map_chunk(
    frame: pd.DataFrame, table: Table, file: str, link: LinkMap | None = None
) -> tuple[Batch, list[BadRecord]]:
    """Map good records to a batch; records with any bad value are rejected whole."""
    cols = _Columns(frame, [None] * len(frame), table.format != "csv")
    node_parts = [(m, _keys(cols, m.key), _props(cols, m.properties)) for m in table.nodes]
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


def _keys(cols: _Columns, key: Key) -> list[Any]:
    """One key per record, or for a list column (``many``/``split``) a list of keys per record."""
    return cols.take_many(key) if key.is_list() else cols.take(key)


def _props(cols: _Columns, fields: dict[str, Field_]) -> list[dict[str, Any]]:
    return _prop_rows({name: cols.take(f) for name, f in fields.items()}, len(cols.frame))


def _prop_rows(columns: dict[str, list[Any]], n: int) -> list[dict[str, Any]]:
    """Per-record property maps from converted columns (``None`` values left out)."""
    rows: list[dict[str, Any]] = [{} for _ in range(n)]
    for name, values in columns.items():
        for row, v in zip(rows, values):
            if v is not None:
                row[name] = v
    return rows


def _node_group(m: NodeMap, keys: list[Any], props: list[dict[str, Any]], good: list[bool]) -> NodeGroup:
    group = NodeGroup(NodeKey(m.label, m.key.property), tuple(m.labels), create=m.create)
    if m.key.is_list():
        group.rows.extend({"key": k, "props": p} for ks, p, ok in zip(keys, props, good) if ok for k in ks)
    else:
        group.rows.extend({"key": k, "props": p} for k, p, ok in zip(keys, props, good) if ok)
    return group


@dataclass(slots=True)
class _RelParts:
    """Converted columns of one relationship map: start keys, ends, types and properties."""

    start: list[Any]
    """One key per record, or a list of keys per record (a list column)."""
    props: dict[str, list[Any]]
    end: list[Any]
    """One key per record, or a list of keys per record (``end_flag_columns``, a list column)."""
    type: list[str] | None = None
    """One type value per record (``type_column``), else ``None``."""


def _rel_columns(cols: _Columns, r: RelMap) -> _RelParts:
    n = len(cols.frame)
    start = _keys(cols, r.start)
    props = {name: cols.take(f) for name, f in r.properties.items()}
    types = None
    if r.type_column:
        types = cols.column(r.type_column).fillna("").astype(str).str.strip().tolist()
        for i, value in enumerate(types):
            if not value and cols.problems[i] is None:
                cols.problems[i] = f"column {r.type_column!r}: missing relationship type"
    if r.end_flag_columns:
        flags = [cols.column(c).fillna("").astype(str).str.strip().str.lower().tolist() for c in r.end_flag_columns]
        end = [[name for name, col in zip(r.end_flag_columns, flags) if col[i] in _FLAG_ON] for i in range(n)]
    else:
        end = _keys(cols, r.end)
    return _RelParts(start, props, end, types)


def _rel_groups(r: RelMap, parts: _RelParts, good: list[bool], link: LinkMap | None) -> list[RelGroup]:
    linked = link is not None and (r.start.linked or r.end.linked)
    lists = r.start.is_list() or r.end.is_list()
    if r.type is not None and not r.end_flag_columns and not linked and r.count is None and not lists:
        return _plain_rel_group(r, parts, good)
    groups: dict[tuple[NodeKey, str, NodeKey, bool, bool], list[Row]] = defaultdict(list)
    excluded = set(r.exclude_types)
    start = NodeKey(r.start.label, r.start.property)
    end = NodeKey(r.end.label, r.end.property)
    types: dict[str, tuple[str, bool]] = {}
    type_of = parts.type or [r.type] * len(good)
    ends = parts.end if r.end_flag_columns or r.end.is_list() else [[v] for v in parts.end]
    starts = parts.start if r.start.is_list() else [[v] for v in parts.start]
    props = _prop_rows(parts.props, len(good))
    for i, ok in enumerate(good):
        if not ok or type_of[i] in excluded:
            continue
        value = type_of[i]
        rel_type, reverse = types.get(value) or types.setdefault(value, _rel_type(r, value))
        stated: set[tuple[Any, ...]] = set()  # each relationship once per record
        for s_key, s_val, s_create in (x for v in starts[i] for x in _resolve(r.start, start, v, link)):
            for e_key, e_val, e_create in (x for v in ends[i] for x in _resolve(r.end, end, v, link)):
                a, b = (
                    ((e_key, e_val, e_create), (s_key, s_val, s_create))
                    if reverse
                    else ((s_key, s_val, s_create), (e_key, e_val, e_create))
                )
                group = (a[0], rel_type, b[0], a[2], b[2])
                if (group, a[1], b[1]) not in stated:
                    stated.add((group, a[1], b[1]))
                    groups[group].append({"start": a[1], "end": b[1], "props": props[i]})
    return [RelGroup(s, t, e, cs, ce, rows, count=r.count) for (s, t, e, cs, ce), rows in groups.items()]


def _plain_rel_group(r: RelMap, parts: _RelParts, good: list[bool]) -> list[RelGroup]:
    """One fixed type, one end per record, nothing linked: one group of list rows, built column-wise."""
    assert r.type is not None
    if r.type in r.exclude_types:
        return []
    columns = {"": parts.start, " ": parts.end, **parts.props}  # property names never have spaces
    if not all(good):
        columns = {name: [v for v, ok in zip(values, good) if ok] for name, values in columns.items()}
    names = [name for name in parts.props if columns[name].count(None) < len(columns[name])]
    rows = list(map(list, zip(columns[""], columns[" "], *(columns[name] for name in names))))
    if not rows:
        return []
    start = NodeKey(r.start.label, r.start.property)
    end = NodeKey(r.end.label, r.end.property)
    return [RelGroup(start, r.type, end, r.start.create, r.end.create, rows, tuple(names))]


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
