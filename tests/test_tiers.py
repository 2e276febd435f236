"""Tiers: ABC, RFM, classes, credit grade, core, lifecycle (core/tiers.py, core/credit.py).

Two kinds of check: hand-computed small ledgers at every boundary the rules name, and a real
public purchase history (CDNOW sample, tests/data/tiers/README.md) compared with an independent
plain-Python computation of the same rules written here.
"""

from __future__ import annotations

import bisect
import calendar
import csv
import datetime as dt
import math
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custledger.core.credit import credit_grades, settled_invoices, suggested_limits
from custledger.core.model import Settings
from custledger.core.money import to_cents
from custledger.core.tiers import (
    SEGMENT_LABELS,
    TIERS_COLUMNS,
    TierParams,
    midrank_scores,
    tiers,
)

DATA = Path(__file__).parent / "data" / "tiers"
T = pd.Timestamp
AS_OF = T("2024-06-30")


# --- small frame builders ---------------------------------------------------------------------

def customers(*ids, limits=None):
    limits = limits or {}
    return pd.DataFrame({
        "customer_id": list(ids),
        "name": [f"name {i}" for i in ids],
        "credit_limit": pd.array([limits.get(i) for i in ids], dtype="Int64"),
    })


def invoices(*rows):
    """rows: (doc_no, date, customer_id, amount[, kind[, due_date]])"""
    recs = []
    for r in rows:
        doc, date, cid, amount = r[:4]
        kind = r[4] if len(r) > 4 else "invoice"
        due = T(r[5]) if len(r) > 5 else T(date) + pd.Timedelta(days=30)
        recs.append({"doc_no": doc, "date": T(date), "customer_id": cid, "kind": kind,
                     "amount": amount, "due_date": due})
    df = pd.DataFrame(recs, columns=["doc_no", "date", "customer_id", "kind", "amount", "due_date"])
    df["amount"] = df["amount"].astype("int64")
    df["date"] = df["date"].astype("datetime64[ns]")
    df["due_date"] = df["due_date"].astype("datetime64[ns]")
    return df


def allocations(*rows):
    """rows: (doc_no, customer_id, amount, date[, credit_kind])"""
    cols = ["receipt_no", "credit_kind", "doc_no", "customer_id", "amount", "rule", "date"]
    recs = [{"receipt_no": f"R{i}", "credit_kind": r[4] if len(r) > 4 else "receipt",
             "doc_no": r[0], "customer_id": r[1], "amount": r[2], "rule": "fifo", "date": T(r[3])}
            for i, r in enumerate(rows)]
    df = pd.DataFrame(recs, columns=cols)
    df["amount"] = df["amount"].astype("int64")
    df["date"] = df["date"].astype("datetime64[ns]")
    return df


def open_items(*rows):
    """rows: (doc_no, customer_id, date, due_date, amount, open)"""
    cols = ["doc_no", "customer_id", "date", "due_date", "amount", "applied", "open"]
    recs = [{"doc_no": r[0], "customer_id": r[1], "date": T(r[2]), "due_date": T(r[3]),
             "amount": r[4], "applied": r[4] - r[5], "open": r[5]} for r in rows]
    df = pd.DataFrame(recs, columns=cols)
    for c in ("amount", "applied", "open"):
        df[c] = df[c].astype("int64")
    for c in ("date", "due_date"):
        df[c] = df[c].astype("datetime64[ns]")
    return df


def run(cust, inv, al=None, oi=None, as_of=AS_OF, **kw):
    return tiers(cust, inv, al if al is not None else allocations(),
                 oi if oi is not None else open_items(), as_of, TierParams(**kw))


def by_id(df):
    return df.set_index("customer_id")


# --- shape ------------------------------------------------------------------------------------

def test_columns_dtypes_and_labels():
    out = run(customers("C1", "C2"), invoices(("I1", "2024-06-01", "C1", 100)))
    assert list(out.columns) == TIERS_COLUMNS
    assert out["revenue"].dtype == np.int64 and out["suggested_limit"].dtype == np.int64
    assert str(out["recency_days"].dtype) == "Int64" and str(out["r_score"].dtype) == "Int64"
    assert out["core"].dtype == bool
    assert set(SEGMENT_LABELS) == {
        "important_value", "important_development", "important_retention", "important_winback",
        "general_value", "general_development", "general_retention", "general_winback", "none"}
    assert SEGMENT_LABELS["important_value"][0] == "重要价值客户"
    assert SEGMENT_LABELS["general_winback"][0] == "一般挽留客户"


