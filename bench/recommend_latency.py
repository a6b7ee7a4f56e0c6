"""Answer benchmark: latency of recommend+explain vs a Bolt round trip, coverage, faithfulness, HTTP load.

Run from the repository root against a Neo4j that holds the graph the bundle was trained on
(``KGREC_INSTANCE``/``KGREC_BOLT_PORT`` or ``NEO4J_URI`` as usual; nothing is written)::

    .venv/bin/python -m bench.recommend_latency --model runs/kgrec            # ~3-5 min
    .venv/bin/python -m bench.recommend_latency --model runs/kgrec --quick    # smoke run

1. Latency: for each sampled user, one Bolt ``RETURN 1`` and one ``recommend(user, k=10,
   explain=True)`` back to back in the same run; p50/p99 of both and their ratio
   (goal: p50 within 10x, p99 within 30x).
2. Coverage: share of recommended items with at least one explanation path.
3. Faithfulness: the model's score drop when the intermediate nodes of an item's top path are
   masked (silenced in every propagation layer), against masking as many random nodes of the
   same labels, and against masking the item's lowest-ranked returned path.
4. HTTP: ``kgrec serve`` in a subprocess, ``--clients`` threads for ``--seconds`` asking for
   recommendations with explanations of random users; throughput, latency percentiles, errors,
   server memory (peak RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import numpy as np  # noqa: E402

from bench.measure import MIB, PeakRss, load_average  # noqa: E402
from kgrec.graph.answers import AnswerGraph  # noqa: E402
from kgrec.graph.store import GraphStore  # noqa: E402
from kgrec.recommend.model import ModelScores  # noqa: E402
from kgrec.recommend.service import Recommendations  # noqa: E402
from kgrec.settings import load_settings  # noqa: E402


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile in milliseconds of values in seconds."""
    return float(np.percentile(np.asarray(values) * 1000, q))


def latency(service: Recommendations, users: list[Any]) -> dict[str, Any]:
    """p50/p99 of recommend+explain (k=10) and of RETURN 1, interleaved per user."""
    for u in users[:5]:  # warm-up: driver pool, query plans
        service.recommend(u, 10)
        service.graph.ping()
    bolt, rec, results = [], [], {}
    for u in users:
        t0 = time.perf_counter()
        service.graph.ping()
        t1 = time.perf_counter()
        results[u] = service.recommend(u, 10)
        rec.append(time.perf_counter() - t1)
        bolt.append(t1 - t0)
    out = {
        "users": len(users),
        "bolt_p50_ms": pct(bolt, 50),
        "bolt_p99_ms": pct(bolt, 99),
        "recommend_p50_ms": pct(rec, 50),
        "recommend_p99_ms": pct(rec, 99),
    }
    out["ratio_p50"] = out["recommend_p50_ms"] / out["bolt_p50_ms"]
    out["ratio_p99"] = out["recommend_p99_ms"] / out["bolt_p99_ms"]
    return out | {"_results": results}


def coverage(results: dict[Any, list]) -> dict[str, Any]:
    """Share of recommended items with at least one path, and the mix of path kinds."""
    recs = [r for rs in results.values() for r in rs]
    kinds: dict[str, int] = {}
    for r in recs:
        for p in r.paths:
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
    hops = [p.hops for r in recs for p in r.paths]
    return {
        "items": len(recs),
        "coverage": sum(bool(r.paths) for r in recs) / max(1, len(recs)),
        "paths_per_item": len(hops) / max(1, len(recs)),
        "kinds": kinds,
        "hops": {str(h): hops.count(h) for h in sorted(set(hops))},
    }


def faithfulness(scores: ModelScores, results: dict[Any, list], pairs: int, seed: int) -> dict[str, Any]:
    """Score drops when masking the top path's nodes vs random nodes of the same labels vs the last path."""
    rng = random.Random(seed)
    cases = [(u, r) for u, rs in results.items() for r in rs[:3] if len(r.paths) >= 2]
    rng.shuffle(cases)
    pools = {t: list(rows) for t, rows in scores.rows.items()}
    top, rand, last = [], [], []
    for user, rec in cases[:pairs]:
        base = scores.masked_score(user, rec.item, [])
        nodes = [(s.label, s.key) for s in rec.paths[0].steps[1:-1]]
        tail = [(s.label, s.key) for s in rec.paths[-1].steps[1:-1]]
        randoms = [(t, rng.choice(pools[t])) for t, _ in nodes]
        top.append(base - scores.masked_score(user, rec.item, nodes))
        rand.append(base - scores.masked_score(user, rec.item, randoms))
        last.append(base - scores.masked_score(user, rec.item, tail))
    return {
        "pairs": len(top),
        "drop_top_path_mean": float(np.mean(top)) if top else None,
        "drop_random_nodes_mean": float(np.mean(rand)) if rand else None,
        "drop_last_path_mean": float(np.mean(last)) if last else None,
        "top_beats_random_share": float(np.mean([a > b for a, b in zip(top, rand)])) if top else None,
        "top_beats_last_share": float(np.mean([a > b for a, b in zip(top, last)])) if top else None,
    }


