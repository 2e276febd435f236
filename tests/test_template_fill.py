"""render/template_fill.py: named cells and table regions found by defined name, so that a
restyled template (columns moved, header recoloured) is still filled correctly."""

import datetime as dt
from copy import copy

import openpyxl
import pytest
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName

from custledger.render.build_templates import REPO_TEMPLATES
from custledger.render.statement import statement_headers
from custledger.render.template_fill import Money, TemplateError, _tinted, fill, read_layout

RED = "FFFF0000"


def _name(wb, name, ref):
    wb.defined_names[name] = DefinedName(name, attr_text=ref)


def _small_template(path, region_rows=1, formula=True):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Doc"
    ws["A1"] = None
    ws["A1"].font = Font(bold=True, size=14)
    _name(wb, "title", "Doc!$A$1")
    ws["A3"], ws["B3"], ws["C3"] = "Date", "Doc", "Amount"
    for i in range(region_rows):
        r = 4 + i
        ws[f"A{r}"].number_format = "yyyy-mm-dd"
        ws[f"C{r}"].number_format = "#,##0.00"
        ws[f"C{r}"].fill = PatternFill("solid", fgColor="FFDDEBF7" if i % 2 else "FFFFFFFF")
    last = 3 + region_rows
    _name(wb, "items", f"Doc!$A$4:$C${last}")
    _name(wb, "item_date", "Doc!$A$4")
    _name(wb, "item_amount", "Doc!$C$4")   # doc_no found by its header text
    ws[f"B{last + 1}"] = "Total"
    ws[f"C{last + 1}"] = f"=SUM(C4:C{last})" if formula else None
    ws[f"A{last + 3}"] = None
    _name(wb, "footer", f"Doc!$A${last + 3}")
    ws.merge_cells(f"A{last + 3}:C{last + 3}")
    wb.save(path)
    return path


def _lines(n):
    return [{"date": dt.date(2026, 10, 1 + i), "doc_no": f"D{i}", "amount": Money(10.5 * (i + 1))} for i in range(n)]


def test_named_cells_and_region_fill(tmp_path):
    layout = read_layout(_small_template(tmp_path / "t.xlsx"), regions=("items",),
                         headers={"items": {"doc_no": ["Doc", "单据"]}})
    assert layout.region("items").columns == {0: "date", 1: "doc_no", 2: "amount"}
    out = fill(layout, tmp_path / "o.xlsx", {"title": "Hello", "footer": "=not a formula"},
               {"items": _lines(5)}, names=True)
    wb = openpyxl.load_workbook(out)
    ws = wb["Doc"]
    assert ws["A1"].value == "Hello" and ws["A1"].font.b
    assert [ws.cell(4 + i, 2).value for i in range(5)] == [f"D{i}" for i in range(5)]
    assert ws["A4"].value == dt.datetime(2026, 10, 1) and ws["A4"].number_format == "yyyy-mm-dd"
    assert ws["C8"].value == 52.5 and ws["C8"].number_format == "#,##0.00"
    assert ws["B9"].value == "Total"
    assert ws["C9"].value == "=SUM(C4:C8)"           # the range grew with the region
    assert ws["A11"].value == "=not a formula" and ws["A11"].data_type == "s"  # text stays text
    assert "A11:C11" in {str(m) for m in ws.merged_cells.ranges}
    # the written file carries the names, pointing at the filled cells
    assert wb.defined_names["items"].attr_text.endswith("$A$4:$C$8")
    assert wb.defined_names["footer"].attr_text.endswith("$A$11")


def test_banded_region_rows_alternate(tmp_path):
    layout = read_layout(_small_template(tmp_path / "t.xlsx", region_rows=2), regions=("items",),
                         headers={"items": {"doc_no": ["Doc"]}})
    out = fill(layout, tmp_path / "o.xlsx", {}, {"items": _lines(5)})
    ws = openpyxl.load_workbook(out)["Doc"]
    colours = [ws.cell(4 + i, 3).fill.fgColor.rgb for i in range(5)]
    assert colours == ["FFFFFFFF", "FFDDEBF7", "FFFFFFFF", "FFDDEBF7", "FFFFFFFF"]
    assert ws["C9"].value == "=SUM(C4:C8)"


def test_empty_region_writes_one_blank_row(tmp_path):
    layout = read_layout(_small_template(tmp_path / "t.xlsx"), regions=("items",),
                         headers={"items": {"doc_no": ["Doc"]}})
    ws = openpyxl.load_workbook(fill(layout, tmp_path / "o.xlsx", {}, {"items": []}))["Doc"]
    assert ws["B5"].value == "Total" and ws["A4"].value is None


