"""The kept work folder of :mod:`bench.scale`, so that a long run can be done across several sittings.

``python -m bench.scale --work-dir DIR --resume`` keeps everything in ``DIR`` and a manifest,
``DIR/scale-run.json``: the commit and options the folder was made with, every finished stage's
measurements (written when the stage ends), the attempt in progress (its time and peaks so far,
rewritten every few seconds) and one entry per sitting. Started again, the run takes each finished
stage from the manifest when its output is still whole, and redoes the first one that is not and
every stage after it; an attempt cut short is kept as an ``interrupted`` entry of its stage.

A folder made by another commit, or with other options, is refused in one line: a result file is
one commit's and one configuration's.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MANIFEST = "scale-run.json"
STAGES = ("generate", "ingest", "export", "train", "serve")
STORE_MARK = "scale-store.json"
"""Written into the Neo4j instance's folder once a graph is ingested: which work folder's graph it is."""


class WorkDir:
    """A work folder and its manifest.

    Args:
        path: The folder.
        manifest: The manifest's content (see :meth:`open`).
    """

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path, self.manifest = path, manifest
        self.reused: list[str] = []
        """Stages taken from an earlier sitting in this one."""

    @classmethod
    def open(cls, path: Path, git: dict[str, Any], options: dict[str, Any]) -> WorkDir:
        """Open (or start) the folder for a sitting of the run ``options`` describes.

        Args:
            path: The folder (created when missing).
            git: This checkout's git state (``commit``, ``dirty``): a folder of another commit is refused.
            options: What decides the run's result (sizes, epochs, sample, server memory); all must match.

        Raises:
            SystemExit: One line: another commit's or options' folder, or a non-empty folder without a manifest.
        """
        file = path / MANIFEST
        if file.exists():
            manifest = json.loads(file.read_text(encoding="utf-8"))
            if manifest["commit"] != git["commit"]:
                raise SystemExit(
                    f"{path}: made by commit {manifest['commit'][:10]}, this checkout is {git['commit'][:10]}: "
                    "resume it from a worktree of that commit, or start a new --work-dir"
                )
            changed = [
                f"{k} {manifest['options'].get(k)!r} -> {v!r}"
                for k, v in options.items()
                if manifest["options"].get(k) != v
            ]
            if changed:
                raise SystemExit(f"{path}: made with other options ({'; '.join(changed)}): pass the same ones")
        elif path.exists() and any(path.iterdir()):
            raise SystemExit(f"{path}: not empty and no {MANIFEST}: not a bench.scale work folder; choose another")
        else:
            manifest = {"commit": git["commit"], "options": options, "stages": {}, "sittings": []}
        work = cls(path, manifest)
        running = manifest.pop("running", None)
        if running:  # the last sitting ended during this stage
            manifest.setdefault("interrupted", []).append(running)
        manifest["sittings"].append({"date": datetime.now(UTC).isoformat(timespec="seconds"), "dirty": git["dirty"]})
        work.save()
        return work

    @property
    def sitting(self) -> int:
        """This sitting's number (1 for the first)."""
        return len(self.manifest["sittings"])

    def done(self, stage: str) -> dict[str, Any] | None:
        """The stage's recorded result, when a sitting finished it."""
        return self.manifest["stages"].get(stage)

    def reuse(self, stage: str, whole: bool) -> dict[str, Any] | None:
        """The stage's result when it is recorded and its output ``whole``; else forget it and every later stage
        (whose cut attempts move to ``discarded``: what they did is redone from scratch)."""
        found = self.done(stage)
        if found is not None and whole:
            self.reused.append(stage)
            return found
        later = STAGES[STAGES.index(stage) + 1 :]
        for name in (stage, *later):
            self.manifest["stages"].pop(name, None)
        cut = self.manifest.get("interrupted", [])  # later stages start afresh: their cut attempts go
        self.manifest["interrupted"] = [a for a in cut if a["stage"] not in later]
        self.manifest.setdefault("discarded", []).extend(a for a in cut if a["stage"] in later)
        self.save()
        return None

    def progress(self, stage: str, measured: dict[str, Any]) -> None:
        """Record the attempt in progress (kept as an interrupted attempt if the sitting ends here)."""
        self.manifest["running"] = {"stage": stage, "sitting": self.sitting} | measured
        self.save()

    def record(self, stage: str, result: dict[str, Any]) -> dict[str, Any]:
        """Record a finished stage with its interrupted attempts; returns the recorded result."""
        self.manifest.pop("running", None)
        cut = [a for a in self.manifest.get("interrupted", []) if a["stage"] == stage]
        result = result | {"sitting": self.sitting} | ({"interrupted": cut} if cut else {})
        self.manifest["stages"][stage] = result
        self.save()
        return result

    def end_sitting(self, wall_seconds: float, load_after: float | None, load_before: float | None) -> None:
        """Close this sitting's entry: its time, the load around it, the stages it ran."""
        ran = [s for s in STAGES if s in self.manifest["stages"] and s not in self.reused]
        self.manifest["sittings"][-1] |= {
            "wall_seconds": round(wall_seconds, 1),
            "load_average_1min": {"before": load_before, "after": load_after},
            "stages_run": ran,
        }
        self.save()

    def save(self) -> None:
        """Write the manifest atomically."""
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.path / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(self.manifest, indent=2), encoding="utf-8")
        os.replace(tmp, self.path / MANIFEST)


def mark_store(instance_dir: Path, work: WorkDir, counts: dict[str, int]) -> dict[str, Any]:
    """Note in the instance's folder that its graph is ``work``'s; returns the note (kept in the ingest result)."""
    mark = {"work": str(work.path.resolve()), "stamp": time.time_ns(), **counts}
    (instance_dir / STORE_MARK).write_text(json.dumps(mark), encoding="utf-8")
    return mark


def store_is(instance_dir: Path, work: WorkDir, mark: dict[str, Any] | None) -> bool:
    """Whether the instance still holds the graph ``mark`` noted for ``work`` (no other run replaced it)."""
    try:
        found = json.loads((instance_dir / STORE_MARK).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return mark is not None and found == mark and found["work"] == str(work.path.resolve())


def forget_store(instance_dir: Path) -> None:
    """Remove the note (the store is wiped or replaced)."""
    (instance_dir / STORE_MARK).unlink(missing_ok=True)
