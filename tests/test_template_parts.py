"""render/template_parts.py writes what the reference route (template_fill.fill, xlsxwriter)
writes: the same sheet XML once style and string indexes are resolved, the same other parts
(workbook with its names, content types, relationships, properties, theme), the same cells,
styles, merges, widths, heights and print setup read back by openpyxl, the same values by
calamine and by LibreOffice; text stays text and XML-invalid characters are escaped."""

import datetime as dt
import re
import shutil
import subprocess
import zipfile

import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName
from python_calamine import CalamineWorkbook
from xlsxwriter.utility import _datetime_to_excel_datetime

from custledger.render.build_templates import REPO_TEMPLATES, shipped
from custledger.render.letter import letter_headers
from custledger.render.statement import statement_headers
from custledger.render.template_fill import Money, fill, read_layout
from custledger.render.template_parts import excel_serial, parts_for, string_item, write_filled, zip_package
from test_no_formula_from_data import cell_formulas
from test_template_fill import _lines, _restyle, _small_template

PROPS = {"title": "statement", "author": "启明", "created": dt.datetime(2026, 10, 31)}
SHEET, STRINGS, STYLES = "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/styles.xml"
TRICKY = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2", "@SUM(A1)", "a & b < c > \"q\"", "ctrl\x01\x02x\x1f",
          "_x0041_ literal", "  lead", "trail ", "line\nbreak\r\n", "tab\t", "\u3000全角", "emoji 😀", "x\ufffe",
          "长" * 40000]


def _lines_of(n):
    return [{"date": dt.date(2026, 10, 1 + i % 28), "doc_no": TRICKY[i % len(TRICKY)][:60], "kind": "销售",
             "due_date": dt.datetime(2026, 11, 1, 9, 30) if i % 3 else None, "debit": Money(1234.5 * i) if i % 2 else None,
             "credit": Money(0.1 + 0.2) if i % 4 == 1 else None, "balance": Money(-5.25 * i),
             "memo": TRICKY[(i + 3) % len(TRICKY)]} for i in range(n)]


def _statement_values():
    return {"customer_name": TRICKY[0], "company_name": "+1+1", "title": "=1+1", "customer_id": 12345, "customer_phone": True,
            "customer_address": TRICKY[-1], "period": dt.date(1900, 2, 28), "statement_date": dt.datetime(1900, 1, 1, 12),
            "opening": Money(1.5), "closing": float("nan"), "invoiced": float("inf"), "credited": 2**60,
            "received": Money(-0.0), "unapplied": 1e-7, "payment_instructions": TRICKY[9], "currency": None}


def _cases(tmp):
    statement = {lang: read_layout(shipped("statement", lang), ("lines", "aging"), statement_headers())
                 for lang in ("zh", "en")}
    letter = read_layout(shipped("letter", "zh"), ("items",), letter_headers())
    small = {n: read_layout(_small_template(tmp / f"t{n}.xlsx", region_rows=n), regions=("items",),
                            headers={"items": {"doc_no": ["Doc"]}}) for n in (1, 2, 3)}
    restyled = read_layout(_restyle(REPO_TEMPLATES / "statement.xlsx", tmp / "restyled.xlsx", drop_column_names=True),
                           regions=("lines", "aging"), headers=statement_headers())
    aging = [{"label": "未到期", "amount": Money(120)}, {"label": "1-30", "amount": Money(0)}]
    # a sheet with a default row height, a hidden row, a zero-height row, a hidden column with a
    # width, landscape A3 with a print area and a header (row attributes, dimension, names)
    wb = openpyxl.load_workbook(tmp / "t2.xlsx")
    ws = wb.active
    ws.sheet_format.defaultRowHeight, ws.sheet_format.customHeight = 18, True
    ws.row_dimensions[2].hidden = True
    ws.row_dimensions[5].height = 0
    ws.column_dimensions["F"].width, ws.column_dimensions["F"].hidden = 5, True
    ws.page_setup.orientation, ws.page_setup.paperSize = "landscape", 8
    ws.print_area = "A1:C12"
    ws.oddHeader.center.text = "&P / &N"
    wb.save(tmp / "odd.xlsx")
    odd = read_layout(tmp / "odd.xlsx", regions=("items",), headers={"items": {"doc_no": ["Doc"]}})
    assert odd.default_row_height and odd.page["print_area"] and 5 in odd.col_widths
    return {
        "odd-sheet": (odd, {"title": "T"}, {"items": _lines(20)}, {}, True),
        "odd-sheet-empty": (odd, {}, {}, {}, False),
        "statement-zh": (statement["zh"], _statement_values(), {"lines": _lines_of(40), "aging": aging},
                         {"title": "=1+1", "note": "x"}, True),
        "statement-en-empty": (statement["en"], {}, {"lines": [], "aging": []}, {}, False),
        "statement-one-line": (statement["zh"], {"customer_name": "甲"}, {"lines": _lines_of(1)}, {}, True),
        "letter": (letter, {"title": "催款函", "total": Money(12.3), "letter_date": dt.date(2026, 10, 31)},
                   {"items": [{"doc_no": "A", "amount": Money(1), "days_overdue": 3}] * 5}, {}, True),
        **{f"banded-{n}": (small[n], {"title": "Hello", "footer": "=not a formula"}, {"items": _lines(7)}, {}, True)
           for n in (1, 2, 3)},
        "banded-empty": (small[2], {}, {"items": []}, {}, False),
        "restyled": (restyled, {"opening": Money(50)}, {"lines": _lines_of(3)}, {}, True),
    }


