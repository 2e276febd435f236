"""Balances per customer and the invariants check (DESIGN.md "Money", Balances)."""

import numpy as np
import pandas as pd

from custledger.core.allocate import allocate
from custledger.core.balances import BALANCE_COLUMNS, balances
from custledger.core.invariants import check_invariants
from engine_helpers import cn, cust, customers, inv, invoices, rc, receipts

D = pd.Timestamp


def ledger():
    I = invoices(inv("A1", "2024-01-01", 100, "C1"), inv("A2", "2024-01-10", "200.50", "C1"),
                 cn("K1", "2024-01-12", 20, "C1", ref_doc="A2"), inv("B1", "2024-01-05", 300, "C2"),
                 inv("Z1", "2024-01-05", 7, "CX"), inv("A3", "2024-03-01", 50, "C1"))
    R = receipts(rc("R1", "2024-01-15", 150, "C1"), rc("R2", "2024-01-20", 400, "C2"),
                 rc("R3", "2024-02-01", 1, ""), rc("R4", "2024-03-05", 10, "C1"))
    C = customers(cust("C1", 1000), cust("C2", 50), cust("C3"), cust("C4", 0))
    return C, I, R


def test_figures_per_customer_and_rows():
    C, I, R = ledger()
    as_of = D("2024-02-15")
    a = allocate(I, R, as_of)
    b = balances(C, I, R, a, as_of)
    assert list(b.columns) == BALANCE_COLUMNS
    # Every customer of Customers plus any other id with documents, in customer_id order.
    assert b["customer_id"].tolist() == ["", "C1", "C2", "C3", "C4", "CX"]
    r = b.set_index("customer_id")
    c1 = r.loc["C1"]
    assert (c1["invoiced"], c1["credited"], c1["received"]) == (30050, 2000, 15000)
    assert (c1["applied"], c1["unapplied"], c1["outstanding"], c1["balance"]) == (17000, 0, 13050, 13050)
    c2 = r.loc["C2"]
    assert (c2["invoiced"], c2["received"], c2["applied"], c2["unapplied"]) == (30000, 40000, 30000, 10000)
    assert (c2["outstanding"], c2["balance"]) == (0, -10000)
    assert r.loc["C3", ["invoiced", "balance"]].tolist() == [0, 0]
    assert r.loc["", "unapplied"] == 100 and r.loc["", "name"] == ""
    assert r.loc["CX", "balance"] == 700 and r.loc["CX", "name"] == ""
    assert check_invariants(I, R, a, b, as_of) == []


def test_credit_limit_used_and_over_limit():
    C, I, R = ledger()
    b = balances(C, I, R, allocate(I, R, None), None).set_index("customer_id")
    assert b.loc["C1", "credit_limit"] == 100000
    assert b.loc["C1", "credit_used_pct"] == b.loc["C1", "balance"] / 100000
    assert not b.loc["C1", "over_limit"]
    assert np.isnan(b.loc["C3", "credit_used_pct"]) and not b.loc["C3", "over_limit"]
    assert pd.isna(b.loc["C3", "credit_limit"])
    # A limit of 0: no credit allowed; the share is undefined (NaN) and any positive balance is over.
    assert np.isnan(b.loc["C4", "credit_used_pct"]) and not b.loc["C4", "over_limit"]
    I2 = pd.concat([I, invoices(inv("D1", "2024-01-01", 1, "C4"), inv("D2", "2024-01-01", 60, "C2"))],
                   ignore_index=True)
    b2 = balances(C, I2, R, allocate(I2, R, None), None).set_index("customer_id")
    assert b2.loc["C4", "over_limit"] and b2.loc["C4", "balance"] == 100
    assert b2.loc["C2", "balance"] == -4000 and not b2.loc["C2", "over_limit"]
    assert b2["credit_used_pct"].dtype == "float64" and b2["over_limit"].dtype == bool


def test_advance_and_partial_payment_erpnext_e4():
    # ERPNext E4b-d: invoice 200; an advance of 50 (dated before the invoice, no reference, no
    # auto_fifo) and a receipt of 125 against the invoice: advance 50, outstanding 75 on the
    # invoice, and what the customer owes (balance) 25.
    I = invoices(inv("S1", "2024-05-01", 200))
    R = receipts(rc("ADV", "2024-04-20", 50), rc("P1", "2024-05-03", 125, applied_to="S1"))
    C = customers(cust("C1"))
    a = allocate(I, R, None, auto_fifo=False)
    r = balances(C, I, R, a).iloc[0]
    assert (r["unapplied"], r["outstanding"], r["balance"], r["received"]) == (5000, 7500, 2500, 17500)
    assert check_invariants(I, R, a, balances(C, I, R, a)) == []


def test_check_invariants_reports_each_kind_of_violation():
    C, I, R = ledger()
    a = allocate(I, R, None)
    b = balances(C, I, R, a)
    assert check_invariants(I, R, a, b) == []

    over = a.copy()
    over.loc[0, "amount"] = 10**9
    msgs = check_invariants(I, R, over, None)
    assert any("allocated" in m and "> its amount" in m for m in msgs)

    neg = a.copy()
    neg.loc[0, "amount"] = -1
    assert any("not positive" in m for m in check_invariants(I, R, neg, None))

    cross = a.copy()
    cross.loc[0, "customer_id"] = "C2"
    msgs = check_invariants(I, R, cross, None)
    assert any("belongs to C1, not C2" in m for m in msgs)

    ghost = pd.concat([a, a.iloc[[0]].assign(doc_no="NOPE", receipt_no="GHOST")], ignore_index=True)
    msgs = check_invariants(I, R, ghost, None)
    assert any("NOPE is not an invoice" in m for m in msgs)
    assert any("GHOST is not a credit" in m for m in msgs)

    wrong = b.copy()
    wrong.loc[wrong["customer_id"] == "C1", "balance"] += 1
    msgs = check_invariants(I, R, a, wrong)
    assert any(m.startswith("customer C1: Balances balance") for m in msgs)

    missing = b[b["customer_id"] != "C2"]
    assert any("C2: missing from Balances" in m for m in check_invariants(I, R, a, missing))

    late = allocate(I, R, None)
    assert any("dated after as_of" in m for m in check_invariants(I, R, late, None, D("2024-01-16")))
