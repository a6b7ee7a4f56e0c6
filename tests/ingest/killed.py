"""A store that dies mid-load, like a killed process: for the resume tests."""

from __future__ import annotations

from kgrec.graph.store import GraphStore


class Interrupt(Exception):
    """Raised where the process would have been killed."""


class FailingStore:
    """Wraps a store and dies after ``after`` batch writes, like a killed process."""

    def __init__(self, store: GraphStore, after: int) -> None:
        self._store, self._left = store, after

    def write(self, batch, checkpoint=None, **kw):  # type: ignore[no-untyped-def]
        if self._left == 0:
            raise Interrupt
        self._left -= 1
        return self._store.write(batch, checkpoint, **kw)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._store, name)
