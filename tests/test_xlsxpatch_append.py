"""Tests for io/xlsxpatch appends: rows added below a person's input sheet at the XML level."""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from defusedxml import ElementTree as SafeET
from openpyxl.comments import Comment
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.worksheet.table import Table

from custledger.io.template import build_ledger
from custledger.io.xlsxpatch import CellMark, RowAppend, XlsxPatchError, patch_workbook
from custledger.io.xlsxpatch_append import excel_text, money_text, scan_sheet
from custledger.io.xlsxpatch_opc import rels_name, resolve_target
from custledger.schema import sheet
from test_xlsxpatch import build, check_package, fills, parts, sheet_part

python_calamine = pytest.importorskip("python_calamine")

RECEIPTS = sheet("receipts")
LETTERS = {f.key: chr(65 + i) for i, f in enumerate(RECEIPTS.fields)}   # template order A..I
KINDS = {f.key: f.kind for f in RECEIPTS.fields}


def receipts(n: int, start: int = 1, **over) -> pd.DataFrame:
    """n bank-imported receipts in the frame contract (cents, datetime64, str)."""
    k = range(start, start + n)
    frame = pd.DataFrame({
        "receipt_no": [f"BK{i:04d}" for i in k],
        "date": pd.to_datetime([dt.date(2026, 10, 1) + dt.timedelta(days=i) for i in k]).astype("datetime64[ns]"),
        "customer_id": [f"C{i:03d}" for i in k],
        "payer": [f"付款方 {i}" for i in k],
        "amount": pd.Series([100_000 + i for i in k], dtype="int64"),
        "method": "转账",
        "memo": [f"货款 XS-{i}" for i in k],
        "applied_to": "",
        "bank_ref": [f"HQ{i:08d}" for i in k],
    })
    for key, values in over.items():
        frame[key] = values
    return frame


def append(frame: pd.DataFrame, name: str = "回款记录", **kw) -> RowAppend:
    return RowAppend(sheet=name, columns={k: LETTERS[k] for k in frame.columns},
                     kinds={k: KINDS[k] for k in frame.columns}, rows=frame, **kw)


def calamine_rows(path: Path, name: str) -> list[list]:
    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def table_refs(path: Path, part: str) -> list[tuple[str, str]]:
    """(table ref, autoFilter ref) of the tables of a sheet part."""
    out = []
    with zipfile.ZipFile(path) as z:
        for rel in SafeET.fromstring(z.read(rels_name(part))):
            if rel.get("Type").endswith("/table"):
                t = SafeET.fromstring(z.read(resolve_target(part, rel.get("Target"))))
                af = next(e for e in t if e.tag.endswith("autoFilter"))
                out.append((t.get("ref"), af.get("ref")))
    return out


def dimension(path: Path, part: str) -> str:
    with zipfile.ZipFile(path) as z:
        return re.search(rb'<dimension ref="([^"]*)"', z.read(part)).group(1).decode()


def rows_xml(data: bytes) -> dict[int, bytes]:
    return {int(m.group(1)): m.group(0) for m in re.finditer(rb'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', data, re.S)}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("append")
    src = build_ledger(d / "ledger.xlsx", "zh")
    one, two = d / "one.xlsx", d / "two.xlsx"
    rep1 = patch_workbook(src, one, build, ["Aging", "Problems"], appends=[append(receipts(1))])
    rep2 = patch_workbook(one, two, build, ["Aging", "Problems"], appends=[append(receipts(3, start=2))])
    return {"dir": d, "src": src, "one": one, "two": two, "rep1": rep1, "rep2": rep2,
            "part": sheet_part(src, "回款记录")}


# -- (a) the template: the table's empty placeholder row is filled first, then the table grows --
def test_template_placeholder_row_filled_then_table_grows(template):
    part = template["part"]
    assert table_refs(template["src"], part) == [("A1:I2", "A1:I2")]
    assert template["rep1"].rows_appended == 1 and template["rep2"].rows_appended == 3
    rows = calamine_rows(template["one"], "回款记录")
    assert len(rows) == 2 and rows[1][:6] == ["BK0001", dt.date(2026, 10, 2), "C001", "付款方 1", 1000.01, "转账"]
    assert table_refs(template["one"], part) == [("A1:I2", "A1:I2")]   # row 2 was the placeholder
    assert dimension(template["one"], part) == "A1:I2"
    rows = calamine_rows(template["two"], "回款记录")
    assert [r[0] for r in rows[1:]] == ["BK0001", "BK0002", "BK0003", "BK0004"]
    assert rows[4][4] == 1000.04 and rows[4][8] == "HQ00000004"
    assert table_refs(template["two"], part) == [("A1:I5", "A1:I5")]
    assert dimension(template["two"], part) == "A1:I5"
    ws = openpyxl.load_workbook(template["two"])["回款记录"]
    assert ws["B5"].number_format == "yyyy-mm-dd" and ws["B5"].is_date      # the column's style
    assert ws["E5"].number_format == "#,##0.00"
    assert ws["H5"].value is None                                           # blank: no cell
    assert ws.tables["tblReceipts"].ref == "A1:I5"
    check_package(template["two"])


