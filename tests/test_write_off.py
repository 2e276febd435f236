"""Write-off of small differences (尾差, DESIGN.md): within tolerance written off, beyond not."""

from __future__ import annotations

import pandas as pd

from custledger.core.aging import aging, overdue
from custledger.core.allocate import allocate, open_items, unapplied_credits
from custledger.core.balances import balances
from custledger.core.invariants import check_invariants
from custledger.core.settings import convert
from custledger.core.statements import month_statements
from engine_helpers import cn, cust, customers, inv, invoices, rc, receipts, rows

INV = invoices(inv("X1", "2026-01-05", "1000.00"), inv("X2", "2026-01-06", "500.00"),
               inv("Y1", "2026-01-05", "800.00", "C2"), inv("Z1", "2026-01-05", "300.00", "C3"))
REC = receipts(rc("R1", "2026-02-10", "994.50", applied_to="X1"),     # 5.50 short: bank charge
               rc("R2", "2026-02-12", "780.00", "C2"),                # 20.00 short: beyond 10
               rc("R3", "2026-02-20", "499.99", memo="X2 货款"))       # 0.01 short: rounding


def test_within_tolerance_written_off_beyond_not():
    a = allocate(INV, REC, pd.Timestamp("2026-03-31"), True, 1000)
    offs = a[a["rule"] == "write_off"]
    assert rows(offs) == [("", "X1", 550, "write_off"), ("", "X2", 1, "write_off")]
    assert offs["credit_kind"].tolist() == ["write_off", "write_off"]
    assert offs["date"].tolist() == [pd.Timestamp("2026-02-10"), pd.Timestamp("2026-02-20")]
    # each customer's write-offs follow its own rows
    assert a["customer_id"].tolist() == ["C1", "C1", "C1", "C1", "C2"]
    cs = customers(cust("C1"), cust("C2"), cust("C3"))
    b = balances(cs, INV, REC, a).set_index("customer_id")
    assert b.loc["C1", "written_off"] == 551 and b.loc["C1", "balance"] == 0 and b.loc["C1", "outstanding"] == 0
    assert b.loc["C2", "written_off"] == 0 and b.loc["C2", "balance"] == 2000
    assert check_invariants(INV, REC, a, b.reset_index(), write_off_tolerance=1000) == []
    # written-off invoices are neither aged nor overdue (so never dunned)
    oi = open_items(INV, a)
    ag = aging(oi, unapplied_credits(INV, REC, a), cs, "2026-06-30").set_index("customer_id")
    assert ag.loc["C1", "total"] == 0 and ag.loc["C2", "overdue"] == 2000
    assert set(overdue(oi, cs, "2026-06-30")["doc_no"]) == {"Y1", "Z1"}


def test_off_by_default_and_an_invoice_settled_by_credit_notes_alone_is_not_written_off():
    a = allocate(INV, REC, None, True)
    assert "write_off" not in set(a["rule"])
    inv2 = invoices(inv("X1", "2026-01-05", "100.00"), cn("CN1", "2026-01-09", "99.50", ref_doc="X1"))
    a2 = allocate(inv2, receipts(), None, True, 1000)
    assert rows(a2) == [("CN1", "X1", 9950, "credit_note")]


def test_an_invariant_catches_a_write_off_beyond_tolerance_or_without_a_receipt():
    a = allocate(INV, REC, None, True, 1000)
    assert check_invariants(INV, REC, a, None, write_off_tolerance=100)  # 5.50 > 1.00
    forged = pd.concat([a, pd.DataFrame([{"receipt_no": "", "credit_kind": "write_off", "doc_no": "Z1",
                                          "customer_id": "C3", "amount": 30000, "rule": "write_off",
                                          "date": pd.Timestamp("2026-01-05")}])], ignore_index=True)
    assert any("received no receipt" in p for p in check_invariants(INV, REC, forged, None))


def test_setting_is_money_through_the_money_doorway():
    assert convert("write_off_tolerance", "10") == 1000
    assert convert("write_off_tolerance", "¥5.005") == 501
    for bad in ("-1", "ten", "5元5"):
        try:
            convert("write_off_tolerance", bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_statement_lists_the_write_off_as_a_line_and_closes_to_balances():
    cs = customers(cust("C1"), cust("C2"), cust("C3"))
    ms = month_statements(cs, INV, REC, "2026-02", write_off_tolerance=1000)
    lines = ms.lines_of("C1")
    assert lines["kind"].tolist() == ["receipt", "write_off", "receipt", "write_off"]
    assert lines["doc_no"].tolist() == ["R1", "X1", "R3", "X2"]
    assert lines["credit"].tolist() == [99450, 550, 49999, 1]
    row = ms.summary.set_index("customer_id").loc["C1"]
    assert row["written_off"] == 551 and row["closing"] == 0 and lines["balance"].iloc[-1] == 0
    a = allocate(INV, REC, pd.Timestamp("2026-02-28"), True, 1000)
    b = balances(cs, INV, REC, a, pd.Timestamp("2026-02-28")).set_index("customer_id")
    assert (ms.summary.set_index("customer_id")["closing"] == b.loc[ms.summary["customer_id"], "balance"]).all()
    # the next month opens where this one closed
    march = month_statements(cs, INV, REC, "2026-03", write_off_tolerance=1000).summary.set_index("customer_id")
    assert march.loc["C2", "opening"] == b.loc["C2", "balance"]
    assert "C1" not in march.index