def test_empty_ledger():
    out = run(customers("C1"), invoices())
    row = by_id(out).loc["C1"]
    assert row["revenue"] == 0 and row["abc"] == "C" and row["lifecycle"] == "prospect"
    assert pd.isna(row["r_score"]) and row["rfm_segment"] == "none"
    assert pd.isna(row["credit_grade"]) and row["suggested_limit"] == 0 and not row["core"]
    assert np.isnan(row["share"])


def test_empty_object_frames_and_missing_allocation_frames():
    from custledger.core.model import INVOICE_COLUMNS, empty_frame
    al = empty_frame(["receipt_no", "credit_kind", "doc_no", "customer_id", "amount", "rule",
                      "date"])
    oi = empty_frame(["doc_no", "customer_id", "date", "due_date", "amount", "applied", "open"])
    out = tiers(customers("C1"), empty_frame(INVOICE_COLUMNS), al, oi, AS_OF, TierParams())
    assert out["lifecycle"].tolist() == ["prospect"] and out["revenue"].tolist() == [0]
    out = tiers(customers("C1"), invoices(("I1", "2024-06-01", "C1", 100)), None, None, AS_OF)
    assert out["credit_grade"].tolist() == ["A"]  # 16 unknown + 35 + 20 no limit = 71


def test_customer_only_in_invoices_gets_a_row():
    out = run(customers("C1"), invoices(("I1", "2024-06-01", "X9", 100)))
    assert by_id(out).loc["X9", "revenue"] == 100
    assert by_id(out).loc["X9", "name"] == ""


# --- window -----------------------------------------------------------------------------------

def test_window_start_day_excluded_and_after_as_of_ignored():
    inv = invoices(
        ("I0", "2023-06-30", "C1", 1000),   # start day: excluded
        ("I1", "2023-07-01", "C1", 200),    # first day in
        ("I2", "2024-06-30", "C1", 30),     # as_of itself: in
        ("I3", "2024-07-01", "C1", 4),      # after as_of: not seen at all
    )
    row = by_id(run(customers("C1"), inv)).loc["C1"]
    assert row["revenue"] == 230 and row["frequency"] == 2 and row["recency_days"] == 0
    assert row["lifecycle"] == "active"


def test_calendar_month_window_at_month_end():
    # as_of 2024-02-29, 1 month → start 2024-01-29 (excluded)
    inv = invoices(("I0", "2024-01-29", "C1", 1), ("I1", "2024-01-30", "C1", 10))
    row = by_id(run(customers("C1"), inv, as_of=T("2024-02-29"), tier_window_months=1)).loc["C1"]
    assert row["revenue"] == 10 and row["frequency"] == 1 and row["recency_days"] == 30


def test_credit_notes_reduce_revenue_not_frequency():
    inv = invoices(
        ("I1", "2024-05-01", "C1", 10_000),
        ("CN1", "2024-05-10", "C1", 2_500, "credit_note"),
        ("CN2", "2024-05-11", "C2", 700, "credit_note"),  # credit note only
        ("I2", "2023-01-01", "C2", 9_000),                # outside the window
    )
    out = by_id(run(customers("C1", "C2"), inv))
    assert out.loc["C1", "revenue"] == 7_500 and out.loc["C1", "monetary"] == 7_500
    assert out.loc["C1", "frequency"] == 1 and out.loc["C1", "recency_days"] == 60
    assert out.loc["C2", "revenue"] == -700 and out.loc["C2", "abc"] == "C"
    assert out.loc["C2", "frequency"] == 0 and pd.isna(out.loc["C2", "recency_days"])
    assert out.loc["C2", "share"] == pytest.approx(-700 / 7_500)
    assert out.loc["C2", "cum_share"] == 1.0
    assert out.loc["C2", "rfm_segment"] == "none" and pd.isna(out.loc["C2", "m_score"])
    assert out.loc["C2", "lifecycle"] == "lost"  # last invoice 2023-01-01, > 365 days


# --- ABC --------------------------------------------------------------------------------------

def test_abc_cum_share_exactly_at_split_moves_on():
    inv = invoices(("I1", "2024-06-01", "C1", 80), ("I2", "2024-06-01", "C2", 15),
                   ("I3", "2024-06-01", "C3", 5))
    out = run(customers("C1", "C2", "C3"), inv)
    assert list(out["customer_id"]) == ["C1", "C2", "C3"]
    assert list(out["abc"]) == ["A", "B", "C"]  # before-shares 0, 0.80, 0.95
    assert list(out["share"]) == pytest.approx([0.8, 0.15, 0.05])
    assert list(out["cum_share"]) == pytest.approx([0.8, 0.95, 1.0])


