"""The kgrec error tree.

Every error kgrec raises on purpose derives from :class:`KgrecError`, split by
who has to act::

    KgrecError
    ├── ConfigError              the user's configuration is wrong
    │   ├── SpecError            a pipeline spec is invalid (names file and key)
    │   ├── DataNotFoundError    a dataset or file is not where it should be
    │   └── NotTrainedError      no usable trained model bundle where one is needed
    ├── InputDataError           a data file is malformed (names file, line, reason)
    ├── ExportError              the graph changed while it was exported (run the export again)
    ├── NotFoundError            a user or item asked for is not in the graph or the model
    ├── GraphUnavailableError    Neo4j cannot be reached or refuses the login
    └── ServerError              the local Neo4j server cannot be provisioned/run

Driver and parser errors are wrapped ``from`` the original exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class KgrecError(Exception):
    """Root of every error kgrec raises on purpose."""


class ConfigError(KgrecError):
    """The configuration (settings, CLI options) is invalid."""


class SpecError(ConfigError):
    """A pipeline spec is invalid.

    Args:
        path: The spec file.
        key: The dotted key at fault (``""`` for the whole file).
        problem: What is wrong.
    """

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path = Path(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: {key}" if key else str(self.path)
        super().__init__(f"{where}: {problem}")


class DataNotFoundError(ConfigError):
    """A dataset folder or data file is missing."""


@dataclass(frozen=True, slots=True)
class BadRecord:
    """One rejected input record: where it is and why it was rejected."""

    file: str
    line: int | None
    reason: str
    raw: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.reason}"


class InputDataError(KgrecError):
    """A data file is malformed.

    Args:
        records: The bad records found (at least one); the message shows the
            first few.
    """

    shown = 5

    def __init__(self, records: list[BadRecord]) -> None:
        self.records = records
        lines = [str(r) for r in records[: self.shown]]
        more = len(records) - self.shown
        if more > 0:
            lines.append(f"... and {more} more bad record(s)")
        super().__init__("; ".join(lines))


class NotTrainedError(ConfigError):
    """No usable trained model bundle where one is needed (missing, or without the vectors asked for)."""


class NotFoundError(KgrecError):
    """A user or item asked for is in neither the graph nor the model (names which one)."""


class ExportError(KgrecError):
    """The graph could not be exported as one consistent snapshot (it changed meanwhile); run the export again."""


class GraphUnavailableError(KgrecError):
    """Neo4j cannot be reached, or it refused the credentials."""


class ServerError(KgrecError):
    """The local Neo4j server could not be provisioned, started or stopped."""
