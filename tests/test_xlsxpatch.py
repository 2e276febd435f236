"""Tests for io/xlsxpatch: generated sheets and marks written into an existing workbook."""
from __future__ import annotations

import datetime as dt
import io
import os
import posixpath
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from defusedxml import ElementTree as SafeET

from custledger.io.xlsxpatch import (
    CellMark,
    TableNameError,
    UnsafePackageError,
    XlsxPatchError,
    ZipLimits,
    patch_workbook,
)
from custledger.io.xlsxpatch_marks import WS_TAIL_ORDER
from custledger.io.xlsxpatch_opc import check_well_formed, rels_name, rels_source, resolve_target
from custledger.io.xlsxpatch_styles import merge_styles

CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"


# -- fixtures: a person's workbook and a build of generated sheets ---------------------------
def _png() -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _vba_bin() -> bytes | None:
    try:
        import xlwings
    except Exception:
        return None
    path = Path(os.path.dirname(xlwings.__file__)) / "quickstart.xlsm"
    if not path.exists():
        return None
    with zipfile.ZipFile(path) as z:
        return z.read("xl/vbaProject.bin")


def make_source(path: Path, vba: bytes | None = None) -> Path:
    """An input workbook with everything a person might have made."""
    wb = xlsxwriter.Workbook(str(path))
    head = wb.add_format({"bold": True, "font_color": "#1F4E79", "bg_color": "#DDEBF7"})
    cust = wb.add_worksheet("Customers")
    cust.set_column("A:C", 16)
    rows = [["C001", "Acme 有限公司", "企业"], ["C002", "Bob", "个人"], ["C003", "Gov", "政府"],
            ["C004", "Dan", "企业"], ["C005", "Eve", "其他"]]
    cust.add_table(0, 0, len(rows), 2, {
        "name": "CustT", "data": rows,
        "columns": [{"header": h, "header_format": head} for h in ("customer_id", "name", "type")],
    })
    cust.data_validation("C2:C6", {"validate": "list", "source": ["企业", "个人", "政府", "其他"]})
    cust.write_comment("B2", "their own note", {"author": "Alice"})
    cust.conditional_format("A2:A6", {"type": "text", "criteria": "containing", "value": "C003",
                                      "format": wb.add_format({"font_color": "#9C0006"})})
    cust.insert_image("E8", "logo.png", {"image_data": io.BytesIO(_png())})
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=Customers!$A$2:$A$6"})
    cust.insert_chart("E12", chart)
    cust.insert_button("E2", {"macro": "run_close", "caption": "Close month"})

    inv = wb.add_worksheet("Invoices")
    inv.write_row(0, 0, ["doc_no", "date", "customer_id", "amount"], head)
    money = wb.add_format({"num_format": "#,##0.00"})
    for i in range(1, 30):
        inv.write_string(i, 0, f"XS-{i:04d}")
        inv.write_datetime(i, 1, dt.datetime(2024, 1, 1) + dt.timedelta(days=i), wb.add_format({"num_format": "yyyy-mm-dd"}))
        inv.write_string(i, 2, f"C00{1 + i % 5}")
        inv.write_number(i, 3, 100 * i + 0.5, money)
    inv.write_formula(30, 3, "=SUM(D2:D30)", money)
    wb.define_name("Invoices!LocalName", "=Invoices!$A$1")
    wb.define_name("GlobalName", "=Customers!$A$1")
    settings = wb.add_worksheet("参数")
    settings.write_row(0, 0, ["key", "value"])
    settings.write_row(1, 0, ["language", "en"])
    if vba is not None:
        wb.add_vba_project(io.BytesIO(vba), is_stream=True)
    wb.close()
    return path