def test_abc_float_sums_do_not_cross_the_split():
    # 0.7 + 0.1 is 0.7999999999999999 in floats; before-share is exactly 0.8 → B
    inv = invoices(("I1", "2024-06-01", "C1", 70), ("I2", "2024-06-01", "C2", 10),
                   ("I3", "2024-06-01", "C3", 10), ("I4", "2024-06-01", "C4", 10))
    out = by_id(run(customers("C1", "C2", "C3", "C4"), inv))
    # order: C1 70, then C2, C3, C4 (10 each, by id); before-shares 0, .7, .8, .9
    assert out.loc[["C1", "C2", "C3", "C4"], "abc"].tolist() == ["A", "A", "B", "B"]


def test_abc_ties_rule_precisely():
    inv = invoices(("I1", "2024-06-01", "B2", 50), ("I2", "2024-06-01", "B10", 50))
    out = run(customers("B2", "B10"), inv)
    assert list(out["customer_id"]) == ["B10", "B2"]
    assert list(out["abc"]) == ["A", "A"]  # before-shares 0 and 0.5, both < 0.8
    one = run(customers("Z"), invoices(("I1", "2024-06-01", "Z", 1)), abc_split=(0.01, 0.02))
    assert one["abc"].tolist() == ["A"]  # the first customer is always A


def test_abc_no_positive_revenue():
    inv = invoices(("CN1", "2024-06-01", "C1", 5, "credit_note"))
    out = by_id(run(customers("C1", "C2"), inv))
    assert out["abc"].tolist() == ["C", "C"]
    assert out["share"].isna().all() and out["cum_share"].isna().all()


# --- RFM scores and segments -------------------------------------------------------------------

