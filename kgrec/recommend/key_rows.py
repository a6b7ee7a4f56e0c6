"""Node keys -> rows of the model's arrays, as sorted arrays: a million users' keys without a million-entry dict."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from kgrec.graph.neighbourhood import typed_keys

__all__ = ["KeyRows"]


class KeyRows(Mapping[Any, int]):
    """Key -> row (its position in ``keys``), by binary search over the keys sorted once; a plain dict only
    where the keys mix types.

    Args:
        keys: Every key, in row order (Python or numpy scalars).
    """

    def __init__(self, keys: np.ndarray | list[Any]) -> None:
        self._keys = typed_keys(np.asarray(keys, dtype=object)) if len(keys) else np.zeros(0, dtype=np.int64)
        self._dict: dict[Any, int] | None = None
        if self._keys.dtype == object:  # keys of several types
            self._dict = {k: i for i, k in enumerate(self._keys.tolist())}
            return
        self._order = np.argsort(self._keys, kind="stable")
        self._sorted = self._keys[self._order]

    def get(self, key: Any, default: Any = None) -> Any:
        """The row of ``key``, else ``default``."""
        if self._dict is not None:
            return self._dict.get(key, default)
        if type(key) is bool or not len(self._sorted):
            return default
        try:
            at = int(np.searchsorted(self._sorted, key))
            hit = at < len(self._sorted) and self._sorted[at] == key
        except (TypeError, ValueError):  # a key of another type than these
            return default
        return int(self._order[at]) if hit else default

    def rows_of(self, keys: list[Any]) -> np.ndarray:
        """The rows of ``keys`` at once (``-1`` for a key not here)."""
        wanted = typed_keys(np.asarray(keys, dtype=object)) if len(keys) else np.zeros(0, dtype=np.int64)
        if self._dict is not None or wanted.dtype.kind != self._keys.dtype.kind or not len(self._sorted):
            return np.fromiter((self.get(k, -1) for k in keys), np.int64, len(keys))
        at = np.searchsorted(self._sorted, wanted).clip(max=len(self._sorted) - 1)
        return np.where(self._sorted[at] == wanted, self._order[at], -1)

    def __getitem__(self, key: Any) -> int:
        row = self.get(key)
        if row is None:
            raise KeyError(key)
        return row

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def __iter__(self) -> Iterator[Any]:
        return iter(self._keys.tolist())

    def __len__(self) -> int:
        return len(self._keys)
