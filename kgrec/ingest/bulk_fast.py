"""A bulk load's table units read in large blocks (:mod:`kgrec.ingest.fast_table`), converted column-wise.

Used where every map of a table is plain: node maps with one key per record, and
relationship maps of one fixed type, one start and one end per record, nothing
linked, nothing counted (the shape of an interaction table). Each parsed block is
converted by the same functions as :func:`kgrec.ingest.mapping.map_chunk`; if any
value of the block is bad (a missing key, a bad number...), the block is read
and mapped again record by record, exactly as a plain ingest does, so the
records rejected and their ``file:line: reason`` are the same. Relationships go
to the spill as columns, never as rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from kgrec.errors import BadRecord
from kgrec.graph.batch import Batch, NodeKey
from kgrec.ingest.bulk_spill import GraphSpill, RelColumns
from kgrec.ingest.fast_table import FastBlock, fast_readable, read_blocks
from kgrec.ingest.link import LinkMap
from kgrec.ingest.load import Plan
from kgrec.ingest.mapping import _Columns, _node_group, _prop_rows, map_chunk
from kgrec.ingest.spec import Field_, Key, RelMap, Table
from kgrec.ingest.tables import Chunk


def fast_unit(plan: Plan) -> bool:
    """Whether ``plan`` is a table whose records can be read in blocks and converted column-wise."""
    table = plan.table
    if table is None or not fast_readable(table) or any(m.key.is_list() for m in table.nodes):
        return False
    return all(_plain(r, plan.link) for r in table.relationships)


def _plain(r: RelMap, link: LinkMap | None) -> bool:
    lists = r.start.is_list() or r.end.is_list()
    linked = link is not None and (r.start.linked or r.end.linked)
    return r.type is not None and not r.end_flag_columns and r.count is None and not lists and not linked


def read_unit(plan: Plan, spill: GraphSpill, chunk_size: int) -> Iterator[tuple[list[BadRecord], int]]:
    """Read ``plan`` into ``spill``; per block or chunk: the records rejected, the records read."""
    assert plan.table is not None
    ints = _int_columns(plan.table)
    for item in read_blocks(plan.path, plan.table, chunk_size=chunk_size, int_columns=ints):
        if isinstance(item, FastBlock) and _add_block(item, plan.table, spill):
            yield [], item.records
            continue
        for chunk in [item] if isinstance(item, Chunk) else item.exact():
            batch, rejected = map_chunk(chunk.frame, plan.table, str(plan.path), plan.link)
            spill.add(batch)
            yield chunk.bad + rejected, chunk.records


def _add_block(block: FastBlock, table: Table, spill: GraphSpill) -> bool:
    """Convert ``block`` and add it to ``spill``; ``False`` (nothing added) when some value is bad."""
    n = len(block.frame)
    cols = _Columns(block.frame, [None] * n)
    nodes = [(m, _take(cols, m.key), _prop_rows({k: _take(cols, f) for k, f in m.properties.items()}, n))
             for m in table.nodes]  # fmt: skip
    rels = [(r, _take(cols, r.start), _take(cols, r.end), {k: _take(cols, f) for k, f in r.properties.items()})
            for r in table.relationships]  # fmt: skip
    if any(cols.problems):
        return False
    good = [True] * n
    if nodes:
        spill.add(Batch(nodes=[_node_group(m, keys, props, good) for m, keys, props in nodes]))
    for r, starts, ends, props in rels:
        if n and r.type not in r.exclude_types:
            spill.add_rel_columns(_columns(r, starts, ends, props))
    return True


def _int_columns(table: Table) -> set[str]:
    """Columns read only as plain integers (no pattern, prefix or placeholders): parsed as ``int64`` when
    every field of a block is digits, for then their values are what ``convert`` makes of them."""
    uses: dict[str, list[Field_ | Key]] = {}
    for m in table.nodes:
        for f in [m.key, *m.properties.values()]:
            uses.setdefault(f.column or "", []).append(f)
    for r in table.relationships:
        for f in [r.start, r.end, *r.properties.values()]:
            uses.setdefault(f.column or "", []).append(f)
    return {c for c, fields in uses.items() if c and all(map(_plain_int, fields))}


def _plain_int(f: Field_ | Key) -> bool:
    return f.type == "int" and not getattr(f, "pattern", None) and not getattr(f, "prefix", None) and not f.null_values


def _take(cols: _Columns, field: Field_ | Key) -> list[Any]:
    """``cols.take(field)``, but a column parsed as ``int64`` (digits alone, none empty) is already converted."""
    column = cols.frame.get(field.column or "")
    if column is not None and column.dtype == np.int64:
        return column.tolist()
    return cols.take(field)


def _columns(r: RelMap, starts: list[Any], ends: list[Any], props: dict[str, list[Any]]) -> RelColumns:
    assert r.type is not None
    names = tuple(k for k, v in props.items() if v.count(None) < len(v))  # as mapping._plain_rel_group
    start, end = NodeKey(r.start.label, r.start.property), NodeKey(r.end.label, r.end.property)
    return RelColumns(start, r.type, end, r.start.create, r.end.create, None, names, starts, ends,
                      [props[k] for k in names])  # fmt: skip