def http_load(model: Path, users: list[Any], clients: int, seconds: float) -> dict[str, Any]:
    """Serve the API in a subprocess and load it with ``clients`` threads for ``seconds``."""
    port = _free_port()
    cmd = [sys.executable, "-m", "kgrec.cli.main", "serve", "--port", str(port), "--model", str(model)]
    server = subprocess.Popen(cmd, env=os.environ | {"KGREC_API_TOKEN": ""}, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, server)
        lat: list[float] = []
        errors: dict[str, int] = {}
        stop = time.monotonic() + seconds
        with PeakRss(watch={"server": server.pid}) as rss:
            threads = [
                threading.Thread(target=_client, args=(base, users, stop, lat, errors, i)) for i in range(clients)
            ]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
        return {
            "clients": clients,
            "seconds": round(elapsed, 1),
            "requests": len(lat),
            "errors": errors,
            "throughput_rps": len(lat) / elapsed,
            "p50_ms": pct(lat, 50),
            "p90_ms": pct(lat, 90),
            "p99_ms": pct(lat, 99),
            "max_ms": pct(lat, 100),
            "server_peak_rss_mib": rss.peaks["server"] / MIB,
            "server_rss_at_start_mib": rss.at_start.get("server", 0) / MIB,
        }
    finally:
        server.terminate()
        server.wait(30)


def _client(base: str, users: list[Any], stop: float, lat: list[float], errors: dict[str, int], seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=60) as client:
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                r = client.get(f"/users/{rng.choice(users)}/recommendations", params={"k": 10, "explain": "true"})
                ok = r.status_code == 200
                key = str(r.status_code)
            except httpx.HTTPError as e:
                ok, key = False, type(e).__name__
            lat.append(time.perf_counter() - t0)
            if not ok:
                errors[key] = errors.get(key, 0) + 1


def _wait_healthy(base: str, server: subprocess.Popen) -> None:
    end = time.monotonic() + 300
    while time.monotonic() < end:
        if server.poll() is not None:
            raise RuntimeError(f"kgrec serve exited with {server.returncode}")
        try:
            reply = httpx.get(base + "/health", timeout=5)
            if reply.status_code == 200 and reply.json().get("explanations") == "ready":
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TimeoutError("kgrec serve did not become healthy")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=Path("runs/kgrec"))
    parser.add_argument("--users", type=int, default=200, help="users sampled for latency and coverage")
    parser.add_argument("--pairs", type=int, default=60, help="(user, item) pairs for faithfulness")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--quick", action="store_true", help="30 users, 10 pairs, 5 s of HTTP load")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    if args.quick:
        args.users, args.pairs, args.seconds = 30, 10, 5
    t0 = time.perf_counter()
    scores = ModelScores.load(args.model)
    load_seconds = time.perf_counter() - t0
    users = random.Random(7).sample(scores.user_keys, min(args.users, len(scores.user_keys)))
    with GraphStore.connect(load_settings()) as store:
        service = Recommendations(AnswerGraph(store), scores)
        t0 = time.perf_counter()
        service.neighbourhood.get()  # the in-memory neighbourhood paths are found in: read once, then cached
        hood_seconds = time.perf_counter() - t0
        lat = latency(service, users)
    results = lat.pop("_results")
    report = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "model": scores.name,
        "load_average": load_average(),
        "model_load_seconds": load_seconds,
        "neighbourhood_load_seconds": hood_seconds,
        "latency": lat,
        "coverage": coverage(results),
        "faithfulness": faithfulness(scores, results, args.pairs, seed=11),
        "http": http_load(args.model, users, args.clients, args.seconds),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"recommend-{datetime.now():%Y-%m-%d}{'-quick' if args.quick else ''}.json"
    (args.out / name).write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