def test_region_without_columns_is_an_error(tmp_path):
    wb = openpyxl.Workbook()
    _name(wb, "items", "Sheet!$A$2:$C$2")
    wb.save(tmp_path / "t.xlsx")
    with pytest.raises(TemplateError):
        read_layout(tmp_path / "t.xlsx", regions=("items",))


def _restyle(src, dst, drop_column_names=False):
    """What a user does in Excel: move the Balance column to the front (cut/insert carries the
    column's names along) and recolour the table header red."""
    wb = openpyxl.load_workbook(src)
    ws = wb.worksheets[0]
    dn = {n: d.attr_text for n, d in wb.defined_names.items()}
    header_row = 14  # 1-based: the row above the lines region (shipped template)
    region_row = int(dn["lines"].split("$")[-1])
    assert region_row == header_row + 1
    # rotate columns A..H -> balance (G) first: new order G A B C D E F H
    order = [7, 1, 2, 3, 4, 5, 6, 8]
    for r in (header_row, region_row):
        cells = {c: (ws.cell(r, c).value, copy(ws.cell(r, c)._style)) for c in range(1, 9)}
        for new_c, old_c in enumerate(order, start=1):
            ws.cell(r, new_c).value, ws.cell(r, new_c)._style = cells[old_c][0], copy(cells[old_c][1])
    letters = "ABCDEFGH"
    for name, ref in dn.items():
        if name.startswith("line_"):
            old_col = letters.index(ref.split("$")[1]) + 1
            new_col = order.index(old_col) + 1
            if drop_column_names:
                del wb.defined_names[name]
            else:
                wb.defined_names[name] = DefinedName(name, attr_text=ref.replace(f"${letters[old_col - 1]}$",
                                                                                  f"${letters[new_col - 1]}$"))
    for c in range(1, 9):
        ws.cell(header_row, c).fill = PatternFill("solid", fgColor=RED)
    wb.save(dst)
    return dst


@pytest.mark.parametrize("drop_names", [False, True])
def test_restyled_shipped_template_still_filled_correctly(tmp_path, drop_names):
    src = REPO_TEMPLATES / "statement.xlsx"
    tpl = _restyle(src, tmp_path / "restyled.xlsx", drop_column_names=drop_names)
    layout = read_layout(tpl, regions=("lines", "aging"), headers=statement_headers())
    assert layout.region("lines").columns[0] == "balance"
    lines = [{"date": dt.date(2026, 10, 3), "doc_no": "XS-1", "kind": "销售", "debit": Money(100),
              "balance": Money(150), "memo": "货物"},
             {"date": dt.date(2026, 10, 9), "doc_no": "SK-1", "kind": "回款", "credit": Money(30),
              "balance": Money(120), "memo": "转账"}]
    out = fill(layout, tmp_path / "o.xlsx", {"opening": Money(50), "closing": Money(120)},
               {"lines": lines, "aging": [{"label": "未到期", "amount": Money(120)}]})
    ws = openpyxl.load_workbook(out).worksheets[0]
    header = [ws.cell(14, c).value for c in range(1, 9)]
    assert header == ["余额", "日期", "单据编号", "类型", "到期日", "应收增加", "应收减少", "摘要"]
    assert all(ws.cell(14, c).fill.fgColor.rgb == RED for c in range(1, 9))
    by_header = [{h: ws.cell(r, c + 1).value for c, h in enumerate(header)} for r in (15, 16)]
    assert by_header[0]["余额"] == 150 and by_header[0]["单据编号"] == "XS-1" and by_header[0]["应收增加"] == 100
    assert by_header[1]["余额"] == 120 and by_header[1]["应收减少"] == 30 and by_header[1]["摘要"] == "转账"
    assert by_header[1]["日期"] == dt.datetime(2026, 10, 9)
    assert ws.cell(15, 1).number_format == "#,##0.00"
    # rows below moved down by one line: the aging table follows
    assert ws["A19"].value == "账龄" and ws["A20"].value == "未到期" and ws["B20"].value == 120


def test_theme_tint():
    assert _tinted("000000", 0) == "000000"
    assert _tinted("4472C4", 0.8) == "DAE3F3"   # Excel's "Blue, Accent 1, Lighter 80%"
    assert _tinted("4472C4", -0.5) == "203864"  # "Darker 50%"
