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
from typing import Any

from kgrec.errors import BadRecord, InputDataError
from kgrec.graph.batch import NodeGroup, NodeKey
from kgrec.ingest.spec import Link


@dataclass(slots=True)
class LinkMap:
    """Entity key -> the keys of the items it stands for."""

    item: NodeKey
    store_as: str | None
    targets: dict[str, list[Any]] = field(default_factory=dict)

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
    """Read a link file (CSV/TSV with a header naming ``item_column`` and ``entity_column``).

    Raises:
        InputDataError: Naming each bad line.
    """
    assert link.item_column and link.entity_column
    lm = LinkMap(NodeKey(link.item.label, link.item.property), link.store_as)
    bad: list[BadRecord] = []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter=link.delimiter)
        missing = {link.item_column, link.entity_column} - set(reader.fieldnames or [])
        if missing:
            raise InputDataError([BadRecord(str(path), 1, f"missing column(s) {sorted(missing)} in the header")])
        for row in reader:
            item, entity = (
                (row.get(link.item_column) or "").strip(),
                (row.get(link.entity_column) or "").strip(),
            )
            if not item or not entity:
                bad.append(BadRecord(str(path), reader.line_num, "empty item or entity"))
                continue
            key = _item_key(item, link.item.type)
            if key is None:
                bad.append(BadRecord(str(path), reader.line_num, f"item key is not an integer: {item!r}"))
                continue
            lm.add(link.entity_prefix + entity, key)
    if bad:
        raise InputDataError(bad)
    return lm


def _item_key(value: str, kind: str) -> Any:
    if kind == "int":
        try:
            return int(value)
        except ValueError:
            return None
    return value
