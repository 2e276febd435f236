"""io/xlsxsheets._add_table writes the table part xlsxwriter's add_table writes (issue 12)."""

import io
import zipfile

import pytest
import xlsxwriter

from custledger.io.xlsxsheets import _add_table


def _book(add, rows: int, merge: bool = False, **extra) -> dict:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("S")
    if merge:
        ws.merge_range(rows + 5, 0, rows + 5, 2, "m")
    options = {"name": "T", "style": "Table Style Light 9", "autofilter": True,
               "columns": [{"header": h} for h in ("a", "b", "c")], **extra}
    add(ws, rows, 2, options)
    for r in range(1, rows + 1):
        ws.write_row(r, 0, [f"x{r}", r, r * 2])
    wb.close()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith(("xl/tables/", "xl/worksheets/"))}


def _reference(ws, last_row, last_col, options):
    ws.add_table(0, 0, last_row, last_col, options)


@pytest.mark.parametrize("rows", [1, 2, 3, 2500])
def test_the_table_part_is_add_tables(rows):
    assert _book(_add_table, rows) == _book(_reference, rows)
    assert b'ref="A1:C%d"' % (rows + 1) in _book(_add_table, rows)["xl/tables/table1.xml"]


def test_a_sheet_with_a_merge_or_a_formula_column_takes_add_table_as_is():
    assert _book(_add_table, 50, merge=True) == _book(_reference, 50, merge=True)
    cols = [{"header": "a"}, {"header": "b"}, {"header": "c", "formula": "=[@b]*2"}]
    assert _book(_add_table, 50, columns=cols) == _book(_reference, 50, columns=cols)


def test_an_overlap_is_still_refused():
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("S")
    ws.merge_range(10, 0, 10, 2, "m")
    with pytest.raises(Exception, match="overlaps"):
        _add_table(ws, 40, 2, {"name": "T", "columns": [{"header": h} for h in "abc"]})
    wb.close()
