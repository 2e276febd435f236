"""The xlwings adapter (io/xlbook.py) driven through xlwings' remote engine, without Excel.

Payloads are built from real workbooks exactly as an Excel client sends them (tests/xlremote.py);
the returned actions are applied to a copy and compared with what the command line (FileBook)
writes on the same ledger: same RawBook on reading, same generated sheets cell by cell, same
marked cells, and every Excel call bulk.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from custledger import ops
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from custledger.io.xlbook import REGISTER, XlBook, caps_of, cell_text, excel_text, mark_rectangles, number_text
from custledger.io.xlsxpatch_marks import combine
from xlremote import (
    BASIC_ACTIONS,
    LoglessFileBook,
    apply_actions,
    cf_marked_cells,
    displayed,
    filled_cells,
    link_targets,
    remote_book,
    xl_license,  # noqa: F401 -- a fixture, requested by _remote below
)

GENERATED = ("校验结果", "Problems")


@pytest.fixture(autouse=True)
def _remote(xl_license):
    """The remote engine is xlwings PRO (PolyForm Noncommercial): key set for the tests only."""


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory) -> Path:
    from custledger.demo_data import make_demo

    d = make_demo(customers=30, invoices=200, receipts=150)
    path = tmp_path_factory.mktemp("demo") / "ledger.xlsx"
    build_ledger(path, "zh", data={"customers": d.customers, "invoices": d.invoices, "receipts": d.receipts,
                                   "interactions": d.interactions},
                 settings={k: str(v) for k, v in d.settings.items()})
    return path


@pytest.fixture(scope="module")
def odd_ledger(tmp_path_factory) -> Path:
    """Hand-typed layout: English sheet names, header not in row 1, data from column B, ids typed
    as numbers, text amounts, a formula without a cached value, a person's note and fill, text
    that looks like a formula, trailing formatted blank cells."""
    path = tmp_path_factory.mktemp("odd") / "odd.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Customers"
    ws["B1"] = "Customer list"
    ws.append([])
    ws["B3"], ws["C3"], ws["D3"], ws["E3"] = "Customer ID", "Name", "Payment terms", "Credit limit"
    rows = [(1001, "Acme Ltd", 30, 50000.5), ("C-2", "=cmd|' /C calc'!A0", "45", "1,000.00"),
            ("C-3", "Beta; Gamma", 30.0, True), (None, "no id", None, None), ("C-3", 1e20, 0.1 + 0.2, 12.5)]
    for i, r in enumerate(rows, start=4):
        for j, v in enumerate(r):
            ws.cell(i, 2 + j, v)
    ws["J12"].number_format = "0.00"             # formatted, empty: not part of the data
    ws["C5"].comment = openpyxl.comments.Comment("a person's note", "someone")
    inv = wb.create_sheet("Invoices")
    inv.append(["Doc No", "Date", "Customer ID", "Amount", "Due date", "Notes"])
    inv.append(["INV-1", dt.datetime(2026, 9, 1), 1001, 1200, None, "=SUM(1,2)"])
    inv.append(["INV-2", "2026-09-05", "C-2", "abc", dt.datetime(2026, 10, 5, 13, 5, 7), None])
    inv.append(["INV-3", dt.datetime(2026, 9, 7), "C-9", 99.999, None, "+86 138"])
    inv.append(["INV-4", dt.datetime(2026, 9, 8), "C-3", -5, None, "'quoted"])
    inv["D3"].fill = openpyxl.styles.PatternFill("solid", fgColor="FF00B0F0")   # a person's own fill
    st = wb.create_sheet("Settings")
    st.append(["key", "value"])
    st.append(["language", "en"])
    st.append(["as_of", dt.datetime(2026, 10, 31)])
    wb.save(path)
    return path


def _cli(src: Path, dst: Path, steps=("validate",), **options):
    shutil.copyfile(src, dst)
    return ops.run(LoglessFileBook(dst), list(steps), **options)


def _xl(src: Path, dst: Path, client: str, steps=("validate",), caps=None, **options):
    book = remote_book(src, client)
    report = ops.run(XlBook(book, caps=caps), list(steps), **options)
    actions = book.json()["actions"]
    info = apply_actions(actions, src, dst, client)
    return report, actions, info


# -- reading -------------------------------------------------------------------------------------
def test_number_text_is_calamines_float_text(tmp_path):
    rnd = random.Random(5)
    values = [0.1 + 0.2, 1 / 3, 2.675, 1001.0, 1e20, 1.5e-7, 1e-10, 2.5e-9, 0.9999999999, 123456789012345.0,
              45322.54521990741, -1.0000000005, 1e300, 12345678901234567890.0]
    values += [rnd.uniform(-1e6, 1e6) for _ in range(150)] + [round(rnd.uniform(0, 1e5), 2) for _ in range(100)]
    values += [rnd.random() * 10 ** rnd.randint(-12, 18) for _ in range(150)]
    path = tmp_path / "f.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    for i, v in enumerate(values):
        ws.write_number(i, 0, v)
    wb.close()
    import fastexcel

    got = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string").to_pandas().iloc[:, 0]
    stored = [c.value for c in openpyxl.load_workbook(path).active["A"]]   # the doubles in the file
    mine = [number_text(float(v)) for v in stored]
    assert got.tolist() == mine
    assert number_text(-0.0) == "-0"      # as calamine writes a stored -0


def test_cell_text_kinds():
    assert cell_text(1001) == "1001" and cell_text(1001.0) == "1001"
    assert cell_text(True) == "true" and cell_text(False) == "false"
    assert cell_text(dt.datetime(2024, 1, 31)) == "2024-01-31 00:00:00"
    assert cell_text(dt.date(2024, 1, 31)) == "2024-01-31 00:00:00"
    assert cell_text(dt.datetime(2024, 1, 31, 13, 5, 7)) == "2024-01-31 13:05:07"
    assert np.isnan(cell_text(None)) and np.isnan(cell_text("")) and np.isnan(cell_text(float("nan")))
    assert cell_text(" x ") == " x "


@pytest.mark.parametrize("client", ["VBA", "Office.js"])
@pytest.mark.parametrize("which", ["demo_ledger", "odd_ledger"])
def test_read_equals_file_reader(request, which, client):
    path = request.getfixturevalue(which)
    want = FileBook(path).read()
    got = XlBook(remote_book(path, client)).read()
    assert got.sheet_names == want.sheet_names
    assert set(got.sheets) == set(want.sheets)
    for name, ws in want.sheets.items():
        gs = got.sheets[name]
        assert (gs.row0, gs.col0) == (ws.row0, ws.col0), name
        pd.testing.assert_frame_equal(gs.frame, ws.frame, check_dtype=True)


def test_read_is_one_bulk_read_per_sheet(demo_ledger, monkeypatch):
    from xlwings.pro import _xlremote

    calls = []
    real = _xlremote.Range.raw_value.fget

    def counting(self):
        calls.append(self.sheet.name)
        return real(self)

    monkeypatch.setattr(_xlremote.Range, "raw_value", property(counting, _xlremote.Range.raw_value.fset))
    XlBook(remote_book(demo_ledger, "VBA")).read()
    assert sorted(calls) == sorted(FileBook(demo_ledger).read().sheets)   # one read each, no more


# -- writing -------------------------------------------------------------------------------------
def _assert_same_sheets(cli_path: Path, xl_path: Path, names):
    a, b = openpyxl.load_workbook(cli_path), openpyxl.load_workbook(xl_path)
    for n in names:
        assert n in a.sheetnames and n in b.sheetnames, n
        wa, wb_ = a[n], b[n]
        va, vb = displayed(wa), displayed(wb_)
        assert len(va) == len(vb), n
        for i, (ra, rb) in enumerate(zip(va, vb)):
            assert ra == rb, (n, i + 1, ra, rb)
        assert link_targets(wa) == link_targets(wb_), n
        for ra, rb in zip(wa.iter_rows(min_row=2), wb_.iter_rows(min_row=2)):
            for ca, cb in zip(ra, rb):   # number formats where a value was written
                if ca.value is not None and not isinstance(ca.value, str):
                    assert ca.number_format == cb.number_format, (n, ca.coordinate)
        assert [t for t in wa.tables] == [t for t in wb_.tables], n
        formulas = [c.coordinate for r in wb_.iter_rows() for c in r
                    if isinstance(c.value, str) and c.value.startswith("=") and not c.value.startswith("=HYPERLINK(")]
        assert formulas == [], (n, formulas)


@pytest.mark.parametrize("client", ["VBA", "Office.js"])
@pytest.mark.parametrize("which", ["demo_ledger", "odd_ledger"])
def test_validate_writes_what_the_cli_writes(request, tmp_path, which, client):
    src = request.getfixturevalue(which)
    cli_report = _cli(src, tmp_path / "cli.xlsx")
    report, actions, info = _xl(src, tmp_path / "xl.xlsx", client)
    assert report.summary == cli_report.summary and report.exit_code == cli_report.exit_code
    name = openpyxl.load_workbook(tmp_path / "cli.xlsx").sheetnames[-1]
    assert name in GENERATED
    _assert_same_sheets(tmp_path / "cli.xlsx", tmp_path / "xl.xlsx", [name])
    a, b = openpyxl.load_workbook(tmp_path / "cli.xlsx"), openpyxl.load_workbook(tmp_path / "xl.xlsx")
    inputs = [s for s in a.sheetnames if s not in GENERATED]
    for s in inputs:   # people's cells: values untouched by either way
        assert displayed(a[s]) == displayed(b[s]), s
    marked_cli = {s: cf_marked_cells(a[s]) for s in inputs}
    marked_xl = {s: filled_cells(b[s]) for s in inputs}
    if client == "Office.js":
        assert marked_xl == marked_cli
        assert any(marked_cli.values())
        assert b[REGISTER].sheet_state == "hidden" and b.sheetnames[-1] == REGISTER
        assert b.sheetnames[:-1] == a.sheetnames          # same tabs, same order
    else:   # no way to take a fill off again on these clients: no marks, Problems lists the cells
        assert not any(marked_xl.values())
        assert {x["func"] for x in actions} <= BASIC_ACTIONS
        assert b.sheetnames == a.sheetnames


@pytest.mark.parametrize("client", ["VBA", "Office.js"])
def test_calls_stay_bulk(demo_ledger, tmp_path, client):
    """Per generated sheet: one setValues, a format per run of columns, one table, one autofit,
    whatever the number of rows; marks one fill per rectangle, notes bounded."""
    report, actions, info = _xl(demo_ledger, tmp_path / "xl.xlsx", client)
    counts = info.counts
    assert counts["setValues"] == 1 + (client == "Office.js")      # Problems (+ the register)
    assert counts.get("setNumberFormat", 0) <= 7
    assert counts["addTable"] == 1 and counts["setAutofit"] == 1 and counts["addSheet"] == 1 + (client == "Office.js")
    problems = report.summary["errors"] + report.summary["warnings"]
    assert counts.get("setRangeColor", 0) <= problems
    assert counts.get("addNote", 0) <= problems + 1


def test_formats_do_not_grow_with_rows(tmp_path):
    """A ledger with 10x the problems gives the same number of format calls."""
    def ledger(n, path):
        cust = pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)], "name": [f"N{i}" for i in range(n)]})
        inv = pd.DataFrame({"doc_no": [f"I{i}" for i in range(n)], "date": ["bad date"] * n,
                            "customer_id": [f"C{i}" for i in range(n)], "amount": [10.0] * n})
        build_ledger(path, "en", data={"customers": cust, "invoices": inv})
        return path

    counts = []
    for n in (20, 200):
        src = ledger(n, tmp_path / f"l{n}.xlsx")
        _, actions, info = _xl(src, tmp_path / f"x{n}.xlsx", "Office.js")
        counts.append({k: v for k, v in info.counts.items() if k not in ("setRangeColor", "addNote")})
        cli = _cli(src, tmp_path / f"c{n}.xlsx")
        assert cli.summary["errors"] >= n
        _assert_same_sheets(tmp_path / f"c{n}.xlsx", tmp_path / f"x{n}.xlsx", ["Problems"])
        assert info.counts["setRangeColor"] <= 2    # one column of bad dates: one rectangle
    assert counts[0] == counts[1]


def test_second_run_restores_marks_and_keeps_tab_positions(demo_ledger, tmp_path):
    first = tmp_path / "run1.xlsx"
    _xl(demo_ledger, first, "Office.js")
    wb = openpyxl.load_workbook(first)
    order = wb.sheetnames
    cust = wb["客户档案"]
    marked = filled_cells(cust)
    assert marked
    # a person adds a note on a marked cell that has none of ours, and fills another cell
    cust["A1"].fill = openpyxl.styles.PatternFill("solid", fgColor="FF92D050")
    wb.save(first)
    second = tmp_path / "run2.xlsx"
    book = remote_book(first, "Office.js")
    ops.run(XlBook(book), ["validate"])
    actions = book.json()["actions"]
    apply_actions(actions, first, second, "Office.js")
    wb2 = openpyxl.load_workbook(second)
    assert wb2.sheetnames == order
    assert filled_cells(wb2["客户档案"]) == marked                 # same problems, same marks
    assert wb2["客户档案"]["A1"].fill.fgColor.rgb == "FF92D050"    # not ours: untouched
    restores = [a for a in actions if a["func"] == "setRangeColor" and a["args"][0] is None]
    assert len(restores) >= len(marked) - 2                        # old marks taken off first
    deleted = [a["args"][0] for a in actions if a["func"] == "deleteNote"]
    added = [a["args"][0] for a in actions if a["func"] == "addNote" and a["sheet_position"] != order.index("校验结果")]
    assert sorted(deleted) == sorted(added)


def test_fixed_cell_loses_its_mark(tmp_path):
    src = tmp_path / "l.xlsx"
    cust = pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["A", "B"]})
    inv = pd.DataFrame({"doc_no": ["I1", "I2"], "date": ["2026-01-05", "not a date"], "customer_id": ["C1", "C2"],
                        "amount": [10.0, 20.0]})
    build_ledger(src, "en", data={"customers": cust, "invoices": inv})
    run1 = tmp_path / "run1.xlsx"
    _xl(src, run1, "Office.js")
    wb = openpyxl.load_workbook(run1)
    assert filled_cells(wb["Invoices"]) == {"B3": "FFC7CE"}
    assert wb["Invoices"]["B3"].comment is not None
    wb["Invoices"]["B3"] = dt.datetime(2026, 1, 6)
    wb.save(run1)
    run2 = tmp_path / "run2.xlsx"
    report, actions, _ = _xl(run1, run2, "Office.js")
    wb2 = openpyxl.load_workbook(run2)
    assert report.summary["errors"] == 0
    assert filled_cells(wb2["Invoices"]) == {} and wb2["Invoices"]["B3"].comment is None
    assert displayed(wb2["Problems"]) == displayed(openpyxl.load_workbook(_cli_copy(run1, tmp_path))["Problems"])


def _cli_copy(src, tmp_path):
    dst = tmp_path / "cli_of_run.xlsx"
    _cli(src, dst)
    return dst


def test_text_is_written_as_text():
    assert excel_text("=1+1") == "'=1+1" and excel_text("+86") == "'+86" and excel_text("-x") == "'-x"
    assert excel_text("@a") == "'@a" and excel_text("'q") == "''q"
    assert excel_text("1001") == "'1001" and excel_text("2024-01") == "'2024-01" and excel_text("1-30") == "'1-30"
    assert excel_text("TRUE") == "'TRUE" and excel_text("Jan-24") == "'Jan-24" and excel_text(" 5") == "' 5"
    assert excel_text("C001") == "C001" and excel_text("客户") == "客户" and excel_text("") is None


def test_mark_rectangles_group_cells():
    cells = combine([("C5", "error", "a"), ("C6", "error", "b"), ("D5", "error", "x"), ("D6", "error", "y"),
                     ("C9", "warning", "w"), ("E5", "error", "z"), ("C5", "warning", "again")])
    assert sorted(mark_rectangles(cells)) == sorted([(4, 2, 5, 3, "error"), (4, 4, 4, 4, "error"),
                                                     (8, 2, 8, 2, "warning")])


def test_caps_by_client(demo_ledger):
    assert caps_of(remote_book(demo_ledger, "VBA")).marks is False
    c = caps_of(remote_book(demo_ledger, "Office.js"))
    assert c.marks and c.notes and c.hide and not c.read_color
    assert caps_of(remote_book(demo_ledger, "Microsoft Office Scripts")).notes is False


def test_appends_rows_below_the_data_in_one_block(demo_ledger, tmp_path):
    """Bank-imported receipts go below the Receipts data, in their columns, money in units."""
    from types import SimpleNamespace

    book = remote_book(demo_ledger, "VBA")
    xb = XlBook(book)
    raw = xb.read().sheets["回款记录"]
    rows = pd.DataFrame({"receipt_no": ["B-1", "=2+2"], "date": pd.to_datetime(["2026-10-30", "2026-10-31"]),
                         "amount": pd.array([123456, 5], dtype="int64"), "payer": ["甲", None]})
    rec = SimpleNamespace(sheet="回款记录", columns={"receipt_no": "A", "date": "B", "amount": "E", "payer": "D"},
                          kinds={"receipt_no": "id", "date": "date", "amount": "money", "payer": "text"}, rows=rows)
    xb.write([], appends=[rec])
    actions = book.json()["actions"]
    assert [a["func"] for a in actions] == ["setValues"]
    out = tmp_path / "a.xlsx"
    apply_actions(actions, demo_ledger, out)
    ws = openpyxl.load_workbook(out)["回款记录"]
    top = raw.row0 + len(raw.frame)
    got = [[c.value for c in r] for r in ws.iter_rows(min_row=top, max_row=top + 1, max_col=5)]
    assert got == [["B-1", dt.datetime(2026, 10, 30), None, "甲", 1234.56],
                   ["=2+2", dt.datetime(2026, 10, 31), None, None, 0.05]]
