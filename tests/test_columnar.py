"""The columnar writer (io/columnar.py) writes what the xlsxwriter path writes: the same sheet
read back by openpyxl (values, cell types, number formats, styles, table, freeze, filter, widths,
protection, print setup, note), by calamine and by LibreOffice, for tricky text and numbers, and
every generated sheet of a whole close."""

import datetime as dt
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from custledger import ops
from custledger.demo import write_demo
from custledger.io import columnar
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from custledger.io.xlsxpatch import patch_workbook
from custledger.io.xlsxsheets import Formats, write_sheet_out
from custledger.render.sheets import SheetOut

TEXTS = ["plain", "=SUM(A1)", "+1", "-2", "@x", 'a & b < c > d "q"', "ctrl\x01\x02x\x1f", "_x0041_ literal",
         "  lead", "trail ", "中文客户名称（上海）分公司", "x" * 40000, "", "\u3000全角", "tab\there", "line\nbreak",
         "emoji 😀", "\ufffe", "=HYPERLINK(\"http://x\")"]


def tricky(n: int) -> SheetOut:
    data = {
        0: pd.Series([TEXTS[i % len(TEXTS)] for i in range(n)], dtype=object),
        1: pd.Series([None if i % 7 == 0 else (i * 12345 - 500000) / 100 for i in range(n)], dtype=object),
        2: pd.Series([None if i % 5 == 0 else dt.datetime(2020, 1, 1) + dt.timedelta(days=i % 3000)
                      for i in range(n)], dtype=object),
        3: pd.Series([float("nan") if i % 3 == 0 else 2**60 + i if i % 11 == 0 else -i for i in range(n)], dtype=object),
        4: pd.Series([[None, pd.NA, "x", 3, 2.5, True, dt.datetime(2024, 5, 6, 7, 8, 9), dt.date(2021, 1, 2),
                       np.nan, "=1+1"][i % 10] for i in range(n)], dtype=object),
        5: pd.Series([[0.1 + 0.2, 1 / 3, 1e20, -0.0, 5e-324, 123456789.123456789, -1e-7][i % 7] for i in range(n)]),
        6: pd.Series(["是" if i % 2 else "否" for i in range(n)]),
        7: pd.Series([pd.NaT if i % 4 == 0 else pd.Timestamp("2026-10-31") for i in range(n)]),
        8: pd.Series([None] * n, dtype=object),
        9: pd.Series(np.arange(n, dtype=np.int64) * 1_000_003),
        10: pd.Series([None if i % 4 == 0 else i for i in range(n)], dtype="Int64"),
    }
    return SheetOut(key="allocations", name="核销明细", headers=["文本", "金额", "日期", "整数", "混合", "小数", "标记",
                                                                 "日期2", "空", "大数", "可空整数"],
                    formats=["text", "money", "date", "int", "text", "float", "bool", "date", "text", "int", "int"],
                    data=pd.DataFrame(data), table="tblAllocations", widths=[20, 14, 11, 8, 10, 8, 6, 11, 5, 12, 8],
                    note="生成于 2026-10-31 10:00")


def _write(src: Path, dst: Path, out: SheetOut, use_columnar: bool) -> dict | None:
    bodies = {} if use_columnar else None

    def build(wb):
        write_sheet_out(wb, out, Formats(wb), protect=True, bodies=bodies)
    patch_workbook(src, dst, build, [out.name], bodies=bodies)
    return bodies


def _openpyxl_view(path: Path, names) -> dict:
    wb = openpyxl.load_workbook(path)
    view = {}
    for name in names:
        ws = wb[name]
        cells = {(c.row, c.column): (c.value, c.data_type, c.number_format, c.font.b, c.fill.fgColor.rgb,
                                     c.font.u, c.font.color.rgb if c.font.color else None,
                                     (c.hyperlink.target, c.hyperlink.location, c.hyperlink.display)
                                     if c.hyperlink else None)
                 for row in ws.iter_rows() for c in row if c.value is not None}
        view[name] = (cells, ws.freeze_panes, ws.dimensions, dict(ws.tables.items()), ws.auto_filter.ref,
                      sorted((k, d.width, d.hidden) for k, d in ws.column_dimensions.items()),
                      ws.protection.sheet, ws.page_setup.orientation, ws.page_setup.paperSize, ws.print_title_rows,
                      ws.row_dimensions[1].height)
    return view


