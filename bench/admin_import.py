"""The same graph through ``neo4j-admin database import full``: CSV export, then a timed import.

The graph kgrec loaded is exported from the bench database (so both methods
load exactly the same nodes, labels, relationships and typed properties) to
admin-import CSVs: one node file per label set (``:ID``, ``:LABEL``, properties)
and one relationship file per type (``:START_ID``, ``:END_ID``, ``:TYPE``,
properties), each with a separate header file whose types are inferred from the
values. The export is not timed; the import command is, JVM start-up included.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import neo4j
import neo4j.time
from tqdm import tqdm

from bench.measure import PeakRss
from kgrec.graph.names import check_property
from kgrec.ingest.bulk_csv import ImportFiles  # the same argument lists the product's --bulk writes

_NODES = "MATCH (n) WHERE NOT n:KgrecCheckpoint RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS p"
_REL_KEYS = "MATCH ()-[r]->() WITH type(r) AS t, keys(r) AS ks RETURN t, collect(DISTINCT ks) AS keysets"
_RELS = "MATCH (a)-[r]->(b) RETURN elementId(a) AS a, elementId(b) AS b, type(r) AS t, properties(r) AS p"
_REL_COUNT = "MATCH ()-[r]->() RETURN count(r) AS n"


@dataclass(frozen=True, slots=True)
class ImportRun:
    """One timed import."""

    seconds: float
    nodes: int
    relationships: int


class _Columns:
    """Property columns of one file: fixed order, types inferred from the values written."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = [check_property(k) for k in sorted(keys)]
        self.kinds: dict[str, set[str]] = {k: set() for k in self.keys}
        self.multiline = False

    def cells(self, props: dict[str, Any]) -> list[str | None]:
        out: list[str | None] = []
        for k in self.keys:
            v = props.get(k)
            if v is None or v == []:  # an empty list has no element type: left unset (e.g. an empty kgrec_props)
                out.append(None)
                continue
            kind, text = _cell(v)
            self.kinds[k].add(kind)
            self.multiline |= "\n" in text or "\r" in text
            out.append(text)
        return out

    def header(self, fixed: list[str]) -> list[str]:
        return fixed + [f"{k}:{_merge_kinds(self.kinds[k])}" for k in self.keys]


def export_graph(driver: neo4j.Driver, database: str, out_dir: Path) -> ImportFiles:
    """Write the database's graph (checkpoints left out) as admin-import CSVs under ``out_dir``."""
    out_dir.mkdir(parents=True)
    files = ImportFiles()
    ids: dict[str, int] = {}
    groups: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    with driver.session(database=database) as session:
        for rec in session.run(_NODES):
            ids[rec["id"]] = len(ids)
            groups[tuple(sorted(rec["labels"]))].append((ids[rec["id"]], rec["p"]))
        for i, (labels, rows) in enumerate(sorted(groups.items())):
            cols = _Columns(sorted({k for _, p in rows for k in p}))
            data = out_dir / f"nodes-{i}.csv"
            with data.open("w", encoding="utf-8", newline="") as f:
                w = csv.writer(f)
                for nid, p in rows:
                    w.writerow([nid, ";".join(labels), *cols.cells(p)])
            _finish(files.nodes, files.multiline, out_dir / f"nodes-{i}-header.csv", data, cols, [":ID", ":LABEL"])
        files.node_count = len(ids)
        keys: dict[str, set[str]] = defaultdict(set)
        for rec in session.run(_REL_KEYS):
            for ks in rec["keysets"]:
                keys[rec["t"]].update(ks)
        total = session.run(_REL_COUNT).single(strict=True)["n"]
        cols_by_type = {t: _Columns(sorted(ks)) for t, ks in keys.items()}
        handles = {t: (out_dir / f"rels-{t}.csv").open("w", encoding="utf-8", newline="") for t in keys}
        writers = {t: csv.writer(h) for t, h in handles.items()}
        try:
            bar = tqdm(
                total=total,
                desc="  export to admin CSV",
                unit="rel",
                unit_scale=True,
                leave=False,
                file=sys.stderr,
                dynamic_ncols=True,
                mininterval=0.5,
            )
            for n, rec in enumerate(session.run(_RELS), 1):
                t = rec["t"]
                writers[t].writerow([ids[rec["a"]], ids[rec["b"]], t, *cols_by_type[t].cells(rec["p"])])
                if n % 10_000 == 0:
                    bar.update(10_000)
            bar.update(total - bar.n)
            bar.close()
        finally:
            for h in handles.values():
                h.close()
        for t, cols in sorted(cols_by_type.items()):
            _finish(
                files.relationships,
                files.multiline,
                out_dir / f"rels-{t}-header.csv",
                out_dir / f"rels-{t}.csv",
                cols,
                [":START_ID", ":END_ID", ":TYPE"],
            )
        files.rel_count = total
    return files


