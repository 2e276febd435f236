"""Aging 账龄分析 and the Overdue 逾期清单 list, at as_of.

Rules (DESIGN.md "Aging"):

* days = as_of − due_date (basis ``due_date``, the default) or as_of − date (basis
  ``invoice_date``), in whole days;
* days ≤ 0 → ``not_due``; each bound b closes the bucket that ends at b, labelled
  ``{previous + 1}-{b}`` (previous = 0 for the first), and past the last bound ``>{last}``.
  Default bounds (30, 60, 90, 180): 1-30, 31-60, 61-90, 91-180, >180 (day 30 is in 1-30, day 31
  in 31-60, day 180 in 91-180, day 181 in >180);
* only open invoice amounts are aged; unapplied credits are not aged but shown in their own
  column ``unapplied``; total = the buckets including not_due (= outstanding); overdue =
  total − not_due;
* one Aging row for every customer with an invoice or a credit (closed or not) dated on or
  before as_of, sorted by customer_id;
* Overdue lists the open invoices with days_overdue ≥ 1 (days by the same basis, so that its
  sum per customer is the Aging ``overdue``), most urgent first: days_overdue descending, then
  outstanding descending, then doc_no; dunning_level = how many of the dunning_levels
  thresholds days_overdue reaches (0 = none).

Inputs are the frames of ``allocate.open_items`` and ``allocate.unapplied_credits``; rows dated
after as_of are left out here too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custledger.core.allocate import as_of_ts, first_position, upto
from custledger.core.balances import column_of, columns_of, sorted_ids
from custledger.core.frames import column_ids as _ids
from custledger.core.settings import schema_default

BASES = ("due_date", "invoice_date")
DEFAULT_BUCKETS = schema_default("aging_buckets")    # settings.json's defaults: their one home
DEFAULT_DUNNING = schema_default("dunning_levels")
OVERDUE_COLUMNS = [
    "doc_no", "customer_id", "name", "date", "due_date", "amount", "outstanding", "days_overdue",
    "bucket", "dunning_level", "contact", "phone", "owner",
]
_DAY_NS = 86_400 * 10**9


def _check_bounds(bounds) -> tuple[int, ...]:
    bounds = tuple(int(b) for b in bounds)
    if not bounds or bounds[0] < 1 or any(b <= a for a, b in zip(bounds, bounds[1:])):
        raise ValueError(f"aging buckets must be increasing whole days ≥ 1, not {bounds!r}")
    return bounds


def bucket_labels(bounds=DEFAULT_BUCKETS) -> list[str]:
    """The overdue bucket labels: ``{previous+1}-{b}`` per bound, then ``>{last}``."""
    bounds = _check_bounds(bounds)
    edges = (0,) + bounds
    return [f"{a + 1}-{b}" for a, b in zip(edges, bounds)] + [f">{bounds[-1]}"]


def _days(items: pd.DataFrame, as_of: pd.Timestamp, basis: str) -> np.ndarray:
    if basis not in BASES:
        raise ValueError(f"aging basis must be one of {BASES}, not {basis!r}")
    column = "due_date" if basis == "due_date" else "date"
    when = pd.to_datetime(items[column]).to_numpy("datetime64[ns]").view("int64")
    return (as_of.value - when) // _DAY_NS


def bucket_index(days: np.ndarray, bounds=DEFAULT_BUCKETS) -> np.ndarray:
    """-1 for not due (days ≤ 0), else the index into bucket_labels(bounds)."""
    bounds = _check_bounds(bounds)
    idx = np.searchsorted(np.asarray(bounds), days, side="left")  # days == b stays in b's bucket
    return np.where(days <= 0, -1, idx)


def aging(open_items_df: pd.DataFrame, unapplied_df: pd.DataFrame, customers: pd.DataFrame,
          as_of, buckets=DEFAULT_BUCKETS, basis: str = "due_date") -> pd.DataFrame:
    """Aging per customer: customer_id, name, not_due, the bucket columns, total, overdue,
    unapplied (int64 cents). See the module docstring for the rules."""
    as_of = as_of_ts(as_of) if as_of is not None else pd.Timestamp.today().normalize()
    columns = ["not_due"] + bucket_labels(buckets)
    items = upto(open_items_df, as_of)
    creds = upto(unapplied_df, as_of)
    ids = sorted_ids(_ids(items, "customer_id"), _ids(creds, "customer_id"))

    opened = items[items["open"].to_numpy() > 0]
    col = bucket_index(_days(opened, as_of, basis), buckets) + 1  # 0 = not_due
    table = np.zeros((len(ids), len(columns)), dtype="int64")
    np.add.at(table, (first_position(ids, _ids(opened, "customer_id")), col),
              opened["open"].to_numpy(dtype="int64"))
    unapplied = np.zeros(len(ids), dtype="int64")
    np.add.at(unapplied, first_position(ids, _ids(creds, "customer_id")),
              creds["unapplied"].to_numpy(dtype="int64"))

    total = table.sum(axis=1)
    return pd.DataFrame({"customer_id": pd.Series(ids, dtype=object),
                         "name": pd.Series(column_of(customers, "name", ids), dtype=object),
                         **{name: table[:, k] for k, name in enumerate(columns)},
                         "total": total, "overdue": total - table[:, 0], "unapplied": unapplied})


def dunning_level(days: np.ndarray, dunning_levels=DEFAULT_DUNNING) -> np.ndarray:
    """How many thresholds each days value reaches (0 = none)."""
    levels = np.sort(np.asarray([int(d) for d in dunning_levels], dtype="int64"))
    return np.searchsorted(levels, np.asarray(days), side="right").astype("int64")


def overdue(open_items_df: pd.DataFrame, customers: pd.DataFrame, as_of, buckets=DEFAULT_BUCKETS,
            dunning_levels=DEFAULT_DUNNING, basis: str = "due_date") -> pd.DataFrame:
    """The Overdue list: open invoices with days_overdue ≥ 1, most urgent first."""
    as_of = as_of_ts(as_of) if as_of is not None else pd.Timestamp.today().normalize()
    labels = np.array(bucket_labels(buckets), dtype=object)
    items = upto(open_items_df, as_of)
    items = items[items["open"].to_numpy() > 0]
    days = _days(items, as_of, basis)
    items, days = items[days >= 1], days[days >= 1]
    ids = _ids(items, "customer_id").to_numpy(object)
    info = columns_of(customers, ("name", "contact", "phone", "owner"), ids)
    out = pd.DataFrame({
        "doc_no": pd.Series(_ids(items, "doc_no").to_numpy(object), dtype=object),
        "customer_id": pd.Series(ids, dtype=object),
        "name": pd.Series(info["name"], dtype=object),
        "date": pd.to_datetime(items["date"]).to_numpy("datetime64[ns]"),
        "due_date": pd.to_datetime(items["due_date"]).to_numpy("datetime64[ns]"),
        "amount": items["amount"].to_numpy(dtype="int64"),
        "outstanding": items["open"].to_numpy(dtype="int64"),
        "days_overdue": days.astype("int64"),
        "bucket": pd.Series(labels[bucket_index(days, buckets)], dtype=object),
        "dunning_level": dunning_level(days, dunning_levels),
        "contact": pd.Series(info["contact"], dtype=object),
        "phone": pd.Series(info["phone"], dtype=object),
        "owner": pd.Series(info["owner"], dtype=object),
    }, columns=OVERDUE_COLUMNS)
    doc_rank = out["doc_no"].astype("str").rank(method="dense").to_numpy() if len(out) else np.zeros(0)
    order = np.lexsort((doc_rank, -out["outstanding"].to_numpy(), -out["days_overdue"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)
