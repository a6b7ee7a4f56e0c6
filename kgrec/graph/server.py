"""A local Neo4j Community server that kgrec provisions and runs itself.

The server's jars come from Maven Central (``mvn``), run on the installed Java
17 or 21, and need neither Docker nor a Neo4j installer. Two folders matter::

    <home>/neo4j/dist/<version>/           shared by every instance
        lib/        the server, Neo4j Browser and their dependencies
        plugins/    APOC Core and the dependencies the server lacks
    <home>/neo4j/instances/<instance>/     one server
        conf/neo4j.conf  data/  logs/console.log  run/kgrec.pid  import/  password

Example:
    >>> server = LocalNeo4j(load_settings())
    >>> server.start()          # provisions on first use, then waits for Bolt
    >>> server.status().bolt_uri
    'bolt://127.0.0.1:7687'
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from neo4j.exceptions import AuthError, DriverError, Neo4jError

from kgrec.errors import ConfigError, ServerError
from kgrec.graph.store import open_driver
from kgrec.settings import BROWSER_VERSION, NEO4J_VERSION, Settings

logger = logging.getLogger(__name__)

USER = "neo4j"
"""The local server's user."""

_SUPPORTED_JAVA = (17, 21)
_MAVEN_DEPENDENCY = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies"
_MEMORY = re.compile(r"^\d+[kmgKMG]?$")
_LOG_TAIL = 20


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """What a local server instance is doing, and where its files are."""

    running: bool
    pid: int | None
    version: str
    bolt_uri: str
    browser_url: str
    data_dir: Path
    password_file: Path
    log_file: Path


def dist_dir(settings: Settings) -> Path:
    """The folder of the shared Neo4j distribution (``lib/`` and ``plugins/``)."""
    return settings.home / "neo4j" / "dist" / NEO4J_VERSION


def read_password(settings: Settings) -> str:
    """Read the local server's generated password.

    Raises:
        ServerError: The password file does not exist (the server never started).
    """
    try:
        return settings.password_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError as e:
        raise ServerError(
            f"no password file at {settings.password_file}: start the server first (kgrec neo4j start)"
        ) from e


def render_conf(settings: Settings, dist: Path) -> str:
    """Render the instance's ``neo4j.conf`` from the settings.

    Raises:
        ConfigError: The heap or page cache size is not like ``512m`` or ``2g``.
    """
    for name, value in (("heap", settings.heap), ("pagecache", settings.pagecache)):
        if not _MEMORY.match(value):
            raise ConfigError(f"{name} must be a size like 512m or 2g, got {value!r}")
    inst = settings.instance_dir.resolve()
    return _template("conf/neo4j.conf.template").substitute(
        instance=settings.instance,
        data_dir=inst / "data",
        logs_dir=inst / "logs",
        run_dir=inst / "run",
        import_dir=inst / "import",
        plugins_dir=dist.resolve() / "plugins",
        lib_dir=dist.resolve() / "lib",
        bolt_port=settings.bolt_port,
        http_port=settings.http_port,
        heap=settings.heap,
        pagecache=settings.pagecache,
    )


