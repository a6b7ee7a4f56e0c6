"""``neo4j-admin database import full`` input: typed header files and CSV data files.

Nodes go to one file per id space and label set, keyed ``:ID(<space>)`` (not
stored) plus the key property with its own type; relationships to one file per
type and endpoint spaces with ``:START_ID(<space>)``, ``:END_ID(<space>)`` and
``:TYPE``. Property columns are typed from the values seen
(:mod:`kgrec.ingest.bulk_types`). A property holding
values of several types in one space keeps each value's own type: rows are
split into files by the types of such properties.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import IO, Any

from kgrec.graph.batch import NodeKey
from kgrec.ingest.bulk_types import Kinds, Same, converter, kind, kinds_of


@dataclass(slots=True)
class _File:
    header: list[str]
    columns: list[str]
    convert: list[Callable[[Any], Any] | None]
    kinds: list[str]
    handle: IO[str]
    writer: Any
    data: Path
    header_file: Path
    rows: int = 0
    multiline: bool = False


@dataclass(slots=True)
class ImportFiles:
    """The written files, as ``neo4j-admin`` arguments, with what they hold."""

    nodes: list[str] = field(default_factory=list)
    relationships: list[str] = field(default_factory=list)
    multiline: list[str] = field(default_factory=list)
    integer_ids: bool = False
    """Every node key and relationship endpoint is an integer: ``--id-type=integer``."""
    node_count: int = 0
    rel_count: int = 0
    nodes_by_label: dict[str, int] = field(default_factory=dict)
    rels_by_type: dict[str, int] = field(default_factory=dict)


class AdminCsvWriter:
    """Writes node and relationship rows into files grouped as the import needs them.

    Args:
        folder: Where the files go.
        spaces: Node id spaces, by index.
        rel_files: (type, start space, end space), by index.
        kinds: The property and key types seen.
    """

    def __init__(
        self, folder: Path, spaces: list[NodeKey], rel_files: list[tuple[str, int, int]], kinds: Kinds
    ) -> None:
        self._folder = folder
        self._spaces = spaces
        self._rel_files = rel_files
        self._kinds = kinds
        labels = [k.label for k in spaces]
        self._space_names = [k.label if labels.count(k.label) == 1 else f"{k.label}.{k.property}" for k in spaces]
        self._files: dict[tuple[Any, ...], _File] = {}
        self._counts: dict[str, int] = {}

    def node(self, space: int, key: Any, labels: set[str], props: dict[str, Any]) -> None:
        """Write one node (its space's label is added to ``labels``)."""
        sk = self._spaces[space]
        props.pop(sk.property, None)  # the key column holds it
        mixed = self._kinds.mixed(("n", space))
        shard = (kind(key), *(kind(props.get(p)) if props.get(p) is not None else None for p in mixed))
        group = ("n", space, tuple(sorted(labels - {sk.label})), shard)
        f = self._files.get(group) or self._open(group, self._node_header(space, shard, mixed))
        self._write(f, [key, key], props)
        self.count(f"n:{sk.label}", 1)
        for extra in labels - {sk.label}:
            self.count(f"n:{extra}", 1)

    def relationship(self, file: int, start: Any, end: Any, props: dict[str, Any]) -> None:
        """Write one relationship."""
        rel_type = self._rel_files[file][0]
        mixed = self._kinds.mixed(("r", file))
        shard = tuple(kind(props.get(p)) if props.get(p) is not None else None for p in mixed)
        group = ("r", file, shard)
        f = self._files.get(group) or self._open(group, self._rel_header(file, shard, mixed))
        self._write(f, [start, end, rel_type], props)
        self.count(f"r:{rel_type}", 1)

    def relationship_columns(
        self, file: int, starts: Sequence[Any], ends: Sequence[Any], props: dict[str, Sequence[Any] | Same]
    ) -> None:
        """Write many relationships at once, as columns; no property of the file holds values of several types."""
        rel_type = self._rel_files[file][0]
        group = ("r", file, ())
        f = self._files.get(group) or self._open(group, self._rel_header(file, (), []))
        n = len(starts)
        columns: list[Any] = [starts, ends, Same(rel_type)]
        for name, conv, k in zip(f.columns, f.convert, f.kinds):
            values = props.get(name)
            columns.append(Same(None) if values is None else self._column(f, values, conv, k, n))
        text = _integer_rows(columns)
        if text is not None:
            f.handle.write(text)
        else:
            f.writer.writerows(zip(*(repeat(c.value, n) if isinstance(c, Same) else c for c in columns)))
        f.rows += n
        self.count(f"r:{rel_type}", n)

    def count(self, what: str, n: int) -> None:
        """Count what was written (``n:<label>`` or ``r:<type>``)."""
        self._counts[what] = self._counts.get(what, 0) + n

    def close(self) -> ImportFiles:
        """Close the data files, write the header files and return the import arguments."""
        out = ImportFiles()
        for group, f in sorted(self._files.items(), key=lambda kv: str(kv[0])):
            f.handle.close()
            with f.header_file.open("w", encoding="utf-8", newline="") as h:
                csv.writer(h, lineterminator="\n").writerow(f.header)
            files = f"{f.header_file},{f.data}"
            if group[0] == "n":
                labels = ":".join([self._spaces[group[1]].label, *group[2]])
                out.nodes.append(f"{labels}={files}")
                out.node_count += f.rows
            else:
                out.relationships.append(files)
                out.rel_count += f.rows
            if f.multiline:
                out.multiline.append(str(f.data))
        self._files.clear()
        out.nodes_by_label = {k[2:]: v for k, v in self._counts.items() if k.startswith("n:")}
        out.rels_by_type = {k[2:]: v for k, v in self._counts.items() if k.startswith("r:")}
        return out

    def abort(self) -> None:
        """Close every open file (after an error)."""
        for f in self._files.values():
            f.handle.close()
        self._files.clear()

    # -- internals ------------------------------------------------------------------------------

    def _node_header(self, space: int, shard: tuple[Any, ...], mixed: list[str]) -> tuple[list[str], list[str]]:
        sk = self._spaces[space]
        key_kind = shard[0] or "string"
        props = {k: v for k, v in self._kinds.props.get(("n", space), {}).items() if k != sk.property}
        columns, header = self._prop_columns(props, dict(zip(mixed, shard[1:])))
        return [f":ID({self._space_names[space]})", f"{sk.property}:{key_kind}", *header], columns

    def _rel_header(self, file: int, shard: tuple[Any, ...], mixed: list[str]) -> tuple[list[str], list[str]]:
        _, s, e = self._rel_files[file]
        columns, header = self._prop_columns(self._kinds.props.get(("r", file), {}), dict(zip(mixed, shard)))
        ends = [f":START_ID({self._space_names[s]})", f":END_ID({self._space_names[e]})", ":TYPE"]
        return [*ends, *header], columns

    @staticmethod
    def _prop_columns(props: dict[str, set[str]], chosen: dict[str, str | None]) -> tuple[list[str], list[str]]:
        columns, header = [], []
        for name in sorted(props):
            k = chosen.get(name) or (min(props[name]) if props[name] else None)
            if k is None:
                continue
            columns.append(name)
            header.append(f"{name}:{k}")
        return columns, header

    def _open(self, group: tuple[Any, ...], layout: tuple[list[str], list[str]]) -> _File:
        header, columns = layout
        n = len(self._files)
        stem = f"{group[0]}{n:04d}"
        data = self._folder / f"{stem}.csv"
        handle = data.open("w", encoding="utf-8", newline="")
        kinds = [h.rsplit(":", 1)[1] for h in header[len(header) - len(columns) :]]
        writer = csv.writer(handle, lineterminator="\n")
        f = _File(header, columns, [converter(k) for k in kinds], kinds, handle, writer, data,
                  self._folder / f"{stem}-header.csv")  # fmt: skip
        self._files[group] = f
        return f

    @staticmethod
    def _column(
        f: _File, values: Sequence[Any] | Same, conv: Callable[[Any], Any] | None, k: str, n: int
    ) -> Sequence[Any] | Same:
        """One property column as written: empty values as nothing, converted where the type needs it."""
        if isinstance(values, Same):
            v = values.value
            return Same(None if v is None or v == "" else conv(v) if conv is not None else v)
        if conv is not None:
            return [None if v is None or v == "" else conv(v) for v in values]
        if k != "string":
            return values
        text = "\x1e".join(filter(None, values))
        if "\n" in text or "\r" in text:
            f.multiline = True
        return [v or None for v in values] if "" in values else values

    def _write(self, f: _File, fixed: list[Any], props: dict[str, Any]) -> None:
        row = fixed
        for name, conv in zip(f.columns, f.convert):
            v = props.get(name)
            if v is None or v == "":
                row.append(None)
                continue
            if conv is not None:
                v = conv(v)
            elif type(v) is str and ("\n" in v or "\r" in v):
                f.multiline = True
            row.append(v)
        f.writer.writerow(row)
        f.rows += 1


def _integer_rows(columns: list[Sequence[Any] | Same]) -> str | None:
    """The rows as CSV text, formatted at once, when every column is integers (none missing) or one value
    for all rows (the common interaction file); else ``None`` (the csv module writes them)."""
    fields: list[str] = []
    lists: list[Sequence[Any]] = []
    for c in columns:
        if isinstance(c, Same):
            fields.append(_field_text(c.value).replace("{", "{{").replace("}", "}}"))
        elif kinds_of(c) == {"long"} and None not in c:
            fields.append("{}")
            lists.append(c)
        else:
            return None
    if not lists:
        return None
    return "".join(map((",".join(fields) + "\n").format, *lists))


def _field_text(value: Any) -> str:
    """One field as the csv module writes it (quoted where needed; ``None`` as nothing)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([value, ""])
    return out.getvalue()[:-1]
