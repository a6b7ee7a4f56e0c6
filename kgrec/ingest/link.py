"""Links between source entities and catalogue items (entity key -> item keys).

Several items may share one entity: MovieLens-100k lists a few films twice
under different item ids that point to the same DBpedia IRI. Both items then
receive the entity's facts (each is a real catalogue entry with its own
ratings), and both carry the entity key in ``link.store_as``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from kgrec.errors import BadRecord, InputDataError
from kgrec.graph.batch import NodeGroup, NodeKey
from kgrec.ingest.compressed import DECOMPRESS_ERRORS, open_text
from kgrec.ingest.spec import Link
from kgrec.ingest.tables import check_columns, header_columns, text_encoding


@dataclass(slots=True)
class LinkMap:
    """Entity key -> the keys of the items it stands for."""

    item: NodeKey
    store_as: str | None
    targets: dict[str, list[Any]] = field(default_factory=dict)
    records: int = 0
    """Lines of the link file read (good and bad)."""

    def items_of(self, entity: str) -> list[Any]:
        """Items linked to ``entity`` (empty when it is not a catalogue item)."""
        return self.targets.get(entity, [])

    def add(self, entity: str, item: Any) -> None:
        """Link one more item to ``entity``."""
        items = self.targets.setdefault(entity, [])
        if item not in items:
            items.append(item)

    def shared(self) -> dict[str, list[Any]]:
        """Entities linked to more than one item."""
        return {e: items for e, items in self.targets.items() if len(items) > 1}

    def item_nodes(self) -> NodeGroup:
        """Rows that store the entity key on each linked item (empty without ``store_as``)."""
        group = NodeGroup(self.item)
        if self.store_as:
            for entity, items in self.targets.items():
                group.rows.extend({"key": i, "props": {self.store_as: entity}} for i in items)
        return group


def read_link_file(path: Path, link: Link) -> LinkMap:
    """Read a link file (CSV/TSV with one row per (item, entity) pair; compressed by suffix).

    The columns come from the header (names stripped, a byte-order mark dropped)
    or, with ``header = false``, from ``columns``.

    Raises:
        InputDataError: Naming each bad line (a missing column: line 1, listing the columns found).
    """
    lm, bad = read_link_pairs(path, link)
    if bad:
        raise InputDataError(bad)
    return lm


def read_link_pairs(path: Path, link: Link) -> tuple[LinkMap, list[BadRecord]]:
    """Read a link file as :func:`read_link_file` does, returning the bad lines instead of raising for them.

    Raises:
        InputDataError: The file as a whole cannot be read (missing column, damaged archive, wrong encoding).
    """
    lm = LinkMap(NodeKey(link.item.label, link.item.property), link.store_as)
    try:
        with open_text(path, encoding=text_encoding(link.encoding)) as f:
            return lm, _read_pairs(f, path, link, lm)
    except DECOMPRESS_ERRORS as e:
        raise InputDataError([BadRecord(str(path), None, f"cannot decompress: {e}")]) from e
    except UnicodeDecodeError as e:
        raise InputDataError([BadRecord(str(path), None, f"not {link.encoding} text: {e.reason}")]) from e


def _read_pairs(f: TextIO, path: Path, link: Link, lm: LinkMap) -> list[BadRecord]:
    """Add every (entity, item) pair of the open file ``f`` to ``lm``; return the bad lines."""
    assert link.item_column and link.entity_column
    reader = csv.reader(f, delimiter=link.delimiter, strict=True)
    columns = header_columns(path, reader, header=link.header, columns=link.columns)
    check_columns(path, columns, [link.item_column, link.entity_column])
    at_item, at_entity = columns.index(link.item_column), columns.index(link.entity_column)
    bad: list[BadRecord] = []
    line = reader.line_num + 1
    while True:
        try:
            fields = next(reader, None)
        except csv.Error as e:
            bad.append(BadRecord(str(path), line, f"unparsable record: {e}"))
            line = reader.line_num + 1
            continue
        start, line = line, reader.line_num + 1
        if fields is None:
            return bad
        if not fields:
            continue
        lm.records += 1
        if len(fields) != len(columns):
            bad.append(BadRecord(str(path), start, f"expected {len(columns)} fields, found {len(fields)}"))
            continue
        item, entity = fields[at_item].strip(), fields[at_entity].strip()
        if not item or not entity:
            bad.append(BadRecord(str(path), start, "empty item or entity"))
            continue
        key = _item_key(item, link.item.type)
        if key is None:
            bad.append(BadRecord(str(path), start, f"item key is not an integer: {item!r}"))
            continue
        lm.add(link.entity_prefix + entity, key)


def _item_key(value: str, kind: str) -> Any:
    if kind == "int":
        try:
            return int(value)
        except ValueError:
            return None
    return value
