"""The column-wise append (io/xlsxpatch_append: append_block, block_xml) writes exactly the cells
the cell-by-cell rule (row_cells, cell_xml) describes, with and without pyarrow (Pyodide)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custledger.contract import RowAppend
from custledger.io import xlsxpatch_append as A
from custledger.io.xlsxpatch_errors import XlsxPatchError

TEXTS = ["abc", " lead", "trail ", "a&b<c>", "x\x01y", "_x0041_", "中文\u3000", "\u00a0nb", "=SUM(A1)", "\ud800bad",
         "x\uffff", "", None, float("nan")]


def _frame(n: int = 60) -> RowAppend:
    k = np.arange(n)
    frame = pd.DataFrame({
        "no": pd.Series([TEXTS[i % len(TEXTS)] for i in k], dtype=object),
        "date": pd.Series(pd.to_datetime([["2026-10-05", None, "1899-12-15", "1900-02-10", "2026-01-01 06:00"][i % 5]
                                          for i in k], format="mixed"), dtype="datetime64[ns]"),
        "amount": pd.array([None if i % 7 == 0 else (i - 30) * 1013 for i in k], dtype="Int64"),
        "flag": pd.Series([[True, False, "yes", None][i % 4] for i in k], dtype=object),
        "count": pd.Series([i if i % 3 else None for i in k], dtype=object),
        "memo": pd.Series([["a", "b"] if i % 5 == 0 else 1.0 if i % 5 == 1 else TEXTS[i % 9] for i in k], dtype=object),
    })
    frame.loc[4] = [None, pd.NaT, None, None, None, None]   # an all-blank row: left out
    return RowAppend(sheet="S", columns={"no": "A", "date": "B", "amount": "H", "flag": "J", "count": "K", "memo": "AB"},
                     kinds={"no": "id", "date": "date", "amount": "money", "flag": "bool", "count": "int",
                            "memo": "text"}, rows=frame)


def _row_by_row(p: str, first_r: int, block: A.Block, merged: dict) -> bytes:
    return "".join(merged[i] if i in merged else f'<{p}row r="{first_r + i}">'
                   + "".join(A.cell_xml(p, first_r + i, c) for c in block.cells(i)) + f"</{p}row>"
                   for i in range(block.n)).encode("utf-8")


def _cells(block):
    return [[(c.col, c.kind, c.value) for c in block.cells(i)] for i in range(block.n)]


@pytest.mark.parametrize("date1904", [False, True])
def test_block_is_what_row_cells_and_cell_xml_say_with_and_without_pyarrow(monkeypatch, date1904):
    ra = _frame()
    cells = [row for row in A.row_cells(ra, date1904) if row]
    block = A.append_block([ra, ra], date1904)                     # two appends to one sheet follow each other
    assert block.n == 2 * len(cells) == 2 * (len(ra.rows) - 1)
    flat = [[(c.col, c.kind, c.value) for c in row] for row in cells]
    assert _cells(block) == flat + flat
    rng = np.random.default_rng(1)
    for c in block.cols:
        block.xf[c] = rng.choice([0, 3, 12], size=block.n)
    xml = {}
    for p in ("", "x:"):
        merged = {1: f'<{p}row r="11" ht="20">kept</{p}row>'}
        xml[p] = A.block_xml(p, 10, block, merged)
        assert xml[p] == _row_by_row(p, 10, block, merged)
    # Pyodide (no pyarrow): text escaped value by value (excel_text), rows cell by cell: the same
    monkeypatch.setattr(A, "arrow", lambda: (None, None))
    plain = A.append_block([ra, ra], date1904)
    assert _cells(plain) == _cells(block)
    plain.xf = block.xf
    for p in ("", "x:"):
        assert A.block_xml(p, 10, plain, {1: f'<{p}row r="11" ht="20">kept</{p}row>'}) == xml[p]


def test_values_as_the_rules_write_them():
    ra = RowAppend(sheet="S", columns={"a": "A", "d": "B", "t": "C"}, kinds={"a": "money", "d": "date", "t": "text"},
                   rows=pd.DataFrame({"a": pd.Series([123449, 123450, -5, 0], dtype="int64"),
                                      "d": pd.to_datetime(["1900-02-28", "1900-03-01", "1899-12-31", "2026-10-05"]),
                                      "t": pd.Series([" x", "a&b", "_x0001_", "\x02"], dtype=object)}))
    block = A.append_block([ra], False)
    assert block.values[0].tolist() == ["1234.49", "1234.5", "-0.05", "0"]
    assert block.values[1].tolist() == ["59", "61", "1899-12-31", "46300"] and block.text[1].tolist() == [
        False, False, True, False]
    assert block.values[2].tolist() == [" x", "a&amp;b", "_x005F_x0001_", "_x0002_"]


def test_refusals_name_the_row():
    long = RowAppend(sheet="S", columns={"t": "A"}, kinds={"t": "text"},
                     rows=pd.DataFrame({"t": ["ok", "x" * 32_768]}))
    with pytest.raises(XlsxPatchError, match="row 2, t: 32768 characters"):
        A.append_block([long], False)
    cents = RowAppend(sheet="S", columns={"a": "A"}, kinds={"a": "money"}, rows=pd.DataFrame({"a": [1, 2.5]}))
    with pytest.raises(XlsxPatchError, match="row 2, a: money must be integer cents"):
        A.append_block([cents], False)
