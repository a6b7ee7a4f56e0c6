"""Benchmark results: per-method runs, the Markdown table and the goal lines."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.measure import MIB, median

KGREC = "kgrec Ingestor"
ADMIN = "neo4j-admin import"
NAIVE = "naive (1 tx/row)"

ADMIN_GOAL = 3.0
"""kgrec should take at most this many times as long as neo4j-admin import."""
NAIVE_GOAL = 30.0
"""kgrec should be at least this many times faster than the naive loader."""


@dataclass(frozen=True, slots=True)
class Run:
    """One timed load."""

    seconds: float
    relationships: int
    client_peak_rss: int
    server_peak_rss: int | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Relationships per second."""
        return self.relationships / self.seconds


@dataclass(slots=True)
class MethodResult:
    """All runs of one method on one dataset."""

    method: str
    note: str = ""
    runs: list[Run] = field(default_factory=list)

    @property
    def relationships(self) -> int:
        return self.runs[0].relationships

    @property
    def median_seconds(self) -> float:
        return median(r.seconds for r in self.runs)

    @property
    def median_rate(self) -> float:
        return median(r.rate for r in self.runs)

    @property
    def client_peak(self) -> int:
        return max(r.client_peak_rss for r in self.runs)

    @property
    def server_peak(self) -> int | None:
        peaks = [r.server_peak_rss for r in self.runs if r.server_peak_rss is not None]
        return max(peaks) if peaks else None

    def summary(self) -> dict[str, object]:
        """Medians and peaks, for the JSON file."""
        return {
            "method": self.method,
            "note": self.note,
            "runs": len(self.runs),
            "relationships": self.relationships,
            "median_seconds": self.median_seconds,
            "median_rels_per_s": self.median_rate,
            "client_peak_rss_bytes": self.client_peak,
            "server_peak_rss_bytes": self.server_peak,
        }


@dataclass(slots=True)
class DatasetResult:
    """The methods measured on one dataset."""

    name: str
    description: str
    methods: dict[str, MethodResult] = field(default_factory=dict)

    def method(self, name: str, note: str = "") -> MethodResult:
        found = self.methods.setdefault(name, MethodResult(name, note))
        order = {KGREC: 0, ADMIN: 1, NAIVE: 2}  # table order, whatever order they ran in
        self.methods = dict(sorted(self.methods.items(), key=lambda kv: order.get(kv[0], 9)))
        return found

    def speedup(self, other: str) -> float | None:
        """``other``'s median rate over kgrec's (above 1: ``other`` is faster)."""
        if KGREC not in self.methods or other not in self.methods:
            return None
        return self.methods[other].median_rate / self.methods[KGREC].median_rate


def markdown_table(datasets: list[DatasetResult]) -> str:
    """One row per dataset and method."""
    head = [
        "dataset",
        "method",
        "relationships",
        "runs",
        "median s",
        "median rels/s",
        "rate vs kgrec",
        "peak RSS client",
        "peak RSS server",
    ]
    rows = [head, ["---"] * 3 + ["---:"] * 6]
    for ds in datasets:
        for m in ds.methods.values():
            ratio = ds.speedup(m.method)
            rels = f"{m.relationships:,}" + (" (prefix)" if m.method == NAIVE else "")
            rows.append(
                [
                    ds.name,
                    m.method,
                    rels,
                    str(len(m.runs)),
                    f"{m.median_seconds:,.1f}",
                    f"{m.median_rate:,.0f}",
                    _ratio(ratio),
                    _mib(m.client_peak),
                    _mib(m.server_peak),
                ]
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows)


def goals(ds: DatasetResult) -> dict[str, object]:
    """The two goals, judged on one dataset (the largest)."""
    admin, naive = ds.speedup(ADMIN), ds.speedup(NAIVE)
    out: dict[str, object] = {"dataset": ds.name}
    if admin is not None:
        out["admin_ratio"] = admin  # kgrec seconds per neo4j-admin second, for the same graph
        out["admin_goal_met"] = admin <= ADMIN_GOAL
    if naive is not None:
        out["naive_ratio"] = 1 / naive  # kgrec rels/s per naive rels/s
        out["naive_goal_met"] = 1 / naive >= NAIVE_GOAL
    return out


def goal_lines(g: dict[str, object]) -> list[str]:
    """The goal lines as printed (a missed goal is printed as missed)."""
    lines = []
    if "admin_ratio" in g:
        verdict = "yes" if g["admin_goal_met"] else "NO (missed)"
        lines.append(
            f"kgrec within {ADMIN_GOAL:g}x of neo4j-admin import: {verdict} "
            f"(ratio {g['admin_ratio']:.2f}: kgrec takes {g['admin_ratio']:.2f}x as long), "
            f"at {g['dataset']}"
        )
    if "naive_ratio" in g:
        verdict = "yes" if g["naive_goal_met"] else "NO (missed)"
        lines.append(
            f"kgrec ≥{NAIVE_GOAL:g}x faster than naive: {verdict} "
            f"(ratio {g['naive_ratio']:.1f}: kgrec rels/s over naive rels/s), at {g['dataset']}"
        )
    return lines


def _ratio(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.2f}x" if x >= 0.1 else f"{x:.3f}x"


def _mib(n: int | None) -> str:
    return "-" if n is None else f"{n / MIB:,.0f} MiB"