def build(wb: xlsxwriter.Workbook, *, variant: int = 1, table_name: str = "AgingT") -> None:
    """Two generated sheets, as the ops layer would write them."""
    bold = wb.add_format({"bold": True})
    money = wb.add_format({"num_format": "#,##0.00"})
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    aging = wb.add_worksheet("Aging")
    headers = ["customer_id", "name", "total", "as_of", "link"]
    data = [[f"C00{i}", f"Name {i} v{variant}", 1000.25 * i * variant, dt.datetime(2024, 3, i), "open"]
            for i in range(1, 6)]
    aging.add_table(0, 0, len(data), len(headers) - 1, {
        "name": table_name,
        "columns": [{"header": h, "header_format": bold} for h in headers],
    })
    for r, row in enumerate(data, start=1):
        aging.write_string(r, 0, row[0])
        aging.write_string(r, 1, row[1])
        aging.write_number(r, 2, row[2], money)
        aging.write_datetime(r, 3, row[3], date)
        aging.write_url(r, 4, "internal:'Customers'!A1", string="customer")
    aging.write_formula(len(data) + 1, 2, f"=SUM(C2:C{len(data) + 1})", money)
    aging.write_url(len(data) + 2, 0, "https://example.com/statement", string="external")
    aging.conditional_format("C2:C6", {"type": "cell", "criteria": ">", "value": 3000,
                                       "format": wb.add_format({"font_color": "#C00000"})})
    aging.write_comment("A1", f"generated run {variant}")
    aging.freeze_panes(1, 0)
    aging.set_column(0, 1, 18)
    chart = wb.add_chart({"type": "bar"})
    chart.add_series({"values": "='Aging'!$C$2:$C$6", "categories": "='Aging'!$A$2:$A$6"})
    aging.insert_chart("H2", chart)
    aging.insert_image("H20", "mark.png", {"image_data": io.BytesIO(_png())})

    problems = wb.add_worksheet("Problems")
    problems.write_row(0, 0, ["sheet", "row", "column", "value", "problem", "severity"], bold)
    for i, text in enumerate(["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(1)"], start=1):
        problems.write(i, 0, "Invoices")
        problems.write(i, 1, i + 1)
        problems.write(i, 2, "amount")
        problems.write(i, 3, text)  # write(), not write_string(): must still land as text
        problems.write(i, 4, "bad value")
        problems.write(i, 5, "error")
    problems.autofilter(0, 0, 4, 5)


