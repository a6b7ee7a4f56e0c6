"""``--bulk`` restarts the local server: Neo4j is asked for its server command once, not at every start."""

from pathlib import Path

import pytest

from kgrec.graph import server as server_module
from kgrec.graph.server import LocalNeo4j
from kgrec.settings import load_settings

DRY_RUN = "some banner\n/usr/bin/java -cp 'a b/*' -Xmx1g org.neo4j.server.CommunityEntryPoint --console-mode\n"


def test_the_server_command_is_asked_once_per_conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[list[str]] = []
    monkeypatch.setattr(server_module, "_run", lambda command, **kw: asked.append(command) or DRY_RUN)
    monkeypatch.setattr(server_module, "_java", lambda: "/usr/bin/java")
    server = LocalNeo4j(load_settings(instance="t", home=tmp_path))
    server._prepare_dirs()
    expected = ["/usr/bin/java", "-cp", "a b/*", "-Xmx1g", "org.neo4j.server.CommunityEntryPoint", "--console-mode"]
    assert server._server_command() == expected
    assert server._server_command() == expected
    assert len(asked) == 1 and asked[0][-2:] == ["console", "--dry-run"]
    conf = server.home / "conf" / "neo4j.conf"
    conf.write_text(conf.read_text() + "server.memory.heap.max_size=2g\n")  # another conf: asked again
    server._server_command()
    assert len(asked) == 2
    monkeypatch.setenv("JAVA_OPTS", "-Dx=1")  # another environment: asked again
    server._server_command()
    assert len(asked) == 3
    (server.home / "run" / "kgrec-server-command.json").write_text("{not json")  # a damaged file: asked again
    assert server._server_command() == expected
    assert len(asked) == 4
