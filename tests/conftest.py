"""Shared fixtures: a real local Neo4j test instance, the dataset mirror, small files.

Integration tests never touch a user's database: ``NEO4J_*`` variables are
dropped and tests run against kgrec's own instance ``pytest`` on its own ports,
started here when it is not running and stopped again at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

for _var in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "KGREC_NEO4J_URI", "KGREC_INSTANCE"):
    os.environ.pop(_var, None)

from kgrec.graph.server import LocalNeo4j  # noqa: E402
from kgrec.graph.store import GraphStore  # noqa: E402
from kgrec.settings import Settings, load_settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# Several checkouts (or developers) on one machine can each use their own instance:
# KGREC_TEST_INSTANCE=name KGREC_TEST_BOLT_PORT=... KGREC_TEST_HTTP_PORT=...
TEST_INSTANCE = {
    "instance": os.environ.get("KGREC_TEST_INSTANCE", "pytest"),
    "bolt_port": int(os.environ.get("KGREC_TEST_BOLT_PORT", "7689")),
    "http_port": int(os.environ.get("KGREC_TEST_HTTP_PORT", "7476")),
}


def _data_dir() -> Path | None:
    env = os.environ.get("KGREC_DATA_DIR")
    for candidate in ([Path(env)] if env else []) + [REPO.parent / "shared" / "recsys-data"]:
        if (candidate / "movielens-100k" / "u.data").is_file():
            return candidate
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The dataset mirror; tests that need it skip with a reason when it is absent."""
    found = _data_dir()
    if found is None:
        pytest.skip("dataset mirror not found: set KGREC_DATA_DIR to a folder with movielens-100k/")
    return found


@pytest.fixture(scope="session")
def neo4j_settings() -> Iterator[Settings]:
    """Settings of the test server, which runs for the whole session."""
    settings = load_settings(**TEST_INSTANCE)
    server = LocalNeo4j(settings)
    started = server.start()
    yield settings
    if started:
        server.stop()


@pytest.fixture
def store(neo4j_settings: Settings) -> Iterator[GraphStore]:
    """A store on an empty test database."""
    with GraphStore.connect(neo4j_settings) as s:
        s.delete_all()
        yield s


def write(path: Path, text: str | bytes) -> Path:
    """Write a small test file (bytes as given, text as UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


FILM_SPECS = ("movielens-100k", "dbpedia-films")
"""Shipped specs whose ``[schema]`` the hand-built film graphs of the tests share."""


def declare_schema(store: GraphStore, *specs: str) -> None:
    """Record the ``[schema]`` of shipped specs (default: :data:`FILM_SPECS`), as ``kgrec ingest`` does."""
    from kgrec.graph.declared import record_part
    from kgrec.ingest.spec import load_spec

    for name in specs or FILM_SPECS:
        record_part(store, load_spec(REPO / "ingest" / f"{name}.toml").schema_part())