def _calamine(path: Path, names) -> dict:
    wb = CalamineWorkbook.from_path(str(path))
    return {n: wb.get_sheet_by_name(n).to_python() for n in names}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("columnar")
    src = tmp / "src.xlsx"
    build_ledger(src, "zh")
    out = tricky(1200)
    assert columnar.eligible(out)
    a, b = tmp / "xlsxwriter.xlsx", tmp / "columnar.xlsx"
    assert _write(src, a, out, False) is None
    assert list(_write(src, b, out, True)) == [out.name]          # the rows went column-wise
    return a, b, out


def test_openpyxl_reads_the_same_sheet(pair):
    a, b, out = pair
    va, vb = _openpyxl_view(a, [out.name]), _openpyxl_view(b, [out.name])
    assert va == vb
    cells = vb[out.name][0]
    assert cells[(3, 1)][:2] == ("=SUM(A1)", "s")                  # text, never a formula
    assert cells[(8, 1)][0] == "ctrl_x0001__x0002_x_x001F_"       # escaped as Excel does (openpyxl shows it so)
    assert len(cells[(13, 1)][0]) == 32767                         # cut at Excel's limit
    assert cells[(3, 3)][0] == dt.datetime(2020, 1, 2) and cells[(3, 3)][2] == "yyyy-mm-dd"
    assert cells[(3, 2)][2] == "#,##0.00"


def test_calamine_reads_the_same_values(pair):
    a, b, out = pair
    ca, cb = _calamine(a, [out.name]), _calamine(b, [out.name])
    assert ca == cb
    rows = cb[out.name]
    assert len(rows) == 1201 and rows[2][0] == "=SUM(A1)" and rows[7][0] == "ctrl\x01\x02x\x1f"


@pytest.mark.libreoffice
def test_libreoffice_reads_the_same_values(pair, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice not installed")
    a, b, out = pair
    for p in (a, b):
        shutil.copy(p, tmp_path / p.name)
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless", "--norestore",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                    "--outdir", str(tmp_path / "csv"), str(tmp_path / a.name), str(tmp_path / b.name)],
                   check=True, capture_output=True, timeout=300)
    csv_a = (tmp_path / "csv" / f"{a.stem}-{out.name}.csv").read_bytes()
    csv_b = (tmp_path / "csv" / f"{b.stem}-{out.name}.csv").read_bytes()
    assert len(csv_a) > 10_000 and csv_a == csv_b


def test_links_to_cells(tmp_path):
    """The Problems sheet's kind of links: internal targets on a text column, some rows without."""
    out = tricky(1200)
    targets = [None if i % 3 == 0 else f"internal:'参数'!A{i + 1}" for i in range(1200)]
    cells = pd.Series([None if i % 10 == 0 else f"A{i + 1}" if i % 7 else "" for i in range(1200)], dtype=object)
    linked = _linked(out, cells, targets)
    assert columnar.eligible(linked)
    a, b, vb = _written_both_ways(tmp_path, linked)
    assert vb[linked.name][0][(3, 7)][-1] == (None, "'参数'!A2", "A2")


def _linked(out: SheetOut, cells: pd.Series, targets: list) -> SheetOut:
    """*out* with column 7 holding *cells*, a link column to *targets*."""
    data = out.data.copy()
    data[6] = cells
    return SheetOut(**{**out.__dict__, "data": data, "links": {6: targets}, "formats": out.formats[:6] + ["link"]
                       + out.formats[7:]})


def _written_both_ways(tmp_path, linked: SheetOut):
    """The sheet written cell by cell (a) and column-wise (b); both read back the same."""
    src = tmp_path / "src.xlsx"
    build_ledger(src, "zh")
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    _write(src, a, linked, False)
    assert list(_write(src, b, linked, True)) == [linked.name]
    va, vb = _openpyxl_view(a, [linked.name]), _openpyxl_view(b, [linked.name])
    assert va == vb
    assert _calamine(a, [linked.name]) == _calamine(b, [linked.name])
    return a, b, vb


def test_laid_out_small_or_file_linked_sheets_stay_with_xlsxwriter():
    out = tricky(1200)
    assert not columnar.eligible(tricky(10))
    linked = SheetOut(**{**out.__dict__, "links": {0: ["external:../letters/a.xlsx"] * 1200}})
    assert not columnar.eligible(linked)
    unlinked = SheetOut(**{**out.__dict__, "links": {0: [None] * 1200}})
    assert columnar.eligible(unlinked)
    drawn = SheetOut(**{**out.__dict__, "draw": lambda wb, ws, fmts: None})
    assert not columnar.eligible(drawn)


