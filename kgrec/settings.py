"""Settings read from ``KGREC_*`` (and ``NEO4J_*``) environment variables.

Every field can be set in the environment; the CLI passes overrides as
keyword arguments. Nothing here touches the network or the disk.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from kgrec.errors import ConfigError

NEO4J_VERSION = "5.26.19"
"""Neo4j Community LTS release kgrec provisions (newest 5.26 with APOC on Maven Central)."""

BROWSER_VERSION = "5.24.0"
"""Newest Neo4j Browser published to Maven Central."""


def _default_home() -> Path:
    return Path.home() / ".cache" / "kgrec"


class Settings(BaseSettings):
    """Where kgrec keeps its files and how it reaches Neo4j."""

    model_config = SettingsConfigDict(env_prefix="KGREC_", extra="ignore", frozen=True)

    home: Path = Field(default_factory=_default_home)
    """Cache folder for the provisioned Neo4j, instances and features (default: ``~/.cache/kgrec``)."""

    data_dir: Path | None = None
    """Folder holding the datasets (``movielens-100k/``, ``movielens-100k-dbpedia/``, ...)."""

    neo4j_uri: str | None = Field(default=None, validation_alias=AliasChoices("NEO4J_URI", "KGREC_NEO4J_URI"))
    """Bolt URI of an existing server; when unset kgrec uses its own local server."""

    neo4j_user: str = Field(default="neo4j", validation_alias=AliasChoices("NEO4J_USER", "KGREC_NEO4J_USER"))
    """User name for ``neo4j_uri``."""

    neo4j_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("NEO4J_PASSWORD", "KGREC_NEO4J_PASSWORD")
    )
    """Password for ``neo4j_uri`` (the local server's password lives in a file)."""

    neo4j_database: str = "neo4j"
    """Database to read and write."""

    instance: str = "default"
    """Name of the local server instance (tests use their own, so they never touch yours)."""

    bolt_port: int = Field(default=7687, ge=1, le=65535)
    """Bolt port of the local server."""

    http_port: int = Field(default=7474, ge=1, le=65535)
    """HTTP port of the local server (Neo4j Browser at ``/browser/``)."""

    heap: str = "1g"
    """Local server JVM heap (``server.memory.heap.max_size``)."""

    pagecache: str = "512m"
    """Local server page cache (``server.memory.pagecache.size``)."""

    @property
    def instance_dir(self) -> Path:
        """Folder of the local server instance: conf, data, logs, run, password."""
        return self.home / "neo4j" / "instances" / self.instance

    @property
    def password_file(self) -> Path:
        """File holding the local server's generated password (mode 0600)."""
        return self.instance_dir / "password"

    @property
    def uses_local_server(self) -> bool:
        """True when kgrec manages the server itself (no ``NEO4J_URI`` given)."""
        return self.neo4j_uri is None

    @property
    def bolt_uri(self) -> str:
        """The Bolt URI to connect to."""
        return self.neo4j_uri or f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def browser_url(self) -> str:
        """Where a person opens Neo4j Browser."""
        if self.uses_local_server:
            return f"http://127.0.0.1:{self.http_port}/browser/"
        return "your server's Neo4j Browser"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with keyword overrides on top."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)  # type: ignore[arg-type]
    except ValidationError as e:
        err = e.errors()[0]
        name = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"invalid setting {name} (KGREC_{name.upper()}): {err['msg']}") from e
