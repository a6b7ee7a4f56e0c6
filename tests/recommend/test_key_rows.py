"""KeyRows answers as the dict it replaces would."""

from __future__ import annotations

import numpy as np
import pytest

from kgrec.recommend.key_rows import KeyRows


@pytest.mark.parametrize(
    "keys",
    [
        [17, 3, 99, 4, 1000000],  # integers
        ["m.02h40lc", "Toy Story", "a", "Z"],  # text
        [3, "3", 7.5, "x"],  # mixed: a plain dict inside
        np.array([5, 2, 9], dtype=np.int64),  # numpy keys, as a snapshot holds them
        [],
    ],
)
def test_key_rows_answer_as_a_dict(keys: list) -> None:
    plain = [k.item() if isinstance(k, np.generic) else k for k in keys]
    expected = {k: i for i, k in enumerate(plain)}
    rows = KeyRows(keys)
    assert list(rows) == plain and len(rows) == len(plain) and dict(rows.items()) == expected
    asked = [*plain, 42, "nope", True, None, 2.5]
    for key in asked:
        assert rows.get(key) == expected.get(key) and (key in rows) == (key in expected)
    assert rows.rows_of(asked).tolist() == [expected.get(k, -1) for k in asked]
    with pytest.raises(KeyError):
        rows["nope"]
