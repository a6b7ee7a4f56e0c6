"""The benchmark's own Neo4j instances: one server for Bolt loads, one stopped folder for neo4j-admin.

Both are separate from the user's instance and database: even when ``NEO4J_URI``
is set, the benchmark talks only to the local ``bench`` server it starts itself,
so it never wipes anyone's data.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import neo4j

from kgrec.graph.server import USER, LocalNeo4j, dist_dir, read_password, render_conf
from kgrec.graph.store import GraphStore
from kgrec.settings import Settings, load_settings

SERVER_INSTANCE = os.environ.get("KGREC_BENCH_INSTANCE", "bench")
"""The bench server's instance (``KGREC_BENCH_INSTANCE``, so that two benchmarks can run side by side)."""
IMPORT_INSTANCE = f"{SERVER_INSTANCE}-import"

# Bench-only maintenance statement: relationships first, in small transactions,
# so that DETACH DELETE of dense nodes afterwards never holds millions of them.
_DELETE_RELS = "MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 50000 ROWS"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the bench server listens and how big it is (picklable, for worker processes)."""

    bolt_port: int = int(os.environ.get("KGREC_BENCH_BOLT_PORT", "7688"))
    http_port: int = int(os.environ.get("KGREC_BENCH_HTTP_PORT", "7475"))
    heap: str | None = None
    pagecache: str | None = None

    def settings(self, instance: str = SERVER_INSTANCE) -> Settings:
        """Settings of a bench instance; ``NEO4J_URI`` from the environment is ignored on purpose."""
        ports = {"bolt_port": self.bolt_port, "http_port": self.http_port}
        if instance != SERVER_INSTANCE:  # never started, but keep its conf from naming our ports
            ports = {"bolt_port": self.bolt_port + 1, "http_port": self.http_port + 1}
        settings = load_settings(instance=instance, heap=self.heap, pagecache=self.pagecache, **ports)
        return settings.model_copy(update={"neo4j_uri": None, "neo4j_password": None})


class BenchBusyError(RuntimeError):
    """Another benchmark run holds the bench instances."""


@contextmanager
def exclusive(endpoint: Endpoint) -> Iterator[None]:
    """Hold the bench instances for one run; a second run at the same time is refused, not mixed in.

    Raises:
        BenchBusyError: Another run holds them.
    """
    with held(lock_path(endpoint.settings()), "another benchmark run is using the bench server; wait for it to finish"):
        yield


def lock_path(settings: Settings) -> Path:
    """The lock file a run holds while it uses the instance ``settings`` names."""
    return settings.instance_dir.parent / f"{settings.instance}.lock"


@contextmanager
def held(path: Path, busy: str) -> Iterator[None]:
    """An exclusive lock on ``path`` (created if missing) for one run, holding this process's pid.

    Raises:
        BenchBusyError: Another process holds it; the message is ``busy`` and the holder's pid.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise BenchBusyError(f"{busy} (pid {handle.read().strip() or '?'}, lock {path})") from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_fresh(endpoint: Endpoint) -> LocalNeo4j:
    """Start the bench server on an empty store (stopping one a crashed run left behind)."""
    server = LocalNeo4j(endpoint.settings())
    server.stop()
    shutil.rmtree(server.home / "data", ignore_errors=True)
    server.start(timeout=600)
    return server


def server_pid(server: LocalNeo4j) -> int:
    """The pid of the running bench server."""
    pid = server.status().pid
    if pid is None:
        raise RuntimeError(f"the bench server ({server.home}) is not running")
    return pid


def open_driver(settings: Settings) -> neo4j.Driver:
    """A driver of the bench's own (for the naive loader, the CSV export and maintenance)."""
    auth = (USER, read_password(settings))
    return neo4j.GraphDatabase.driver(settings.bolt_uri, auth=auth, notifications_min_severity="OFF")


def wipe(store: GraphStore, driver: neo4j.Driver, database: str) -> None:
    """Empty the database: relationships in batches, then ``delete_all`` (checkpoints included)."""
    with driver.session(database=database) as session:
        session.run(_DELETE_RELS).consume()  # CALL ... IN TRANSACTIONS needs an auto-commit transaction
    store.delete_all()
    left = store.query("MATCH (n) RETURN count(n) AS n")[0]["n"]
    if left:
        raise RuntimeError(f"wipe left {left} node(s) behind")


def prepare_import_home(endpoint: Endpoint) -> tuple[Settings, dict[str, str]]:
    """Create the stopped neo4j-admin target instance and return its settings and environment."""
    settings = endpoint.settings(IMPORT_INSTANCE)
    home = settings.instance_dir.resolve()
    for sub in ("conf", "data", "logs", "run", "import"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / "conf" / "neo4j.conf").write_text(render_conf(settings, dist_dir(settings)), encoding="utf-8")
    return settings, {"NEO4J_HOME": str(home), "NEO4J_CONF": str(home / "conf")}


def remove_data(endpoint: Endpoint) -> None:
    """Delete the stores of both bench instances (the server must be stopped)."""
    for instance in (SERVER_INSTANCE, IMPORT_INSTANCE):
        shutil.rmtree(endpoint.settings(instance).instance_dir / "data", ignore_errors=True)