MARKS = [
    CellMark("Customers", "C3", "type must be one of 企业/个人/政府/其他", "error"),
    CellMark("Customers", "B2", "name looks duplicated", "warning"),   # Alice's comment is there
    CellMark("Invoices", "D5", "amount <= 0", "error"),
    CellMark("Invoices", "D5", "also: amount & quantity disagree", "warning"),  # same cell: merged
    CellMark("Invoices", "B7", "date in the future", "warning"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("xlsxpatch")
    src = make_source(d / "ledger.xlsx")
    out1 = d / "out1.xlsx"
    rep1 = patch_workbook(src, out1, build, ["Aging", "Problems"], MARKS, protect=True)
    out2 = d / "out2.xlsx"
    rep2 = patch_workbook(out1, out2, lambda wb: build(wb, variant=2), ["Aging", "Problems"],
                          [CellMark("Invoices", "A3", "duplicate doc_no", "error")],
                          clear_marks_on=["Customers", "Invoices", "Receipts"], protect=True)
    return {"dir": d, "src": src, "out1": out1, "out2": out2, "rep1": rep1, "rep2": rep2}  # type: ignore[dict-item]


# -- helpers ---------------------------------------------------------------------------------
def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def check_package(path: Path) -> None:
    """Zip CRCs, every rel target present, no orphan part, a content type for every part."""
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        names = set(z.namelist())
        types = SafeET.fromstring(z.read("[Content_Types].xml"))
        defaults = {e.get("Extension").lower() for e in types.iter(CT_NS + "Default")}
        overrides = {e.get("PartName").lstrip("/") for e in types.iter(CT_NS + "Override")}
        assert overrides <= names, f"overrides without part: {overrides - names}"
        reached, todo = set(), [""]
        while todo:
            src = todo.pop()
            rp = rels_name(src) if src else "_rels/.rels"
            if rp not in names:
                continue
            for rel in SafeET.fromstring(z.read(rp)):
                if rel.get("TargetMode") == "External":
                    continue
                target = resolve_target(src, rel.get("Target"))
                assert target in names, f"{rp}: missing target {rel.get('Target')}"
                if target not in reached:
                    reached.add(target)
                    todo.append(target)
        for n in names:
            if n == "[Content_Types].xml":
                continue
            owner = rels_source(n)
            if owner is not None:
                assert owner == "" or owner in names, f"rels of a missing part: {n}"
                continue
            assert n in reached, f"orphan part {n}"
            assert n in overrides or posixpath.splitext(n)[1][1:].lower() in defaults, f"no content type: {n}"


def sheet_part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as z:
        wb = SafeET.fromstring(z.read("xl/workbook.xml"))
        rels = SafeET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rid = next(s.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
               for s in wb.iter(ns + "sheet") if s.get("name") == name)
    target = next(r.get("Target") for r in rels if r.get("Id") == rid)
    return resolve_target("xl/workbook.xml", target)


def fills(ws) -> dict[str, str]:
    """cell -> fill colour of custledger rules on an openpyxl sheet."""
    out = {}
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            if rule.formula == ['N("custledger")=0']:
                for cell in str(cf.sqref).split():
                    out[cell] = rule.dxf.fill.bgColor.rgb
    return out


# -- tests -----------------------------------------------------------------------------------
def test_untouched_parts_are_byte_identical(files):
    before, after = parts(files["src"]), parts(files["out1"])
    cust, inv = sheet_part(files["src"], "Customers"), sheet_part(files["src"], "Invoices")
    allowed = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/styles.xml",
               cust, inv, rels_name(cust), rels_name(inv)}
    # the marked sheets' comments and VML parts may change too
    with zipfile.ZipFile(files["out1"]) as z:
        for sp in (cust, inv):
            for rel in SafeET.fromstring(z.read(rels_name(sp))):
                if rel.get("Type").endswith(("/comments", "/vmlDrawing")):
                    allowed.add(resolve_target(sp, rel.get("Target")))
    changed = {n for n in before if before[n] != after.get(n)}
    assert changed <= allowed, changed - allowed
    assert set(before) <= set(after)
    assert "xl/sharedStrings.xml" in before and before["xl/sharedStrings.xml"] == after["xl/sharedStrings.xml"]
    # untouched parts are copied compressed, as they were
    with zipfile.ZipFile(files["src"]) as a, zipfile.ZipFile(files["out1"]) as b:
        for n in set(before) - allowed:
            ia, ib = a.getinfo(n), b.getinfo(n)
            assert (ia.CRC, ia.compress_size, ia.compress_type) == (ib.CRC, ib.compress_size, ib.compress_type)
    assert files["rep1"].parts_copied == len(set(before) - changed)


def test_package_is_consistent_and_xml_strict(files):
    for key in ("out1", "out2"):
        check_package(files[key])
        before = parts(files["src"])
        for name, data in parts(files[key]).items():
            if before.get(name) != data and name.endswith((".xml", ".rels", ".vml")):
                SafeET.fromstring(data)  # raises on malformed XML


WS_ORDER = ["sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData",
            *WS_TAIL_ORDER]


def test_worksheet_elements_in_schema_order(files):
    for key in ("out1", "out2"):
        with zipfile.ZipFile(files[key]) as z:
            for n in z.namelist():
                if n.startswith("xl/worksheets/sheet"):
                    kids = [k.tag.rsplit("}", 1)[-1] for k in SafeET.fromstring(z.read(n))]
                    ranks = [WS_ORDER.index(k) for k in kids]
                    assert ranks == sorted(ranks), (n, kids)


def test_style_merge_gives_colliding_number_formats_fresh_ids():
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    dst = (f'<styleSheet xmlns="{main}"><numFmts count="1"><numFmt numFmtId="164" formatCode="0.000"/>'
           '</numFmts><fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts><fills count="2">'
           '<fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
           '</fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" '
           'fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" '
           'borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" '
           'applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
           'builtinId="0"/></cellStyles><dxfs count="0"/></styleSheet>').encode()
    gen = (f'<styleSheet xmlns="{main}"><numFmts count="1"><numFmt numFmtId="164" formatCode="#,##0.00"/>'
           '</numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/>'
           '<name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill>'
           '<fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border/></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
           '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" '
           'fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" '
           'fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle '
           'name="Normal" xfId="0" builtinId="0"/></cellStyles><dxfs count="1"><dxf><font><b/></font></dxf>'
           '</dxfs></styleSheet>').encode()
    merged = merge_styles(dst, gen, [])
    root = SafeET.fromstring(merged.xml)
    ns = "{" + main + "}"
    fmts = {e.get("numFmtId"): e.get("formatCode") for e in root.iter(ns + "numFmt")}
    assert fmts == {"164": "0.000", "165": "#,##0.00"}
    xfs = list(root.find(ns + "cellXfs"))
    assert merged.xf_map == [0, 2, 3]
    assert xfs[2].get("numFmtId") == "165" and xfs[1].get("numFmtId") == "164"
    assert root.find(ns + "fonts").get("count") == "2" and xfs[3].get("fontId") == "1"
    assert merged.dxf_map == [0] and root.find(ns + "dxfs").get("count") == "1"
    again = merge_styles(merged.xml, gen, [])  # idempotent: nothing new the second time
    assert not again.changed and again.xf_map == [0, 2, 3]


def test_openpyxl_sees_values_formats_tables(files):
    wb = openpyxl.load_workbook(files["out1"])
    assert wb.sheetnames == ["Customers", "Invoices", "参数", "Aging", "Problems"]
    ws = wb["Aging"]
    assert [c.value for c in ws[1]] == ["customer_id", "name", "total", "as_of", "link"]
    assert ws["A1"].font.b
    assert ws["C2"].value == 1000.25 and ws["C2"].number_format == "#,##0.00"
    assert ws["D3"].value == dt.datetime(2024, 3, 2) and ws["D3"].number_format == "yyyy-mm-dd"
    assert ws["C7"].value == "=SUM(C2:C6)"
    assert ws["E2"].hyperlink.location == "'Customers'!A1"
    assert ws["A8"].hyperlink.target == "https://example.com/statement"
    assert ws.freeze_panes == "A2"
    assert ws["A1"].comment.text == "generated run 1"
    assert list(ws.tables) == ["AgingT"] and ws.tables["AgingT"].ref == "A1:E6"
    (rule,) = [r for cf in ws.conditional_formatting for r in cf.rules]  # its dxf was remapped
    assert rule.operator == "greaterThan" and rule.dxf.font.color.rgb == "FFC00000"
    assert list(wb["Customers"].tables) == ["CustT"]
    assert ws.protection.sheet and ws.protection.password is None
    assert ws.protection.sort is False and ws.protection.autoFilter is False  # False = allowed
    assert ws.protection.formatColumns is False
    p = wb["Problems"]
    assert [p.cell(r, 4).value for r in range(2, 6)] == ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(1)"]
    assert all(p.cell(r, 4).data_type == "s" for r in range(2, 6))
    assert p.auto_filter.ref == "A1:F5"
    # the person's sheets are as they were
    cust = wb["Customers"]
    assert cust["B2"].value == "Acme 有限公司" and cust["A1"].font.b
    assert str(cust.data_validations.dataValidation[0].sqref) == "C2:C6"
    names = wb.defined_names
    assert "GlobalName" in names and "LocalName" in wb["Invoices"].defined_names
    with zipfile.ZipFile(files["out1"]) as z:
        wbxml = SafeET.fromstring(z.read("xl/workbook.xml"))
    local = [(d.get("name"), d.get("localSheetId"), d.text) for d in wbxml.iter() if d.tag.endswith("definedName")]
    assert ("_xlnm._FilterDatabase", "4", "Problems!$A$1:$F$5") in local  # Problems is index 4
    assert ("LocalName", "1", "Invoices!$A$1") in local
    # only one sheet is selected (xlsxwriter selects its first; we must not group tabs)
    assert sum(1 for s in wb.worksheets if s.sheet_view.tabSelected) == 1


def test_calamine_reads_values(files):
    python_calamine = pytest.importorskip("python_calamine")
    wb = python_calamine.CalamineWorkbook.from_path(str(files["out2"]))
    assert wb.sheet_names == ["Customers", "Invoices", "参数", "Aging", "Problems"]
    rows = wb.get_sheet_by_name("Aging").to_python()
    assert rows[0] == ["customer_id", "name", "total", "as_of", "link"]
    assert rows[1][:3] == ["C001", "Name 1 v2", 2000.5]
    assert wb.get_sheet_by_name("Customers").to_python()[1][:2] == ["C001", "Acme 有限公司"]


def test_marks_highlight_and_comment_without_touching_styles(files):
    wb0 = openpyxl.load_workbook(files["src"])
    wb = openpyxl.load_workbook(files["out1"])
    cust, inv = wb["Customers"], wb["Invoices"]
    assert fills(cust) == {"C3": "FFFFC7CE", "B2": "FFFFEB9C"}
    assert fills(inv) == {"D5": "FFFFC7CE", "B7": "FFFFEB9C"}  # error wins on D5
    assert cust["C3"].comment.author == "custledger"
    assert cust["C3"].comment.text.startswith("type must be")
    assert cust["B2"].comment.author == "Alice" and cust["B2"].comment.text == "their own note"
    assert inv["D5"].comment.text == "amount <= 0\nalso: amount & quantity disagree"
    # the person's own conditional format is still there, cell styles unchanged
    theirs = [r for cf in cust.conditional_formatting for r in cf.rules if r.type == "containsText"]
    assert len(theirs) == 1
    for ref in ("C3", "B2", "A1"):
        assert cust[ref].fill.fgColor.rgb == wb0["Customers"][ref].fill.fgColor.rgb
        assert cust[ref].font.b == wb0["Customers"][ref].font.b
    # stronger: everything up to </sheetData> is the same bytes, and old styles keep their index
    before, after = parts(files["src"]), parts(files["out1"])
    for sheet in ("Customers", "Invoices"):
        sp = sheet_part(files["src"], sheet)
        head = before[sp][: before[sp].index(b"</sheetData>")]
        assert after[sp].startswith(head)
    old_xfs = before["xl/styles.xml"].split(b"<cellXfs")[1].split(b"</cellXfs>")[0].split(b">", 1)[1]
    assert old_xfs in after["xl/styles.xml"].split(b"</cellXfs>")[0]
    rep = files["rep1"]
    assert (rep.marks_written, rep.marks_without_comment, rep.marks_cleared) == (4, 1, 0)


def test_second_patch_replaces_and_clears(files):
    rep = files["rep2"]
    assert rep.sheets_replaced == ("Aging", "Problems") and rep.sheets_added == ()
    assert rep.marks_cleared == 4 and rep.marks_written == 1
    wb = openpyxl.load_workbook(files["out2"])
    assert wb.sheetnames == ["Customers", "Invoices", "参数", "Aging", "Problems"]
    assert wb["Aging"]["B2"].value == "Name 1 v2" and wb["Aging"]["A1"].comment.text == "generated run 2"
    cust, inv = wb["Customers"], wb["Invoices"]
    assert fills(cust) == {} and fills(inv) == {"A3": "FFFFC7CE"}
    assert [c.coordinate for row in cust.iter_rows() for c in row if c.comment] == ["B2"]
    assert cust["B2"].comment.author == "Alice"
    assert [c.coordinate for row in inv.iter_rows() for c in row if c.comment] == ["A3"]
    assert len([r for cf in cust.conditional_formatting for r in cf.rules]) == 1  # theirs
    one, two = parts(files["out1"]), parts(files["out2"])
    # no duplicates: same number of tables, drawings, charts, images; old ones removed
    for kind in ("xl/tables/", "xl/charts/", "xl/drawings/drawing", "xl/media/", "xl/worksheets/sheet"):
        assert len([n for n in one if n.startswith(kind)]) == len([n for n in two if n.startswith(kind)]), kind
    assert one["xl/styles.xml"] == two["xl/styles.xml"]  # same formats: stylesheet does not grow
    assert one["[Content_Types].xml"] == two["[Content_Types].xml"]  # part names were reused
    # Customers had only clearing to do: its button and Alice's note shape are kept
    cust_part = sheet_part(files["out2"], "Customers")
    with zipfile.ZipFile(files["out2"]) as z:
        vml = next(resolve_target(cust_part, r.get("Target")) for r in SafeET.fromstring(z.read(rels_name(cust_part)))
                   if r.get("Type").endswith("/vmlDrawing"))
        text = z.read(vml).decode()
    assert text.count('ObjectType="Button"') == 1 and text.count('ObjectType="Note"') == 1
    assert "<x:Row>1</x:Row><x:Column>1</x:Column>" in text
    table_ids = []
    with zipfile.ZipFile(files["out2"]) as z:
        for n in z.namelist():
            if n.startswith("xl/tables/"):
                table_ids.append(SafeET.fromstring(z.read(n)).get("id"))
    assert len(table_ids) == len(set(table_ids)) == 2


def test_clearing_removes_parts_it_created(files):
    out3 = files["dir"] / "out3.xlsx"
    rep = patch_workbook(files["out2"], out3, build, [], clear_marks_on=["Invoices"])
    assert rep.marks_cleared == 1
    inv = sheet_part(out3, "Invoices")
    with zipfile.ZipFile(out3) as z:
        assert rels_name(inv) not in z.namelist()  # comments, VML and their rels are gone
        assert b"legacyDrawing" not in z.read(inv)
        assert b"custledger" not in z.read(inv)
    check_package(out3)
    # byte-identical to the source workbook's Invoices sheet again
    assert parts(out3)[inv] == parts(files["src"])[sheet_part(files["src"], "Invoices")]


def test_same_marks_twice_give_identical_parts(files):
    a, b = files["dir"] / "same_a.xlsx", files["dir"] / "same_b.xlsx"
    patch_workbook(files["src"], a, build, ["Aging", "Problems"], MARKS)
    patch_workbook(a, b, build, ["Aging", "Problems"], MARKS)
    pa, pb = parts(a), parts(b)
    for sheet in ("Customers", "Invoices"):
        sp = sheet_part(a, sheet)
        assert pa[sp] == pb[sp] and pa[rels_name(sp)] == pb[rels_name(sp)]
    assert pa["xl/styles.xml"] == pb["xl/styles.xml"]


def test_table_name_collision_is_a_clear_error(files):
    dst = files["dir"] / "clash.xlsx"
    with pytest.raises(TableNameError, match="CustT"):
        patch_workbook(files["src"], dst, lambda wb: build(wb, table_name="CustT"), ["Aging", "Problems"])
    assert not dst.exists()
    with pytest.raises(TableNameError, match="GlobalName"):
        patch_workbook(files["src"], dst, lambda wb: build(wb, table_name="GlobalName"), ["Aging", "Problems"])


def test_bad_arguments(files):
    dst = files["dir"] / "bad.xlsx"
    with pytest.raises(XlsxPatchError, match="expected"):
        patch_workbook(files["src"], dst, build, ["Aging"])  # build makes two sheets
    with pytest.raises(XlsxPatchError, match="no such worksheet"):
        patch_workbook(files["src"], dst, build, ["Aging", "Problems"], [CellMark("Nope", "A1", "x", "error")])
    with pytest.raises(XlsxPatchError, match="generated sheet"):
        patch_workbook(files["src"], dst, build, ["Aging", "Problems"], [CellMark("Aging", "A1", "x", "error")])
    with pytest.raises(XlsxPatchError, match="A0"):
        patch_workbook(files["src"], dst, build, ["Aging", "Problems"], [CellMark("Invoices", "A0", "x", "error")])
    with pytest.raises(ValueError):
        CellMark("Invoices", "A1", "x", "fatal")
    with pytest.raises(ValueError):
        patch_workbook(files["src"], files["src"], build, ["Aging", "Problems"])
    assert not dst.exists()


def test_xlsm_keeps_vba_and_content_type(tmp_path):
    vba = _vba_bin()
    if vba is None:
        pytest.skip("xlwings quickstart.xlsm not available")
    src = make_source(tmp_path / "ledger.xlsm", vba=vba)
    dst = tmp_path / "out.xlsm"
    patch_workbook(src, dst, build, ["Aging", "Problems"], MARKS[:1])
    before, after = parts(src), parts(dst)
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"] == vba
    assert b"application/vnd.ms-excel.sheet.macroEnabled.main+xml" in after["[Content_Types].xml"]
    assert b"vbaProject" in after["xl/_rels/workbook.xml.rels"]
    check_package(dst)
    wb = openpyxl.load_workbook(dst, keep_vba=True)
    assert wb.sheetnames[-2:] == ["Aging", "Problems"]


def test_constant_memory_build(tmp_path, files):
    dst = tmp_path / "cm.xlsx"

    def big(wb):
        ws = wb.add_worksheet("核销 明细")
        ws.write_row(0, 0, ["receipt_no", "amount"], wb.add_format({"bold": True}))
        for r in range(1, 2001):
            ws.write_string(r, 0, f"R{r}")
            ws.write_number(r, 1, r / 100, wb.add_format({"num_format": "#,##0.00"}))

    patch_workbook(files["src"], dst, big, ["核销 明细"], [CellMark("参数", "B2", "unknown language", "error")],
                   constant_memory=True)
    ws = openpyxl.load_workbook(dst, read_only=True)["核销 明细"]
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 2001 and rows[2000] == ("R2000", 20.0)
    check_package(dst)
    assert openpyxl.load_workbook(dst)["参数"]["B2"].comment.text == "unknown language"


def test_zip_guard(tmp_path, files):
    bomb = tmp_path / "bomb.xlsx"
    shutil.copy(files["src"], bomb)
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/zeros.bin", b"\0" * (8 << 20))
    with pytest.raises(UnsafePackageError, match="expands"):
        patch_workbook(bomb, tmp_path / "o.xlsx", build, ["Aging", "Problems"])
    with pytest.raises(UnsafePackageError, match="declares"):
        patch_workbook(files["src"], tmp_path / "o.xlsx", build, ["Aging", "Problems"],
                       limits=ZipLimits(max_total_bytes=10_000))
    evil = tmp_path / "evil.xlsx"
    shutil.copy(files["src"], evil)
    with zipfile.ZipFile(evil, "a") as z:
        z.writestr("../outside.txt", b"x")
    with pytest.raises(UnsafePackageError, match="unsafe"):
        patch_workbook(evil, tmp_path / "o.xlsx", build, ["Aging", "Problems"])
    dtd = tmp_path / "dtd.xlsx"
    with zipfile.ZipFile(files["src"]) as zin, zipfile.ZipFile(dtd, "w") as zout:
        for n in zin.namelist():
            data = zin.read(n)
            if n == "xl/workbook.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaa">]>', 1)
            zout.writestr(n, data)
    with pytest.raises(UnsafePackageError):
        patch_workbook(dtd, tmp_path / "o.xlsx", build, ["Aging", "Problems"])
    assert not (tmp_path / "o.xlsx").exists()


