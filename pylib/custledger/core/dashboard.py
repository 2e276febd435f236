"""Dashboard 看板: the month's key figures and the series behind the charts.

All money is int64 cents; nothing dated after as_of is seen. ``month`` ("YYYY-MM", default
the month of as_of) is the month reported; its days after as_of are not counted yet.

KPIs (``kpis`` rows: metric, value, format):

* total_receivable 应收账款合计 = Σ open invoice amounts at as_of (Aging total = outstanding);
  unapplied 预收/未核销 = Σ unapplied credits; net_receivable = Σ Balances balance
  (= total_receivable − unapplied); overdue = Σ Aging overdue;
* overdue_share = overdue ÷ total_receivable (blank when nothing is receivable);
* dso = total_receivable ÷ net sales of the last 90 days × 90, where net sales = invoices −
  credit notes dated in (as_of − 90 days, as_of] (blank when those sales are ≤ 0);
* opening_receivable = the net balance (invoiced − credited − received, all customers) of
  everything dated before the month's first day; month_sales = invoices − credit notes dated
  in the month; month_received = receipts dated in the month;
  collection_rate 回款率 = month_received ÷ (opening_receivable + month_sales) (blank when the
  denominator is ≤ 0);
* customers_with_balance = customers with a positive Aging total;
* new_customers = customers whose first invoice (ever, on or before as_of) is dated in the
  month; lost_customers = customers whose Tiers lifecycle is lost 流失.

Series: ``monthly`` = net sales and collections of the 12 months ending with ``month``
(:func:`monthly_series`); ``aging_dist`` = Σ of not_due and each bucket with its share of the
total; ``pareto`` = the ABC curve over the customers with positive Tiers revenue, by revenue
descending: (share of customers, cumulative share of revenue), starting at (0, 0) and thinned
to at most PARETO_POINTS points (every k-th customer, the last one always kept); ``top`` = the
10 customers with the highest positive Tiers revenue (Tiers order) with their balance;
``by_owner`` = receivable, overdue and customers owing per customer owner ("" = none), largest
receivable first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .aging import bucket_labels
from .allocate import as_of_ts, upto
from .frames import amount_cents as _cents
from .frames import column_ids as _ids
from .frames import column_text as _text
from .model import Ledger
from .statements import month_text

PARETO_POINTS = 51  # (0, 0) and every 2 % of the customers: keeps the sheet one page tall
TOP_N = 10
DSO_DAYS = 90


@dataclass(frozen=True)
class Dashboard:
    month: str
    kpis: pd.DataFrame        # metric, value, format
    monthly: pd.DataFrame     # month, sales, collections
    aging_dist: pd.DataFrame  # bucket, amount, share
    pareto: pd.DataFrame      # customer_share, revenue_share
    top: pd.DataFrame         # rank, customer_id, name, revenue, share, balance
    by_owner: pd.DataFrame    # owner, receivable, overdue, customers


def month_period(month, as_of) -> pd.Period:
    """The month reported: ``month`` ("YYYY-MM", a date or a Period), else the month of as_of."""
    if month is None or month == "":
        return pd.Timestamp(as_of).to_period("M")
    return pd.Period(month_text(month), freq="M")


def _signed_sales(invoices: pd.DataFrame) -> np.ndarray:
    """Invoice amounts positive, credit notes negative (int64 cents)."""
    amt = _cents(invoices)
    is_cn = (_text(invoices, "kind") == "credit_note").to_numpy()
    return np.where(is_cn, -amt, amt)


def _month_code(dates) -> np.ndarray:
    d = pd.to_datetime(pd.Series(dates)).dt
    return (d.year * 12 + d.month - 1).to_numpy(dtype="int64", na_value=-1)


def monthly_series(invoices: pd.DataFrame, receipts: pd.DataFrame, end_month, as_of=None, months: int = 12,
                   customer_id: str | None = None) -> pd.DataFrame:
    """month ("YYYY-MM"), sales (invoices − credit notes by document date), collections
    (receipts by date), int64 cents, for the ``months`` months ending with ``end_month``;
    documents dated after as_of are left out; ``customer_id`` restricts to one customer."""
    end = pd.Period(end_month, freq="M")
    inv, rec = upto(invoices, as_of), upto(receipts, as_of)
    if customer_id is not None:
        inv = inv[(_ids(inv, "customer_id") == customer_id).to_numpy()]
        rec = rec[(_ids(rec, "customer_id") == customer_id).to_numpy()]
    last = end.year * 12 + end.month - 1
    first = last - months + 1

    def by_month(dates, values) -> np.ndarray:
        code = _month_code(dates) - first
        ok = (code >= 0) & (code < months)
        out = np.zeros(months, dtype="int64")
        np.add.at(out, code[ok], np.asarray(values, dtype="int64")[ok])
        return out

    labels = [f"{c // 12:04d}-{c % 12 + 1:02d}" for c in range(first, last + 1)]
    return pd.DataFrame({
        "month": pd.Series(labels, dtype=object),
        "sales": by_month(inv["date"] if len(inv) else [], _signed_sales(inv)),
        "collections": by_month(rec["date"] if len(rec) else [], _cents(rec)),
    })


def _ratio(num, den) -> float:
    return float(num) / float(den) if den > 0 else float("nan")


def _dates(frame: pd.DataFrame) -> np.ndarray:
    """The frame's dates as datetime64[ns] (NaT compares False with every day)."""
    if frame.empty:
        return np.zeros(0, dtype="datetime64[ns]")
    return pd.to_datetime(frame["date"]).to_numpy("datetime64[ns]")


