"""Payers 付款方对照 end to end: a person confirms a suggested Bank line, the next run imports it
and learns the payer (the sheet is created on the first confirmation, editable, in the
workbook's language); a later payment from the learnt account is auto; a second confirmation is
appended below the first; nothing else in the person's sheets changes."""

from __future__ import annotations

import csv
import io

import openpyxl
from python_calamine import CalamineWorkbook

from custledger import ops
from custledger.demo import write_demo
from custledger.io.filebook import FileBook


def rows(path, name):
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def _bank_csv(path, lines):
    """A bank export in the demo's format (GBK, the bank's header lines)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["中国工商银行 账户明细查询"])
    w.writerow(["账号: 6222000000000000000"])
    w.writerow(["交易日期", "交易时间", "对方户名", "对方账号", "收入金额", "支出金额", "余额", "摘要", "交易流水号"])
    for date, payer, acct, amount, ref in lines:
        w.writerow([date, "10:00:00", payer, acct, amount, "", "1000000.00", "货款", ref])
    path.write_bytes(out.getvalue().encode("gbk"))
    return path


def _confirm(ledger, pick):
    """Type a customer_id into confirm_id of the first suggested Bank line; -> (payer, account, id)."""
    wb = openpyxl.load_workbook(ledger)
    ws = wb["银行流水匹配"]
    header = [c.value for c in ws[1]]
    col = {k: header.index(k) for k in ("状态", "确认客户编号", "客户编号", "付款方", "对方账号", "候选客户")}
    target = [r for r in ws.iter_rows(min_row=2) if r[col["状态"]].value == "待确认"][pick]
    cid = target[col["客户编号"]].value
    target[col["确认客户编号"]].value = cid
    wb.save(ledger)
    return target[col["付款方"]].value, str(target[col["对方账号"]].value or ""), cid


def test_confirmation_teaches_the_payer(tmp_path):
    ledger, bank, _ = write_demo(tmp_path, "zh")
    ops.run(FileBook(ledger), ["reconcile"], bank=bank)
    assert "付款方对照" not in CalamineWorkbook.from_path(str(ledger)).sheet_names
    payer, account, cid = _confirm(ledger, 0)
    before = {n: rows(ledger, n) for n in ("客户档案", "销售单据", "跟进记录")}

    r = ops.run(FileBook(ledger), ["reconcile"], bank=bank)
    assert r.summary["receipts_imported"] == 1 and r.summary["payers_learnt"] == 1
    assert any("付款方" in n for n in r.notes)
    learnt = rows(ledger, "付款方对照")
    assert learnt[0] == ["付款方", "对方账号", "客户编号", "添加日期"]
    assert [x[:3] for x in learnt[1:]] == [[payer, account, cid]]
    assert learnt[1][3]  # a date
    wb = openpyxl.load_workbook(ledger)
    assert not wb["付款方对照"].protection.sheet  # a person may correct or delete what was learnt
    assert {n: rows(ledger, n) for n in before} == before

    # the same run again learns nothing new (the line is now in Receipts)
    r = ops.run(FileBook(ledger), ["reconcile"], bank=bank)
    assert r.summary.get("payers_learnt", 0) == 0 and len(rows(ledger, "付款方对照")) == 2

    # a new payment from the learnt account, under a name nobody has: auto for that customer
    later = _bank_csv(tmp_path / "later.csv", [("2026-10-30", "某某代付服务部", account, "1,234.00", "LATER-1")])
    r = ops.run(FileBook(ledger), ["reconcile"], bank=later)
    assert r.summary["receipts_imported"] == 1
    line = rows(ledger, "银行流水匹配")[1]
    header = rows(ledger, "银行流水匹配")[0]
    assert line[header.index("客户编号")] == cid and line[header.index("状态")] == "自动匹配"
    receipts = rows(ledger, "回款记录")
    assert receipts[-1][2] == cid


def test_second_confirmation_is_appended_and_read_next_time(tmp_path):
    ledger, bank, _ = write_demo(tmp_path, "zh")
    ops.run(FileBook(ledger), ["reconcile"], bank=bank)
    first = _confirm(ledger, 0)
    ops.run(FileBook(ledger), ["reconcile"], bank=bank)
    second = _confirm(ledger, 0)  # the next line still waiting
    r = ops.run(FileBook(ledger), ["reconcile"], bank=bank)
    assert r.summary["payers_learnt"] == 1
    learnt = rows(ledger, "付款方对照")
    assert [x[:3] for x in learnt[1:]] == [list(first), list(second)]


def test_payers_sheet_in_english_and_as_text():
    import pandas as pd

    from custledger.ops.reconcile import payers_sheet
    rows_ = pd.DataFrame({"payer": ["=HYPERLINK(\"x\")"], "payer_account": ["6222000011112222333"],
                          "customer_id": ["C1"], "added": [pd.Timestamp("2026-10-31")]})
    out = payers_sheet(rows_, "en")
    assert out.name == "Payers" and out.headers == ["Payer", "Payer Account", "Customer ID", "Added"]
    assert out.protect is False and out.table == "tblPayers"
    assert out.formats == ["text", "text", "text", "date"]
    # accounts stay text (no float rounding of 19 digits), a formula-like payer stays a string
    assert out.data[1][0] == "6222000011112222333" and out.data[0][0] == "=HYPERLINK(\"x\")"
