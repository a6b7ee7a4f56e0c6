"""Answer benchmark: latency of recommend+explain vs a Bolt round trip, coverage, faithfulness, HTTP load.

Run from the repository root against a Neo4j that holds the graph the bundle was trained on
(``KGREC_INSTANCE``/``KGREC_BOLT_PORT`` or ``NEO4J_URI`` as usual; nothing is written)::

    .venv/bin/python -m bench.recommend_latency --model runs/kgrec            # ~3-5 min
    .venv/bin/python -m bench.recommend_latency --model runs/kgrec --quick    # smoke run

1. Latency: for each sampled user, one Bolt ``RETURN 1`` and one ``recommend(user, k=10,
   explain=True)`` back to back in the same run; p50/p99 of both and their ratio
   (goal: p50 within 10x, p99 within 30x), and the p50 of the process's CPU time per recommend
   (what the answer costs without the waits a busy machine adds).
2. Coverage: share of recommended items with at least one explanation path.
3. Reasons: share of recommended items with at least one specific knowledge reason (a middle node
   next to few items: goal 90%), the median degree of the first reason's middle node, the share
   of collaborative reasons (see docs/explanations.md).
4. Faithfulness: for one recommended item per user (of the first three), the model's score drop
   when the middle nodes of the item's first path are masked (silenced in every propagation
   layer), against masking those of a random *real* path of the same length between the same
   user and item (:mod:`kgrec.recommend.baseline`; goal: the first path drops more in 90% of
   pairs), and against the item's last returned path. Pairs without another real path of that
   length are counted apart. Drops are computed locally and exactly (:mod:`kgrec.recommend.effect`),
   checked against full re-propagations on the first ``CHECKED`` pairs.
5. HTTP: ``kgrec serve`` in a subprocess, ``--clients`` threads for ``--seconds`` asking for
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
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import numpy as np  # noqa: E402

from bench.measure import MIB, PeakRss, load_average  # noqa: E402
from bench.provenance import Stopwatch
from kgrec.graph.answers import AnswerGraph  # noqa: E402
from kgrec.graph.store import GraphStore  # noqa: E402
from kgrec.recommend.baseline import random_paths  # noqa: E402
from kgrec.recommend.effect import MaskingEffect  # noqa: E402
from kgrec.recommend.model import ModelScores  # noqa: E402
from kgrec.recommend.service import Recommendations  # noqa: E402
from kgrec.settings import load_settings  # noqa: E402

CHECKED = 10
"""Pairs whose local masking drops are checked against a full re-propagation."""


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile in milliseconds of values in seconds."""
    return float(np.percentile(np.asarray(values) * 1000, q))


