"""The per-stage Markdown table of :mod:`bench.scale` and its goal lines; into README.md from a result file.

    python -m bench.scale_report bench/results/scale-DATE.json [--readme README.md]

writes the table, with the run's provenance above it, between ``<!-- scale:begin -->`` and
``<!-- scale:end -->`` in the README (``--no-readme``: print it only).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.readme import add_arguments, publish


def table(stages: dict[str, Any]) -> str:
    """The per-stage Markdown table and the goal lines."""
    g, i, e, t, s = (stages[k] for k in ("generate", "ingest", "export", "train", "serve"))
    mib = lambda v: "-" if v is None else f"{v:,.0f} MiB"  # noqa: E731
    epochs = ", ".join(f"{x:.0f}" for x in t["epoch_seconds"])
    t = _whole_train(t)
    rows = [
        ("generate", f"{g['interactions']:,} interactions, {g['triples']:,} triples, {g['files_mib']:,.0f} MiB CSV", g),
        ("ingest", f"{i['method']}: {i['nodes']:,} nodes, {i['relationships']:,} relationships", i),
        ("export", f"`kgrec export`: snapshot {e['snapshot_mib']:,.0f} MiB", e),
        ("train", f"`kgrec train`, sampled [10, 10], {t['epochs']} epoch(s) of {epochs} s (+ {_evaluated(t)})", t),
        (
            "serve",
            f"`kgrec serve`: {s['requests']} explained top-10s ({s['errors']} errors); neighbourhood "
            f"{s['neighbourhood_load_seconds']:.1f} s{_effects(s)}, serve RSS {mib(s['serve_rss_listening_mib'])} -> "
            f"{mib(s['serve_rss_ready_mib'])}",
            s,
        ),
    ]
    lines = ["| stage | what | wall s | client peak RSS | Neo4j peak RSS |", "| --- | --- | ---: | ---: | ---: |"]
    lines += [
        f"| {n} | {w} | {r['seconds']:.1f} | {mib(r['client_peak_mib'])} | {mib(r['server_peak_mib'])} |"
        for n, w, r in rows
    ]
    lat = (
        f"- serving: p50 {s['http_p50_ms']:.1f} ms vs Bolt RETURN 1 {s['bolt_p50_ms']:.2f} ms = {s['ratio_p50']:.1f}x "
        f"(goal 10x: {'yes' if s['ratio_p50'] <= 10 else 'no'}); p99 {s['http_p99_ms']:.1f} ms vs "
        f"{s['bolt_p99_ms']:.2f} ms = {s['ratio_p99']:.1f}x (goal 30x: {'yes' if s['ratio_p99'] <= 30 else 'no'})"
    )
    ok = e["seconds"] < 300 and e["client_peak_mib"] < 4096
    exp = f"- export under 5 minutes and 4 GB client memory: {'yes' if ok else 'no'} "
    exp += f"({e['seconds']:.0f} s, {mib(e['client_peak_mib'])})"
    return "\n".join([*lines, "", exp, lat, *_sittings(stages)])


def _whole_train(train: dict[str, Any]) -> dict[str, Any]:
    """Training continued across sittings: its time is every attempt's together, its peaks the largest."""
    if not continued(train):
        return train
    parts = [train, *train.get("interrupted", [])]
    return train | {
        "seconds": sum(p["seconds"] for p in parts),
        "client_peak_mib": max(p["client_peak_mib"] for p in parts),
        "server_peak_mib": max(p["server_peak_mib"] for p in parts),
    }


def continued(train: dict[str, Any]) -> bool:
    """Whether training went on from a checkpoint an earlier sitting left."""
    return train.get("continued_from_epoch") is not None


def _where(train: dict[str, Any]) -> str:
    epoch, batch = train["continued_from_epoch"], train.get("continued_at_batch")
    return f"after epoch {epoch}" if batch is None else f"inside epoch {epoch + 1}, after its batch {batch}"


def _evaluated(train: dict[str, Any]) -> str:
    """What validation and test ranked: every user, or a seeded sample of them."""
    users = (train.get("evaluated_users") or {}).get("test")
    if not users:
        return "validation, test"
    if not users["sample"]:
        return f"validation, test on all {users['of']:,} users"
    return f"validation, test on a seeded sample of {users['users']:,} of {users['of']:,} users"


def _sittings(stages: dict[str, Any]) -> list[str]:
    """One line when the run took more than one sitting: where each stage was done, what was cut short."""
    if all(r.get("sitting", 1) == 1 and not r.get("interrupted") for r in stages.values()):
        return []
    parts = []
    for name, r in stages.items():
        cut = r.get("interrupted", [])
        how = f"{name} in sitting {r.get('sitting', 1)}"
        if name == "train" and continued(r):
            how += f", continued {_where(r)} (row: all attempts' time, largest peaks)"
        if cut:
            times = ", ".join(f"{a['seconds']:.0f}" for a in cut)
            how += f" after {len(cut)} cut attempt(s) of {times} s"
        parts.append(how)
    return ["- sittings: " + "; ".join(parts)]


def provenance(result: dict[str, Any], path: str) -> str:
    """One line: which commit, machine, load, options and file the table comes from."""
    p, o = result["provenance"], result["options"]
    m, load = p["machine"], p.get("load_average_1min") or {}
    dirty = ", tree dirty: " + ", ".join(p.get("dirty_files", [])) if p.get("dirty") else ""
    hardware = f"GPU {m['gpu']}" if m.get("gpu") else f"{m['cores']} CPUs ({m['cpu']}), no GPU"
    return (
        f"Commit `{p['commit'][:7]}`{dirty}, {p['date'][:10]}, {hardware}, Neo4j heap {o['heap']} and page "
        f"cache {o['pagecache']}, {o['threads']} torch threads, {len(result.get('sittings') or [1])} sitting(s), "
        f"load average {load.get('before', '?')} at the start of the last and {load.get('after', '?')} at its "
        f"end; [{path}]({path})."
    )


def _effects(serve: dict[str, Any]) -> str:
    """The masking effects' making time and the near users' index (results from before they were made at
    start have none)."""
    seconds, near = serve.get("effects_seconds"), serve.get("near_users")
    effects = "" if seconds is None else f", masking effects {seconds:.1f} s"
    return effects + ("" if near is None else f", near users: {near} ({serve['near_users_seconds']:.1f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_report", description=__doc__.splitlines()[0])
    parser.add_argument("result", type=Path, help="a result file of python -m bench.scale")
    add_arguments(parser, "print the block only")
    args = parser.parse_args(argv)
    result = json.loads(args.result.read_text(encoding="utf-8"))
    publish(parser, args, "scale", provenance(result, args.result.as_posix()) + "\n\n" + table(result["stages"]) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
