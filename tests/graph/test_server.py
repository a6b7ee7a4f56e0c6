"""The local Neo4j server: conf rendering, and a real server's whole life cycle.

The server tests use their own instance and ports, so they never touch yours,
and the shared distribution in ``KGREC_HOME`` (provisioned on first use, ~1 min).
Each start takes ~15-20 s, so the tests share one instance: every test starts
it if needed (a no-op when it runs) and leaves it running unless it tests stop.
The conf tests need no server, so only the server tests carry the ``neo4j`` marker.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import time
import urllib.request
from collections.abc import Iterator

import neo4j as driver_lib
import pytest

from kgrec.errors import ConfigError
from kgrec.graph.server import LocalNeo4j, dist_dir, read_password, render_conf
from kgrec.settings import NEO4J_VERSION, Settings, load_settings

START_TIMEOUT = 300.0
"""Generous: a start takes ~15 s on an idle machine, but over a minute on a busy one."""


def _settings() -> Settings:
    return load_settings(instance="pytest-server", bolt_port=7698, http_port=7485, heap="512m", pagecache="128m")


def test_conf_has_ports_memory_and_absolute_paths_once(tmp_path):
    settings = load_settings(home=tmp_path, instance="x", bolt_port=7001, http_port=7002, heap="2g", pagecache="3g")
    conf = render_conf(settings, dist_dir(settings))
    pairs = [line.split("=", 1) for line in conf.splitlines() if line and not line.startswith("#")]
    values = dict(pairs)
    assert values["server.bolt.listen_address"] == "127.0.0.1:7001"
    assert values["server.http.listen_address"] == "127.0.0.1:7002"
    assert values["server.memory.heap.max_size"] == values["server.memory.heap.initial_size"] == "2g"
    assert values["server.memory.pagecache.size"] == "3g"
    assert values["server.directories.plugins"] == str(tmp_path / "neo4j" / "dist" / NEO4J_VERSION / "plugins")
    assert values["server.directories.data"] == str(tmp_path / "neo4j" / "instances" / "x" / "data")
    keys = [key for key, _ in pairs if key != "server.jvm.additional"]
    assert len(keys) == len(set(keys)), "duplicate keys"
    jvm = [value for key, value in pairs if key == "server.jvm.additional"]
    assert len(jvm) == len(set(jvm)) and "-XX:+AlwaysPreTouch" not in jvm


def test_conf_rejects_a_bad_memory_size(tmp_path):
    with pytest.raises(ConfigError, match="heap"):
        render_conf(load_settings(home=tmp_path, heap="lots"), tmp_path)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalNeo4j]:
    if shutil.which("java") is None:
        pytest.skip("Java 17/21 is not installed")
    server = LocalNeo4j(_settings())
    server.stop()
    shutil.rmtree(server.home, ignore_errors=True)  # so the first start (password) is tested too
    yield server
    server.stop()


def _query(server: LocalNeo4j, cypher: str, **params: object) -> list[dict]:
    auth = ("neo4j", read_password(server.settings))
    with driver_lib.GraphDatabase.driver(server.status().bolt_uri, auth=auth) as driver:
        records, _, _ = driver.execute_query(cypher, params)
        return [r.data() for r in records]


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    """Wait until a killed process is gone (a signal is delivered asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # the server is a child of this process: reap it
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


@pytest.mark.neo4j
class TestLocalServer:
    def test_start_serves_bolt_apoc_browser_and_vectors(self, server):
        server.start(timeout=START_TIMEOUT)
        status = server.status()
        assert status.running and status.version == NEO4J_VERSION
        assert status.bolt_uri == "bolt://127.0.0.1:7698"
        assert _query(server, "RETURN 1 AS one") == [{"one": 1}]
        assert _query(server, "RETURN apoc.version() AS v") == [{"v": NEO4J_VERSION}]
        with urllib.request.urlopen(status.browser_url, timeout=10) as response:
            assert response.status == 200

    def test_vector_index_can_be_created_and_queried(self, server):
        server.start(timeout=START_TIMEOUT)
        _query(
            server,
            "CREATE VECTOR INDEX pytest_vec IF NOT EXISTS FOR (n:PytestItem) ON n.embedding "
            "OPTIONS {indexConfig: {`vector.dimensions`: 3, `vector.similarity_function`: 'cosine'}}",
        )
        _query(server, "CALL db.awaitIndexes(60)")
        rows = [
            {"id": 1, "v": [1.0, 0.0, 0.0]},
            {"id": 2, "v": [0.0, 1.0, 0.0]},
            {"id": 3, "v": [0.9, 0.1, 0.0]},
        ]
        _query(server, "UNWIND $rows AS row MERGE (n:PytestItem {id: row.id}) SET n.embedding = row.v", rows=rows)
        found = _query(
            server,
            "CALL db.index.vector.queryNodes('pytest_vec', 2, $q) YIELD node, score RETURN node.id AS id",
            q=[1.0, 0.05, 0.0],
        )
        assert [r["id"] for r in found] == [1, 3]

    def test_password_file_is_private(self, server):
        server.start(timeout=START_TIMEOUT)
        mode = stat.S_IMODE(server.settings.password_file.stat().st_mode)
        assert mode == 0o600
        assert len(read_password(server.settings)) >= 16

    def test_start_when_running_is_a_no_op(self, server):
        server.start(timeout=START_TIMEOUT)
        pid = server.status().pid
        assert server.start(timeout=START_TIMEOUT) is False
        assert server.status().pid == pid

    def test_killed_server_with_stale_pid_files_starts_again(self, server):
        server.start(timeout=START_TIMEOUT)
        killed = server.status().pid
        os.kill(killed, signal.SIGKILL)  # a crash: both pid files name a dead process
        _wait_gone(killed)
        run = server.home / "run"
        assert run.joinpath("kgrec.pid").read_text().strip() == str(killed)
        assert server.status().running is False
        # pid files naming a live process that is not this Neo4j (pids get reused)
        (run / "kgrec.pid").write_text(f"{os.getpid()}\n")
        (run / "neo4j.pid").write_text(f"{os.getpid()}\n")
        assert server.status().running is False
        assert server.start(timeout=START_TIMEOUT) is True
        assert server.status().pid != killed
        assert _query(server, "RETURN 1 AS one") == [{"one": 1}]

    def test_stop(self, server):
        server.start(timeout=START_TIMEOUT)
        assert server.stop() is True
        status = server.status()
        assert not status.running and status.pid is None
        assert server.stop() is False
