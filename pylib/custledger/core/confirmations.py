"""Statement confirmations 对账确认: what each customer answered to its statement of a month.

Rules (DESIGN.md "Getting results out"), over the Confirmations frame (customer_id, period
"YYYY-MM", status confirmed | disputed, amount int cents or <NA>, date, _row):

* ``for_period``: per customer, its answer for the period is the latest row of that period
  (by date, blank dates first, then sheet row): status, stated balance; the difference is
  stated − ledger closing balance (cents; blank when no amount was stated);
* ``open_disputes``: a dispute is open until a later confirmation: a ``confirmed`` row of the
  same customer for the same or a later period, dated on or after the dispute (same date: a
  row below it). Rows dated after as_of are not seen yet.

Pure: frames in, frames out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import column_ids as _ids

COLUMNS = ["customer_id", "period", "status", "amount", "date", "note"]


def _ordered(conf: pd.DataFrame | None, as_of=None) -> pd.DataFrame:
    if conf is None or len(conf) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS + ["_row"]})
    c = conf.assign(customer_id=_ids(conf, "customer_id").to_numpy(object))
    if "_row" not in c.columns:
        c = c.assign(_row=np.arange(len(c)))
    dates = pd.to_datetime(c["date"])
    if as_of is not None:
        c = c[~(dates > pd.Timestamp(as_of)).to_numpy()]
        dates = pd.to_datetime(c["date"])
    c = c.assign(_d=dates.fillna(pd.Timestamp.min))
    return c.sort_values(["_d", "_row"], kind="stable").drop(columns="_d")


def for_period(conf: pd.DataFrame | None, period: str, closing: pd.Series, as_of=None) -> pd.DataFrame:
    """Per customer of ``closing`` (customer_id -> closing cents): confirmation (status key or
    ""), stated (Int64 cents), difference (Int64 cents: stated − closing)."""
    ids = closing.index
    c = _ordered(conf, as_of)
    c = c[c["period"].astype(str).to_numpy() == period] if len(c) else c
    last = c.drop_duplicates("customer_id", keep="last").set_index("customer_id")
    status = last["status"].reindex(ids) if len(last) else pd.Series(index=ids, dtype=object)
    stated = (pd.to_numeric(last["amount"], errors="coerce").reindex(ids) if len(last)
              else pd.Series(index=ids, dtype="float64")).astype("Int64")
    diff = stated - pd.Series(closing.to_numpy(dtype="int64"), index=ids).astype("Int64")
    return pd.DataFrame({"confirmation": status.fillna("").astype(object).to_numpy(),
                         "stated": stated.to_numpy(), "difference": diff.to_numpy()}, index=ids)


def open_disputes(conf: pd.DataFrame | None, as_of=None) -> pd.DataFrame:
    """The disputes not yet followed by a confirmation (see the module docstring), in order."""
    c = _ordered(conf, as_of).reset_index(drop=True)
    if c.empty:
        return c
    c["_seq"] = np.arange(len(c))
    disputed = c[c["status"].to_numpy(object) == "disputed"]
    confirmed = c[c["status"].to_numpy(object) == "confirmed"]
    if confirmed.empty:
        return disputed.drop(columns="_seq")
    pairs = disputed.reset_index().merge(confirmed[["customer_id", "period", "_seq"]], on="customer_id",
                                         how="inner", suffixes=("", "_c"))
    settled = pairs[(pairs["period_c"].astype(str) >= pairs["period"].astype(str)) & (pairs["_seq_c"] > pairs["_seq"])]
    return disputed[~disputed.index.isin(settled["index"])].drop(columns="_seq")