def test_midrank_scores():
    assert midrank_scores(np.array([10, 20, 30, 40, 50])).tolist() == [1, 2, 3, 4, 5]
    assert midrank_scores(np.arange(10)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert midrank_scores(np.array([7, 7, 7])).tolist() == [3, 3, 3]
    assert midrank_scores(np.array([1])).tolist() == [3]
    # ties share a score: values 1,1,1,1,2 → pct of 1 = (0 + 4/2)/5 = 0.4 → 2; of 2 = 0.9 → 5
    assert midrank_scores(np.array([1, 1, 1, 1, 2])).tolist() == [2, 2, 2, 2, 5]
    # n = 4: pct .125 .375 .625 .875 → 1, 2, 4, 5
    assert midrank_scores(np.array([1, 2, 3, 4])).tolist() == [1, 2, 4, 5]


def test_rfm_scores_recency_reversed_and_unscored_na():
    inv = invoices(
        ("a1", "2024-06-30", "A", 100), ("a2", "2024-06-20", "A", 100),
        ("a3", "2024-06-10", "A", 100),
        ("b1", "2024-05-01", "B", 900),
        ("c1", "2024-01-01", "C", 50), ("c2", "2024-02-01", "C", 50),
        ("d1", "2023-01-01", "D", 50),  # outside window: unscored
    )
    out = by_id(run(customers("A", "B", "C", "D", "E"), inv))
    # recency A 0, B 60, C 150 → R 5, 3, 1; frequency 3, 1, 2 → 5, 1, 3; revenue 300, 900, 100
    assert out.loc[["A", "B", "C"], "r_score"].tolist() == [5, 3, 1]
    assert out.loc[["A", "B", "C"], "f_score"].tolist() == [5, 1, 3]
    assert out.loc[["A", "B", "C"], "m_score"].tolist() == [3, 5, 1]
    # mean scores: R 3, F 3, M 3 → A: R↑F↑M↑ ; B: R↑F↓M↑ ; C: R↓F↑M↓
    assert out.loc["A", "rfm_segment"] == "important_value"
    assert out.loc["B", "rfm_segment"] == "important_development"
    assert out.loc["C", "rfm_segment"] == "general_retention"
    for cid in ("D", "E"):
        assert pd.isna(out.loc[cid, "r_score"]) and out.loc[cid, "rfm_segment"] == "none"
        assert out.loc[cid, "frequency_class"] == "low" and out.loc[cid, "value_class"] == "low"
    assert out.loc["A", "frequency_class"] == "high" and out.loc["C", "frequency_class"] == "medium"
    assert out.loc["B", "frequency_class"] == "low" and out.loc["B", "value_class"] == "high"
    assert out.loc["A", "value_class"] == "medium" and out.loc["C", "value_class"] == "low"


def test_all_eight_segments():
    # 8 customers; R from last date, F from count, M from amount, each split 4 high / 4 low
    spec = {  # id: (recent?, frequent?, big?)
        "s1": (1, 1, 1), "s2": (1, 0, 1), "s3": (0, 1, 1), "s4": (0, 0, 1),
        "s5": (1, 1, 0), "s6": (1, 0, 0), "s7": (0, 1, 0), "s8": (0, 0, 0),
    }
    # two values per measure, four customers each: scores 2 and 4, mean 3
    rows = []
    for cid, (r, f, m) in spec.items():
        n = 3 if f else 1
        last = T("2024-06-20") if r else T("2024-01-20")
        total = 9000 if m else 300
        for k in range(n):
            rows.append((f"{cid}-{k}", last - pd.Timedelta(days=k), cid, total // n))
    out = by_id(run(customers(*spec), invoices(*rows)))
    assert set(out["r_score"]) == {2, 4} and set(out["m_score"]) == {2, 4}
    expect = ["important_value", "important_development", "important_retention",
              "important_winback", "general_value", "general_development", "general_retention",
              "general_winback"]
    assert out.loc[list(spec), "rfm_segment"].tolist() == expect


def test_score_at_mean_counts_as_high():
    # one customer: every score 3 = the mean → important_value
    out = run(customers("C1"), invoices(("I1", "2024-06-01", "C1", 100)))
    assert out.loc[0, ["r_score", "f_score", "m_score"]].tolist() == [3, 3, 3]
    assert out.loc[0, "rfm_segment"] == "important_value"


# --- credit -----------------------------------------------------------------------------------

def test_settled_invoices_days_late():
    inv = invoices(
        ("I1", "2024-01-01", "C1", 1000, "invoice", "2024-01-31"),
        ("I2", "2024-02-01", "C1", 3000, "invoice", "2024-03-02"),
        ("I3", "2024-03-01", "C1", 500, "invoice", "2024-03-31"),   # partly paid: not settled
        ("I4", "2024-03-01", "C1", 200, "invoice", "2024-03-31"),   # early
    )
    al = allocations(
        # I1 completed 02-10: 10 days late; I2 (partly by a credit note) 04-01: 30 days late
        ("I1", "C1", 400, "2024-01-20"), ("I1", "C1", 600, "2024-02-10"),
        ("I2", "C1", 1000, "2024-03-01", "credit_note"), ("I2", "C1", 2000, "2024-04-01"),
        ("I3", "C1", 499, "2024-04-01"),
        ("I4", "C1", 200, "2024-03-05"),
        ("I3", "C1", 1, "2024-07-05"),   # after as_of: not seen, I3 stays unsettled
    )
    st = settled_invoices(inv, al, AS_OF).set_index("doc_no")
    assert sorted(st.index) == ["I1", "I2", "I4"]
    assert st.loc["I1", "settled_date"] == T("2024-02-10") and st.loc["I1", "days_late"] == 10
    assert st.loc["I2", "days_late"] == 30 and st.loc["I4", "days_late"] == 0
    cr = credit_grades(pd.Series(["C1"]), customers("C1"), inv, al, open_items(), AS_OF,
                       TierParams()).iloc[0]
    # (1000·10 + 3000·30 + 200·0) / 4200
    assert cr["avg_days_late"] == pytest.approx(100_000 / 4200)
    assert cr["late_points"] == 22  # 23.8 days: ≤ 30 band
    # settled on or before the window start does not count: as of 2025-08-01 the window
    # starts 2024-08-01 and the last settlement is 2024-07-05
    later = settled_invoices(inv, al, T("2025-08-01")).set_index("doc_no")
    assert later.loc["I3", "settled_date"] == T("2024-07-05")
    old = credit_grades(pd.Series(["C1"]), customers("C1"), inv, al, open_items(),
                        T("2025-08-01"), TierParams()).iloc[0]
    assert np.isnan(old["avg_days_late"]) and old["late_points"] == 16


def test_credit_points_bounds_are_inclusive_and_exact():
    p = TierParams()
    # avg days late exactly 10 → ≤10 band (32); overdue share exactly 10 % → 28;
    # credit used exactly 50 % → 25: 85 → AA
    inv = invoices(
        ("I1", "2024-01-01", "C1", 1000, "invoice", "2024-02-01"),
        ("I2", "2024-05-01", "C1", 100, "invoice", "2024-06-01"),
        ("I3", "2024-06-10", "C1", 900, "invoice", "2024-07-10"),
    )
    al = allocations(("I1", "C1", 1000, "2024-02-11"))
    oi = open_items(("I2", "C1", "2024-05-01", "2024-06-01", 100, 100),
                    ("I3", "C1", "2024-06-10", "2024-07-10", 900, 900))
    cr = credit_grades(pd.Series(["C1"]), customers("C1", limits={"C1": 2000}), inv, al, oi,
                       AS_OF, p).iloc[0]
    assert cr["avg_days_late"] == 10.0 and cr["late_points"] == 32
    assert cr["overdue_share"] == pytest.approx(0.1) and cr["overdue_points"] == 28
    assert cr["credit_used"] == 0.5 and cr["credit_used_points"] == 25
    assert cr["credit_points"] == 85 and cr["credit_grade"] == "AA"


def test_credit_used_no_limit_zero_limit_and_balances():
    inv = invoices(("I1", "2024-06-01", "C1", 100), ("I2", "2024-06-01", "C2", 100),
                   ("I3", "2024-06-01", "C3", 100))
    oi = open_items(*[(f"I{i}", f"C{i}", "2024-06-01", "2024-07-01", 100, 100) for i in (1, 2, 3)])
    cust = customers("C1", "C2", "C3", limits={"C2": 0, "C3": 150})
    cr = credit_grades(pd.Series(["C1", "C2", "C3"]), cust, inv, allocations(), oi, AS_OF,
                       TierParams()).set_index("customer_id")
    assert np.isnan(cr.loc["C1", "credit_used"]) and cr.loc["C1", "credit_used_points"] == 20
    assert cr.loc["C2", "credit_used"] == np.inf and cr.loc["C2", "credit_used_points"] == 0
    assert cr.loc["C3", "credit_used_points"] == 20  # 100/150 = 66.7 %: the ≤ 80 % band
    bal = pd.DataFrame({"customer_id": ["C3"], "balance": [30]})
    cr2 = credit_grades(pd.Series(["C3"]), cust, inv, allocations(), oi, AS_OF, TierParams(),
                        balances=bal).iloc[0]
    assert cr2["credit_used"] == pytest.approx(0.2) and cr2["credit_used_points"] == 25


def test_grade_table_and_suggested_limit():
    p = TierParams()
    # 12 months revenue 1,200,000.00 yuan → 100,000 yuan/month
    rev = np.array([120_000_000] * 7 + [-5, 6_000_000 * 12 + 600_000 * 12])
    grades = ["AAA", "AA", "A", "BBB", "BB", "B", "C", "AAA", "A"]
    lim = suggested_limits(rev, grades, p)
    yuan = [300_000, 250_000, 200_000, 150_000, 100_000, 50_000, 0, 0]
    assert lim[:8].tolist() == [y * 100 for y in yuan]
    # A: 792,000 yuan / 12 = 66,000 yuan/month × 2 = 132,000 yuan
    assert lim[8] == 13_200_000
    # A: 300,000 yuan / 12 = 25,000 yuan/month × 2 = 50,000 yuan
    assert suggested_limits(np.array([30_000_000]), ["A"], p).tolist() == [5_000_000]
    # 2 × 1,250 yuan/month = 2,500 → half-up to 3,000; 2 × 1,249.99 → 2,000
    assert suggested_limits(np.array([1_500_000, 1_499_988]), ["A", "A"], p).tolist() == \
        [300_000, 200_000]


def test_grade_in_tiers_and_core_flag():
    inv = invoices(
        ("I1", "2024-03-01", "C1", 900_000, "invoice", "2024-03-31"),
        ("I2", "2024-06-01", "C1", 300_000, "invoice", "2024-07-01"),
        ("I3", "2024-05-01", "C2", 100_000, "invoice", "2024-05-31"),
        ("I4", "2023-08-01", "C3", 60_000, "invoice", "2023-08-31"),
    )
    al = allocations(("I1", "C1", 900_000, "2024-03-25"))
    oi = open_items(("I2", "C1", "2024-06-01", "2024-07-01", 300_000, 300_000),
                    ("I3", "C2", "2024-05-01", "2024-05-31", 100_000, 100_000),
                    ("I4", "C3", "2023-08-01", "2023-08-31", 60_000, 60_000))
    out = by_id(run(customers("C1", "C2", "C3"), inv, al, oi))
    # C1: 40 + 35 + 20 (no limit) = 95 → AAA; A; active → core
    assert out.loc["C1", "credit_grade"] == "AAA" and out.loc["C1", "abc"] == "A"
    assert out.loc["C1", "core"]
    assert out.loc["C1", "avg_days_late"] == 0.0
    # 1,200,000 cents / 12 × 3 = 300,000 cents = 3,000 yuan
    assert out.loc["C1", "suggested_limit"] == 300_000
    # C2: unknown 16 + all overdue 0 + 20 = 36 → C; not core
    assert out.loc["C2", "credit_grade"] == "C" and not out.loc["C2", "core"]
    assert out.loc["C2", "suggested_limit"] == 0
    # before-shares: C2 1.2/1.36 = 0.88 → B; C3 1.3/1.36 = 0.96 → C
    assert out.loc[["C1", "C2", "C3"], "abc"].tolist() == ["A", "B", "C"]
    # C3: last invoice 334 days ago → dormant
    assert out.loc["C3", "lifecycle"] == "dormant"
    assert out["core"].sum() == 1


def test_core_needs_grade_at_least_min():
    inv = invoices(("I1", "2024-06-01", "C1", 100))
    oi = open_items(("I1", "C1", "2024-06-01", "2024-07-01", 100, 100))
    # unknown 16 + 35 + no limit 20 = 71 → A → core (new customer)
    out = run(customers("C1"), inv, oi=oi)
    assert out.loc[0, "credit_grade"] == "A" and out.loc[0, "lifecycle"] == "new"
    assert out.loc[0, "core"]
    assert not run(customers("C1"), inv, oi=oi, core_min_grade="AA").loc[0, "core"]


# --- lifecycle --------------------------------------------------------------------------------

def test_lifecycle_boundaries():
    d = lambda n: AS_OF - pd.Timedelta(days=n)  # noqa: E731
    inv = invoices(
        ("n1", d(90), "new90", 1),                               # first exactly 90 days ago → new
        ("a0", d(400), "act180", 1), ("a1", d(180), "act180", 1),  # last 180 → active
        ("o0", d(400), "dor181", 1), ("o1", d(181), "dor181", 1),  # 181 → dormant
        ("o2", d(500), "dor365", 1), ("o3", d(365), "dor365", 1),  # 365 → dormant
        ("l1", d(366), "lost366", 1),                            # 366 → lost
        ("n2", d(91), "old91", 1),                               # first 91 days ago → active
        ("c1", d(10), "cnonly", 1, "credit_note"),               # only a credit note → prospect
    )
    ids = ["new90", "act180", "dor181", "dor365", "lost366", "old91", "cnonly", "nothing"]
    out = by_id(run(customers(*ids), inv))
    assert out.loc[ids, "lifecycle"].tolist() == [
        "new", "active", "dormant", "dormant", "lost", "active", "prospect", "prospect"]


def test_params_validation_and_from_settings():
    with pytest.raises(ValueError):
        TierParams(abc_split=(0.95, 0.8))
    with pytest.raises(ValueError):
        TierParams(active_days=400)
    s = Settings(abc_split=(0.7, 0.9), tier_window_months=6,
                 extra={"lost_days": "400", "late_days_bounds": "0，5,20,45,90",
                        "limit_months": "3,2.5,2,1.5,1,0.5,0", "core_min_grade": "AA"})
    p = TierParams.from_settings(s)
    assert p.abc_split == (0.7, 0.9) and p.tier_window_months == 6 and p.lost_days == 400
    assert p.late_days_bounds == (0, 5, 20, 45, 90) and p.limit_months[1] == 2.5
    assert p.core_min_grade == "AA"


# --- real purchase history: CDNOW sample vs an independent computation -------------------------

def load_cdnow():
    with open(DATA / "cdnow_sample.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f)]
    return rows


def cdnow_frames(rows):
    kept = [r for r in rows if to_cents(r["amount"]) > 0]
    ids = sorted({r["customer"] for r in rows})
    cust = pd.DataFrame({"customer_id": ids, "name": [f"CDNOW {i}" for i in ids],
                         "credit_limit": pd.array([None] * len(ids), dtype="Int64")})
    date = pd.to_datetime([r["date"] for r in kept]).astype("datetime64[ns]")
    inv = pd.DataFrame({
        "doc_no": [f"CD{i:05d}" for i in range(len(kept))],
        "date": date,
        "customer_id": [r["customer"] for r in kept],
        "kind": "invoice",
        "amount": np.array([to_cents(r["amount"]) for r in kept], dtype=np.int64),
        "due_date": date + pd.Timedelta(days=30),
    })
    return cust, inv


def months_back(day: dt.date, months: int) -> dt.date:
    """Same day `months` calendar months earlier, clipped to the month's last day."""
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    return dt.date(y, m, min(day.day, calendar.monthrange(y, m)[1]))


def reference(rows, as_of: dt.date, months: int, split=(Fraction(8, 10), Fraction(95, 100))):
    """The tier rules, written out plainly: loops, Fractions, no pandas."""
    start = months_back(as_of, months)
    ids = sorted({r["customer"] for r in rows})
    rev = {c: 0 for c in ids}
    freq = {c: 0 for c in ids}
    last = {c: None for c in ids}
    first_ever, last_ever = {}, {}
    for r in rows:
        cents = to_cents(r["amount"])
        if cents <= 0:
            continue
        d = dt.date.fromisoformat(r["date"])
        if d > as_of:
            continue
        c = r["customer"]
        first_ever[c] = min(first_ever.get(c, d), d)
        last_ever[c] = max(last_ever.get(c, d), d)
        if d > start:
            rev[c] += cents
            freq[c] += 1
            if last[c] is None or d > last[c]:
                last[c] = d
    res = {c: {"revenue": rev[c], "frequency": freq[c],
               "recency_days": (as_of - last[c]).days if last[c] else None} for c in ids}

    # ABC
    order = sorted(ids, key=lambda c: (-rev[c], c))
    total = sum(v for v in rev.values() if v > 0)
    running = 0
    for c in order:
        if rev[c] <= 0:
            abc = "C"
        elif Fraction(running, total) < split[0]:
            abc = "A"
        elif Fraction(running, total) < split[1]:
            abc = "B"
        else:
            abc = "C"
        running += max(rev[c], 0)
        res[c]["abc"] = abc
        res[c]["cum_share"] = running / total
    # RFM
    scored = [c for c in ids if freq[c] > 0]

    def scores(values):
        srt = sorted(values.values())
        n = len(srt)
        out = {}
        for c, v in values.items():
            less = bisect.bisect_left(srt, v)
            equal = bisect.bisect_right(srt, v) - less
            out[c] = math.ceil(5 * Fraction(2 * less + equal, 2 * n))
        return out

    rs = scores({c: -res[c]["recency_days"] for c in scored})
    fs = scores({c: freq[c] for c in scored})
    ms = scores({c: rev[c] for c in scored})
    names = {(1, 1, 1): "important_value", (1, 1, 0): "important_development",
             (1, 0, 1): "important_retention", (1, 0, 0): "important_winback",
             (0, 1, 1): "general_value", (0, 1, 0): "general_development",
             (0, 0, 1): "general_retention", (0, 0, 0): "general_winback"}
    if scored:
        mr, mf, mm = (Fraction(sum(s.values()), len(scored)) for s in (rs, fs, ms))
    for c in ids:
        if c in rs:
            r, f, m = rs[c], fs[c], ms[c]
            res[c].update(r_score=r, f_score=f, m_score=m,
                          rfm_segment=names[(int(m >= mm), int(r >= mr), int(f >= mf))],
                          frequency_class="high" if f >= 4 else "medium" if f == 3 else "low",
                          value_class="high" if m >= 4 else "medium" if m == 3 else "low")
        else:
            res[c].update(r_score=None, f_score=None, m_score=None, rfm_segment="none",
                          frequency_class="low", value_class="low")
        if c not in first_ever:
            life = "prospect"
        elif (as_of - first_ever[c]).days <= 90:
            life = "new"
        elif (as_of - last_ever[c]).days <= 180:
            life = "active"
        elif (as_of - last_ever[c]).days <= 365:
            life = "dormant"
        else:
            life = "lost"
        res[c]["lifecycle"] = life
    return res, order


@pytest.fixture(scope="module")
def cdnow():
    rows = load_cdnow()
    assert len(rows) == 6919 and len({r["customer"] for r in rows}) == 2357
    return rows, *cdnow_frames(rows)


@pytest.mark.parametrize("as_of, months", [
    ("1998-06-30", 12),   # the last day of the data: many lapsed customers
    ("1997-12-31", 6),    # window start day 1997-06-30 excluded
    ("1997-03-31", 12),   # during the cohort's first quarter: new customers
    ("1998-02-28", 3),    # calendar months at a month end
])
def test_cdnow_matches_independent_computation(cdnow, as_of, months):
    rows, cust, inv = cdnow
    as_of_d = dt.date.fromisoformat(as_of)
    want, order = reference(rows, as_of_d, months)
    got = tiers(cust, inv, allocations(), open_items(), T(as_of),
                TierParams(tier_window_months=months))
    assert list(got["customer_id"]) == order
    g = got.set_index("customer_id")
    for col in ("revenue", "frequency", "abc", "rfm_segment", "frequency_class", "value_class",
                "lifecycle"):
        assert g[col].tolist() == [want[c][col] for c in order], col
    assert (g["monetary"] == g["revenue"]).all()
    for col in ("recency_days", "r_score", "f_score", "m_score"):
        got_col = [None if pd.isna(v) else int(v) for v in g[col]]
        assert got_col == [want[c][col] for c in order], col
    assert np.allclose(g["cum_share"].to_numpy(), [want[c]["cum_share"] for c in order])
    # the real data must actually exercise the rules
    assert set(g["abc"]) == {"A", "B", "C"}
    assert g["rfm_segment"].nunique() >= 6
    assert set(g["r_score"].dropna()) == {1, 2, 3, 4, 5}


def test_cdnow_figures_pinned(cdnow):
    """A few figures of the real data, checked by hand from the CSV, so that both computations
    cannot drift together."""
    rows, cust, inv = cdnow
    g = by_id(tiers(cust, inv, allocations(), open_items(), T("1998-06-30"), TierParams()))
    # customer 1: purchases 1997-01-01, -01-18, -08-02, -12-12 → in (1997-06-30, 1998-06-30]:
    # 14.96 + 26.48; last 1997-12-12 → 200 days
    assert g.loc["1", "revenue"] == 1496 + 2648 and g.loc["1", "frequency"] == 2
    assert g.loc["1", "recency_days"] == 200 and g.loc["1", "lifecycle"] == "dormant"
    assert g["revenue"].sum() == sum(to_cents(r["amount"]) for r in rows
                                     if "1997-06-30" < r["date"] <= "1998-06-30")


# --- speed ------------------------------------------------------------------------------------

def test_speed_200k_invoices():
    rng = np.random.default_rng(7)
    n, c = 200_000, 4_000
    as_of = T("2024-12-31")
    cid = np.array([f"C{i:05d}" for i in range(c)], dtype=object)
    ic = rng.integers(0, c, n)
    date = (as_of - pd.to_timedelta(rng.integers(0, 1000, n), unit="D")).astype("datetime64[ns]")
    amt = rng.integers(100, 1_000_000, n)
    doc = np.array([f"D{i:07d}" for i in range(n)], dtype=object)
    kind = np.where(rng.random(n) < 0.03, "credit_note", "invoice")
    inv = pd.DataFrame({"doc_no": doc, "date": date, "customer_id": cid[ic], "kind": kind,
                        "amount": amt, "due_date": date + pd.Timedelta(days=30)})
    paid = (kind == "invoice") & (rng.random(n) < 0.8)
    al = pd.DataFrame({"receipt_no": "R", "credit_kind": "receipt", "doc_no": doc[paid],
                       "customer_id": cid[ic][paid], "amount": amt[paid], "rule": "fifo",
                       "date": np.minimum((date[paid] + pd.Timedelta(days=35)).to_numpy(),
                                          as_of.to_datetime64())})
    op = (kind == "invoice") & ~paid
    oi = pd.DataFrame({"doc_no": doc[op], "customer_id": cid[ic][op], "date": date[op],
                       "due_date": (date + pd.Timedelta(days=30))[op], "amount": amt[op],
                       "applied": 0, "open": amt[op]})
    cust = pd.DataFrame({"customer_id": cid, "name": cid,
                         "credit_limit": pd.array([None] * c, dtype="Int64")})
    t = time.perf_counter()
    out = tiers(cust, inv, al, oi, as_of, TierParams())
    elapsed = time.perf_counter() - t
    assert len(out) == c and out["revenue"].sum() == int(
        np.where(kind == "invoice", amt, -amt)[date > np.datetime64("2023-12-31")].sum())
    assert elapsed < 3.0, elapsed


def test_tier_thresholds_are_settings_rows(tmp_path):
    """The credit-grade and lifecycle thresholds are rows of the Settings sheet: read, checked
    against the rules (a bad value is a warning and the default is used) and applied."""
    import pandas as pd

    from custledger.core.settings import parse_settings, settings_rows
    from custledger.io.reader import RawSheet

    keys = {r[0] for r in settings_rows()}
    assert {"late_days_bounds", "grade_min_points", "lost_days", "core_min_grade"} <= keys
    raw = RawSheet("参数", pd.DataFrame([["参数", "值"], ["lost_days", "400"], ["late_points", "a,b"],
                                        ["core_min_grade", "BBB"]], dtype=object))
    settings, problems = parse_settings(raw)
    params = TierParams.from_settings(settings)
    assert params.lost_days == 400 and params.core_min_grade == "BBB"
    assert params.late_points == TierParams().late_points
    assert [p["code"] for p in problems] == ["setting_bad"] and problems[0]["cell"] == "B3"
