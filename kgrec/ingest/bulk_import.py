"""The import step of ``--bulk``: kgrec's local server stopped, ``neo4j-admin database import full``, started again.

Stopping the server takes seconds even when it is idle (a checkpoint of the
system database, then the JVM's exit), so it runs in a background thread while
the import files are written; the import waits for it. The server is started
again whatever happens after the stop began: a failed file step leaves the
database as it was, served again. From the import on, the instance holds a
mark (``run/kgrec-bulk-import``) until the load is finished, so a run
interrupted there (even killed) is loaded again, whole, by the next one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from kgrec.graph.server import LocalNeo4j
from kgrec.ingest.bulk_csv import ImportFiles
from kgrec.ingest.bulk_types import ARRAY_OPTION
from kgrec.settings import Settings

Say = Callable[[str], None]


class ServerPause:
    """Stops the local server beside other work, runs the import on its files, starts it again.

    Args:
        settings: The local server's settings.
        say: Prints one line per step.
        seconds: Where the wall time of ``stop``, ``stop_wait``, ``import`` and ``start`` is recorded.
    """

    def __init__(self, settings: Settings, say: Say, seconds: dict[str, float]) -> None:
        self._settings = settings
        self._server = LocalNeo4j(settings)
        self._say = say
        self._seconds = seconds
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def stop_in_background(self) -> None:
        """Begin stopping the server; :meth:`run_import` or :meth:`resume` must follow."""
        self._say(f"bulk: stopping Neo4j instance {self._settings.instance!r} for neo4j-admin database import full")
        self._thread = threading.Thread(target=self._stop, name="kgrec-bulk-stop", daemon=True)
        self._thread.start()

    def run_import(self, files: ImportFiles, folder: Path) -> None:
        """Wait for the stop, import ``files`` (their folder holds the log and report), start the server.

        Raises:
            ServerError: ``neo4j-admin`` failed (the server is started again first).
        """
        try:
            self._wait_stopped()
            start = time.perf_counter()
            _mark(self._settings).parent.mkdir(parents=True, exist_ok=True)
            _mark(self._settings).touch()
            self._server.run_admin(import_args(files, self._settings.neo4j_database, folder), folder / "import.log")
            self._seconds["import"] = time.perf_counter() - start
        finally:
            self._start()

    def resume(self) -> None:
        """Start the server again without importing (the step before the import failed)."""
        try:
            self._wait_stopped()
        finally:
            self._start()

    def _stop(self) -> None:
        start = time.perf_counter()
        try:
            self._server.stop()
        except BaseException as e:  # raised in the caller's thread by _wait_stopped
            self._error = e
        finally:
            self._seconds["stop"] = time.perf_counter() - start

    def _wait_stopped(self) -> None:
        assert self._thread is not None, "stop_in_background first"
        start = time.perf_counter()
        self._thread.join()
        self._seconds["stop_wait"] = time.perf_counter() - start
        if self._error is not None:
            raise self._error

    def _start(self) -> None:
        self._say(f"bulk: starting Neo4j instance {self._settings.instance!r}")
        start = time.perf_counter()
        self._server.start()
        self._seconds["start"] = time.perf_counter() - start


def unfinished(settings: Settings) -> bool:
    """Whether a ``--bulk`` load of this instance began its import and did not finish."""
    return _mark(settings).exists()


def finished(settings: Settings) -> None:
    """Mark the instance's ``--bulk`` load finished (constraints, checkpoints and schema written)."""
    _mark(settings).unlink(missing_ok=True)


def _mark(settings: Settings) -> Path:
    return settings.instance_dir / "run" / "kgrec-bulk-import"


def import_args(files: ImportFiles, database: str, folder: Path) -> list[str]:
    """``neo4j-admin`` arguments that import ``files`` into ``database``, replacing it."""
    args = ["database", "import", "full", database, "--overwrite-destination=true"]  # the name first: see below
    args += [f"--report-file={folder / 'import.report'}", f"--array-delimiter={ARRAY_OPTION}"]
    args += ["--skip-bad-relationships=true", f"--bad-tolerance={files.rel_count + 1}"]
    if files.integer_ids:
        args.append("--id-type=integer")
    if files.multiline:
        args += ["--multiline-fields-format=v2", f"--multiline-fields={','.join(files.multiline)}"]
    # --nodes/--relationships take several values each: they come last, after the database name
    return args + [f"--nodes={x}" for x in files.nodes] + [f"--relationships={x}" for x in files.relationships]
