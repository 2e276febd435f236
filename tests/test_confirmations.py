"""Confirmations 对账确认: answers to statements on the Statements summary, open disputes as
reminders (sheet and iCalendar) until a later confirmation, the sheet validated like the others."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
from python_calamine import CalamineWorkbook

from custledger import ops
from custledger.core.confirmations import for_period, open_disputes
from custledger.core.parse import parse_months
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger

MONTH = "2026-10"


def rows(path: Path, name: str) -> list[dict]:
    data = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()
    return [dict(zip(data[0], r)) for r in data[1:]]


def make_ledger(tmp_path: Path, answers: list) -> Path:
    path = tmp_path / "台账.xlsx"
    build_ledger(path, "zh", data={
        "customers": pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "name": ["甲", "乙", "丙"],
                                   "owner": ["张三", "李四", "张三"]}),
        "invoices": pd.DataFrame({"doc_no": ["I1", "I2", "I3"], "date": ["2026-10-05"] * 3,
                                  "customer_id": ["C1", "C2", "C3"], "amount": [1000, 2000.5, 300]})},
        settings={"as_of": "2026-11-20"})
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("对账确认")
    ws.append(["客户编号", "期间", "确认结果", "客户确认余额", "回复日期", "备注"])
    for r in answers:
        ws.append(list(r))
    wb.save(path)
    return path


def test_month_text_is_read_in_the_forms_people_type():
    s = pd.Series(["2026-10", "2026/3", "2026年10月", " 2026.01 ", "2026-10-01 00:00:00", "2026-13", "十月", None, ""])
    out, bad = parse_months(s)
    assert out.tolist() == ["2026-10", "2026-03", "2026-10", "2026-01", "2026-10", "", "", "", ""]
    assert bad.tolist() == [False] * 5 + [True, True, False, False]


def test_latest_answer_of_the_period_and_disputes_open_until_confirmed():
    conf = pd.DataFrame({
        "customer_id": ["C1", "C1", "C2", "C3", "C3"],
        "period": ["2026-10", "2026-10", "2026-10", "2026-09", "2026-10"],
        "status": ["disputed", "confirmed", "disputed", "disputed", "confirmed"],
        "amount": pd.array([90000, 100000, 150000, pd.NA, 30000], dtype="Int64"),
        "date": pd.to_datetime(["2026-11-02", "2026-11-09", "2026-11-03", "2026-10-10", "2026-11-05"]),
        "note": ["少一张发票", "", "已付 500", "", ""], "_row": [2, 3, 4, 5, 6]})
    closing = pd.Series([100000, 200050, 30000], index=["C1", "C2", "C3"])
    got = for_period(conf, "2026-10", closing)
    assert got["confirmation"].tolist() == ["confirmed", "disputed", "confirmed"]
    assert got["difference"].tolist() == [0, -50050, 0]
    # C1's dispute was confirmed later, C3's September dispute by the October confirmation
    assert open_disputes(conf)["customer_id"].tolist() == ["C2"]
    # as of before C1's confirmation, its dispute is still open
    assert open_disputes(conf, as_of="2026-11-05")["customer_id"].tolist() == ["C1", "C2"]


def test_summary_reminders_and_calendar_show_the_answers(tmp_path):
    ledger = make_ledger(tmp_path, [
        ("C1", "2026-10", "相符", 1000, "2026-11-03", ""),
        ("C2", "2026-10", "有异议", 1500, "2026-11-04", "已付 500.50 未入账"),
    ])
    ics = tmp_path / "team.ics"
    report = ops.run(FileBook(ledger), ["reconcile", "reminders", "statements"], month=MONTH, ics=ics)
    assert report.exit_code == 0, report.notes
    summary = {r["客户编号"]: r for r in rows(ledger, "对账单汇总")}
    assert summary["C1"]["确认状态"] == "确认" and summary["C1"]["差额"] == 0
    assert summary["C2"]["确认状态"] == "有异议" and summary["C2"]["客户确认余额"] == 1500
    assert summary["C2"]["差额"] == -500.5
    assert summary["C3"]["确认状态"] == "" and summary["C3"]["差额"] == ""
    disputes = [r for r in rows(ledger, "提醒事项") if r["提醒类型"] == "对账异议"]
    assert [(r["客户编号"], r["金额"], r["负责人"]) for r in disputes] == [("C2", 1500, "李四")]
    assert "2026-10" in disputes[0]["事项"] and "已付 500.50 未入账" in disputes[0]["事项"]
    assert "对账异议" in ics.read_text(encoding="utf-8")

    # a later confirmation closes the dispute
    wb = openpyxl.load_workbook(ledger)
    wb["对账确认"].append(["C2", "2026-10", "确认", 2000.5, "2026-11-10", "补记收款后相符"])
    wb.save(ledger)
    ops.run(FileBook(ledger), ["reconcile", "reminders", "statements"], month=MONTH)
    assert not [r for r in rows(ledger, "提醒事项") if r["提醒类型"] == "对账异议"]
    assert {r["客户编号"]: r["确认状态"] for r in rows(ledger, "对账单汇总")}["C2"] == "确认"


def test_the_sheet_is_validated_like_the_others(tmp_path):
    ledger = make_ledger(tmp_path, [
        ("C9", "2026-10", "确认", 10, "2026-11-03", ""),
        ("C1", "2026-13", "确认", 10, "2026-11-03", ""),
        ("C1", "2026-10", "也许", 10, "2026-11-03", ""),
        ("C1", "2026-10", "确认", 1000, "2026-11-03", ""),
    ])
    report = ops.run(FileBook(ledger), ["reconcile", "statements"], month=MONTH, allow_errors=True)
    assert report.exit_code == 1
    probs = [r for r in rows(ledger, "校验结果") if r["工作表"] == "对账确认"]
    assert sorted((r["行"], r["列"]) for r in probs) == [(2, "客户编号"), (3, "期间"), (4, "确认结果")]
    text = " ".join(r["问题"] for r in probs)
    assert "C9" in text and "YYYY-MM" in text
    assert {r["客户编号"]: r["确认状态"] for r in rows(ledger, "对账单汇总")}["C1"] == "确认"
