"""The serving stage of :mod:`bench.scale`: ``kgrec serve`` against Bolt ``RETURN 1``; and the RSS sampler
every stage uses (a client process tree and the Neo4j JVM, found again when ``--bulk`` restarts it)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.measure import MIB, tree_rss
from kgrec.graph.server import USER, LocalNeo4j, read_password
from kgrec.settings import Settings

KGREC = [sys.executable, "-m", "kgrec.cli.main"]


class Sampler:
    """Peak RSS of a client process tree and of the Neo4j server (found again when it restarts)."""

    def __init__(self, server: LocalNeo4j | None, client: int | None = None, interval: float = 0.2) -> None:
        self.server, self.client, self.interval = server, client, interval
        self.peak = {"client": 0, "server": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        if self.client is not None:
            self.peak["client"] = max(self.peak["client"], tree_rss(self.client))
        pid = self.server.status().pid if self.server is not None else None
        if pid is not None:
            self.peak["server"] = max(self.peak["server"], tree_rss(pid))

    def _loop(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile in milliseconds of values in seconds."""
    return float(np.percentile(np.asarray(values) * 1000, q))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bolt_driver(settings: Settings):  # noqa: ANN201 - neo4j.Driver
    import neo4j

    auth = (USER, read_password(settings))
    return neo4j.GraphDatabase.driver(settings.bolt_uri, auth=auth, notifications_min_severity="OFF")


def serve(model: Path, users: list[int], env: dict[str, str], settings: Settings, work: Path) -> dict[str, Any]:
    """Start ``kgrec serve``, wait for its neighbourhood, then time requests against Bolt ``RETURN 1``."""
    port = _free_port()
    log = work / "serve.log"
    cmd = [*KGREC, "-v", "serve", "--port", str(port), "--model", str(model)]
    print(f"[scale] serve: {len(users)} explained recommendations", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        with Sampler(LocalNeo4j(settings), proc.pid) as s:
            up_rss, up = _wait(base, proc, "loading", started)
            ready_rss, ready = _wait(base, proc, "ready", started)
            timed = _requests(base, users, settings)
            rss_end = tree_rss(proc.pid)
        text = log.read_text()
        found = re.search(r"neighbourhood: (.*) in ([\d.]+) s", text)
        effects = re.search(r"masking effects: \w+ in ([\d.]+) s", text)
        near = re.search(r"near users: (.*) \(([\d.]+) s\)", text)
        return timed | {
            "seconds_to_listening": up,
            "seconds_to_ready": ready,
            "neighbourhood": found.group(1) if found else None,
            "neighbourhood_load_seconds": float(found.group(2)) if found else ready - up,
            "effects_seconds": float(effects.group(1)) if effects else None,
            "near_users": near.group(1) if near else None,
            "near_users_seconds": float(near.group(2)) if near else None,
            "serve_rss_listening_mib": up_rss / MIB,
            "serve_rss_ready_mib": ready_rss / MIB,
            "serve_rss_end_mib": rss_end / MIB,
            "client_peak_mib": s.peak["client"] / MIB,
            "server_peak_mib": s.peak["server"] / MIB,
            "seconds": time.perf_counter() - started,
        }
    finally:
        proc.terminate()
        proc.wait(60)


def _wait(base: str, proc: subprocess.Popen, state: str, started: float) -> tuple[int, float]:
    """Wait until /health answers (``loading``: at all; ``ready``: with the neighbourhood in memory)."""
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"kgrec serve exited with {proc.returncode}")
        try:
            reply = httpx.get(base + "/health", timeout=30)
            if reply.status_code == 200 and (state == "loading" or reply.json().get("explanations") == "ready"):
                return tree_rss(proc.pid), time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)


def _requests(base: str, users: list[int], settings: Settings) -> dict[str, Any]:
    bolt, http, errors = [], [], 0
    with bolt_driver(settings) as driver, httpx.Client(base_url=base, timeout=120) as client:
        for u in users[:5]:  # warm-up: pools, query plans
            driver.execute_query("RETURN 1")
            client.get(f"/users/{u}/recommendations", params={"k": 10, "explain": "true"})
        for u in users:
            t0 = time.perf_counter()
            driver.execute_query("RETURN 1")
            t1 = time.perf_counter()
            reply = client.get(f"/users/{u}/recommendations", params={"k": 10, "explain": "true"})
            http.append(time.perf_counter() - t1)
            bolt.append(t1 - t0)
            errors += reply.status_code != 200
    out = {"requests": len(users), "errors": errors}
    out |= {"bolt_p50_ms": pct(bolt, 50), "bolt_p99_ms": pct(bolt, 99)}
    out |= {"http_p50_ms": pct(http, 50), "http_p99_ms": pct(http, 99)}
    return out | {
        "ratio_p50": out["http_p50_ms"] / out["bolt_p50_ms"],
        "ratio_p99": out["http_p99_ms"] / out["bolt_p99_ms"],
    }
