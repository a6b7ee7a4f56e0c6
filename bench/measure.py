"""Timing and memory helpers: process-tree RSS peaks sampled in a background thread."""

from __future__ import annotations

import contextlib
import os
import statistics
import threading
from collections.abc import Iterable
from types import TracebackType

import psutil

MIB = 1 << 20


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (0 when it is gone)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):  # it may exit between listing and reading
            total += proc.memory_info().rss
    return total


class PeakRss:
    """Samples the RSS of named process trees every ``interval`` seconds and keeps each peak.

    Args:
        interval: Seconds between samples (default: ``0.1``).
        watch: Name -> pid of trees to sample from the start.

    Example:
        >>> with PeakRss(watch={"server": server_pid}) as rss:
        ...     proc = start_client()
        ...     rss.watch("client", proc.pid)
        >>> rss.peaks["client"]
    """

    def __init__(self, *, interval: float = 0.1, watch: dict[str, int] | None = None) -> None:
        self._interval = interval
        self._pids: dict[str, int] = dict(watch or {})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self.peaks: dict[str, int] = dict.fromkeys(self._pids, 0)
        self.at_start: dict[str, int] = {}
        """RSS of the trees watched from the start, when the block was entered."""

    def watch(self, name: str, pid: int) -> None:
        """Start sampling another process tree (sampled once right away)."""
        self._pids[name] = pid
        self.peaks.setdefault(name, 0)
        self._sample(name, pid)

    def __enter__(self) -> PeakRss:
        self.sample()
        self.at_start = dict(self.peaks)
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def sample(self) -> None:
        """Take one sample of every watched tree."""
        for name, pid in list(self._pids.items()):
            self._sample(name, pid)

    def _sample(self, name: str, pid: int) -> None:
        self.peaks[name] = max(self.peaks.get(name, 0), tree_rss(pid))

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()


def median(values: Iterable[float]) -> float:
    """The median (the mean of the middle two for an even count)."""
    return float(statistics.median(list(values)))


def load_average() -> float:
    """The 1-minute load average (how busy the machine is besides the benchmark)."""
    return os.getloadavg()[0]
