"""parse_sheet's row rules over whole frames at once: blank rows dropped, total rows (合计 / 总计 /
小计 / Total in any column, any case, spaces anywhere) skipped with a warning, the same rows as
the column-by-column rule they replace."""

import random

import numpy as np
import pandas as pd

from custledger.core.parse import TOTAL_WORDS, _nonblank_rows, _total_rows, locate_header, parse_sheet
from custledger.io.reader import RawSheet
from custledger.schema import sheet


def _reference_total(body: pd.DataFrame) -> np.ndarray:
    """The rule as it was written column by column (and still is, in words)."""
    cells = body.astype("str")
    return cells.apply(lambda c: c.str.strip().str.lower().str.replace(r"\s+", "", regex=True)
                       .isin(TOTAL_WORDS)).any(axis=1).to_numpy(bool)


def _reference_nonblank(body: pd.DataFrame) -> np.ndarray:
    return (~body.apply(lambda s: s.isna() | (s.astype("str").str.strip() == "")).all(axis=1)).to_numpy(bool)


PIECES = ["合计", "合 计", "总计", "小计", "合计金额", "计", "Total", " TOTAL ", "Grand Total", "sub\ttotal", "total:",
          "Ｔｏｔａｌ", "l", "L", "TotaL", "Lot", "", " ", "\u3000", "\u00a0", "甲公司", "1,200.00", "2026-10-05", None,
          "合\u3000计", "sUbToTaL", "grandtotal", "x"]


def test_total_and_blank_rows_match_the_column_by_column_rule():
    rng = random.Random(7)
    for _ in range(60):
        n, k = rng.randint(0, 25), rng.randint(1, 6)
        data = {j: pd.Series([rng.choice(PIECES) for _ in range(n)], dtype="str") for j in range(k)}
        body = pd.DataFrame(data, index=range(3, 3 + n))
        assert _total_rows(body).tolist() == _reference_total(body).tolist()
        assert _nonblank_rows(body).tolist() == _reference_nonblank(body).tolist()


def _raw(rows):
    frame = pd.DataFrame(rows, dtype="str")
    frame.columns = range(frame.shape[1])
    return RawSheet(name="客户档案", frame=frame, row0=1, col0=0)


def test_parse_sheet_skips_blank_and_total_rows_and_says_so():
    spec = sheet("customers")
    rows = [["客户编号", "客户名称", "自用列"],   # the third column is no field of the sheet
            ["C1", "甲公司", None],
            [None, " ", "\u3000"],            # blank in the mapped columns (a note column is not data)
            ["C2", "乙公司", "Total here"],   # not a total: the cell says more than the word
            ["合 计", None, None],             # a total row, spaces inside
            [None, None, "only a note"],       # nothing in a mapped column: blank
            ["C3", "丙公司", None],
            ["", "", " grand TOTAL "]]
    raw = _raw(rows)
    layout = locate_header(raw.frame, spec, raw.name)
    assert layout is not None and set(layout.columns.values()) >= {"customer_id", "name"}
    typed, problems = parse_sheet(raw, spec, layout, "zh")
    assert typed["customer_id"].tolist() == ["C1", "C2", "C3"]
    assert typed["_row"].tolist() == [2, 4, 7]
    totals = [p for p in problems if _get(p, "code") == "total_row_skipped"]
    assert [_get(p, "cell") for p in totals] == ["A5"]       # row 8 is blank where it matters (no id, no name)


def _get(problem, key):
    """A problem's field, whether the problem is a dict row or a Problem record."""
    return problem[key] if isinstance(problem, dict) else getattr(problem, key)

