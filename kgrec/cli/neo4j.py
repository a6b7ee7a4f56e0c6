"""``kgrec neo4j start|stop|status``: the local Neo4j server."""

from __future__ import annotations

import click

from kgrec.graph.server import LocalNeo4j, ServerStatus
from kgrec.settings import NEO4J_VERSION, Settings, load_settings

_instance = click.option("--instance", help="Instance name (default: KGREC_INSTANCE or 'default').")
_PORT = click.IntRange(1, 65535)


@click.group()
def neo4j() -> None:
    """Run kgrec's own Neo4j server (downloaded from Maven Central on first use)."""


@neo4j.command()
@_instance
@click.option("--bolt-port", type=_PORT, help="Bolt port (default: KGREC_BOLT_PORT or 7687).")
@click.option("--http-port", type=_PORT, help="HTTP/Browser port (default: KGREC_HTTP_PORT or 7474).")
@click.option("--heap", help="JVM heap, e.g. 2g (default: KGREC_HEAP or 1g).")
@click.option("--pagecache", help="Page cache, e.g. 1g (default: KGREC_PAGECACHE or 512m).")
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Seconds to wait for Bolt.")
def start(
    instance: str | None,
    bolt_port: int | None,
    http_port: int | None,
    heap: str | None,
    pagecache: str | None,
    timeout: float,
) -> None:
    """Start the local server (provisioning it first if needed) and wait until it answers."""
    settings = load_settings(
        instance=instance, bolt_port=bolt_port, http_port=http_port, heap=heap, pagecache=pagecache
    )
    if _external(settings):
        return
    server = LocalNeo4j(settings)
    if not server.provisioned:
        click.echo(f"provisioning Neo4j {NEO4J_VERSION} from Maven Central (first run, ~1 min)...")
        server.provision()
    if server.status().running:
        click.echo("Neo4j is already running.")
    else:
        click.echo(f"starting Neo4j {NEO4J_VERSION} (instance {settings.instance}, ~15 s)...")
        server.start(timeout=timeout)
    _render(server.status())


@neo4j.command()
@_instance
def stop(instance: str | None) -> None:
    """Stop the local server."""
    settings = load_settings(instance=instance)
    if _external(settings):
        return
    click.echo("stopped." if LocalNeo4j(settings).stop() else "Neo4j is not running.")


@neo4j.command()
@_instance
def status(instance: str | None) -> None:
    """Show whether the local server runs, where to reach it and where its files are."""
    settings = load_settings(instance=instance)
    if not _external(settings):
        _render(LocalNeo4j(settings).status())


def _external(settings: Settings) -> bool:
    """Say so and return True when NEO4J_URI points kgrec at another server."""
    if settings.uses_local_server:
        return False
    click.echo(f"NEO4J_URI is set ({settings.neo4j_uri}): kgrec uses that external server, nothing to do.")
    return True


def _render(st: ServerStatus) -> None:
    click.echo(f"Status:   {f'running (pid {st.pid})' if st.running else 'stopped'}")
    click.echo(f"Version:  Neo4j {st.version}")
    click.echo(f"Bolt:     {st.bolt_uri}")
    click.echo(f"Browser:  {st.browser_url}  (user neo4j, password in {st.password_file})")
    click.echo(f"Data:     {st.data_dir}")
    click.echo(f"Log:      {st.log_file}")
