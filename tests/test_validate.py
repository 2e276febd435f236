"""Validation: schema rules per row, cross-row rules, problems as records in the workbook's language."""

import datetime as dt
from pathlib import Path

import openpyxl

from custledger.core.load import load
from custledger.core.validate import split_list, validate
from custledger.io.reader import read_book

GOOD_USCC = "91350100M000100Y43"


def make_book(path: Path, customers, invoices, receipts=None, settings=None, lang_headers="zh"):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户档案" if lang_headers == "zh" else "Customers"
    for row in customers:
        ws.append(row)
    ws = wb.create_sheet("销售单据" if lang_headers == "zh" else "Invoices")
    for row in invoices:
        ws.append(row)
    if receipts is not None:
        ws = wb.create_sheet("回款记录")
        for row in receipts:
            ws.append(row)
    ws = wb.create_sheet("参数")
    ws.append(["参数", "值"])
    for k, v in (settings or {"as_of": "2026-10-31"}).items():
        ws.append([k, v])
    wb.save(path)
    return path


def run(path):
    return validate(load(read_book(path)))


def codes(v, sheet=None):
    p = v.problems
    if sheet:
        p = p[p["sheet"] == sheet]
    return sorted(p["code"].tolist())


CUST_HEAD = ["客户编号", "客户名称", "电话", "统一社会信用代码", "邮箱", "更新日期", "别名"]


def test_uscc_fixture_is_valid():
    from stdnum.cn import uscc
    assert uscc.is_valid(GOOD_USCC)


def test_customer_rules(tmp_path):
    v = run(make_book(tmp_path / "l.xlsx", [
        CUST_HEAD,
        ["C1", "杭州恒昌机电设备有限公司", "13812345678", GOOD_USCC, "a@b.cn", "2026-10-01", "恒昌"],
        ["C2", "恒昌机电设备(杭州)有限公司", "138 1234 5678", "", "bad-email", "2026-10-01", ""],
        ["C1", "重复编号", "", "", "", "2026-10-01", ""],
        ["C3", "杭州恒昌机电设备有限公司", "12345", "913501001234567890", "", "2025-01-01", ""],
    ], [["单据编号", "日期", "客户编号", "金额"]]))
    p = v.problems.set_index("cell")
    assert p.loc["A4", "code"] == "duplicate_key" and p.loc["A4", "severity"] == "error"
    assert "第 2 行" in p.loc["A4", "problem"]
    assert p.loc["C5", "code"] == "phone_invalid"
    assert p.loc["D5", "code"] == "uscc_invalid"
    assert p.loc["E3", "code"] == "email_invalid"
    assert "C3" in p.index and p.loc["C3", "code"] == "dup_customer"          # same phone as row 2
    assert p.loc["B5", "code"] == "dup_customer"                               # same name as row 2
    assert p.loc["F5", "code"] == "stale_profile"
    assert set(v.ledger.customers["customer_id"]) == {"C1", "C2", "C3"}       # only the repeat is out
    assert (v.problems.loc[v.problems.severity == "warning", "code"] != "duplicate_key").all()


def test_invoice_rules_and_amount_from_quantity(tmp_path):
    v = run(make_book(tmp_path / "l.xlsx", [CUST_HEAD, ["C1", "甲", "", "", "", "", ""], ["C2", "乙", "", "", "", "", ""]], [
        ["单据编号", "日期", "客户编号", "类型", "数量", "单价", "金额", "到期日", "关联单据"],
        ["XS-1", "2026-10-01", "C1", "销售", 3, 3.333, None, None, None],          # amount 10.00 from 9.999
        ["XS-2", "2026-10-01", "C1", "销售", 2, 10, 20.02, None, None],            # disagrees by 0.02
        ["XS-3", "2026-10-01", "C1", "销售", 2, 10, 20.01, None, None],            # within 0.01: fine
        ["XS-4", "2026-10-05", "C9", "销售", None, None, 100, None, None],         # unknown customer
        ["XS-5", "2026-10-05", "C1", "销售", None, None, None, None, None],        # no amount
        ["XS-6", "2026-10-05", "C1", "销售", None, None, 50, "2026-10-01", None],  # due before date
        ["HZ-1", "2026-10-06", "C1", "红字", None, None, -5, None, "XS-1"],        # negative credit ok
        ["HZ-2", "2026-10-06", "C2", "红字", None, None, 5, None, "XS-1"],         # other customer's
        ["HZ-3", "2026-10-06", "C1", "红字", None, None, 50, None, "XS-1"],        # exceeds
        ["XS-1", "2026-10-07", "C1", "销售", None, None, 1, None, None],           # duplicate doc_no
        ["XS-7", "2026-10-07", "C1", "销售", None, None, 0, None, None],           # not positive
    ]))
    by_row = v.problems.groupby("row")["code"].apply(sorted).to_dict()
    assert 2 not in by_row
    assert by_row[3] == ["amount_mismatch"]
    assert 4 not in by_row
    assert by_row[5] == ["unknown_customer"]
    assert by_row[6] == ["amount_missing"]
    assert by_row[7] == ["due_before_date"]
    assert 8 not in by_row
    assert by_row[9] == ["credit_ref_missing"]
    assert by_row[10] == ["credit_exceeds"]
    assert by_row[11] == ["duplicate_key"]
    assert by_row[12] == ["not_positive"]
    inv = v.ledger.invoices.set_index("doc_no")
    assert set(inv.index) == {"XS-1", "XS-3", "HZ-1", "HZ-2", "HZ-3"}
    assert inv.loc["XS-1", "amount"] == 1000
    assert inv.loc["HZ-1", "amount"] == 500                  # the credit is the absolute value
    assert inv.loc["XS-1", "due_date"] == dt.datetime(2026, 10, 31)   # default terms 30


