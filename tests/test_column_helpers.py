"""Whole-column helpers give what their per-value forms gave: sheet column widths measured over a
sample at once, column_text of a plain text column in one conversion."""

import random


def test_column_widths_measured_at_once_are_the_per_text_widths():
    from custledger.render.sheets import _text_width, widest_text

    rng = random.Random(11)
    alphabet = ["a", "Z", "1", " ", "甲", "公", "Ｔ", "⺀", "⺁", "😀", "\ud800", "é", "\u3000"]
    for _ in range(200):
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(0, 8))]
        assert widest_text(texts) == max((_text_width(t) for t in texts), default=0), texts


def test_column_text_of_text_columns_as_before():
    import numpy as np
    import pandas as pd

    from custledger.core.frames import cell_text, column_text

    def before(frame, column):   # the rule, value by value
        return pd.Series(["" if v is None or v is pd.NA or (isinstance(v, float) and v != v) else cell_text(v)
                          for v in frame[column]], index=frame.index, dtype="str")

    cols = {"text": ["C1", None, " C2 ", np.nan, ""], "none": [None] * 5, "nan": [np.nan] * 5,
            "mixed": ["C1", 1001.0, None, 7, "x"], "str": pd.Series(["a", None, "b", "c", "d"], dtype="str")}
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) if not isinstance(v, pd.Series) else v for k, v in cols.items()})
    for column in frame.columns:
        got, want = column_text(frame, column), before(frame, column)
        assert got.tolist() == want.tolist() and got.dtype == want.dtype, column
    assert column_text(frame.iloc[:0], "text").tolist() == []


def test_change_log_text_of_text_columns_as_before():
    import numpy as np
    import pandas as pd

    from custledger.core.changes import _text

    def before(series):
        s = series.astype(object)
        blank = s.isna()
        out = s.where(blank, s.astype(str).str.strip())
        return out.where(~blank, "").astype(object)

    for values in (["  a ", "b", "", "甲\u3000", "\t\n"], ["a", None, np.nan, " b"], ["x", 1, 2.5], [],
                   [" \u2028x\x1f "]):
        s = pd.Series(values, dtype=object)
        got, want = _text(s, "text"), before(s)
        assert got.tolist() == want.tolist() and got.dtype == want.dtype, values


def test_generated_sheet_values_as_before():
    import numpy as np
    import pandas as pd

    from custledger.render.sheets import _display

    def before(series, fmt):
        series = series.astype(object)
        if fmt == "money":
            return series.map(lambda c: None if pd.isna(c) else int(c) / 100)
        return series.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v))

    rng = random.Random(2)
    cases = [(pd.Series([rng.randint(-10**12, 10**12) for _ in range(50)] + [None, 0, 1, -1, 10**15, 2**53 + 1],
                        dtype="Int64"), "money"),
             (pd.Series([1999, 5, None], dtype="Int64"), "money"), (pd.Series([], dtype="Int64"), "money"),
             (pd.Series(np.array([7, 250, -3], dtype="int64")), "money"),
             (pd.Series(["甲", "", " x ", np.str_("y")], dtype=object), "text"),
             (pd.Series(["a", None, np.nan], dtype=object), "text"), (pd.Series(["a", 1, 2.5], dtype=object), "link"),
             (pd.Series([], dtype=object), "text")]
    for series, fmt in cases:
        got, want = _display(series, fmt, "x", "zh"), before(series, fmt)
        assert got.dtype == want.dtype and got.index.equals(want.index), (fmt, got.dtype, want.dtype)
        same = [(type(a), a) == (type(b), b) or (a != a and b != b) for a, b in zip(got.tolist(), want.tolist())]
        assert len(got) == len(want) and all(same), (fmt, series.tolist())