def test_well_formedness_check_catches_undeclared_prefixes():
    check_well_formed([b'<xml xmlns:v="urn:v"><v:shape/></xml>'], "ok")
    with pytest.raises(XlsxPatchError, match="malformed"):
        check_well_formed([b'<xml xmlns:ns1="urn:v">', b"<v:shape/></xml>"], "vml")
    with pytest.raises(XlsxPatchError):
        check_well_formed([b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'], "dtd")


def test_targets_outside_the_package_are_not_followed():
    assert resolve_target("xl/worksheets/sheet1.xml", "../../../etc/passwd") is None
    assert resolve_target("xl/worksheets/sheet1.xml", "/../x") is None
    assert resolve_target("xl/worksheets/sheet1.xml", "../tables/table1.xml") == "xl/tables/table1.xml"
    assert resolve_target("xl/workbook.xml", "/xl/styles.xml") == "xl/styles.xml"


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not on PATH")
def test_libreoffice_opens_result(files, tmp_path):
    profile = tmp_path / "profile"
    proc = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "xlsx",
         "--outdir", str(tmp_path / "lo"), str(files["out2"])],
        capture_output=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "lo" / "out2.xlsx"
    assert out.exists() and out.stat().st_size > 0
    wb = openpyxl.load_workbook(out)
    assert wb["Aging"]["C2"].value == 2000.5
    assert wb["Invoices"]["A3"].comment is not None


def test_openpyxl_made_source_with_its_own_vml_prefixes(tmp_path):
    from openpyxl.comments import Comment

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Customers"
    ws.append(["customer_id", "name"])
    ws.append(["C1", "A"])
    ws.append(["C2", "B"])
    ws["B2"].comment = Comment("mine", "Bob")
    src = tmp_path / "opx.xlsx"
    wb.save(src)
    out1, out2 = tmp_path / "o1.xlsx", tmp_path / "o2.xlsx"
    marks = [CellMark("Customers", "A3", "bad id", "error"), CellMark("Customers", "B2", "dup", "warning")]
    rep = patch_workbook(src, out1, lambda wb: wb.add_worksheet("Aging").write("A1", "x"), ["Aging"], marks)
    assert rep.marks_without_comment == 1
    check_package(out1)
    vml = next(d for n, d in parts(out1).items() if n.endswith(".vml"))
    SafeET.fromstring(vml)  # openpyxl binds ns0/ns1/ns2: our shapes must use those prefixes
    assert vml.count(b'ObjectType="Note"') == 2
    c = openpyxl.load_workbook(out1)["Customers"]
    assert (c["B2"].comment.author, c["A3"].comment.author) == ("Bob", "custledger")
    patch_workbook(out1, out2, lambda wb: wb.add_worksheet("Aging").write("A1", "y"), ["Aging"],
                   clear_marks_on=["Customers"])
    before, after = parts(src), parts(out2)
    for name in ("xl/worksheets/sheet1.xml", "xl/comments/comment1.xml", "xl/drawings/commentsDrawing1.vml"):
        assert before[name] == after[name], name


def test_excel_made_workbook(tmp_path):
    """quickstart.xlsm was saved by Excel: mc:Ignorable, x14ac, extLst, AlternateContent."""
    try:
        import xlwings
    except Exception:
        pytest.skip("xlwings not installed")
    src = Path(os.path.dirname(xlwings.__file__)) / "quickstart.xlsm"
    if not src.exists():
        pytest.skip("quickstart.xlsm not available")
    dst = tmp_path / "q.xlsm"
    patch_workbook(src, dst, build, ["Aging", "Problems"], [CellMark("Sheet1", "B3", "check", "error")])
    check_package(dst)
    before, after = parts(src), parts(dst)
    for name, data in after.items():
        if before.get(name) != data and name.endswith((".xml", ".rels", ".vml")):
            SafeET.fromstring(data)
    wbxml = after["xl/workbook.xml"]
    assert b'mc:Ignorable="x15 xr xr6 xr10 xr2"' in wbxml and b"x15ac:absPath" in wbxml  # kept verbatim
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    wb = openpyxl.load_workbook(dst, keep_vba=True)
    assert wb.sheetnames == ["Sheet1", "_xlwings.conf", "Aging", "Problems"]
    assert wb["Aging"]["C2"].number_format == "#,##0.00"
    assert wb["Sheet1"]["B3"].comment.author == "custledger"


def test_calc_chain_removed_when_a_sheet_is_replaced(tmp_path, files):
    src = tmp_path / "calc.xlsx"
    with zipfile.ZipFile(files["out1"]) as zin, zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zout:
        for n in zin.namelist():
            data = zin.read(n)
            if n == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/calcChain.xml" ContentType='
                                    b'"application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>')
            elif n == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.'
                                    b'openxmlformats.org/officeDocument/2006/relationships/calcChain" '
                                    b'Target="calcChain.xml"/></Relationships>')
            zout.writestr(n, data)
        zout.writestr("xl/calcChain.xml", b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                      b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                      b'<c r="C7" i="5"/></calcChain>')
    check_package(src)
    dst = tmp_path / "calc_out.xlsx"
    rep = patch_workbook(src, dst, build, ["Aging", "Problems"])
    assert "xl/calcChain.xml" in rep.parts_removed
    after = parts(dst)
    assert "xl/calcChain.xml" not in after and b"calcChain" not in after["[Content_Types].xml"]
    assert b"calcChain" not in after["xl/_rels/workbook.xml.rels"]
    assert b'fullCalcOnLoad="1"' in after["xl/workbook.xml"]
    check_package(dst)