class LocalNeo4j:
    """Provisions, starts, stops and reports on one local Neo4j instance.

    Args:
        settings: Where the files live (``home``, ``instance``) and the ports and
            memory of the server.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dist = dist_dir(settings).resolve()
        self.home = settings.instance_dir.resolve()
        self._pid_file = self.home / "run" / "kgrec.pid"
        self._log_file = self.home / "logs" / "console.log"
        self._log_start = 0  # where the console log of the latest start begins

    @property
    def provisioned(self) -> bool:
        """True when the Neo4j distribution is already on disk."""
        return self.dist.is_dir()

    def provision(self) -> Path:
        """Download the server, Neo4j Browser and APOC from Maven Central, once.

        Builds the distribution in a temporary folder beside its final place and
        renames it when complete, so an interrupted run is redone next time.

        Returns:
            The distribution folder.

        Raises:
            ServerError: Java 17/21 or Maven is missing, or Maven failed.
        """
        _java()
        if self.provisioned:
            return self.dist
        mvn = shutil.which("mvn")
        if mvn is None:
            raise ServerError("Maven (mvn) is needed once to download Neo4j: install it (apt install maven)")
        self.dist.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.dist.parent / f"{NEO4J_VERSION}.lock"):
            if self.provisioned:  # another process finished it while we waited
                return self.dist
            for stale in self.dist.parent.glob(f".{NEO4J_VERSION}-*"):  # left by an interrupted run
                shutil.rmtree(stale, ignore_errors=True)
            logger.info("provisioning Neo4j %s from Maven Central into %s", NEO4J_VERSION, self.dist)
            with tempfile.TemporaryDirectory(dir=self.dist.parent, prefix=f".{NEO4J_VERSION}-") as tmp:
                _build_dist(mvn, Path(tmp))
                os.rename(Path(tmp) / "dist", self.dist)
        logger.info("Neo4j %s provisioned", NEO4J_VERSION)
        return self.dist

    def start(self, *, timeout: float = 120.0) -> bool:
        """Start the server (provisioning it first if needed) and wait for Bolt.

        Args:
            timeout: Seconds to wait until Bolt answers (default: ``120``).

        Returns:
            True if this call started the server, False if it was already running.

        Raises:
            ServerError: A port is taken, or the server died or did not answer in time.
            ConfigError: The memory settings are invalid.
        """
        self.provision()
        if self._pid() is not None:
            logger.info("Neo4j instance %s is already running", self.settings.instance)
            return False
        self._prepare()
        proc = self._launch()
        try:
            self._wait_for_bolt(proc, timeout)
        except BaseException:  # died, timed out, or Ctrl-C: leave nothing half-started behind
            self.stop()
            self._command_file.unlink(missing_ok=True)  # the next start asks Neo4j again
            raise
        logger.info("Neo4j is up at bolt://127.0.0.1:%d (pid %d)", self.settings.bolt_port, proc.pid)
        return True

    def stop(self, *, timeout: float = 60.0) -> bool:
        """Stop the server: SIGTERM, then SIGKILL after ``timeout`` seconds.

        Returns:
            True if a running server was stopped, False if none was running.
        """
        pid = self._pid()
        if pid is not None:
            logger.info("stopping Neo4j instance %s (pid %d)", self.settings.instance, pid)
            _signal(pid, signal.SIGTERM)
            if not _wait_dead(pid, timeout):
                logger.warning("Neo4j did not stop in %.0f s, killing it", timeout)
                _signal(pid, signal.SIGKILL)
                _wait_dead(pid, 10.0)
        for path in (self._pid_file, self.home / "run" / "neo4j.pid"):
            path.unlink(missing_ok=True)
        return pid is not None

    def status(self) -> ServerStatus:
        """Report whether the server runs, its version, addresses and files."""
        pid = self._pid()
        bolt, http = self._ports(running=pid is not None)
        version = _http_version(http) if pid is not None else None
        return ServerStatus(
            running=pid is not None,
            pid=pid,
            version=version or NEO4J_VERSION,
            bolt_uri=f"bolt://127.0.0.1:{bolt}",
            browser_url=f"http://127.0.0.1:{http}/browser/",
            data_dir=self.home / "data",
            password_file=self.settings.password_file,
            log_file=self._log_file,
        )

    def run_admin(self, args: list[str], log_file: Path) -> None:
        """Run ``neo4j-admin`` with ``args`` against this instance's files (its conf, data and logs).

        The output goes to ``log_file``. Commands that change a database's
        files (``database import full``) need the server stopped.

        Raises:
            ServerError: The tool failed (the tail of its output is in the message).
        """
        self.provision()
        self._prepare_dirs()
        command = [*self._java_cp(), "org.neo4j.cli.AdminTool", *args]
        with open(log_file, "wb") as log:
            done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=self._env(), cwd=self.home)
        if done.returncode != 0:
            lines = log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            tail = "\n".join(lines[-_LOG_TAIL:])
            what = " ".join(args[:3])
            raise ServerError(f"neo4j-admin {what} failed (exit {done.returncode}), see {log_file}:\n{tail}")

    def _prepare_dirs(self) -> None:
        """The instance's folders and conf (as :meth:`start` writes them), without touching the server."""
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        for sub in ("conf", "data", "logs", "run", "import"):
            (self.home / sub).mkdir(exist_ok=True)
        self._conf_file.write_text(render_conf(self.settings, self.dist), encoding="utf-8")

    # -- starting ------------------------------------------------------------

    def _prepare(self) -> None:
        """Check the ports, write the conf and, before the first start, the password."""
        for port in (self.settings.bolt_port, self.settings.http_port):
            if _port_taken(port):
                raise ServerError(f"port {port} on 127.0.0.1 is already in use by another program")
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        for sub in ("conf", "data", "logs", "run", "import"):
            (self.home / sub).mkdir(exist_ok=True)
        (self.home / "run" / "neo4j.pid").unlink(missing_ok=True)
        self._conf_file.write_text(render_conf(self.settings, self.dist), encoding="utf-8")
        if not (self.home / "data" / "databases").exists():
            self._set_initial_password()

    def _set_initial_password(self) -> None:
        path = self.settings.password_file
        if not path.exists():
            _write_private(path, _new_password())
            logger.info("generated a password for user %s in %s", USER, path)
        command = [*self._java_cp(), "org.neo4j.cli.AdminTool", "dbms", "set-initial-password"]
        _run(command + [read_password(self.settings)], env=self._env(), shown=" ".join(command))

    def _launch(self) -> subprocess.Popen[bytes]:
        """Ask Neo4j for its exact server command (or reuse the one it gave), then run that one JVM detached."""
        command = self._server_command()
        logger.debug("server command: %s", command)
        with open(self._log_file, "ab") as log:
            self._log_start = log.tell()
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env(),
                cwd=self.home,
                start_new_session=True,
            )
        self._pid_file.write_text(f"{proc.pid}\n", encoding="utf-8")
        return proc

    def _server_command(self) -> list[str]:
        """Neo4j's server command for this instance (``console --dry-run``, a JVM of several seconds), kept in
        ``run/`` and reused while the Java, distribution, instance, conf and ``NEO4J*``/``JAVA*`` variables
        it was made from are the same."""
        dry = [*self._java_cp(), f"-Dbasedir={self.home}", "org.neo4j.server.startup.Neo4jCommand"]
        env = sorted((k, v) for k, v in os.environ.items() if k.startswith(("NEO4J", "JAVA")))
        made_from = json.dumps([NEO4J_VERSION, dry, self._conf_file.read_text(encoding="utf-8"), env])
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            saved = json.loads(self._command_file.read_text(encoding="utf-8"))
            if saved["made_from"] == made_from:
                return [str(x) for x in saved["command"]]
        out = _run(dry + ["console", "--dry-run"], env=self._env(), shown=" ".join(dry))
        command = shlex.split(out.strip().splitlines()[-1])
        _write_private(self._command_file, json.dumps({"made_from": made_from, "command": command}))
        return command

    def _wait_for_bolt(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        uri, auth = f"bolt://127.0.0.1:{self.settings.bolt_port}", (USER, read_password(self.settings))
        deadline = time.monotonic() + timeout
        with open_driver(uri, auth, timeout=2.0) as driver:
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise ServerError(f"Neo4j exited with code {proc.returncode}:\n{self._log_tail()}")
                try:  # a plain session.run: execute_query would retry (and wait) by itself
                    with driver.session() as session:
                        session.run("RETURN 1").consume()
                    return
                except AuthError as e:
                    raise ServerError(
                        f"Neo4j refused the password in {self.settings.password_file}; delete "
                        f"{self.home / 'data'} to reset the instance"
                    ) from e
                except (DriverError, Neo4jError, OSError):
                    time.sleep(0.5)
        raise ServerError(f"Neo4j did not answer on {uri} within {timeout:.0f} s:\n{self._log_tail()}")

    # -- small helpers ---------------------------------------------------------

    @property
    def _conf_file(self) -> Path:
        return self.home / "conf" / "neo4j.conf"

    @property
    def _command_file(self) -> Path:
        return self.home / "run" / "kgrec-server-command.json"

    def _java_cp(self) -> list[str]:
        return [_java(), "-cp", str(self.dist / "lib" / "*")]

    def _env(self) -> dict[str, str]:
        return {**os.environ, "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(self.home / "conf")}

    def _pid(self) -> int | None:
        """The pid of this instance's server if it is running, else None."""
        try:
            pid = int(self._pid_file.read_text(encoding="utf-8").strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if f"--home-dir={self.home}" in _cmdline(pid) else None  # not a reused pid

    def _ports(self, *, running: bool) -> tuple[int, int]:
        """Bolt and HTTP ports: the running server's (from its conf), else the settings'."""
        ports = {"bolt": self.settings.bolt_port, "http": self.settings.http_port}
        if running and self._conf_file.exists():
            for line in self._conf_file.read_text(encoding="utf-8").splitlines():
                found = re.fullmatch(r"server\.(bolt|http)\.listen_address=.*:(\d+)", line)
                if found:
                    ports[found.group(1)] = int(found.group(2))
        return ports["bolt"], ports["http"]

    def _log_tail(self) -> str:
        try:
            with open(self._log_file, "rb") as log:
                log.seek(self._log_start)
                lines = log.read().decode(errors="replace").splitlines()
        except FileNotFoundError:
            lines = []
        return "\n".join(lines[-_LOG_TAIL:]) or f"(nothing in {self._log_file})"


# -- provisioning ---------------------------------------------------------------


def _build_dist(mvn: str, work: Path) -> None:
    """Fill ``work/dist`` with ``lib/`` (the server) and ``plugins/`` (APOC)."""
    lib, plugins, apoc = work / "dist" / "lib", work / "dist" / "plugins", work / "apoc"
    for name, target in (("neo4j-server.pom.xml", lib), ("apoc.pom.xml", apoc)):
        pom = work / name
        text = _template(f"maven/{name}").substitute(neo4j_version=NEO4J_VERSION, browser_version=BROWSER_VERSION)
        pom.write_text(text, encoding="utf-8")
        logger.info("downloading the dependencies of %s", name)
        command = [mvn, "-B", "-q", "-f", str(pom), _MAVEN_DEPENDENCY, f"-DoutputDirectory={target}"]
        _run([*command, "-DincludeScope=runtime"])
    # APOC's own dependencies that the server already has (asm, commons-lang3, ...)
    # are older versions: keeping them would shadow the server's and break it.
    present = {_artifact_id(jar) for jar in lib.glob("*.jar")}
    plugins.mkdir()
    for jar in sorted(apoc.glob("*.jar")):
        if _artifact_id(jar) not in present:
            shutil.copy2(jar, plugins / jar.name)
    logger.info("APOC plugin jars: %s", ", ".join(p.name for p in sorted(plugins.iterdir())))


def _artifact_id(jar: Path) -> str:
    """``commons-lang3-3.12.0.jar`` -> ``commons-lang3`` (the name before the version)."""
    return re.split(r"-\d", jar.name, maxsplit=1)[0]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@functools.cache
def _java() -> str:
    """The path of a Java 17 or 21 executable (``JAVA_HOME`` first, then ``PATH``)."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home and (Path(home) / "bin" / "java").exists() else None
    java = java or shutil.which("java")
    if java is None:
        raise ServerError("Java 17 or 21 is needed to run Neo4j: install it (e.g. openjdk-17-jre-headless)")
    shown = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    found = re.search(r'version "(\d+)(?:\.(\d+))?', shown)
    major = int(found.group(1)) if found else 0
    if major == 1 and found and found.group(2):
        major = int(found.group(2))
    if major not in _SUPPORTED_JAVA:
        raise ServerError(
            f"Neo4j {NEO4J_VERSION} needs Java 17 or 21, but {java} is Java {major or '?'}: install "
            "openjdk-17 (or 21) and put it first on PATH or in JAVA_HOME"
        )
    return java


# -- processes --------------------------------------------------------------------


def _run(command: list[str], *, env: dict[str, str] | None = None, shown: str = "") -> str:
    """Run a command to completion and return its stdout.

    Args:
        command: The command.
        env: Its environment (default: ours).
        shown: How to name the command in errors (default: the command itself);
            set it when the command carries a secret.
    """
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-_LOG_TAIL:])
        raise ServerError(f"{shown or ' '.join(command)} failed (exit {result.returncode}):\n{tail}")
    return result.stdout


def _write_private(path: Path, text: str) -> None:
    """Write a file that only its owner can read, from the moment it exists."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")


def _new_password() -> str:
    alphabet = string.ascii_letters + string.digits  # no leading "-" for the admin tool to misread
    return "".join(secrets.choice(alphabet) for _ in range(24))


def _cmdline(pid: int) -> list[str]:
    """The arguments of a live process, or ``[]`` if there is none (or a zombie)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our own dead child
    if not Path("/proc/self").exists():  # macOS: no /proc
        ps = subprocess.run(["ps", "-p", str(pid), "-o", "state=,command="], capture_output=True, text=True)
        return [] if ps.stdout.startswith("Z") else ps.stdout.split()[1:]
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def _signal(pid: int, sig: signal.Signals) -> None:
    """Signal the server's process group (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _wait_dead(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _cmdline(pid):
            return True
        time.sleep(0.2)
    return False


def _port_taken(port: int, grace: float = 5.0) -> bool:
    """True if something listens on the port (waiting ``grace`` s for a dying server to let go)."""
    deadline = time.monotonic() + grace
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
                return False
            except OSError:
                if time.monotonic() > deadline:
                    return True
        time.sleep(0.2)


def _http_version(port: int) -> str | None:
    """The version the server reports on its HTTP discovery endpoint."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=2.0) as response:
            return json.load(response).get("neo4j_version")
    except (OSError, ValueError):
        return None


def _template(name: str) -> string.Template:
    return string.Template(resources.files("kgrec.graph").joinpath(name).read_text(encoding="utf-8"))
