"""Balances 对账余额: what each customer owes, as of a date.

Rules (DESIGN.md "Money", "As of", Balances columns), all in int64 cents, per customer:

* invoiced    = sum of its invoices (kind invoice) dated on or before as_of;
* credited    = sum of its credit notes (红字; the credit is the absolute amount);
* received    = sum of its receipts;
* applied     = sum of the allocations of its credits (核销, from ``allocate`` with the same
  as_of);
* unapplied   = credited + received − applied (预收/未核销, credit not yet set against invoices);
* outstanding = invoiced − applied = the sum of its open invoice amounts;
* balance     = invoiced − credited − received = outstanding − unapplied;
* credit_limit from Customers (Int64, <NA> = none); credit_used_pct = balance / credit_limit as
  a float ratio (0.5 = 50 %), NaN when there is no positive limit; over_limit = a limit is set
  and balance > credit_limit (a limit of 0 means no credit: any positive balance is over it).

Rows: every customer of the Customers frame (zeros when it has no documents) plus any other
customer_id that has an invoice, credit note or receipt (name blank; e.g. a receipt whose
customer is not in Customers), sorted by customer_id (code point order).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custledger.core.allocate import _cents, _ids, credits, invoice_rows, upto

BALANCE_COLUMNS = [
    "customer_id", "name", "invoiced", "credited", "received", "applied", "unapplied",
    "outstanding", "balance", "credit_limit", "credit_used_pct", "over_limit",
]


def _sum_by(keys: pd.Series, amounts: np.ndarray) -> pd.Series:
    if len(keys) == 0:
        return pd.Series(dtype="int64")
    return pd.Series(amounts, dtype="int64").groupby(keys.to_numpy(object)).sum()


def balances(customers: pd.DataFrame, invoices: pd.DataFrame, receipts: pd.DataFrame,
             allocations: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """One row per customer (see the module docstring for the rules and the rows)."""
    inv = invoice_rows(invoices, as_of)
    cred = credits(invoices, receipts, as_of)
    alloc = upto(allocations, as_of)
    is_cn = (cred["credit_kind"] == "credit_note").to_numpy()

    invoiced = _sum_by(_ids(inv, "customer_id"), _cents(inv))
    credited = _sum_by(cred["customer_id"][is_cn], cred["amount"].to_numpy()[is_cn])
    received = _sum_by(cred["customer_id"][~is_cn], cred["amount"].to_numpy()[~is_cn])
    applied = _sum_by(_ids(alloc, "customer_id"), _cents(alloc))

    cust_ids = _ids(customers, "customer_id")
    ids = set(cust_ids.tolist())
    for s in (invoiced, credited, received, applied):
        ids.update(s.index.tolist())
    ids = sorted(ids)

    out = pd.DataFrame({"customer_id": pd.Series(ids, dtype=object)})
    info = customers.assign(customer_id=cust_ids.to_numpy(object)).drop_duplicates("customer_id")
    info = info.set_index("customer_id")
    names = info["name"] if "name" in info.columns else pd.Series(dtype=object)
    out["name"] = pd.Series(names.reindex(ids).to_numpy(object), dtype=object).where(
        lambda s: s.notna(), "")
    for col, s in (("invoiced", invoiced), ("credited", credited), ("received", received), ("applied", applied)):
        out[col] = s.reindex(ids).fillna(0).to_numpy(dtype="int64")
    out["unapplied"] = out["credited"] + out["received"] - out["applied"]
    out["outstanding"] = out["invoiced"] - out["applied"]
    out["balance"] = out["invoiced"] - out["credited"] - out["received"]

    limit = info["credit_limit"] if "credit_limit" in info.columns else pd.Series(dtype="Int64")
    limit = pd.array(pd.to_numeric(limit.reindex(ids)), dtype="Int64")
    out["credit_limit"] = limit
    has_limit = ~pd.isna(limit)
    lim = np.where(has_limit, pd.Series(limit).fillna(0).to_numpy(dtype="int64"), 0)
    bal = out["balance"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(has_limit & (lim > 0), bal / np.where(lim > 0, lim, 1), np.nan)
    out["credit_used_pct"] = pct.astype("float64")
    out["over_limit"] = has_limit & (bal > lim)
    return out[BALANCE_COLUMNS]