def run_import(
    files: ImportFiles, dist: Path, env: dict[str, str], log_file: Path, rss: PeakRss, database: str = "neo4j"
) -> ImportRun:
    """Time ``neo4j-admin database import full`` into the stopped bench-import instance.

    Raises:
        RuntimeError: The import failed (the tail of its output is in the message).
    """
    # The database name goes first: --nodes/--relationships take several values and would swallow it.
    command = [
        _java(),
        "-cp",
        str(dist / "lib" / "*"),
        "org.neo4j.cli.AdminTool",
        "database",
        "import",
        "full",
        database,
        "--id-type=integer",
        "--overwrite-destination=true",
        f"--report-file={log_file}.report",
    ]
    command += [f"--nodes={x}" for x in files.nodes] + [f"--relationships={x}" for x in files.relationships]
    if files.multiline:
        command += ["--multiline-fields-format=v2", f"--multiline-fields={','.join(files.multiline)}"]
    bar = tqdm(
        desc="  neo4j-admin database import full",
        bar_format="{desc}: {elapsed}",
        leave=False,
        file=sys.stderr,
        mininterval=2.0,
    )
    with log_file.open("w", encoding="utf-8") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env})
        rss.watch("client", proc.pid)
        while proc.poll() is None:
            bar.update(0)
            time.sleep(0.1)
        seconds = time.perf_counter() - start
    bar.close()
    output = log_file.read_text(encoding="utf-8", errors="replace")
    nodes = re.search(r"(\d+) nodes", output)
    rels = re.search(r"(\d+) relationships", output)
    if proc.returncode != 0 or "IMPORT DONE" not in output or nodes is None or rels is None:
        tail = "\n".join(output.splitlines()[-20:])
        raise RuntimeError(f"neo4j-admin import failed (exit {proc.returncode}), see {log_file}:\n{tail}")
    return ImportRun(seconds, int(nodes.group(1)), int(rels.group(1)))


def _finish(group: list[str], multiline: list[str], header: Path, data: Path, cols: _Columns, fixed: list[str]) -> None:
    with header.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerow(cols.header(fixed))
    group.append(f"{header},{data}")
    if cols.multiline:
        multiline.append(str(data))


def _cell(v: Any) -> tuple[str, str]:
    """The admin-import type of a value, and its CSV text."""
    if isinstance(v, bool):
        return "boolean", "true" if v else "false"
    if isinstance(v, int):
        return "long", str(v)
    if isinstance(v, float):
        return "double", repr(v)
    if isinstance(v, str):
        return "string", v
    if isinstance(v, neo4j.time.Date):
        return "date", v.iso_format()
    if isinstance(v, neo4j.time.DateTime):
        return "datetime", v.iso_format()
    if isinstance(v, list) and v:
        kinds = {_cell(x)[0] for x in v}
        kind = kinds.pop() if len(kinds) == 1 else "string"
        return f"{kind}[]", ";".join(_cell(x)[1] for x in v)
    raise TypeError(f"no admin-import type for {type(v).__name__} value {v!r}")


def _merge_kinds(kinds: set[str]) -> str:
    if not kinds:  # every value an empty list: an untyped column, never set
        return "string[]"
    if len(kinds) == 1:
        return next(iter(kinds))
    if kinds == {"long", "double"}:
        return "double"
    raise TypeError(f"a property holds values of several types: {sorted(kinds)}")


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("java is not on PATH (needed for neo4j-admin)")
    return java
