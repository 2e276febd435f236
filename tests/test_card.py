"""Customer card 客户卡: contents for one customer cross-checked against the engine's frames, and
the one-page Card sheet written into a ledger workbook."""

import re
import zipfile

import openpyxl
import pandas as pd
import pytest

from custledger import ops
from custledger.core.aging import aging
from custledger.core.allocate import allocate, open_items, unapplied_credits
from custledger.core.balances import balances
from custledger.core.card import card
from custledger.core.errors import LedgerError
from custledger.core.model import INTERACTION_COLUMNS, Ledger, Settings
from custledger.core.tiers import TierParams, tiers
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from custledger.render.card import card_rows
from engine_helpers import cn, cust, customers, inv, invoices, rc, receipts

AS_OF = pd.Timestamp("2024-06-30")


def interactions() -> pd.DataFrame:
    frame = pd.DataFrame([
        ("2024-03-01", "C1", "visit", "拜访采购部", 4, None, "张伟", "closed"),
        ("2024-05-20", "C1", "complaint", "发货延迟", 2, None, "李娜", "open"),
        ("2024-06-15", "C1", "call", "确认回款计划", None, "2024-07-05", "张伟", "closed"),
        ("2024-07-02", "C1", "call", "as_of 之后", None, "2024-07-09", "张伟", ""),
        ("2024-06-01", "C2", "call", "问候", None, None, "", ""),
    ], columns=INTERACTION_COLUMNS)
    for c in ("date", "next_date"):
        frame[c] = pd.to_datetime(frame[c]).astype("datetime64[ns]")
    frame["satisfaction"] = pd.array(frame["satisfaction"].tolist(), dtype="Int64")
    frame["_row"] = range(2, len(frame) + 2)
    return frame


@pytest.fixture(scope="module")
def book():
    cs = customers(
        cust("C1", credit_limit="50000", name="甲公司", contact="王伟", phone="13800138000", email="wang@jia.cn",
             owner="张伟", birthday="1980-02-29", contract_end="2024-12-31", created="2022-01-05",
             updated="2024-01-10", type="company"),
        cust("C2", name="乙公司"))
    iv = invoices(
        inv("OLD", "2023-05-10", "9000"),                            # older than 12 months: not listed
        inv("A1", "2023-08-15", "12000"),
        inv("A2", "2024-01-20", "30000"),
        cn("CN1", "2024-02-01", "2000", ref_doc="A2"),
        inv("A3", "2024-06-10", "15000"),
        inv("FUT", "2024-07-05", "500"),                             # after as_of
        inv("B1", "2024-04-01", "7000", customer_id="C2"),
    )
    rs = receipts(rc("R1", "2023-06-01", "9000"), rc("R2", "2023-09-30", "12000"),
                  rc("R3", "2024-03-15", "20000"), rc("R4", "2024-06-20", "100"),
                  rc("RB", "2024-05-01", "7000", customer_id="C2"))
    s = Settings(as_of=AS_OF.date())
    ledger = Ledger(cs, iv, rs, interactions(), s)
    alloc = allocate(iv, rs, AS_OF)
    items = open_items(iv, alloc, AS_OF)
    unap = unapplied_credits(iv, rs, alloc, AS_OF)
    bal = balances(cs, iv, rs, alloc, AS_OF)
    ag = aging(items, unap, cs, AS_OF)
    ti = tiers(cs, iv, alloc, items, AS_OF, TierParams(), balances=bal)
    c = card(ledger, "C1", AS_OF, bal, ag, ti, items, unap)
    return dict(ledger=ledger, alloc=alloc, items=items, unap=unap, bal=bal, aging=ag, tiers=ti, card=c)


def row(frame, cid="C1") -> dict:
    return frame[frame["customer_id"] == cid].iloc[0].to_dict()


def test_profile_credit_and_tier_match_the_frames(book):
    c, bal, ti = book["card"], row(book["bal"]), row(book["tiers"])
    assert c.customer["name"] == "甲公司" and c.customer["phone"] == "13800138000"  # nothing masked
    assert c.credit["credit_limit"] == 5_000_000
    assert c.credit["balance"] == bal["balance"] == 2_290_000  # invoiced 66000 − credited 2000 − received 41100
    assert c.credit["credit_available"] == 5_000_000 - bal["balance"]
    assert c.credit["credit_used_pct"] == pytest.approx(bal["credit_used_pct"])
    assert c.credit["credit_grade"] == ti["credit_grade"] and c.credit["suggested_limit"] == ti["suggested_limit"]
    assert c.tier["abc"] == ti["abc"] and c.tier["lifecycle"] == ti["lifecycle"] == "active"
    for k in ["invoiced", "credited", "received", "applied", "unapplied", "outstanding", "balance"]:
        assert c.balance[k] == bal[k], k


def test_balance_and_aging_match(book):
    c, ag = book["card"], row(book["aging"])
    for k in ["not_due", "1-30", "31-60", "61-90", "91-180", ">180", "total", "overdue", "unapplied"]:
        assert c.aging[k] == ag[k], k
    assert c.aging["total"] == c.balance["outstanding"]
    assert c.buckets == ["1-30", "31-60", "61-90", "91-180", ">180"]