def test_receipts_payer_matching_and_applied_to(tmp_path):
    v = run(make_book(tmp_path / "l.xlsx", [CUST_HEAD, ["C1", "杭州恒昌机电设备有限公司", "", "", "", "", "恒昌"],
                                            ["C2", "宁波海达贸易有限公司", "", "", "", "", ""]],
                      [["单据编号", "日期", "客户编号", "金额"], ["XS-1", "2026-10-01", "C1", 100], ["XS-2", "2026-10-01", "C2", 100]],
                      receipts=[["收款编号", "日期", "客户编号", "付款方", "金额", "核销单据"],
                                ["R1", "2026-10-02", "", "恒昌", 10, "XS-1、XS-2"],
                                ["R2", "2026-10-02", "", "宁波海达贸易有限公司", 10, ""],
                                ["R3", "2026-10-02", "", "宁波海达贸易", 10, ""],
                                ["R4", "2026-10-02", "", "陌生公司", 10, ""],
                                ["R5", "2026-10-02", "", "", 10, ""],
                                ["R6", "2026-10-02", "C1", "", -3, ""]]))
    rec = v.ledger.receipts.set_index("receipt_no")
    assert rec.loc["R1", "customer_id"] == "C1"
    assert rec.loc["R2", "customer_id"] == "C2"
    assert rec.loc["R3", "customer_id"] == "C2"            # normalized name (suffix dropped)
    assert "R4" not in rec.index and "R5" not in rec.index and "R6" not in rec.index
    by_row = v.problems.groupby("row")["code"].apply(sorted).to_dict()
    assert by_row[2] == ["applied_unknown"] and "XS-2" in v.problems.loc[v.problems.row == 2, "value"].iat[0]
    assert by_row[5] == ["payer_unmatched"]
    assert by_row[6] == ["receipt_no_customer"]
    assert by_row[7] == ["not_positive"]


def test_english_workbook_gets_english_messages(tmp_path):
    v = run(make_book(tmp_path / "l.xlsx", [["Customer ID", "Name"], ["C1", "A"]],
                      [["Doc No", "Date", "Customer ID", "Amount"], ["I1", "2026-10-01", "C2", 5]],
                      settings={"language": "en", "as_of": "2026-10-31"}, lang_headers="en"))
    assert v.problems["problem"].tolist() == ["Customer ID C2 is not in Customers"]
    assert v.problems["column"].tolist() == ["Customer ID"]


def test_unreadable_values_are_errors_once(tmp_path):
    v = run(make_book(tmp_path / "l.xlsx", [CUST_HEAD, ["C1", "甲", "", "", "", "", ""]],
                      [["单据编号", "日期", "客户编号", "金额"], ["I1", "someday", "C1", "12元5"], ["I2", "2026-10-01", "C1", "¥1,000"]]))
    assert codes(v) == ["bad_amount", "bad_date"]
    assert v.ledger.invoices["doc_no"].tolist() == ["I2"]
    assert v.ledger.invoices["amount"].tolist() == [100000]


def test_split_list_separators():
    assert split_list("A1, A2；A3、A4 A5,A1，A6;") == ["A1", "A2", "A3", "A4", "A5", "A6"]


def test_problems_order_is_a_stable_sort_by_sheet_row_cell_without_repeats():
    # _in_order (one np.lexsort) against the pandas sort it replaced, on shuffled problems with
    # ties, repeats, sheets the workbook does not have and a missing cell
    import random

    import numpy as np
    import pandas as pd

    from custledger.core.validate import PROBLEM_COLUMNS, _in_order

    rnd = random.Random(5)
    names = ("客户档案", "销售单据", "回款记录")
    rows = []
    for i in range(600):
        rows.append({"sheet": rnd.choice(names + ("参数", "Bank")), "row": rnd.randint(0, 40),
                     "cell": rnd.choice(["", "A3", "B3", "A10", "AA3", "B12", None]), "code": rnd.choice("xyz"),
                     "column": "", "value": str(i), "problem": "", "severity": "error", "field": ""})
    frame = pd.DataFrame(rows, columns=PROBLEM_COLUMNS)
    order = {name: i for i, name in enumerate(names)}
    want = frame.assign(_o=frame["sheet"].map(order).fillna(99)).sort_values(["_o", "row", "cell"], kind="stable")
    want = want.drop(columns="_o").drop_duplicates(["sheet", "cell", "code"]).reset_index(drop=True)
    got = _in_order(frame, names)
    pd.testing.assert_frame_equal(got, want)
    assert len(got) < len(frame) and np.all(np.diff(got["sheet"].map(order).fillna(99)) >= 0)