def _within(dates: np.ndarray, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    return (dates >= start.to_datetime64()) & (dates <= end.to_datetime64())


def pareto_points(revenue: pd.Series, max_points: int = PARETO_POINTS) -> pd.DataFrame:
    """The ABC curve: (share of customers, cumulative share of revenue) over the positive
    revenues sorted descending, from (0, 0), thinned to at most max_points points."""
    rev = np.sort(np.asarray(revenue, dtype="int64")[np.asarray(revenue, dtype="int64") > 0])[::-1]
    n = len(rev)
    if n == 0:
        return pd.DataFrame({"customer_share": [0.0], "revenue_share": [0.0]})
    cum = np.cumsum(rev)
    keep = np.unique(np.r_[np.ceil(np.linspace(1, n, min(n, max_points - 1))).astype(int), n]) - 1
    return pd.DataFrame({"customer_share": np.r_[0.0, (keep + 1) / n],
                         "revenue_share": np.r_[0.0, cum[keep] / cum[-1]]})


def dashboard(ledger: Ledger, balances: pd.DataFrame, aging_df: pd.DataFrame, tiers_df: pd.DataFrame,
              as_of, month=None, buckets=None) -> Dashboard:
    """The Dashboard frames as of ``as_of`` for ``month`` (see the module docstring)."""
    as_of = as_of_ts(as_of)
    period = month_period(month, as_of)
    m_start = period.start_time.normalize()
    m_end = min(period.end_time.normalize(), as_of)
    buckets = buckets or ledger.settings.aging_buckets
    inv = upto(ledger.invoices, as_of)
    rec = upto(ledger.receipts, as_of)
    sales = _signed_sales(inv)
    received = _cents(rec)

    total = int(aging_df["total"].sum()) if len(aging_df) else 0
    overdue = int(aging_df["overdue"].sum()) if len(aging_df) else 0
    unapplied = int(aging_df["unapplied"].sum()) if len(aging_df) else 0
    net = int(balances["balance"].sum()) if len(balances) else 0
    inv_dates, rec_dates = _dates(inv), _dates(rec)   # each read once for the windows below
    dso_sales = int(sales[_within(inv_dates, as_of - pd.Timedelta(days=DSO_DAYS - 1), as_of)].sum())
    before = inv_dates < m_start.to_datetime64()
    before_r = rec_dates < m_start.to_datetime64()
    opening = int(sales[before].sum()) - int(received[before_r].sum())
    month_sales = int(sales[_within(inv_dates, m_start, m_end)].sum())
    month_received = int(received[_within(rec_dates, m_start, m_end)].sum())

    proper = inv[(_text(inv, "kind") != "credit_note").to_numpy()]
    first = pd.to_datetime(proper["date"]).groupby(_ids(proper, "customer_id").to_numpy(object)).min() \
        if len(proper) else pd.Series(dtype="datetime64[ns]")
    new_customers = int(((first >= m_start) & (first <= m_end)).sum())
    lost = int((tiers_df["lifecycle"] == "lost").sum()) if len(tiers_df) else 0
    owing = int((aging_df["total"] > 0).sum()) if len(aging_df) else 0

    kpis = pd.DataFrame([
        ("as_of", as_of, "date"),
        ("month", str(period), "text"),
        ("total_receivable", total, "money"),
        ("unapplied", unapplied, "money"),
        ("net_receivable", net, "money"),
        ("overdue", overdue, "money"),
        ("overdue_share", _ratio(overdue, total), "pct"),
        ("dso", _ratio(total * DSO_DAYS, dso_sales), "float"),
        ("opening_receivable", opening, "money"),
        ("month_sales", month_sales, "money"),
        ("month_received", month_received, "money"),
        ("collection_rate", _ratio(month_received, opening + month_sales), "pct"),
        ("customers_with_balance", owing, "int"),
        ("new_customers", new_customers, "int"),
        ("lost_customers", lost, "int"),
    ], columns=["metric", "value", "format"])

    cols = ["not_due", *bucket_labels(buckets)]
    amounts = np.array([int(aging_df[c].sum()) if c in aging_df.columns else 0 for c in cols], dtype="int64")
    aging_dist = pd.DataFrame({"bucket": pd.Series(cols, dtype=object), "amount": amounts,
                               "share": amounts / total if total > 0 else np.full(len(cols), np.nan)})

    top = tiers_df[tiers_df["revenue"] > 0].head(TOP_N) if len(tiers_df) else tiers_df.iloc[0:0]
    bal = balances.set_index(_ids(balances, "customer_id").to_numpy(object))["balance"] if len(balances) else \
        pd.Series(dtype="int64")
    top = pd.DataFrame({
        "rank": np.arange(1, len(top) + 1, dtype="int64"),
        "customer_id": pd.Series(top["customer_id"].to_numpy(object), dtype=object),
        "name": pd.Series(top["name"].to_numpy(object), dtype=object),
        "revenue": top["revenue"].to_numpy(dtype="int64"),
        "share": top["share"].to_numpy(dtype="float64"),
        "balance": bal.reindex(top["customer_id"].to_numpy(object)).fillna(0).to_numpy(dtype="int64"),
    })

    cust = ledger.customers
    owners = _text(cust, "owner").str.strip().set_axis(_ids(cust, "customer_id").to_numpy(object))
    owners = owners[~owners.index.duplicated()]
    ids = _ids(aging_df, "customer_id").to_numpy(object)
    frame = pd.DataFrame({"owner": owners.reindex(ids).fillna("").to_numpy(object),
                          "receivable": aging_df["total"].to_numpy(dtype="int64"),
                          "overdue": aging_df["overdue"].to_numpy(dtype="int64"),
                          "customers": (aging_df["total"] > 0).to_numpy(dtype="int64")})
    by_owner = frame.groupby("owner", sort=True).sum().reset_index()
    by_owner = by_owner[by_owner["receivable"] > 0].sort_values(["receivable", "owner"], ascending=[False, True],
                                                                  kind="stable").reset_index(drop=True)

    return Dashboard(month=str(period), kpis=kpis,
                     monthly=monthly_series(ledger.invoices, ledger.receipts, period, as_of),
                     aging_dist=aging_dist,
                     pareto=pareto_points(tiers_df["revenue"] if len(tiers_df) else pd.Series(dtype="int64")),
                     top=top, by_owner=by_owner)
