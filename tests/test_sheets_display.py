"""render/sheets._display converts whole columns at a time and gives exactly what the value-by-
value rule (_display_values) gives, for every format and the dtypes generated frames have."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from custledger.render.sheets import _display, _display_values

N = 50
# the value rule parses odd inputs (mixed dates, nanoseconds) with pandas warnings: expected here
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _columns() -> dict:
    rng = np.random.default_rng(7)
    cents = rng.integers(-10**12, 10**12, N)
    return {
        "int64": pd.Series(cents),
        "Int64": pd.Series(pd.array([None if i % 5 == 0 else int(c) for i, c in enumerate(cents)], dtype="Int64")),
        "float": pd.Series([np.nan if i % 4 == 0 else float(c) + 0.75 for i, c in enumerate(cents)]),
        "negfloat": pd.Series([-1.5, -0.5, 0.5, 1.5, -0.0, 2.0**52, np.nan]),
        "huge": pd.Series([2**60, -(2**60), 1], dtype="int64"),
        "object-mixed": pd.Series([None, 3, 2.5, "x", pd.NA, np.nan, True, dt.date(2024, 1, 2), "7"], dtype=object),
        "dates": pd.Series(pd.to_datetime(["2026-10-31", None, "1900-03-01 12:34:56.789012", "2262-04-10"], format="ISO8601")),
        "dates-s": pd.Series(np.array(["2026-10-31", "NaT", "9999-12-31"], dtype="datetime64[s]")),
        "bools": pd.Series([True, False, True]),
        "bools-na": pd.Series([True, None, False], dtype=object),
        "text": pd.Series(["a", "中文", "=1+1", "", " x "]),
        "text-na": pd.Series(["a", None, np.nan, pd.NA, pd.NaT, 3, "b"], dtype=object),
        "str-dtype": pd.Series(["a", None, "c"], dtype="str"),
        "str-dtype-full": pd.Series(["a", "中文", "=1", ""], dtype="str"),
        "enum": pd.Series(["overdue", "current", None, np.nan, "unknown", 1, True], dtype=object),
        "enum-cat": pd.Series(pd.Categorical(["a", "b", None])),
        "empty": pd.Series([], dtype="int64"),
        "all-none": pd.Series([None] * 4, dtype=object),
    }


def _same(a: pd.Series, b: pd.Series) -> bool:
    if len(a) != len(b) or list(a.index) != list(b.index) or a.dtype != b.dtype:
        return False
    for x, y in zip(a.tolist(), b.tolist()):
        if type(x) is not type(y):
            return False
        if x is None or x is pd.NA or y is None or y is pd.NA:
            if x is not y:
                return False
        elif not (x == y or (x != x and y != y)):
            return False
    return True


@pytest.mark.parametrize("fmt", ["money", "date", "int", "pct", "float", "bool", "enum", "enum:status", "text", "link"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_whole_column_display_equals_the_value_rule(fmt, lang):
    for name, col in _columns().items():
        try:
            want = _display_values(col, fmt, "status", lang)
        except (TypeError, ValueError, OverflowError):
            continue  # a column the rule cannot show in this format (e.g. text as money)
        got = _display(col, fmt, "status", lang)
        assert _same(got, want), (name, fmt, got.dtype, want.dtype, got.tolist(), want.tolist())


def test_blanks_stay_none_and_money_is_exact():
    got = _display(pd.Series(pd.array([1, None, 10**15 + 1, -5], dtype="Int64")), "money", "m", "zh")
    assert got.dtype == "float64" and got.isna().tolist() == [False, True, False, False]
    assert got.dropna().tolist() == [0.01, (10**15 + 1) / 100, -0.05]
    assert _display(pd.Series([2**60]), "money", "m", "zh").tolist() == [2**60 / 100]
    d = _display(pd.Series(pd.to_datetime(["2026-10-31", None])), "date", "d", "zh")
    assert d.iloc[0] == dt.datetime(2026, 10, 31) and d.isna().tolist() == [False, True]


@pytest.mark.parametrize("index", [None, [7, 3, 9, 1], "named", "offset"])
def test_sheet_out_numbers_the_rows_from_zero_whatever_the_frame_index(index):
    """SheetOut.data: the frame's rows in order, numbered 0..n-1, the index unnamed; the same
    frame whichever index the generated frame came with."""
    from custledger.render.sheets import sheet_out

    frame = pd.DataFrame({"customer_id": ["C4", "C2", "C9", "C1"], "name": ["丁", "乙", None, "甲"],
                          "balance": [100, -250, 0, 12345]})
    if index == "named":
        frame.index = pd.RangeIndex(4, name="row")
    elif index == "offset":
        frame.index = pd.RangeIndex(10, 14)
    elif index is not None:
        frame.index = index
    out = sheet_out("balances", frame, "zh")
    plain = sheet_out("balances", frame.reset_index(drop=True), "zh")
    assert isinstance(out.data.index, pd.RangeIndex) and list(out.data.index) == [0, 1, 2, 3]
    assert out.data.index.name is None
    pd.testing.assert_frame_equal(out.data, plain.data, check_exact=True)
    assert out.data.columns.tolist() == list(range(len(out.headers))) and out.widths == plain.widths
    assert out.data[0].tolist() == ["C4", "C2", "C9", "C1"]
