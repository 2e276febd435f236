"""Credit grade 信用等级 from payment behaviour, and a suggested credit limit 建议额度.

There is no standard credit score for a customer ledger (docs/ar-anchors.md (d)); this is our
own rule set, built from three published per-customer measures, each turned into points by a
table whose bounds are TierParams fields (Settings rows), the points summed (0–100 with the
defaults) and mapped to a grade.

1. **avg_days_late** 平均逾期天数 — amount-weighted average days late of the invoices *settled*
   in the tier window (as_of − tier_window_months, as_of]. An invoice is settled when the
   allocations applied to it (receipts and credit notes, dated on or before as_of) reach its
   amount; its settlement date is the date of the allocation that completed it (= the latest
   of its allocation dates). days late = settlement date − due_date, **early counts as 0**
   (paying early is not rewarded beyond paying on time; otherwise early payers would hide late
   ones in the average). Average = Σ(amount × days late) / Σ amount, over those invoices.
   Invoices without a due date are left out. No settled invoice in the window → NA, and the
   points are ``late_points_unknown`` (a customer without payment history yet).
   Points: ``late_points[i]`` for the first bound i with avg ≤ ``late_days_bounds[i]``, past
   the last bound ``late_points[-1]``. Defaults: ≤0 d → 40, ≤10 → 32, ≤30 → 22, ≤60 → 12,
   ≤90 → 5, more → 0; unknown → 16.
2. **overdue_share** 逾期占比 — at as_of, overdue open amount / open amount, over the open
   items dated on or before as_of; an item is overdue when as_of − due_date ≥ 1 day (the Aging
   rule: day 0 is not due). Nothing open → 0. Points like 1. with ``overdue_share_bounds`` /
   ``overdue_points``: 0 → 35, ≤10 % → 28, ≤25 % → 18, ≤50 % → 8, more → 0.
3. **credit_used** 额度占用 — exposure / credit_limit, exposure = the customer's balance when a
   Balances frame is given (outstanding − unapplied, never below 0), else outstanding (the open
   invoice amounts, which ignores unapplied prepayments and so errs on the cautious side).
   Points with ``credit_used_bounds`` / ``credit_used_points``: ≤50 % → 25, ≤80 % → 20,
   ≤100 % → 10, over the limit → 0. No credit limit (blank) → ``credit_used_points_no_limit``
   (20); a limit of 0 means no credit: nothing owed → full points, anything owed → 0.

All bound comparisons are exact (integers and fractions, no float rounding at the bounds).
Grade: points ≥ ``grade_min_points`` = (90, 80, 70, 60, 50, 40) → AAA, AA, A, BBB, BB, B;
below → C. A customer without any invoice dated on or before as_of is not rated (grade NA).

**suggested_limit** = average monthly revenue in the tier window (revenue ÷
tier_window_months, revenue below 0 counted as 0) × ``limit_months`` for the grade (AAA 3, AA
2.5, A 2, BBB 1.5, BB 1, B 0.5, C 0), rounded half-up to ``limit_round`` cents (1,000 yuan),
in integer arithmetic. Not rated → 0.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from custledger.core.tiers import TierParams

GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "C")
# Grade rank for comparisons (AAA best = 0).
GRADE_RANK = {g: i for i, g in enumerate(GRADES)}

CREDIT_COLUMNS = [
    "customer_id", "avg_days_late", "overdue_share", "credit_used", "late_points",
    "overdue_points", "credit_used_points", "credit_points", "credit_grade",
]

_INT_SAFE = 2**62


def _frac(x) -> Fraction:
    """A threshold as the exact decimal the person wrote (0.1 → 1/10, not the binary float)."""
    return Fraction(str(x)) if isinstance(x, float) else Fraction(x)


def compare(num, den, bound) -> np.ndarray:
    """Exact sign of ``num / den − bound`` elementwise (−1, 0, 1) for integer arrays, den ≥ 0.

    Written as ``num·q − p·den`` with bound = p/q, in int64 when that cannot overflow, else in
    Python integers; so a ratio exactly at a bound is never pushed across it by float rounding.
    """
    b = _frac(bound)
    num = np.asarray(num, dtype=np.int64)
    den = np.asarray(den, dtype=np.int64)
    top = max(int(np.abs(num).max(initial=0)) * b.denominator,
              int(np.abs(den).max(initial=0)) * abs(b.numerator))
    if top < _INT_SAFE:
        return np.sign(num * b.denominator - b.numerator * den)
    diff = num.astype(object) * b.denominator - b.numerator * den.astype(object)
    return np.array([(d > 0) - (d < 0) for d in diff], dtype=np.int64)


def exceeds(num, den, bound) -> np.ndarray:
    """Exact ``num / den > bound`` elementwise (see compare)."""
    return compare(num, den, bound) > 0


def points(num, den, bounds, pts) -> np.ndarray:
    """Points from a bands table: ``pts[i]`` for the first i with num/den ≤ bounds[i], else
    ``pts[-1]`` (len(pts) == len(bounds) + 1)."""
    if len(pts) != len(bounds) + 1:
        raise ValueError("a points table needs one more points value than bounds")
    idx = np.zeros(len(np.asarray(num)), dtype=np.int64)
    for b in bounds:  # a handful of bounds: one vectorized pass each
        idx += exceeds(num, den, b)
    return np.asarray(pts, dtype=np.int64)[idx]


def _grade_from_points(total: np.ndarray, mins) -> np.ndarray:
    if len(mins) != len(GRADES) - 1:
        raise ValueError("grade_min_points needs one minimum per grade AAA..B")
    # mins are descending: the grade is the number of minimums the points fall short of.
    idx = np.zeros(len(total), dtype=np.int64)
    for m in mins:
        idx += total < m
    return np.asarray(GRADES, dtype=object)[idx]


def settled_invoices(invoices: pd.DataFrame, allocations: pd.DataFrame,
                     as_of: pd.Timestamp) -> pd.DataFrame:
    """Invoices (dated ≤ as_of) whose allocations dated ≤ as_of reach their amount.

    Returns doc_no, customer_id, amount, due_date, settled_date, days_late (≥ 0, int64).
    """
    inv = invoices.loc[(invoices["kind"] == "invoice") & (invoices["date"] <= as_of),
                       ["doc_no", "customer_id", "amount", "due_date"]]
    cols = ["doc_no", "customer_id", "amount", "due_date", "settled_date", "days_late"]
    if allocations is None or len(allocations) == 0 or len(inv) == 0:
        out = inv.iloc[0:0].assign(settled_date=pd.Series(dtype="datetime64[ns]"),
                                   days_late=pd.Series(dtype="int64"))
        return out[cols]
    al = allocations.loc[allocations["date"] <= as_of, ["doc_no", "amount", "date"]]
    if al["date"].dtype != "datetime64[ns]" or al["amount"].dtype != np.int64:
        per_doc = al.groupby("doc_no", sort=False).agg(applied=("amount", "sum"),
                                                       settled_date=("date", "max"))
        m = inv.join(per_doc, on="doc_no", how="inner")
    else:   # the engine's allocations: per document in one numpy pass (a groupby and a join cost ~6 ms)
        m = _join_settled(inv, al)
    m = m.loc[(m["applied"] >= m["amount"]) & m["due_date"].notna()]
    late = (m["settled_date"] - m["due_date"]).dt.days.to_numpy(dtype=np.int64)
    m = m.assign(days_late=np.maximum(late, 0))
    return m[cols].reset_index(drop=True)


def _join_settled(inv: pd.DataFrame, al: pd.DataFrame) -> pd.DataFrame:
    """``inv`` rows whose doc_no has allocations in ``al`` (int64 amounts, datetime64[ns]
    dates), in their order, with applied (the sum) and settled_date (the latest date) of
    them: the groupby-and-inner-join of settled_invoices, as one factorization."""
    codes, docs = pd.factorize(al["doc_no"].to_numpy(object))   # a blank key (NaN) is -1: left out
    ok = codes >= 0
    applied = np.zeros(len(docs), dtype=np.int64)
    np.add.at(applied, codes[ok], al["amount"].to_numpy()[ok])
    latest = np.full(len(docs), np.iinfo(np.int64).min, dtype=np.int64)   # NaT
    np.maximum.at(latest, codes[ok], al["date"].to_numpy().view(np.int64)[ok])
    pos = pd.Index(docs).get_indexer(inv["doc_no"].to_numpy(object)) if len(docs) else np.full(len(inv), -1)
    found = pos >= 0
    at = pos[found]
    return inv[found].assign(applied=applied[at], settled_date=latest[at].view("datetime64[ns]"))


def credit_grades(customer_ids: pd.Series, customers: pd.DataFrame, invoices: pd.DataFrame,
                  allocations: pd.DataFrame, open_items: pd.DataFrame, as_of: pd.Timestamp,
                  params: TierParams, balances: pd.DataFrame | None = None) -> pd.DataFrame:
    """Credit measures, points and grade per customer (rules in the module docstring).

    ``customer_ids`` gives the rows and their order. Returns CREDIT_COLUMNS: avg_days_late
    (float, NaN = no settled invoice in the window), overdue_share and credit_used (float; NaN
    credit_used = no limit, inf = limit 0 with something owed), the three points columns, their
    sum credit_points, and credit_grade (NA = no invoice dated ≤ as_of).
    """
    ids = pd.Index(pd.Series(customer_ids, dtype=object).to_numpy())
    n = len(ids)
    start = as_of - pd.DateOffset(months=params.tier_window_months)

    # 1. amount-weighted days late of invoices settled in the window
    st = settled_invoices(invoices, allocations, as_of)
    st = st.loc[st["settled_date"] > start]
    code = ids.get_indexer(st["customer_id"])
    ok = code >= 0
    late_num = np.zeros(n, dtype=np.int64)
    late_den = np.zeros(n, dtype=np.int64)
    amt = st["amount"].to_numpy(dtype=np.int64)[ok]
    np.add.at(late_num, code[ok], amt * st["days_late"].to_numpy(dtype=np.int64)[ok])
    np.add.at(late_den, code[ok], amt)
    has_late = late_den > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        avg_late = np.where(has_late, late_num / np.where(has_late, late_den, 1), np.nan)
    late_pts = points(late_num, np.where(has_late, late_den, 1),
                      params.late_days_bounds, params.late_points)
    late_pts = np.where(has_late, late_pts, params.late_points_unknown)

    # 2. overdue share of what is open at as_of
    open_tot = np.zeros(n, dtype=np.int64)
    overdue_tot = np.zeros(n, dtype=np.int64)
    if open_items is not None and len(open_items):
        oi = open_items.loc[(open_items["date"] <= as_of) & (open_items["open"] > 0)]
        c = ids.get_indexer(oi["customer_id"])
        k = c >= 0
        op = oi["open"].to_numpy(dtype=np.int64)[k]
        due = oi["due_date"].to_numpy()[k]
        overdue = ~pd.isna(due) & (due < as_of.to_datetime64())
        np.add.at(open_tot, c[k], op)
        np.add.at(overdue_tot, c[k], np.where(overdue, op, 0))
    has_open = open_tot > 0
    den_open = np.where(has_open, open_tot, 1)
    overdue_share = np.where(has_open, overdue_tot / den_open, 0.0)
    over_pts = points(overdue_tot, den_open, params.overdue_share_bounds, params.overdue_points)

    # 3. credit used = exposure / credit limit
    if balances is not None:
        bal = balances.set_index("customer_id")["balance"].reindex(ids)
        exposure = np.maximum(bal.fillna(0).to_numpy(dtype=np.int64), 0)
    else:
        exposure = open_tot
    if "credit_limit" in customers.columns and len(customers):
        lim = pd.Series(customers["credit_limit"].to_numpy(), index=customers["customer_id"])
        lim = lim[~lim.index.duplicated()].reindex(ids)
    else:
        lim = pd.Series(pd.NA, index=ids)
    has_lim = lim.notna().to_numpy()
    lim_v = np.where(has_lim, pd.to_numeric(lim).fillna(0).to_numpy(), 0).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        used = np.where(has_lim, exposure / np.where(lim_v > 0, lim_v, 1), np.nan)
    used = np.where(has_lim & (lim_v == 0), np.where(exposure > 0, np.inf, 0.0), used)
    used_pts = points(exposure, lim_v, params.credit_used_bounds, params.credit_used_points)
    used_pts = np.where(has_lim, used_pts, params.credit_used_points_no_limit)

    total = late_pts + over_pts + used_pts
    grade = _grade_from_points(total, params.grade_min_points)
    inv = invoices.loc[(invoices["kind"] == "invoice") & (invoices["date"] <= as_of), "customer_id"]
    rated = ids.isin(inv.unique())
    grade = np.where(rated, grade, None)  # type: ignore[call-overload]  # numpy stubs refuse None, object arrays take it

    return pd.DataFrame({
        "customer_id": ids.to_numpy(),
        "avg_days_late": avg_late,
        "overdue_share": overdue_share,
        "credit_used": used,
        "late_points": late_pts,
        "overdue_points": over_pts,
        "credit_used_points": used_pts,
        "credit_points": total,
        "credit_grade": pd.array(grade, dtype="str"),
    })


def suggested_limits(revenue: np.ndarray, grades, params: TierParams) -> np.ndarray:
    """Average monthly revenue × months factor of the grade, rounded half-up to limit_round."""
    rev = np.maximum(np.asarray(revenue, dtype=np.int64), 0)
    if len(params.limit_months) != len(GRADES):
        raise ValueError("limit_months needs one factor per grade AAA..C")
    factors = [_frac(f) for f in params.limit_months]
    out = np.zeros(len(rev), dtype=np.int64)
    g = pd.Series(grades, dtype=object).to_numpy()
    step = int(params.limit_round)
    for grade, f in zip(GRADES, factors):
        sel = g == grade
        if not sel.any() or f == 0:
            continue
        # limit = rev·p / (months·q), rounded half up to a multiple of step:
        # k = floor((2·rev·p + d) / (2·d)) with d = months·q·step, limit = k·step.
        d = int(params.tier_window_months) * f.denominator * step
        r = rev[sel].astype(object)
        k = (2 * r * f.numerator + d) // (2 * d)
        out[sel] = (k * step).astype(np.int64)
    return out