def latency(service: Recommendations, users: list[Any]) -> dict[str, Any]:
    """p50/p99 of recommend+explain (k=10) and of RETURN 1, interleaved per user."""
    for u in users[:5]:  # warm-up: driver pool, query plans
        service.recommend(u, 10)
        service.graph.ping()
    bolt, rec, cpu, results = [], [], [], {}
    for u in users:
        t0 = time.perf_counter()
        service.graph.ping()
        t1, c1 = time.perf_counter(), time.process_time()
        results[u] = service.recommend(u, 10)
        rec.append(time.perf_counter() - t1)
        cpu.append(time.process_time() - c1)
        bolt.append(t1 - t0)
    out = {
        "users": len(users),
        "bolt_p50_ms": pct(bolt, 50),
        "bolt_p99_ms": pct(bolt, 99),
        "recommend_p50_ms": pct(rec, 50),
        "recommend_p99_ms": pct(rec, 99),
        "recommend_cpu_p50_ms": pct(cpu, 50),  # this process's CPU time: without the waits of a busy machine
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


def reasons(results: dict[Any, list]) -> dict[str, Any]:
    """What people read: items with a specific knowledge reason, the first reason's degree, collaborative share."""
    recs = [r for rs in results.values() for r in rs]
    paths = [p for r in recs for p in r.paths]
    first = [max(s.degree for s in r.paths[0].steps if s.degree is not None) for r in recs if r.paths]
    per_user = [
        np.mean([any(p.specific and p.kind in ("knowledge", "content") for p in r.paths) for r in rs])
        for rs in results.values()
        if rs
    ]
    return {
        "specific_knowledge_item_share": float(np.mean(per_user)) if per_user else None,
        "first_reason_degree_median": float(np.median(first)) if first else None,
        "first_reason_specific_share": float(np.mean([r.paths[0].specific for r in recs if r.paths])) if recs else None,
        "first_reason_kinds": dict(Counter(_kind(r.paths[0]) for r in recs if r.paths)),
        "collaborative_reason_share": sum(p.kind == "collaborative" for p in paths) / max(1, len(paths)),
        "social_reason_share": sum(p.kind == "social" for p in paths) / max(1, len(paths)),
    }


def _kind(path: Any) -> str:
    """A path's kind, ``specific`` added for a specific knowledge path."""
    return path.kind + (" specific" if path.specific else "")


def faithfulness(
    service: Recommendations, results: dict[Any, list], pairs: int, seed: int, checked: int = CHECKED
) -> dict[str, Any]:
    """Score drops when masking the first path's middle nodes vs a random real path of the same length
    between the same user and item vs the item's last path; one pair per user.

    The drops are computed locally (:class:`~kgrec.recommend.effect.MaskingEffect`, exact for kgrec's
    GNN); on the first ``checked`` pairs they are also computed by a full re-propagation
    (``ModelScores.masked_score``) and the largest difference is reported. Without local effects every
    drop is a full re-propagation.
    """
    rng, hood, scores = random.Random(seed), service.neighbourhood.get(), service.scores
    fx = MaskingEffect.of(scores)
    cases = [(u, rng.choice(with_paths)) for u, rs in results.items() if (with_paths := [r for r in rs[:3] if r.paths])]
    top, rand, last, alone, diffs = [], [], [], 0, []
    for user, rec in cases[:pairs]:
        nodes = [(s.label, s.key) for s in rec.paths[0].steps[1:-1]]
        others = [p for p in random_paths(hood, user, rec.item, rec.paths[0].hops, 2, rng) if p != nodes]
        if not others:
            alone += 1
            continue
        tail = [(s.label, s.key) for s in rec.paths[-1].steps[1:-1]]
        masks = [nodes, others[0], tail]
        local = None if fx is None else fx.drops(user, rec.item, masks)
        if local is None or len(diffs) < checked:
            base = scores.masked_score(user, rec.item, [])
            full = [base - scores.masked_score(user, rec.item, m) for m in masks]
            diffs += [] if local is None else [max(abs(a - b) for a, b in zip(local, full))]
            local = local or full
        top.append(local[0])
        rand.append(local[1])
        last.append(local[2] if len(rec.paths) > 1 else None)
    beats_last = [a > b for a, b in zip(top, last) if b is not None]
    return {
        "pairs": len(top),
        "pairs_without_another_real_path": alone,
        "drop_top_path_mean": float(np.mean(top)) if top else None,
        "drop_random_real_path_mean": float(np.mean(rand)) if rand else None,
        "top_beats_random_real_path_share": float(np.mean([a > b for a, b in zip(top, rand)])) if top else None,
        "top_beats_last_share": float(np.mean(beats_last)) if beats_last else None,
        "local_drops_checked_pairs": len(diffs),
        "local_vs_full_max_abs_diff": max(diffs) if diffs else None,
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
    parser.add_argument("--pairs", type=int, default=200, help="(user, item) pairs for faithfulness (one per user)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--quick", action="store_true", help="30 users, 30 pairs, 5 s of HTTP load")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP load test")
    parser.add_argument("--name", default="recommend", help="result file prefix (e.g. recommend-lastfm)")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    if args.quick:
        args.users, args.pairs, args.seconds = 30, 30, 5
    clock = Stopwatch()
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
        faithful = faithfulness(service, results, args.pairs, seed=11)
    report = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "model": scores.name,
        "load_average": load_average(),
        "model_load_seconds": load_seconds,
        "neighbourhood_load_seconds": hood_seconds,
        "latency": lat,
        "coverage": coverage(results),
        "reasons": reasons(results),
        "faithfulness": faithful,
        "http": None if args.no_http else http_load(args.model, users, args.clients, args.seconds),
    }
    report["provenance"] = clock.provenance(bundle=str(args.model))
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"{args.name}-{datetime.now():%Y-%m-%d}{'-quick' if args.quick else ''}.json"
    (args.out / name).write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
