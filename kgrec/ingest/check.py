"""Checks a pipeline spec and every file it names without a database (``kgrec ingest --dry-run``).

Every file is read and every record converted exactly as ingestion would, but
nothing is written and no connection is opened: the link file, each table
(through :mod:`kgrec.ingest.tables` and :mod:`kgrec.ingest.mapping`) and each
RDF file (through :mod:`kgrec.ingest.check_rdf`). Only what needs the graph cannot be
checked: whether relationship endpoints and update-only nodes exist.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgrec.errors import BadRecord, DataNotFoundError, InputDataError, KgrecError, SpecError
from kgrec.ingest.check_rdf import check_rdf
from kgrec.ingest.link import LinkMap, read_link_pairs
from kgrec.ingest.mapping import map_chunk
from kgrec.ingest.spec import Rdf, Spec, Table, load_spec
from kgrec.ingest.tables import read_table

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SpecCheck:
    """What checking one spec found."""

    spec: str
    """The spec file as given."""
    records: int = 0
    """Records read (table records, link lines, RDF triples), good and bad."""
    errors: list[BadRecord] = field(default_factory=list)
    """Every bad record, plus whole-file faults (line ``None``): a missing file, an invalid spec."""

    @property
    def ok(self) -> bool:
        """True when nothing was wrong."""
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape: ``{"spec", "ok", "records", "errors": [{"file", "line", "reason"}]}``."""
        errors = [{"file": b.file, "line": b.line, "reason": b.reason} for b in self.errors]
        return {"spec": self.spec, "ok": self.ok, "records": self.records, "errors": errors}


def validate_spec(spec_path: Path | str, data_dir: Path, *, chunk_size: int = 20_000) -> SpecCheck:
    """Read and check one spec and every file it names; never raises for bad input.

    Args:
        spec_path: The spec file.
        data_dir: Folder that the spec's ``dataset`` is relative to.
        chunk_size: Records converted at a time (bounds memory).

    Returns:
        The records read and every fault found, as ``file:line: reason`` records.
    """
    check = SpecCheck(str(spec_path))
    try:
        spec = load_spec(spec_path)
    except SpecError as e:
        check.errors.append(BadRecord(str(e.path), None, f"{e.key}: {e.problem}" if e.key else e.problem))
        return check
    root = data_dir / spec.dataset
    link = _check_link(spec, root, check)
    for table in spec.tables:
        _guard(root / table.file, check, lambda p, t=table: _check_table(p, t, link, check, chunk_size))
    for rdf in spec.rdf:
        _guard(root / rdf.file, check, lambda p, r=rdf: _check_rdf(p, r, spec, link, check))
    return check


def refuse_list_columns(spec_paths: Iterable[Path | str], what: str) -> None:
    """Stop, before anything is read or written, when a spec uses list columns, which ``what`` cannot load yet.

    Raises:
        SpecError: ``spec: tables.0.relationships.1.end: ...`` for the first list column found.
    """
    for path in spec_paths:
        found = load_spec(path).list_columns()
        if found:
            problem = f"{what} does not read list columns (many/split) yet; load this spec with a plain kgrec ingest"
            raise SpecError(path, found[0], problem)


def _guard(path: Path, check: SpecCheck, run: Any) -> Any:
    """Run ``run(path)``, turning a missing file or a file-level fault into one error of ``check``."""
    if not path.is_file():
        check.errors.append(BadRecord(str(path), None, "no such file"))
        return None
    try:
        return run(path)
    except InputDataError as e:
        check.errors.extend(e.records)
    except DataNotFoundError as e:
        check.errors.append(BadRecord(str(path), None, str(e).removeprefix(f"{path}: ")))
    except KgrecError as e:
        check.errors.append(BadRecord(str(path), None, str(e)))
    return None


def _check_link(spec: Spec, root: Path, check: SpecCheck) -> LinkMap | None:
    if spec.link is None or spec.link.file is None:
        return None
    link = spec.link
    read = _guard(root / link.file, check, lambda p: read_link_pairs(p, link))  # type: ignore[operator]
    if read is None:
        return None
    found, bad = read
    check.records += found.records
    check.errors.extend(bad)
    return found


def _check_table(path: Path, table: Table, link: LinkMap | None, check: SpecCheck, chunk_size: int) -> None:
    for chunk in read_table(path, table, chunk_size=chunk_size):
        _, rejected = map_chunk(chunk.frame, table, str(path), link)
        check.records += chunk.records
        check.errors.extend(sorted(chunk.bad + rejected, key=lambda b: b.line or 0))


def _check_rdf(path: Path, rdf: Rdf, spec: Spec, link: LinkMap | None, check: SpecCheck) -> None:
    check.records += check_rdf(path, rdf, spec, link)  # streamed where the ingest streams


__all__ = ["SpecCheck", "refuse_list_columns", "validate_spec"]
