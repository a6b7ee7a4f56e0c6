from datetime import date

import pandas as pd
import pytest

from kgrec.ingest.convert import convert
from kgrec.ingest.spec import Field_, Key


def _conv(values: list[str], **field: object) -> tuple[list, list]:
    return convert(pd.Series(values, dtype=object), Field_(column="c", **field))  # type: ignore[arg-type]


def test_ints() -> None:
    out, errs = _conv(["1", " -2 ", "", "3.5", "x"], type="int")
    assert out == [1, -2, None, None, None]
    assert errs == [None, None, None, "not an integer: '3.5'", "not an integer: 'x'"]


def test_floats_and_bools() -> None:
    assert _conv(["1.5", "1e3", "nan?"], type="float")[0][:2] == [1.5, 1000.0]
    assert _conv(["1.5", "nan?"], type="float")[1] == [None, "not a number: 'nan?'"]
    assert _conv(["true", "No", "", "maybe"], type="bool") == (
        [True, False, None, None],
        [None, None, None, "not a boolean: 'maybe'"],
    )


def test_dates_with_format_and_pattern() -> None:
    out, errs = _conv(["01-Jan-1995", "", "1995-01-01"], type="date", format="%d-%b-%Y")
    assert out[:2] == [date(1995, 1, 1), None]
    assert errs[2] == "not a date in format '%d-%b-%Y': '1995-01-01'"
    assert _conv(["01-Jan-1995", "unknown"], type="int", pattern=r"(\d{4})$") == ([1995, None], [None, None])


def test_required_and_keys() -> None:
    assert _conv(["a", ""], required=True)[1] == [None, "missing required value in column 'c'"]
    out, errs = convert(pd.Series(["m.1", ""]), Key(column="c", prefix="http://x/"))
    assert out == ["http://x/m.1", None]
    assert errs == [None, "missing key in column 'c'"]


@pytest.mark.parametrize(
    "value", ["'; MATCH (n) DETACH DELETE n //", "`}) RETURN 1 //", "{$x}", "日本語 🎬", "x" * 100_000]
)
def test_hostile_strings_pass_through_verbatim(value: str) -> None:
    assert _conv([value]) == ([value], [None])


@pytest.mark.parametrize("kind", ["int", "float"])
@pytest.mark.parametrize(
    "values",
    [
        ["1", "22", "333"],
        ["1", "+2", "-3"],
        ["1", " 2", "3 "],
        ["1", "", "3"],
        ["1", "1_000", "3"],
        ["1.5", "2e3", "-0.25"],
        ["1", "nan", "inf"],
        ["1", "1e400", "2"],
        ["1", "\u0663", "\u00b2"],  # Arabic-Indic three, superscript two
        ["1", "0x1f", "3"],
    ],
)
def test_whole_column_numbers_equal_value_by_value(
    values: list[str], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kgrec.ingest import convert as conv

    field = Field_(column="c", type=kind)  # type: ignore[arg-type]
    series = pd.Series(values, dtype=object)
    whole = conv.convert(series, field)
    monkeypatch.setattr(conv, "_fast_numbers", lambda *a: None)
    assert whole == conv.convert(series, field)


def test_plain_number_columns_take_the_whole_column_way() -> None:
    from kgrec.ingest.convert import _fast_numbers

    assert _fast_numbers(pd.Series(["1", "22", "333"]), Field_(column="c", type="int")) == [1, 22, 333]
    assert _fast_numbers(pd.Series(["1.5", "2e3"]), Field_(column="c", type="float")) == [1.5, 2000.0]
    assert _fast_numbers(pd.Series(["1", "-2"]), Field_(column="c", type="int")) is None