def test_monthly_series_of_the_customer(book):
    m = book["card"].monthly
    assert m["month"].tolist()[0] == "2023-07" and m["month"].tolist()[-1] == "2024-06" and len(m) == 12
    sales = dict(zip(m["month"], m["sales"]))
    coll = dict(zip(m["month"], m["collections"]))
    assert sales["2023-08"] == 1_200_000 and sales["2024-01"] == 3_000_000
    assert sales["2024-02"] == -200_000 and sales["2024-06"] == 1_500_000
    assert coll["2023-09"] == 1_200_000 and coll["2024-03"] == 2_000_000 and coll["2024-06"] == 10_000
    assert m["sales"].sum() == 1_200_000 + 3_000_000 - 200_000 + 1_500_000  # B1 is C2's, FUT after as_of


def test_documents_newest_first_with_open_amounts(book):
    c, items, unap = book["card"], book["items"], book["unap"]
    d = c.documents
    assert d["number"].tolist() == ["R4", "A3", "R3", "CN1", "A2", "R2", "A1"]
    assert d["kind"].tolist() == ["receipt", "invoice", "receipt", "credit_note", "invoice", "receipt", "invoice"]
    assert c.documents_total == 7
    open_by_doc = dict(zip(items["doc_no"], items["open"]))
    left = dict(zip(unap["receipt_no"], unap["unapplied"]))
    for n, k, o in zip(d["number"], d["kind"], d["open"]):
        assert o == (open_by_doc[n] if k == "invoice" else left[n]), n
    assert pd.isna(d.loc[d["kind"] == "receipt", "due_date"]).all()
    assert d.loc[d["number"] == "A3", "due_date"].iloc[0] == pd.Timestamp("2024-07-10")


def test_document_cap_keeps_the_total(book):
    b = book
    small = card(b["ledger"], "C1", AS_OF, b["bal"], b["aging"], b["tiers"], b["items"], b["unap"], max_documents=3)
    assert small.documents["number"].tolist() == ["R4", "A3", "R3"] and small.documents_total == 7


def test_interactions_and_next_follow_up(book):
    c = book["card"]
    assert c.next_follow_up == pd.Timestamp("2024-07-05")   # latest interaction dated ≤ as_of
    assert c.follow_up_subject == "确认回款计划"
    assert c.last_contact == pd.Timestamp("2024-06-15")
    assert c.open_complaints == 1
    assert c.interactions["summary"].tolist() == ["确认回款计划", "发货延迟", "拜访采购部"]


def test_rows_are_labelled_from_the_schema(book):
    rows = card_rows(book["card"], "zh")
    sections = [r[1] for r in rows if r[0] == "section"]
    assert sections == ["基本信息", "联系方式", "信用", "分级与分群", "余额与账龄", "下次跟进"]
    fields = {r[1]: r[2] for r in rows if r[0] == "field"}
    assert fields["客户编号"] == "C1" and fields["客户名称"] == "甲公司" and fields["客户类型"] == "企业"
    assert fields["电话"] == "13800138000" and fields["邮箱"] == "wang@jia.cn"
    assert fields["信用额度"] == 50000.0 and fields["应收余额"] == 22900.0
    assert fields["可用额度"] == 50000.0 - 22900.0
    assert fields["下次跟进日期"].date().isoformat() == "2024-07-05"
    en = {r[1] for r in card_rows(book["card"], "en") if r[0] == "field"}
    assert {"Customer ID", "Credit Limit", "Balance", "Next Follow-up"} <= en


# --------------------------------------------------------------------------- the sheet in a workbook

def ledger_file(path):
    build_ledger(path, "zh", data={
        "customers": pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["甲公司", "乙公司"],
                                   "phone": ["13800138000", ""], "credit_limit": [50000.0, None],
                                   "owner": ["张伟", "李娜"]}),
        "invoices": pd.DataFrame({"doc_no": ["I1", "I2", "I3"], "date": ["2024-03-01", "2024-05-10", "2024-06-01"],
                                  "customer_id": ["C1", "C1", "C2"], "amount": [12000.0, 8000.0, 500.0]}),
        "receipts": pd.DataFrame({"receipt_no": ["R1"], "date": ["2024-04-15"], "customer_id": ["C1"],
                                  "amount": [12000.0]}),
    }, settings={"as_of": "2024-06-30"})
    return path


def test_card_sheet_one_page_with_chart(tmp_path):
    p = ledger_file(tmp_path / "台账.xlsx")
    report = ops.run(FileBook(p), ["validate", "card"], customer_id="C1")
    assert report.exit_code == 0 and report.summary["card"] == "C1"
    wb = openpyxl.load_workbook(p)
    ws = wb["客户卡"]
    assert [ws["A1"].value, ws["B1"].value] == ["项目", "内容"]
    values = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, ws.max_row + 1)}
    assert values["客户编号"] == "C1" and values["电话"] == "13800138000" and values["应收余额"] == 8000
    assert ws["D1"].value == "月份" and ws["D13"].value == "2024-06" and ws["E13"].value == 0
    assert ws.page_setup.orientation == "portrait" and ws.page_setup.paperSize in (9, "9")
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (1, None)
    assert re.fullmatch(r"'客户卡'!\$A\$1:\$J\$\d+", ws.print_area)
    with zipfile.ZipFile(p) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert charts and "客户卡" in z.read(charts[0]).decode("utf-8")


def test_card_refuses_unknown_or_missing_customer(tmp_path):
    p = ledger_file(tmp_path / "台账.xlsx")
    with pytest.raises(LedgerError) as e:
        ops.run(FileBook(p), ["validate", "card"], customer_id="C404")
    assert e.value.code == "card_customer_unknown" and "C404" in e.value.message("zh")
    with pytest.raises(LedgerError) as e:
        ops.run(FileBook(p), ["validate", "card"])
    assert e.value.code == "card_customer_missing"
