"""Changes 变更记录: core comparison, the snapshot round trip, and the step on real workbooks."""

from __future__ import annotations

import getpass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from custledger import ops
from custledger.core.changes import ADDED, REMOVED, compare, customer_text, decode_snapshot, encode_snapshot
from custledger.io.filebook import FileBook
from custledger.io.reader import RawBook, RawSheet
from custledger.io.template import build_ledger
from custledger.schema import sheet

KINDS = {f.key: f.kind for f in sheet("customers").fields}
FIELDS = [k for k in KINDS if k != "customer_id"]


def typed(rows):
    frame = pd.DataFrame(rows)
    for k in ("birthday", "created"):
        if k in frame:
            frame[k] = pd.to_datetime(frame[k])
    if "credit_limit" in frame:
        frame["credit_limit"] = frame["credit_limit"].astype("Int64")
    return frame


def test_field_changes_added_removed_in_order():
    before = customer_text(typed([
        {"customer_id": "C2", "name": "乙", "phone": "139", "credit_limit": 100000, "birthday": "1990-01-05"},
        {"customer_id": "C1", "name": "甲", "phone": "138"},
        {"customer_id": "C3", "name": "丙"},
    ]), KINDS)
    after = customer_text(typed([
        {"customer_id": "C1", "name": "甲", "phone": "138"},
        {"customer_id": "C2", "name": "乙公司", "phone": "139", "credit_limit": 250050, "birthday": "1990-01-06"},
        {"customer_id": "C4", "name": "丁"},
    ]), KINDS)
    out = compare(before, after, "2026-10-31 09:00:00", "张会计")
    rows = out[["customer_id", "field", "old", "new"]].values.tolist()
    assert rows == [
        ["C2", "name", "乙", "乙公司"],
        ["C2", "credit_limit", "1000.00", "2500.50"],
        ["C2", "birthday", "1990-01-05", "1990-01-06"],
        ["C3", REMOVED, "丙", ""],
        ["C4", ADDED, "", "丁"],
    ]
    assert set(out["when"]) == {"2026-10-31 09:00:00"} and set(out["who"]) == {"张会计"}


def test_same_values_retyped_are_not_changes_and_duplicates_use_first_row():
    a = customer_text(typed([{"customer_id": " C1 ", "name": "甲", "credit_limit": 100000, "birthday": "1990-01-05"},
                             {"customer_id": "C1", "name": "重复"}, {"customer_id": "", "name": "无编号"}]), KINDS)
    b = customer_text(typed([{"customer_id": "C1", "name": "甲 ", "credit_limit": 100000,
                              "birthday": "1990-01-05 00:00"}]), KINDS)
    assert list(a.index) == ["C1"]
    assert compare(a, b, "t", "w").empty


def test_snapshot_round_trip_and_damaged_json():
    text = customer_text(typed([{"customer_id": "C1", "name": "甲", "phone": "138 0000", "notes": 'a "q" \n b'},
                                {"customer_id": "C2", "name": "乙"}]), KINDS)
    snap = encode_snapshot(text)
    assert list(snap.columns) == ["customer_id", "fields"]
    back = decode_snapshot(snap, FIELDS)
    assert compare(back, text, "t", "w").empty
    snap.loc[1, "fields"] = "{not json"
    changed = compare(decode_snapshot(snap, FIELDS), text, "t", "w")
    assert changed[["customer_id", "field", "new"]].values.tolist() == [["C2", "name", "乙"]]


@pytest.fixture
def ledger(tmp_path):
    p = tmp_path / "台账.xlsx"
    build_ledger(p, "zh", data={
        "customers": pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "name": ["甲公司", "乙公司", "丙公司"],
                                   "phone": ["13800000001", "13800000002", ""]}),
        "invoices": pd.DataFrame({"doc_no": ["I1"], "date": ["2026-10-01"], "customer_id": ["C1"], "amount": [100.0]})},
        settings={"as_of": "2026-10-31"})
    return p


def changes_rows(path: Path) -> list:
    book = CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name("变更记录").to_python()


def edit_customers(path: Path, author: str | None, edits: dict, add=None):
    """edits: (row, header) -> value; the document properties say who saved it (or nobody)."""
    wb = openpyxl.load_workbook(path)
    ws = wb["客户档案"]
    header = [c.value for c in ws[1]]
    for (row, col), value in edits.items():
        ws.cell(row, header.index(col) + 1).value = value
    if add:
        ws.append(add)
    wb.properties.lastModifiedBy = author
    wb.properties.creator = None
    wb.save(path)