# -- (g) every other part byte-identical ---------------------------------------------------------
def test_other_parts_are_byte_identical(template, tmp_path):
    part = template["part"]
    with zipfile.ZipFile(template["src"]) as z:
        table = next(resolve_target(part, r.get("Target")) for r in SafeET.fromstring(z.read(rels_name(part))))
    # appends only: the appended sheet is the one part that changes (row 2 was already in the
    # table; the template's column styles serve, so styles.xml is untouched)
    only = tmp_path / "only.xlsx"
    rep = patch_workbook(template["src"], only, build, [], appends=[append(receipts(1))])
    before, after = parts(template["src"]), parts(only)
    assert set(before) == set(after)
    assert {n for n in before if before[n] != after[n]} == {part}
    assert rep.parts_rewritten == (part,) and rep.parts_copied == len(before) - 1
    with zipfile.ZipFile(template["src"]) as a, zipfile.ZipFile(only) as b:
        for n in set(before) - {part}:  # copied compressed, as they were
            ia, ib = a.getinfo(n), b.getinfo(n)
            assert (ia.CRC, ia.compress_size, ia.compress_type) == (ib.CRC, ib.compress_size, ib.compress_type)
    # the second run grows the table: that part changes too, nothing else of the person's
    before, after = parts(template["one"]), parts(template["two"])
    gen = {n for n in after if n not in parts(template["src"])} | {"xl/workbook.xml"}
    changed = {n for n in before if before[n] != after.get(n)} - gen
    assert changed == {part, table}
    # the head of the appended sheet (up to the insertion) is the source's bytes, the tail too
    src, out = parts(template["one"])[part], parts(template["two"])[part]
    cut = src.index(b"</row>", src.index(b'<row r="2"')) + len(b"</row>")
    dim = b'<dimension ref="A1:I2"/>'
    assert out.startswith(src[:cut].replace(dim, b'<dimension ref="A1:I5"/>'))
    assert out.endswith(src[cut:])
    with zipfile.ZipFile(template["one"]) as a, zipfile.ZipFile(template["two"]) as b:
        for n in set(before) - changed - gen:  # copied compressed, as they were
            ia, ib = a.getinfo(n), b.getinfo(n)
            assert (ia.CRC, ia.compress_size) == (ib.CRC, ib.compress_size), n


# -- (b) an openpyxl sheet with styled rows: new cells take the row above's styles ----------------
def _styled_source(path: Path, trailing_styled: int = 0) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Receipts"
    ws.append(["receipt_no", "date", "customer_id", "payer", "amount", "method", "memo", "applied_to", "bank_ref"])
    for c in ws[1]:
        c.font = Font(bold=True, color="FFFFFFFF")
        c.fill = PatternFill("solid", fgColor="FF1F4E78")
    thin = Side(style="thin", color="FF999999")
    for i in range(2, 5):
        ws.append([f"R{i}", dt.datetime(2026, 9, i), "C001", "Acme", 10 * i + 0.25, "转账", "memo", None, f"B{i}"])
        ws.cell(i, 2).number_format = "dd/mm/yyyy"
        ws.cell(i, 5).number_format = "¥#,##0.00;[Red]-¥#,##0.00"
        ws.cell(i, 5).font = Font(italic=True)
        ws.cell(i, 1).border = Border(bottom=thin)
    for i in range(5, 5 + trailing_styled):  # empty rows someone formatted in advance
        ws.row_dimensions[i].height = 21
        for j in (1, 2, 4, 10):
            ws.cell(i, j).fill = PatternFill("solid", fgColor="FFEEEEEE")
    wb.save(path)
    return path


