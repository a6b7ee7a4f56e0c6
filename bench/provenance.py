"""What a benchmark result records about where it came from: code, data, libraries, machine, load, time.

Every learning benchmark run writes one self-describing result file; this module
gathers its ``provenance`` block and measures peak memory per phase of a run.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LIBRARIES = ("kgrec", "torch", "torch_geometric", "numpy", "scipy", "pydantic")
REPO = Path(__file__).resolve().parents[1]


def git_state(repo: Path = REPO) -> dict[str, Any]:
    """``commit`` (HEAD, or ``"unknown"`` outside git) and ``dirty`` (uncommitted changes to tracked files)."""
    try:
        commit = _git(repo, "rev-parse", "HEAD").strip()
        changed = [line for line in _git(repo, "status", "--porcelain", "--untracked-files=no").splitlines() if line]
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "unknown", "dirty": True, "dirty_files": []}
    return {"commit": commit, "dirty": bool(changed), "dirty_files": sorted(line[3:] for line in changed)}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str]:
    """Installed versions of ``names`` (``"missing"`` when not installed), and Python's."""
    out = {"python": sys.version.split()[0]}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "missing"
    return out


def machine() -> dict[str, Any]:
    """CPU model, logical cores, platform and (when present) the GPU torch would use."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(), "gpu": _gpu()}


def _gpu() -> str | None:
    try:
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # noqa: BLE001 - provenance must never fail a benchmark
        return None


class Stopwatch:
    """Wall time, date and load average from construction to :meth:`provenance`; git state at construction
    (the code the run loaded, even when the checkout moves on during the run)."""

    def __init__(self) -> None:
        self.git = git_state()
        self.started = time.perf_counter()
        self.date = datetime.now(UTC).isoformat(timespec="seconds")
        self.load_before = _load()

    def provenance(self, **extra: Any) -> dict[str, Any]:
        """The whole provenance block of a result, ``extra`` keys included (e.g. split fingerprints)."""
        return {
            **self.git,
            "date": self.date,
            "wall_seconds": round(time.perf_counter() - self.started, 1),
            "load_average_1min": {"before": self.load_before, "after": _load()},
            "machine": machine(),
            "versions": versions(),
            "argv": sys.argv,
            **extra,
        }


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def reset_peak_rss() -> bool:
    """Reset this process's peak resident set size (Linux ``clear_refs`` 5); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """Peak resident set size in MiB since the last :func:`reset_peak_rss` (else since the process started)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