def test_runs_take_a_snapshot_then_append_changes_with_who(ledger):
    report = ops.run(FileBook(ledger), ["validate"])
    assert report.summary["changes"] == 0
    wb = openpyxl.load_workbook(ledger)
    assert wb["_snapshot"].sheet_state == "veryHidden"
    assert wb["变更记录"].protection.sheet, "generated sheets are protected"
    assert changes_rows(ledger) == [["时间", "操作人", "客户编号", "字段", "原值", "新值"]]

    edit_customers(ledger, "张会计", {(2, "电话"): "13911112222", (3, "客户名称"): "乙有限公司"}, add=["C9", "新客户"])
    report = ops.run(FileBook(ledger), ["validate"])
    assert report.summary["changes"] == 3
    rows = changes_rows(ledger)[1:]
    assert [r[1:] for r in rows] == [
        ["张会计", "C1", "电话", "13800000001", "13911112222"],
        ["张会计", "C2", "客户名称", "乙公司", "乙有限公司"],
        ["张会计", "C9", "(新增客户)", "", "新客户"],
    ]
    # a third run adds nothing and keeps the log; the next edit is appended below it
    assert ops.run(FileBook(ledger), ["validate"]).summary["changes"] == 0
    assert changes_rows(ledger)[1:] == rows
    edit_customers(ledger, None, {(4, "电话"): "020-12345678"})  # no author: the OS user
    ops.run(FileBook(ledger), ["validate"])
    later = changes_rows(ledger)[1:]
    assert later[:3] == rows
    assert [r[1:] for r in later[3:]] == [[getpass.getuser(), "C3", "电话", "", "020-12345678"]]


def test_no_write_no_changes_step(ledger):
    report = ops.run(FileBook(ledger), ["validate"], write=False)
    assert "changes" not in report.summary
    assert "_snapshot" not in CalamineWorkbook.from_path(str(ledger)).sheet_names


def test_a_log_the_book_did_not_read_is_never_rewritten(ledger):
    """An adapter that lists the Changes sheet but does not hand it over: no rewrite."""
    ops.run(FileBook(ledger), ["validate"])
    raw = FileBook(ledger).read()
    hidden = RawBook(path=raw.path, sheet_names=raw.sheet_names,
                     sheets={n: s for n, s in raw.sheets.items() if n not in ("变更记录", "_snapshot")})

    class Book(FileBook):
        def read(self):
            return hidden

        def write(self, outs, *a, **k):
            self.written = [o.key for o in outs]
            return super().write(outs, *a, **k)

    book = Book(ledger)
    ops.run(book, ["validate"])
    assert "changes" not in book.written and "snapshot" not in book.written
    assert isinstance(next(iter(raw.sheets.values())), RawSheet)


def test_a_run_with_no_customer_changed_leaves_the_log_and_snapshot_as_they_are(ledger):
    """The usual day (invoices and receipts typed, no card touched): neither sheet is rewritten,
    their parts stay byte for byte; a changed card rewrites both, and so does a snapshot that
    compares as unchanged but is not what this run would write (another order)."""
    import zipfile

    from custledger.io.reader import sheet_parts

    class Book(FileBook):
        def write(self, outs, *a, **k):
            self.written = [o.key for o in outs]
            return super().write(outs, *a, **k)

    def parts():
        names = sheet_parts(ledger)
        with zipfile.ZipFile(ledger) as zf:
            return {n: zf.read(names[n]) for n in ("变更记录", "_snapshot")}

    ops.run(FileBook(ledger), ["validate"])          # the first run takes the snapshot
    before = parts()
    book = Book(ledger)
    assert ops.run(book, ["validate"]).summary["changes"] == 0
    assert "changes" not in book.written and "snapshot" not in book.written
    assert parts() == before

    wb = openpyxl.load_workbook(ledger)              # the same values, the snapshot's rows swapped
    ws = wb["_snapshot"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    for i, row in enumerate(reversed(rows), start=2):
        for j, v in enumerate(row, start=1):
            ws.cell(i, j).value = v
    wb.save(ledger)
    book = Book(ledger)
    assert ops.run(book, ["validate"]).summary["changes"] == 0
    assert "snapshot" in book.written                # rewritten in this run's order

    edit_customers(ledger, "张会计", {(2, "电话"): "13911112222"})
    book = Book(ledger)
    assert ops.run(book, ["validate"]).summary["changes"] == 1
    assert "changes" in book.written and "snapshot" in book.written