def test_openpyxl_sheet_new_cells_take_styles_of_the_row_above(tmp_path):
    src = _styled_source(tmp_path / "opx.xlsx")
    out = tmp_path / "out.xlsx"
    rep = patch_workbook(src, out, build, [], appends=[append(receipts(2), "Receipts")])
    assert rep.rows_appended == 2
    ws = openpyxl.load_workbook(out)["Receipts"]
    for r in (5, 6):
        assert ws.cell(r, 2).number_format == "dd/mm/yyyy" and ws.cell(r, 2).is_date
        assert ws.cell(r, 5).number_format == "¥#,##0.00;[Red]-¥#,##0.00" and ws.cell(r, 5).font.i
        assert ws.cell(r, 1).border.bottom.style == "thin"
        assert not ws.cell(r, 1).font.b   # not the header's style
    assert ws["B5"].value == dt.datetime(2026, 10, 2) and ws["E6"].value == 1000.02
    assert [c.value for c in ws[4]][:2] == ["R4", dt.datetime(2026, 9, 4)]
    assert ws.max_row == 6
    check_package(out)


def test_date_under_a_general_cell_gets_a_date_format_and_keeps_the_rest(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Receipts"
    ws.append(["receipt_no", "date", "amount"])
    ws.append(["R1", 46000, 5])  # a date typed as a bare number, General, but with a fill
    ws["B2"].fill = PatternFill("solid", fgColor="FFFFFF00")
    src, out = tmp_path / "g.xlsx", tmp_path / "g_out.xlsx"
    wb.save(src)
    ra = RowAppend("receipts", {"receipt_no": "A", "date": "B", "amount": "C"},
                   {"receipt_no": "id", "date": "date", "amount": "money"},
                   receipts(1)[["receipt_no", "date", "amount"]])
    patch_workbook(src, out, build, [], appends=[ra])
    ws = openpyxl.load_workbook(out)["Receipts"]
    assert ws["B3"].number_format == "yyyy-mm-dd" and ws["B3"].fill.fgColor.rgb == "FFFFFF00"
    assert ws["B3"].value == dt.datetime(2026, 10, 2)
    assert ws["C3"].number_format == "General" and ws["C3"].value == 1000.01  # its row above's style
    # a re-run asks for the same derived style: the stylesheet does not grow
    again = tmp_path / "g_again.xlsx"
    patch_workbook(out, again, build, [], appends=[ra])
    assert parts(again)["xl/styles.xml"] == parts(out)["xl/styles.xml"]


def test_header_only_sheet_without_column_styles_gets_default_formats(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "R"
    ws.append(["no", "date", "amount"])
    ws["A1"].font = Font(bold=True)
    src, out = tmp_path / "h.xlsx", tmp_path / "h_out.xlsx"
    wb.save(src)
    frame = receipts(2)[["receipt_no", "date", "amount"]]
    patch_workbook(src, out, build, [], appends=[
        RowAppend("R", {"receipt_no": "A", "date": "B", "amount": "C"},
                  {"receipt_no": "id", "date": "date", "amount": "money"}, frame)])
    ws = openpyxl.load_workbook(out)["R"]
    assert not ws["A2"].font.b                       # the header is not a style source
    assert ws["B2"].number_format == "yyyy-mm-dd" and ws["C3"].number_format == "#,##0.00"


# -- (c) a person's comment and a mark on the same sheet, in the same call ------------------------
def test_appends_and_marks_in_one_call(tmp_path):
    src = _styled_source(tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(src)
    wb["Receipts"]["D3"].comment = Comment("ask about this payer", "Alice")
    wb.save(src)
    out, out2 = tmp_path / "c_out.xlsx", tmp_path / "c_out2.xlsx"
    marks = [CellMark("Receipts", "E2", "amount looks wrong", "error"),
             CellMark("Receipts", "D3", "payer unknown", "warning")]
    rep = patch_workbook(src, out, build, ["Aging", "Problems"], marks,
                         clear_marks_on=["Receipts"], appends=[append(receipts(2), "Receipts")])
    assert (rep.rows_appended, rep.marks_written, rep.marks_without_comment) == (2, 2, 1)
    check_package(out)
    ws = openpyxl.load_workbook(out)["Receipts"]
    assert fills(ws) == {"E2": "FFFFC7CE", "D3": "FFFFEB9C"}
    assert ws["D3"].comment.author == "Alice" and ws["E2"].comment.author == "custledger"
    assert ws["A5"].value == "BK0001" and ws["A6"].value == "BK0002"
    # the next run clears the marks and appends again, on the same sheet
    rep = patch_workbook(out, out2, build, ["Aging", "Problems"], clear_marks_on=["Receipts"],
                         appends=[append(receipts(1, start=3), "Receipts")])
    assert (rep.rows_appended, rep.marks_cleared) == (1, 2)
    ws = openpyxl.load_workbook(out2)["Receipts"]
    assert fills(ws) == {} and ws["D3"].comment.author == "Alice" and ws["E2"].comment is None
    assert [ws.cell(r, 1).value for r in range(5, 8)] == ["BK0001", "BK0002", "BK0003"]
    check_package(out2)


# -- (d) data ends before many empty styled rows ---------------------------------------------------
def test_appends_after_the_last_value_row_merging_styled_empty_rows(tmp_path):
    src = _styled_source(tmp_path / "d.xlsx", trailing_styled=300)
    out = tmp_path / "d_out.xlsx"
    part = sheet_part(src, "Receipts")
    before = parts(src)[part]
    assert dimension(src, part) == "A1:J304"
    patch_workbook(src, out, build, [], appends=[append(receipts(2), "Receipts")])
    after = parts(out)[part]
    ws = openpyxl.load_workbook(out)["Receipts"]
    assert [ws.cell(r, 1).value for r in (4, 5, 6, 7)] == ["R4", "BK0001", "BK0002", None]
    # merged: the row's height and its other styled cells stay; the cells written take the row
    # above's style (not the pre-formatted grey fill)
    assert ws.row_dimensions[5].height == 21 and ws.cell(5, 10).fill.fgColor.rgb == "FFEEEEEE"
    assert ws.cell(5, 2).number_format == "dd/mm/yyyy" and ws.cell(5, 2).fill.fgColor.rgb != "FFEEEEEE"
    b, a = rows_xml(before), rows_xml(after)
    assert set(a) == set(b)
    assert all(a[r] == b[r] for r in b if r not in (5, 6))          # every other row: same bytes
    assert b' spans=' not in a[5] and b'ht="21"' in a[5]
    assert after.startswith(before[: before.index(b'<row r="5"')])  # the head, byte for byte
    assert dimension(out, part) == "A1:J304"


def test_self_closing_and_unstyled_trailing_rows(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["no", "amount"])
    ws.append(["R1", 1])
    ws.row_dimensions[3].height = 30   # <row r="3" ht="30" customHeight="1"/>: no cells
    ws.row_dimensions[9].height = 30
    src, out = tmp_path / "s.xlsx", tmp_path / "s_out.xlsx"
    wb.save(tmp_path / "s0.xlsx")
    with zipfile.ZipFile(tmp_path / "s0.xlsx") as zin, zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zout:
        for n in zin.namelist():
            data = zin.read(n)
            if n == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<row r="3" ht="30" customHeight="1"></row>',
                                    b'<row r="3" ht="30" customHeight="1"/>')
            zout.writestr(n, data)
    assert b'<row r="3" ht="30" customHeight="1"/>' in parts(src)["xl/worksheets/sheet1.xml"]
    frame = pd.DataFrame({"receipt_no": ["X1", "X2"], "amount": pd.Series([250, 5], dtype="int64")})
    patch_workbook(src, out, build, [], appends=[RowAppend("Sheet", {"receipt_no": "A", "amount": "B"},
                                                           {"receipt_no": "id", "amount": "money"}, frame)])
    ws = openpyxl.load_workbook(out).active
    assert [[c.value for c in r] for r in ws.iter_rows(min_row=2, max_row=4)] == [
        ["R1", 1], ["X1", 2.5], ["X2", 0.05]]
    assert ws.row_dimensions[3].height == 30 and ws.row_dimensions[9].height == 30
    xml = parts(out)["xl/worksheets/sheet1.xml"]
    assert b'<row r="3" ht="30" customHeight="1"><c r="A3" t="inlineStr">' in xml
    assert rows_xml(xml)[9] == rows_xml(parts(src)["xl/worksheets/sheet1.xml"])[9]
    assert dimension(src, "xl/worksheets/sheet1.xml") == "A1:B2"
    assert dimension(out, "xl/worksheets/sheet1.xml") == "A1:B4"


# -- (e) formula-looking text stays text; (f) exact money ----------------------------------------------
def test_formula_looking_text_stays_text_and_money_is_exact(tmp_path):
    src = build_ledger(tmp_path / "t.xlsx", "en")
    out = tmp_path / "t_out.xlsx"
    texts = ["=1+1", "+1", "-2", "@SUM(A1)", "a & b <c>", " lead", "tab\there", "ctl\x01x", "_x0041_"]
    cents = [123449, 1, -5, 10**15 + 1, 100, 123450, 0, 7, 99]
    frame = receipts(len(texts), payer=texts, amount=pd.Series(cents, dtype="int64"))
    patch_workbook(src, out, build, [], appends=[append(frame, "Receipts")])
    ws = openpyxl.load_workbook(out)["Receipts"]
    for i, text in enumerate(texts, start=2):
        if "_x" not in excel_text(text):  # openpyxl does not decode Excel's _xHHHH_ escapes
            assert ws.cell(i, 4).value == text and ws.cell(i, 4).data_type == "s", text
    rows = calamine_rows(out, "Receipts")
    assert [r[3] for r in rows[1:]] == texts    # calamine decodes them, as Excel does
    assert [r[4] for r in rows[1:]] == [1234.49, 0.01, -0.05, 10000000000000.01, 1.0, 1234.5, 0.0, 0.07, 0.99]
    xml = parts(out)[sheet_part(out, "Receipts")]
    assert b"<v>1234.49</v>" in xml and b"<v>1234.5</v>" in xml and b"<v>10000000000000.01</v>" in xml
    assert b"<f>" not in xml
    assert [money_text(c) for c in (123449, 123450, 100, -5, 0, -100001)] == [
        "1234.49", "1234.5", "1", "-0.05", "0", "-1000.01"]
    assert excel_text("a<b & _x0041_\x02") == "a&lt;b &amp; _x005F_x0041__x0002_"


def test_blank_and_typed_values(tmp_path):
    src = build_ledger(tmp_path / "b.xlsx", "en")
    out = tmp_path / "b_out.xlsx"
    frame = pd.DataFrame({
        "receipt_no": ["R1", "R2"],
        "date": pd.to_datetime(["2026-10-01", None]).astype("datetime64[ns]"),
        "amount": pd.array([150, None], dtype="Int64"),
        "memo": [None, float("nan")],
        "applied_to": [["XS-1", "XS-2"], ""],
    })
    patch_workbook(src, out, build, [], appends=[append(frame, "Receipts")])
    rows = calamine_rows(out, "Receipts")
    assert rows[1][:5] == ["R1", dt.date(2026, 10, 1), "", "", 1.5] and rows[1][7] == "XS-1, XS-2"
    assert rows[2] == ["R2"] + [""] * 8
    with pytest.raises(XlsxPatchError, match="integer cents"):
        patch_workbook(src, tmp_path / "bad.xlsx", build, [], appends=[
            append(pd.DataFrame({"receipt_no": ["R"], "amount": [12.5]}), "Receipts")])
    assert not (tmp_path / "bad.xlsx").exists()


def test_1904_workbook_dates(tmp_path):
    wb = openpyxl.Workbook()
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    ws = wb.active
    ws.append(["no", "date"])
    ws.append(["R0", dt.datetime(2020, 1, 1)])
    src, out = tmp_path / "m.xlsx", tmp_path / "m_out.xlsx"
    wb.save(src)
    assert b'date1904="1"' in parts(src)["xl/workbook.xml"]
    frame = pd.DataFrame({"receipt_no": ["R1"], "date": pd.to_datetime(["2026-10-01"])})
    patch_workbook(src, out, build, [], appends=[RowAppend("Sheet", {"receipt_no": "A", "date": "B"},
                                                           {"receipt_no": "id", "date": "date"}, frame)])
    assert openpyxl.load_workbook(out).active["B3"].value == dt.datetime(2026, 10, 1)
    assert b"<v>44834</v>" in parts(out)["xl/worksheets/sheet1.xml"]   # days since 1904-01-01


# -- refusals -----------------------------------------------------------------------------------
def test_refusals(tmp_path, template):
    dst = tmp_path / "no.xlsx"
    with pytest.raises(XlsxPatchError, match="'Nope': no such worksheet"):
        patch_workbook(template["src"], dst, build, [], appends=[append(receipts(1), "Nope")])
    with pytest.raises(XlsxPatchError, match="generated sheet"):
        patch_workbook(template["src"], dst, build, ["Aging", "Problems"], appends=[append(receipts(1), "aging")])
    with pytest.raises(XlsxPatchError, match="column letter"):
        patch_workbook(template["src"], dst, build, [], appends=[
            RowAppend("回款记录", {"receipt_no": "A1"}, {"receipt_no": "id"}, receipts(1))])
    with pytest.raises(TypeError):
        patch_workbook(template["src"], dst, build, [], appends=[("回款记录", None, receipts(1))])
    # a table with a totals row
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["no", "amount"])
    ws.append(["R1", 1])
    ws.append(["Total", "=SUBTOTAL(109,[amount])"])
    ws.add_table(Table(displayName="T1", ref="A1:B3", totalsRowCount=1))
    src = tmp_path / "tot.xlsx"
    wb.save(src)
    frame = pd.DataFrame({"receipt_no": ["X"]})
    with pytest.raises(XlsxPatchError, match="totals row"):
        patch_workbook(src, dst, build, [],
                       appends=[RowAppend("Sheet", {"receipt_no": "A"}, {"receipt_no": "id"}, frame)])
    assert not dst.exists()


# -- the scanner ----------------------------------------------------------------------------------
def _sheet_xml(n_rows: int, trailing: int = 0, prefix: str = "") -> bytes:
    p = prefix
    rows = [f'<{p}row r="{i}" spans="1:2"><{p}c r="A{i}" t="inlineStr"><{p}is><{p}t>row {i}</{p}t></{p}is></{p}c>'
            f'<{p}c r="B{i}" s="2"><{p}v>{i}</{p}v></{p}c></{p}row>' for i in range(1, n_rows + 1)]
    rows += [f'<{p}row r="{i}" ht="20" customHeight="1"><{p}c r="A{i}" s="3"/></{p}row>'
             for i in range(n_rows + 1, n_rows + 1 + trailing)]
    decl = f'xmlns:{p[:-1]}' if p else "xmlns"
    return (f'<?xml version="1.0"?><{p}worksheet {decl}="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<{p}dimension ref="A1:B{n_rows}"/><{p}cols><{p}col min="2" max="3" width="9" style="5"/></{p}cols>'
            f'<{p}sheetData>{"".join(rows)}</{p}sheetData><{p}pageMargins left="0.7"/></{p}worksheet>').encode()


@pytest.mark.parametrize("size", [1, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("prefix", ["", "x:"])
def test_scan_finds_the_last_value_row_at_any_chunk_boundary(size, prefix):
    data = _sheet_xml(40, trailing=10, prefix=prefix)
    sc = scan_sheet((data[i:i + size] for i in range(0, len(data), size)), 3, "t")
    assert sc.prefix == prefix and sc.last.r == 40 and sc.first_value_r == 1
    assert [r.r for r in sc.trailing] == [41, 42, 43]
    assert data[sc.last.start:sc.last.end].startswith(f'<{prefix}row r="40"'.encode())
    assert data[sc.trailing[-1].end:].startswith(f'<{prefix}row r="44"'.encode())
    assert sc.col_style(1) == sc.col_style(2) == 5 and sc.col_style(0) is None
    assert data[:sc.head_len].endswith(f"</{prefix}sheetData>".encode())
    assert sc.tail == data[sc.head_len:]
    assert data[sc.dimension[0]:sc.dimension[1]] == f'<{prefix}dimension ref="A1:B40"/>'.encode()


def test_big_sheet_is_streamed_with_bounded_memory():
    """200,000 rows (~20 MB of XML): pass 1 keeps one row and the rows within reach."""
    n = 200_000
    row = '<row r="{0}" spans="1:2"><c r="A{0}" t="s"><v>{0}</v></c><c r="B{0}" s="2"><v>1.5</v></c></row>'
    head = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<dimension ref="A1:B200000"/><sheetData>')

    def chunks():
        yield head
        for k in range(0, n, 10_000):
            yield "".join(row.format(i) for i in range(k + 1, k + 10_001)).encode()
        yield b"</sheetData></worksheet>"

    t0 = time.perf_counter()
    sc = scan_sheet(chunks(), 5, "big")
    took = time.perf_counter() - t0
    assert sc.last.r == n and sc.trailing == [] and len(sc.last.xml) < 200
    assert took < 5, took


# -- (h) LibreOffice opens the result ---------------------------------------------------------------
@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not on PATH")
def test_libreoffice_opens_appended_workbook(template, tmp_path):
    profile = tmp_path / "profile"
    proc = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "xlsx",
         "--outdir", str(tmp_path / "lo"), str(template["two"])],
        capture_output=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "lo" / "two.xlsx"
    ws = openpyxl.load_workbook(out)["回款记录"]
    assert [ws.cell(r, 1).value for r in range(2, 6)] == ["BK0001", "BK0002", "BK0003", "BK0004"]
    assert ws["B5"].value == dt.datetime(2026, 10, 5) and ws["E5"].value == 1000.04
    assert ws.tables["tblReceipts"].ref == "A1:I5"