def test_a_date_before_march_1900_sends_the_sheet_to_xlsxwriter():
    out = tricky(600)
    out.data[2] = pd.Series([dt.datetime(1900, 1, 15)] * 600, dtype=object)
    with pytest.raises(columnar.NotColumnar):
        columnar.ColumnarBody(out, [None] * 11, None)


def test_a_whole_close_writes_the_same_sheets_either_way(tmp_path, monkeypatch):
    ledger, bank, month = write_demo(tmp_path / "demo", "zh")
    copies, made = {}, []

    class Spy(columnar.ColumnarBody):
        def __init__(self, out, *args):
            made.append(out.name)
            super().__init__(out, *args)

    monkeypatch.setattr(columnar, "ColumnarBody", Spy)
    for mode in ("xlsxwriter", "columnar"):
        p = tmp_path / f"{mode}.xlsx"
        shutil.copy(ledger, p)
        with monkeypatch.context() as m:
            if mode == "xlsxwriter":
                m.setattr(columnar, "available", lambda: False)
            else:
                m.setattr(columnar, "MIN_ROWS", 1)
            steps = [s for s in ops.STEP_ORDER if s in ops.STEPS and s not in ("card", "statements", "letters")]
            ops.run(FileBook(p), steps, as_of=dt.date(2026, 10, 31), month=month, processes=1)
        copies[mode] = p
    names = [n for n in CalamineWorkbook.from_path(str(copies["columnar"])).sheet_names
             if n in ("核销明细", "对账余额", "账龄分析", "逾期清单", "客户分级", "提醒事项", "银行流水匹配", "校验结果")]
    assert len(names) >= 7 and "校验结果" in names and set(names) <= set(made)       # the second run wrote them column-wise
    assert _openpyxl_view(copies["xlsxwriter"], names) == _openpyxl_view(copies["columnar"], names)
    assert _calamine(copies["xlsxwriter"], names) == _calamine(copies["columnar"], names)


def test_columns_made_together_give_the_cells_made_one_by_one(monkeypatch):
    """The number, date and text columns of a sheet are formatted in batches (_batched): the row
    bytes are those of one column at a time, wherever a batch starts or ends."""
    out = tricky(1200)
    data = out.data.copy()
    data[6] = pd.Series([TEXTS[(i * 7) % len(TEXTS)] if i % 9 else None for i in range(1200)], dtype="str")
    data[9] = pd.Series(np.arange(1200, dtype=np.float64) / 3)
    out = SheetOut(**{**out.__dict__, "data": data})

    def rows(batch: int) -> bytes:
        monkeypatch.setattr(columnar, "BATCH_VALUES", batch)
        body = columnar.ColumnarBody(out, [None] * 11, None)
        assert all(isinstance(c, columnar._Column) for c in body.columns)
        return b"".join(body.chunks(lambda fmt: None, chunk_rows=500))

    one_by_one = rows(1)
    assert one_by_one.count(b"<row ") == 1200 and b"_x0001_" in one_by_one
    assert rows(columnar.BATCH_VALUES) == one_by_one      # the whole sheet's columns together
    assert rows(3000) == one_by_one                        # batches of two columns


def test_links_to_files(tmp_path):
    """The Overdue and statements-list kind of links: files beside the ledger. The cells go
    column-wise; xlsxwriter records the links (the same <hyperlinks> and relationships)."""
    out = tricky(1200)
    targets = [None if i % 3 == 0 else f"external:信函/2026-10-31/催款函_C{i:05d} 公司.xlsx" if i % 5 else
               f"internal:'参数'!A{i + 1}" for i in range(1200)]
    cells = pd.Series([None if i % 10 == 0 else f"催款函_C{i:05d}.xlsx" if i % 7 else "" for i in range(1200)],
                      dtype=object)
    linked = _linked(out, cells, targets)
    assert not columnar.eligible(linked) and columnar.eligible(linked, file_links=True)
    a, b, vb = _written_both_ways(tmp_path, linked)
    assert vb[linked.name][0][(3, 7)][-1][0] == "信函\\2026-10-31\\催款函_C00001%20公司.xlsx"   # as xlsxwriter makes it
    assert vb[linked.name][0][(7, 7)][-1][1] == "'参数'!A6"         # an internal link among them
    rels = {}
    for p in (a, b):
        with zipfile.ZipFile(p) as z:
            rels[p] = sorted(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/_rels/"))
    assert rels[a] == rels[b]
    too_long = SheetOut(**{**linked.__dict__, "links": {6: ["external:" + "x" * 300] * 1200}})
    assert not columnar.eligible(too_long, file_links=True)      # write_url refuses it: xlsxwriter's own path
