"""The demo ledger (custledger.demo_data) and the benchmark generator (benchmarks/generate.py)."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers
import pytest
from python_calamine import CalamineWorkbook
from stdnum.cn import uscc

from custledger.core.model import CUSTOMER_COLUMNS, INTERACTION_COLUMNS, INVOICE_COLUMNS, RECEIPT_COLUMNS
from custledger.demo_data import DemoData, make_demo

AS_OF = dt.date(2026, 10, 31)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return make_demo()


def _cents(x) -> int:
    return int(Decimal(repr(float(x))).scaleb(2).to_integral_value())


def _planted(demo: DemoData, sheet: str, column: str) -> set:
    return {p["key"] for p in demo.planted_problems if p["sheet"] == sheet and p["column"] == column}


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is pd.NA or v == ""


def test_deterministic_for_a_seed():
    a, b, c = make_demo(seed=3), make_demo(seed=3), make_demo(seed=4)
    for name in ("customers", "invoices", "receipts", "interactions", "bank"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.bank_csv_bytes() == b.bank_csv_bytes()
    assert a.planted_problems == b.planted_problems
    assert not a.invoices.equals(c.invoices)


def test_sizes_and_columns(demo):
    assert len(demo.customers) == 200 and len(demo.invoices) == 3000 and len(demo.receipts) == 2500
    assert list(demo.customers.columns) == CUSTOMER_COLUMNS
    assert list(demo.invoices.columns) == INVOICE_COLUMNS
    assert list(demo.receipts.columns) == RECEIPT_COLUMNS
    assert list(demo.interactions.columns) == INTERACTION_COLUMNS
    small = make_demo(seed=2, customers=40, invoices=400, receipts=300)
    assert (len(small.customers), len(small.invoices), len(small.receipts)) == (40, 400, 300)
    assert demo.settings["as_of"] == "2026-10-31" and demo.settings["company_name"]


def test_default_demo_is_fast():
    t = time.perf_counter()
    make_demo(seed=11)
    assert time.perf_counter() - t < 1.0


def test_values_are_as_typed(demo):
    inv, cust = demo.invoices, demo.customers
    assert set(cust["type"]) == {"企业", "个人", "政府", "其他"}
    assert set(cust["status"]) == {"正常", "停用"}
    assert set(inv["kind"]) == {"销售", "红字"}
    assert set(demo.receipts["method"]) <= {"转账", "现金", "票据", "其他"}
    assert {"转账", "现金", "票据"} <= set(demo.receipts["method"])
    assert set(demo.interactions["kind"]) <= {"拜访", "电话", "邮件", "投诉", "反馈", "满意度调查", "关怀"}
    assert set(demo.interactions["status"]) == {"open", "closed"}
    assert all(isinstance(d, dt.date) for d in inv["date"])
    assert all(_cents(a) == round(a * 100) for a in inv["amount"])  # two decimals
    assert inv["date"].min() >= AS_OF - dt.timedelta(days=560) and inv["date"].max() <= AS_OF
    assert demo.receipts["date"].max() <= AS_OF
    assert 4 <= cust["owner"].nunique() <= 6
    assert cust["payment_terms"].isna().any() and set(cust["payment_terms"].dropna()) <= {30, 45, 60, 90}


def test_phones_valid_except_planted(demo):
    bad = _planted(demo, "customers", "phone")
    assert len(bad) == 1
    for cid, phone in zip(demo.customers["customer_id"], demo.customers["phone"]):
        valid = phonenumbers.is_valid_number(phonenumbers.parse(phone, "CN"))
        assert valid == (cid not in bad), (cid, phone)
    assert demo.customers["phone"].str.contains("-").any()  # some landlines


def test_tax_ids_valid_except_planted(demo):
    bad = _planted(demo, "customers", "tax_id") - {p["key"] for p in demo.planted_problems
                                                    if "duplicate" in p["what"]}
    assert len(bad) == 1
    for cid, tax in zip(demo.customers["customer_id"], demo.customers["tax_id"]):
        if not _blank(tax):
            assert len(tax) == 18 and uscc.is_valid(tax) == (cid not in bad), (cid, tax)
    dup = [p for p in demo.planted_problems if "duplicate" in p["what"] and p["sheet"] == "customers"]
    taxes = demo.customers.set_index("customer_id")["tax_id"]
    assert (taxes == taxes[dup[0]["key"]]).sum() == 2


def test_quantity_times_price_is_amount(demo):
    wrong = _planted(demo, "invoices", "amount")
    inv = demo.invoices[demo.invoices["quantity"].notna()]
    mismatch = {doc for doc, q, p, a in zip(inv["doc_no"], inv["quantity"], inv["unit_price"], inv["amount"])
                if Decimal(repr(float(q))) * Decimal(repr(float(p))) != Decimal(repr(float(a)))}
    assert mismatch == wrong and len(wrong) == 1


def test_credit_notes_reference_same_customer_invoices(demo):
    inv = demo.invoices
    sales = inv[inv["kind"] == "销售"].drop_duplicates("doc_no").set_index("doc_no")
    credits = inv[inv["kind"] == "红字"]
    with_ref = credits[credits["ref_doc"].notna()]
    assert len(with_ref) >= 10 and len(credits) > len(with_ref)  # some general credits
    for _, cn in with_ref.iterrows():  # a few dozen rows
        ref = sales.loc[cn["ref_doc"]]
        assert ref["customer_id"] == cn["customer_id"]
        assert abs(cn["amount"]) <= ref["amount"] and cn["date"] >= ref["date"]
    assert (credits["amount"] < 0).any() and (credits["amount"] > 0).any()  # entered both ways


def test_receipts_realism(demo):
    rc, inv = demo.receipts, demo.invoices
    transfers = rc[rc["method"] == "转账"]
    assert transfers["bank_ref"].notna().all() and transfers["bank_ref"].is_unique
    assert rc.loc[rc["method"] != "转账", "bank_ref"].isna().all()
    assert rc["receipt_no"].is_unique
    blank = rc[rc["customer_id"].isna()]
    assert len(blank) >= 3 and blank["payer"].notna().all()
    lumps = rc["memo"].fillna("").str.count(r"XS\d{4}-") + rc["applied_to"].fillna("").str.count(r"XS\d{4}-")
    assert (lumps >= 2).sum() >= 10
    assert rc["memo"].fillna("").str.contains("部分货款").any()
    # a prepayment before the customer's first invoice, and a deposit from a customer with none
    first = inv.groupby("customer_id")["date"].min()
    pre = rc[rc["memo"].isin(["预付款", "定金"])]
    assert len(pre) == 2
    assert all(cid not in first or d < first[cid] for cid, d in zip(pre["customer_id"], pre["date"]))
    # something is left overdue: customers who have paid nothing for 90+ days but owe
    sales = inv[inv["kind"] == "销售"]
    owed = sales.groupby("customer_id")["amount"].sum() - rc.groupby("customer_id")["amount"].sum()
    assert owed.sum() > 0.1 * sales["amount"].sum()
    last_paid = rc.groupby("customer_id")["date"].max()
    old = sales[sales["date"] < AS_OF - dt.timedelta(days=150)].groupby("customer_id")["amount"].sum()
    stale = [c for c in old.index if last_paid.get(c, dt.date(2000, 1, 1)) < AS_OF - dt.timedelta(days=90)
             and owed.get(c, 0) > 0]
    assert stale


def test_planted_problems_are_few_and_real(demo):
    planted = demo.planted_problems
    assert 6 <= len(planted) <= 10
    assert {p["sheet"] for p in planted} == {"customers", "invoices", "receipts"}
    inv = demo.invoices.set_index("doc_no", drop=False)
    by = {p["column"]: p["key"] for p in planted if p["sheet"] == "invoices"}
    assert (demo.invoices["doc_no"] == by["doc_no"]).sum() == 2
    assert inv.loc[by["customer_id"], "customer_id"] not in set(demo.customers["customer_id"])
    row = inv.loc[by["due_date"]]
    assert row["due_date"] < row["date"]
    rc = demo.receipts.set_index("receipt_no")
    key = next(p["key"] for p in planted if p["sheet"] == "receipts")
    target = rc.loc[key, "applied_to"]
    assert inv.loc[target, "customer_id"] != rc.loc[key, "customer_id"]


def test_profiles_and_interactions(demo):
    cust, it = demo.customers, demo.interactions
    assert cust["name"].str.contains("分公司").any()
    assert cust["name"].is_unique and cust["customer_id"].is_unique
    soon = cust["contract_end"].dropna().map(lambda d: 0 < (d - AS_OF).days <= 30)
    assert soon.sum() >= 5
    stale = cust["updated"].map(lambda d: (AS_OF - d).days > 180)
    assert 0 < stale.sum() < len(cust) / 2
    assert it["satisfaction"].dropna().between(1, 5).all()
    assert (it["kind"] == "满意度调查").sum() == it["satisfaction"].notna().sum()
    open_ = it[it["status"] == "open"]
    assert (open_["next_date"].dropna() > AS_OF).any() and (open_["next_date"].dropna() < AS_OF).any()
    assert (open_["kind"] == "投诉").any()
    last = it.groupby("customer_id")["date"].max()
    assert (last < AS_OF - dt.timedelta(days=90)).sum() >= 3


def test_bank_export(demo):
    raw = demo.bank_csv_bytes()
    text = raw.decode("gbk")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["中国工商银行 账户明细查询"] and rows[1][0].startswith("账号")
    assert rows[2] == ["交易日期", "交易时间", "对方户名", "对方账号", "收入金额", "支出金额", "余额", "摘要",
                       "交易流水号"]
    assert len(rows) == 3 + len(demo.bank)
    bank = demo.bank
    month = AS_OF.replace(day=1)
    assert bank["交易日期"].between(month, AS_OF).all()
    credit = bank[bank["收入金额"].notna()]
    assert bank["支出金额"].notna().sum() >= 3
    recorded = set(demo.receipts["bank_ref"].dropna())
    dup = credit["交易流水号"].isin(recorded)
    assert dup.sum() >= 3 and (~dup).sum() > dup.sum()  # most lines not entered yet
    names = set(demo.customers["name"])
    new = credit[~dup]
    assert (~new["对方户名"].isin(names)).sum() >= 3  # shortened names, aliases, a stranger
    assert "成都蓝海餐饮管理有限公司" in set(new["对方户名"]) - names
    # amounts in the CSV as the bank prints them
    assert any("," in r[4] for r in rows[3:] if r[4])


def _load_generator():
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "benchmarks" / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_benchmark_generator_tiny(tmp_path, capsys):
    gen = _load_generator()
    out = tmp_path / "tiny.xlsx"
    assert gen.main(["--customers", "50", "--invoices", "500", "--receipts", "400", "--out", str(out)]) == 0
    assert "invoices 500" in capsys.readouterr().out
    wb = CalamineWorkbook.from_path(str(out))
    assert wb.sheet_names == ["客户档案", "销售单据", "回款记录", "参数"]
    sheets = {n: wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names}
    cust, inv, rec = sheets["客户档案"], sheets["销售单据"], sheets["回款记录"]
    assert [len(cust), len(inv), len(rec)] == [51, 501, 401]
    assert cust[0] == [h for _, h in gen.CUSTOMER_HEADERS] and cust[0][:2] == ["客户编号", "客户名称"]
    assert inv[0] == [h for _, h in gen.INVOICE_HEADERS] and rec[0] == [h for _, h in gen.RECEIPT_HEADERS]
    assert ["基准日", "2026-10-31"] in sheets["参数"]
    ids = {r[0] for r in cust[1:]}
    assert all(isinstance(r[1], dt.date) and r[2] in ids for r in inv[1:])
    for r in inv[1:]:
        q, p, a = r[5:8]
        assert isinstance(a, float) and Decimal(repr(q)) * Decimal(repr(p)) == Decimal(repr(a))
    assert all(uscc.is_valid(r[12]) for r in cust[1:] if r[12])
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(r[9], "CN")) for r in cust[1:])
    docs = {r[0]: r[2] for r in inv[1:] if r[3] == "销售"}
    for r in inv[1:]:
        if r[3] == "红字" and r[9]:
            assert docs[r[9]] == r[2]
    assert all(r[2] in ids or (r[2] == "" and r[3]) for r in rec[1:])
    assert sum(float(r[4]) for r in rec[1:]) < sum(float(r[7]) for r in inv[1:] if r[3] == "销售")


def test_benchmark_generator_is_deterministic():
    gen = _load_generator()
    a, b = gen.build(30, 300, 200, seed=5), gen.build(30, 300, 200, seed=5)
    for sheet in ("customers", "invoices", "receipts"):
        for key, col in a[sheet].items():
            assert np.array_equal(col, b[sheet][key], equal_nan=col.dtype.kind in "fM"), (sheet, key)
