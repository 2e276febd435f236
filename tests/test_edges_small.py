"""The smaller faults of issue 11, item 6: serial 60, --allow-errors on statements, the demo's
exit code, the language of an English workbook without Settings."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from custledger import ops
from custledger.core.load import load
from custledger.core.validate import validate
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from test_security import cli, small_ledger

# ---- Excel serial 60: 1900-02-29, a day that never was -------------------------------------------

def _with_dates(path: Path, serials: list, date_format: bool) -> Path:
    """A ledger whose invoices I1.. carry the given serial numbers as their date."""
    small_ledger(path, invoices=pd.DataFrame({"doc_no": [f"I{i}" for i in range(len(serials))],
                                              "date": ["2026-10-01"] * len(serials),
                                              "customer_id": ["C1"] * len(serials),
                                              "amount": [100.0] * len(serials)}))
    wb = openpyxl.load_workbook(path)
    ws = wb["销售单据"]
    header = [c.value for c in ws[1]]
    col = next(i for i, h in enumerate(header, 1) if h and "日期" in str(h))
    for i, v in enumerate(serials):
        cell = ws.cell(2 + i, col)
        cell.value = v
        cell.number_format = "yyyy-mm-dd" if date_format else "General"
    wb.save(path)
    return path


@pytest.mark.parametrize("date_format", [True, False])
def test_serial_60_is_not_a_date_and_its_neighbours_are_right(tmp_path, date_format):
    path = _with_dates(tmp_path / "s.xlsx", [1, 59, 60, 61, 46000], date_format)
    v = validate(load(FileBook(path).read()))
    inv = v.ledger.invoices.set_index("doc_no")
    assert str(inv.loc["I0", "date"].date()) == "1900-01-01"
    assert str(inv.loc["I1", "date"].date()) == "1900-02-28"
    assert str(inv.loc["I3", "date"].date()) == "1900-03-01"
    assert str(inv.loc["I4", "date"].date()) == "2025-12-09"
    bad = v.problems[v.problems["sheet"] == "销售单据"]
    not_dates = {c for c, p in zip(bad["cell"], bad["problem"]) if "不是有效日期" in p}
    assert {c[1:] for c in not_dates} == {"4"}   # row 4 holds serial 60, and only it is no date
    assert pd.isna(inv.loc["I2", "date"]) if "I2" in inv.index else True


# ---- statements --allow-errors ------------------------------------------------------------------

def test_statements_accepts_the_allow_errors_it_suggests(tmp_path):
    path = small_ledger(tmp_path / "l.xlsx", invoices=pd.DataFrame(
        {"doc_no": ["I1", "I2"], "date": ["2026-10-01", "2026-10-02"], "customer_id": ["C1", "C9"],
         "amount": [1000.0, 5.0]}))
    res = cli("statements", path, "--month", "2026-10")
    assert res.returncode == 1 and "--allow-errors" in res.stdout
    res = cli("statements", path, "--month", "2026-10", "--allow-errors", "--json")
    assert res.returncode == 1, res.stderr
    assert list((tmp_path / "l_statements" / "2026-10").glob("*.xlsx"))


# ---- the demo ------------------------------------------------------------------------------------

def test_demo_exits_0_and_says_the_planted_errors_were_found(tmp_path):
    res = cli("demo", tmp_path / "demo", "--lang", "en", "--json")
    assert res.returncode == 0, res.stderr
    assert "planted" in res.stdout and "errors" in res.stdout


# ---- language from the sheet names --------------------------------------------------------------

def test_an_english_workbook_without_settings_gets_english_output(tmp_path):
    path = tmp_path / "en.xlsx"
    build_ledger(path, "en", data={
        "customers": pd.DataFrame({"customer_id": ["C1"], "name": ["Acme"]}),
        "invoices": pd.DataFrame({"doc_no": ["I1", "I1"], "date": ["2026-10-01", "2026-10-02"],
                                  "customer_id": ["C1", "C1"], "amount": [10.0, 20.0]})})
    wb = openpyxl.load_workbook(path)
    del wb["Settings"]
    wb.save(path)
    loaded = load(FileBook(path).read())
    assert loaded.settings.language == "en"
    ops.run(FileBook(path), ["validate"])
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    assert "Problems" in names and "校验结果" not in names
    problems = openpyxl.load_workbook(path)["Problems"]
    text = " ".join(str(c.value) for row in problems.iter_rows(min_row=2) for c in row if c.value)
    assert text and not any("\u4e00" <= ch <= "\u9fff" for ch in text), text


def test_a_chinese_workbook_without_settings_stays_chinese_and_settings_wins(tmp_path):
    path = small_ledger(tmp_path / "zh.xlsx")
    wb = openpyxl.load_workbook(path)
    del wb["参数"]
    wb.save(path)
    assert load(FileBook(path).read()).settings.language == "zh"
    en = tmp_path / "en.xlsx"
    build_ledger(en, "en", data={"customers": pd.DataFrame({"customer_id": ["C1"], "name": ["Acme"]})},
                 settings={"language": "zh"})
    assert load(FileBook(en).read()).settings.language == "zh"   # Settings language decides first


# ---- a 32,767-character name and the _snapshot ---------------------------------------------------

def test_a_name_as_long_as_a_cell_allows_round_trips_through_the_snapshot(tmp_path):
    """The snapshot JSON of a 32,767-character name is longer than a cell: it was cut, read back
    as unreadable JSON, and every run logged the customer's fields as changed."""
    long_name = ('甲"\\😀' * 8192)[:32767]   # quotes and backslashes grow in JSON; 😀 is two UTF-16 units
    path = small_ledger(tmp_path / "l.xlsx", customers=pd.DataFrame(
        {"customer_id": ["C1", "C2"], "name": [long_name[:32767 - 16384], "乙" * 32767],
         "address": ["x" * 32767, "短"], "notes": ["\\" * 32767, ""]}))
    first = ops.run(FileBook(path), ["validate"])
    assert first.summary.get("changes", 0) == 0
    for _ in range(2):
        again = ops.run(FileBook(path), ["validate"])
        assert again.summary.get("changes", 0) == 0, again.notes
    snap = openpyxl.load_workbook(path, read_only=True)["_snapshot"]
    cells = [c for row in snap.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert max(len(c) for c in cells) <= 32767 and len(cells) > 6   # split over rows
    wb = openpyxl.load_workbook(path)
    wb["客户档案"]["B3"] = "乙" * 32766 + "丙"
    wb.save(path)
    changed = ops.run(FileBook(path), ["validate"])
    assert changed.summary.get("changes") == 1


# ---- appending receipts past a sheet-level AutoFilter, onto a protected sheet -------------------

def _receipts_sheet_plain(path: Path, protect: bool, bad_receipt: bool = False) -> Path:
    """The Receipts sheet as many people have it: a plain range with an AutoFilter (no table),
    optionally protected; with ``bad_receipt`` a row that validation marks (the tail gets marks)."""
    small_ledger(path, customers=pd.DataFrame({"customer_id": ["C1"], "name": ["甲公司"],
                                               "bank_account": ["6222021234561234"]}))
    wb = openpyxl.load_workbook(path)
    ws = wb["回款记录"]
    for name in list(ws.tables):
        del ws.tables[name]
    header = [c.value for c in ws[1]]
    col = {h: i + 1 for i, h in enumerate(header) if h}
    ws.cell(2, col["收款编号"], "R1")
    ws.cell(2, col["日期"], "2026-10-02")
    ws.cell(2, col["客户编号"], "C1" if not bad_receipt else "C404")
    ws.cell(2, col["金额"], 100)
    last = openpyxl.utils.get_column_letter(len(header))
    ws.auto_filter.ref = f"A1:{last}2"
    if protect:
        ws.protection.sheet = True
    wb.save(path)
    return path


def _bank(path: Path) -> Path:
    path.write_text("交易日期,对方户名,对方账号,收入金额,摘要,交易流水号\n"
                    "2026-10-20,甲公司,6222021234561234,300.00,货款,B1\n"
                    "2026-10-21,甲公司,6222021234561234,200.00,货款,B2\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("bad_receipt", [False, True])
def test_appended_receipts_extend_a_sheet_level_autofilter(tmp_path, bad_receipt):
    path = _receipts_sheet_plain(tmp_path / "l.xlsx", protect=False, bad_receipt=bad_receipt)
    report = ops.run(FileBook(path), ["reconcile"], bank=_bank(tmp_path / "b.csv"))
    assert report.summary["receipts_imported"] == 2
    ws = openpyxl.load_workbook(path)["回款记录"]
    assert ws.max_row == 4 and ws.auto_filter.ref.endswith("4"), ws.auto_filter.ref
    assert not any("保护" in n for n in report.notes)


def test_appending_to_a_protected_receipts_sheet_says_so_in_the_workbooks_language(tmp_path):
    path = _receipts_sheet_plain(tmp_path / "l.xlsx", protect=True)
    report = ops.run(FileBook(path), ["reconcile"], bank=_bank(tmp_path / "b.csv"))
    assert report.summary["receipts_imported"] == 2
    ws = openpyxl.load_workbook(path)["回款记录"]
    assert ws.protection.sheet and ws.max_row == 4 and ws.auto_filter.ref.endswith("4")
    assert any("回款记录" in n and "设有保护" in n for n in report.notes), report.notes