_SI = re.compile(r"<si>(.*?)</si>", re.S)


def _resolved_sheet(path) -> str:
    """The sheet XML with style indexes dropped and shared-string indexes replaced by the text."""
    with zipfile.ZipFile(path) as zf:
        strings = _SI.findall(zf.read(STRINGS).decode())
        xml = zf.read(SHEET).decode()
    xml = re.sub(r' s="\d+"', "", xml)
    return re.sub(r' t="s"><v>(\d+)</v>', lambda m: f' t="s"><v>{strings[int(m.group(1))]}</v>', xml)


def _other_parts(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return {n: zf.read(n) for n in zf.namelist() if n not in (SHEET, STRINGS, STYLES)}


def _openpyxl_view(path) -> dict:
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    cells = {c.coordinate: (c.value, c.data_type, c.number_format, repr(c.font), repr(c.fill), repr(c.border),
                            repr(c.alignment), repr(c.protection))
             for row in ws.iter_rows() for c in row if c.value is not None or c.has_style}
    hf = (ws.oddHeader.left.text, ws.oddHeader.center.text, ws.oddHeader.right.text, ws.oddFooter.center.text)
    return {"title": ws.title, "cells": cells, "merges": sorted(map(str, ws.merged_cells.ranges)),
            "rows": {k: (d.height, d.hidden) for k, d in ws.row_dimensions.items()},
            "cols": {k: (d.width, d.hidden) for k, d in ws.column_dimensions.items()},
            "page": (repr(ws.page_setup), repr(ws.page_margins), repr(ws.print_options), ws.print_title_rows,
                     ws.print_area, repr(ws.sheet_view), repr(ws.sheet_properties), hf),
            "names": {n: d.attr_text for n, d in wb.defined_names.items()},
            "props": (wb.properties.title, wb.properties.creator, wb.properties.created)}


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("parts")
    out = {}
    for name, (layout, values, tables, defaults, names) in _cases(tmp).items():
        ref = fill(layout, tmp / f"{name}-ref.xlsx", values, tables, defaults, properties=PROPS, names=names)
        assert parts_for(layout, PROPS, names) is not None
        new = write_filled(layout, tmp / f"{name}-new.xlsx", values, tables, defaults, properties=PROPS, names=names)
        out[name] = (ref, new)
    return out


def test_the_same_package_as_the_reference_route(pairs):
    for name, (ref, new) in pairs.items():
        assert _resolved_sheet(new) == _resolved_sheet(ref), name
        assert _other_parts(new) == _other_parts(ref), name


def test_openpyxl_reads_the_same_file(pairs):
    for name, (ref, new) in pairs.items():
        assert _openpyxl_view(new) == _openpyxl_view(ref), name
    view = _openpyxl_view(pairs["statement-zh"][1])
    cells = view["cells"]
    assert cells["B4"][:2] == (TRICKY[0], "s") and cells["A1"][:2] == ("+1+1", "s")   # text, never a formula
    assert cells["A2"][:2] == ("=1+1", "s")
    assert cells["A11"][:3] == (1.5, "n", "#,##0.00")
    assert len(cells["B7"][0]) == 32767                                               # Excel's limit
    assert "A66:H70" in view["merges"] and view["names"]["line_balance"].endswith("$G$15:$G$54")
    assert view["page"][3] == "$14:$14"
    banded = _openpyxl_view(pairs["banded-2"][1])["cells"]
    assert banded["C11"][0] == "=SUM(C4:C10)"     # the template's own formula, its range grown


def test_calamine_reads_the_same_values(pairs):
    def values(path):
        wb = CalamineWorkbook.from_path(str(path))
        return wb.get_sheet_by_name(wb.sheet_names[0]).to_python()
    for name, (ref, new) in pairs.items():
        assert values(new) == values(ref), name


@pytest.mark.libreoffice
def test_libreoffice_reads_the_same_values(pairs, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice not installed")
    names = ["statement-zh", "letter", "banded-2"]
    for n in names:
        for p in pairs[n]:
            shutil.copy(p, tmp_path / p.name)
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless", "--norestore",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                    "--outdir", str(tmp_path / "csv"), *(str(tmp_path / p.name) for n in names for p in pairs[n])],
                   check=True, capture_output=True, timeout=300)
    for n in names:
        ref, new = (next((tmp_path / "csv").glob(f"{p.stem}*.csv")).read_bytes() for p in pairs[n])
        assert len(ref) > 150 and new == ref, n


def test_no_formula_from_data(pairs):
    for name, (_, new) in pairs.items():
        # the banded template's own formula, and an infinite number written as Excel's #DIV/0!
        # error (xlsxwriter's nan_inf_to_errors, as the reference route): no text from data
        allowed = {"SUM(C4:C10)", "SUM(C4:C23)", "SUM(C4:C5)", "SUM(C4:C4)", "1/0"}
        assert [f for _, f in cell_formulas(new) if f not in allowed] == [], name


def test_strings_escaped_as_excel_does(tmp_path):
    assert string_item("plain 中文") == "<si><t>plain 中文</t></si>"
    assert string_item("a&b<c>") == "<si><t>a&amp;b&lt;c&gt;</t></si>"
    assert string_item("x\x01\x1f") == "<si><t>x_x0001__x001F_</t></si>"
    assert string_item("_x0041_") == "<si><t>_x005F_x0041_</t></si>"
    assert string_item(" a\n") == '<si><t xml:space="preserve"> a\n</t></si>'
    assert string_item("\ufffe\ud800") == "<si><t>_xFFFE__xD800_</t></si>"
    # a lone surrogate (text decoded with surrogateescape) still makes a valid file
    layout = read_layout(shipped("statement", "zh"), ("lines", "aging"), statement_headers())
    out = write_filled(layout, tmp_path / "s.xlsx", {"customer_name": "甲\udc80乙"})
    assert openpyxl.load_workbook(out).active["B4"].value == "甲_xDC80_乙"


def test_dates_as_xlsxwriter_counts_them():
    for v in (dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1), dt.date(2026, 10, 31),
              dt.datetime(1900, 1, 1, 6), dt.datetime(1900, 3, 1, 23, 59, 59, 999999),
              dt.datetime(2026, 1, 2, 3, 4, 5, 678901), dt.date(9999, 12, 31)):
        assert excel_serial(v) == _datetime_to_excel_datetime(v, False, False), v
    import pandas as pd

    assert excel_serial(pd.Timestamp("2026-10-31 12:00")) == _datetime_to_excel_datetime(
        dt.datetime(2026, 10, 31, 12), False, False)
    with pytest.raises(TypeError):
        excel_serial(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


def test_zip_of_reused_members_reads_back(tmp_path):
    import zlib

    def member(name, data):
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        return name.encode(), zlib.crc32(data), c.compress(data) + c.flush(), len(data)
    p = tmp_path / "x.zip"
    p.write_bytes(zip_package([member("a.xml", b"<a/>" * 1000), member("b/c.xml", b""), member("d", "中".encode())]))
    with zipfile.ZipFile(p) as zf:
        assert zf.testzip() is None
        assert zf.read("a.xml") == b"<a/>" * 1000 and zf.read("b/c.xml") == b"" and zf.read("d") == "中".encode()


def test_a_template_the_writer_does_not_make_goes_the_reference_way(tmp_path):
    """A dynamic-array formula needs parts (metadata) made per file: the reference route writes it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = None
    wb.defined_names["title"] = DefinedName("title", attr_text="Sheet!$A$1")
    ws["B3"] = "=UNIQUE(A1:A2)"
    wb.save(tmp_path / "t.xlsx")
    layout = read_layout(tmp_path / "t.xlsx")
    assert parts_for(layout) is None
    out = write_filled(layout, tmp_path / "o.xlsx", {"title": "x"})
    assert openpyxl.load_workbook(out).active["A1"].value == "x"


def test_layout_kept_between_runs_is_the_layout_read(tmp_path, monkeypatch):
    """render/layout_cache: the JSON kept for a template gives back the very Layout, is used on
    the next run (the template is not read again), and a broken entry is read again."""
    from custledger.render import layout_cache, template_fill

    monkeypatch.setenv("CUSTLEDGER_CACHE_DIR", str(tmp_path / "cache"))
    wb = openpyxl.load_workbook(_small_template(tmp_path / "t.xlsx", region_rows=2))
    wb.active["E1"] = dt.datetime(2026, 10, 31, 8, 30)
    wb.active["E2"] = dt.date(2026, 1, 2)
    wb.save(tmp_path / "t.xlsx")
    templates = [shipped("statement", "zh"), shipped("statement", "en"), shipped("letter", "en"), tmp_path / "t.xlsx"]
    heads = {"items": {"doc_no": ["Doc"]}}
    for path, regions, headers in zip(templates, [("lines", "aging")] * 2 + [("items",)] * 2,
                                      [statement_headers(), statement_headers(), letter_headers(), heads]):
        read = read_layout(path, regions, headers)
        assert layout_cache.from_json(layout_cache.to_json(read)) == read
        assert layout_cache.cached_layout(path, regions, headers) == read          # read, then kept
        real = template_fill.read_layout
        monkeypatch.setattr(template_fill, "read_layout", lambda *a, **k: pytest.fail("read again"))
        kept = layout_cache.cached_layout(path, regions, headers)
        assert kept == read and write_filled(kept, tmp_path / "o.xlsx", {"title": "x"}).exists()
        monkeypatch.setattr(template_fill, "read_layout", real)
    entries = list((tmp_path / "cache" / "layouts").glob("*.json"))
    assert len(entries) == 4
    for e in entries:
        e.write_text("{broken", encoding="utf-8")
    assert layout_cache.cached_layout(templates[-1], ("items",), heads) == read_layout(templates[-1], ("items",), heads)
    # another template (or other regions) is another entry
    layout_cache.cached_layout(templates[-1], ("items", "x"), heads)
    assert len(list((tmp_path / "cache" / "layouts").glob("*.json"))) == 5


def test_no_cache_folder_still_reads_the_template(tmp_path, monkeypatch):
    from custledger.render import layout_cache

    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("CUSTLEDGER_CACHE_DIR", str(tmp_path / "file"))
    layout = layout_cache.cached_layout(shipped("letter", "zh"), ("items",), letter_headers())
    assert layout == read_layout(shipped("letter", "zh"), ("items",), letter_headers())
    # no home folder at all (a service account): the template is read, nothing kept

    def no_home():
        raise RuntimeError("Could not determine home directory")
    monkeypatch.delenv("CUSTLEDGER_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(layout_cache.sys, "platform", "linux")
    monkeypatch.setattr(layout_cache.Path, "home", staticmethod(no_home))
    assert layout_cache.cached_layout(shipped("letter", "zh"), ("items",), letter_headers()) == layout
