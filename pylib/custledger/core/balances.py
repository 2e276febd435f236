"""Balances 对账余额: what each customer owes, as of a date.

Rules (DESIGN.md "Money", "As of", Balances columns), all in int64 cents, per customer:

* invoiced    = sum of its invoices (kind invoice) dated on or before as_of;
* credited    = sum of its credit notes (红字; the credit is the absolute amount);
* received    = sum of its receipts;
* applied     = sum of the allocations of its credits (核销, from ``allocate`` with the same
  as_of; write-off rows are not a credit's and are not counted here);
* written_off = sum of its write-off rows (尾差, Settings write_off_tolerance);
* unapplied   = credited + received − applied (预收/未核销, credit not yet set against invoices);
* outstanding = invoiced − applied − written_off = the sum of its open invoice amounts;
* balance     = invoiced − credited − received − written_off = outstanding − unapplied;
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

from custledger.core.allocate import credits, first_position, invoice_rows, is_write_off, sum_into, upto
from custledger.core.frames import amount_cents as _cents
from custledger.core.frames import column_ids as _ids

BALANCE_COLUMNS = [
    "customer_id", "name", "invoiced", "credited", "received", "applied", "unapplied",
    "outstanding", "balance", "credit_limit", "credit_used_pct", "over_limit", "written_off",
]


def sorted_ids(*columns: pd.Series) -> np.ndarray:
    """The distinct ids of the given columns, sorted by code point, as an object array."""
    if not columns:
        return np.zeros(0, dtype=object)
    both = pd.concat([c.astype("str") for c in columns], ignore_index=True)
    return pd.Series(both.unique(), dtype="str").sort_values().to_numpy(object)


def column_of(customers: pd.DataFrame, column: str, ids: np.ndarray, blank="") -> np.ndarray:
    """A Customers column for each id (its first row), ``blank`` where the id or value is missing."""
    return columns_of(customers, (column,), ids, blank)[column]


def columns_of(customers: pd.DataFrame, columns, ids: np.ndarray, blank="") -> dict:
    """{column: column_of(customers, column, ids, blank)} for each of ``columns``, the ids
    looked up in Customers once for all of them."""
    if len(customers) == 0 or not any(c in customers.columns for c in columns):
        return {c: np.full(len(ids), blank, dtype=object) for c in columns}
    pos = first_position(_ids(customers, "customer_id"), ids)
    out = {}
    for column in columns:
        if column not in customers.columns:
            out[column] = np.full(len(ids), blank, dtype=object)
            continue
        values = customers[column].astype(object).to_numpy()
        got = np.where(pos >= 0, values[np.maximum(pos, 0)], blank)
        out[column] = np.where(pd.isna(got), blank, got).astype(object)
    return out


def balances(customers: pd.DataFrame, invoices: pd.DataFrame, receipts: pd.DataFrame,
             allocations: pd.DataFrame, as_of=None, cred: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per customer (see the module docstring for the rules and the rows); ``cred``:
    ``credits(invoices, receipts, as_of)`` when the caller has it already (read only)."""
    inv = invoice_rows(invoices, as_of)
    cred = credits(invoices, receipts, as_of) if cred is None else cred
    alloc = upto(allocations, as_of)
    is_cn = (cred["credit_kind"] == "credit_note").to_numpy()
    inv_cust, cred_cust = _ids(inv, "customer_id"), cred["customer_id"]
    alloc_cust = _ids(alloc, "customer_id")
    ids = sorted_ids(_ids(customers, "customer_id"), inv_cust, cred_cust, alloc_cust)
    amount = cred["amount"].to_numpy(dtype="int64")

    off, a_amt = is_write_off(alloc), _cents(alloc)
    invoiced = sum_into(ids, inv_cust, _cents(inv))
    credited = sum_into(ids, cred_cust[is_cn], amount[is_cn])
    received = sum_into(ids, cred_cust[~is_cn], amount[~is_cn])
    applied = sum_into(ids, alloc_cust[~off], a_amt[~off])
    written_off = sum_into(ids, alloc_cust[off], a_amt[off])
    balance = invoiced - credited - received - written_off

    # the ids looked up in Customers once for both columns; a missing name is "" (column_of's blank)
    info = columns_of(customers, ("name", "credit_limit"), ids, blank=None)
    name = np.where(pd.isna(info["name"]), "", info["name"])
    limit = pd.array(pd.to_numeric(pd.Series(info["credit_limit"])),
                     dtype="Int64")
    has_limit = ~np.asarray(pd.isna(limit))
    lim = np.asarray(pd.Series(limit).fillna(0), dtype="int64")
    pct = np.full(len(ids), np.nan)
    positive = has_limit & (lim > 0)
    pct[positive] = balance[positive] / lim[positive]  # a ratio for display, not money
    # one frame made at once, in BALANCE_COLUMNS order
    return pd.DataFrame({
        "customer_id": pd.Series(ids, dtype=object),
        "name": pd.Series(name, dtype=object),
        "invoiced": invoiced, "credited": credited, "received": received, "applied": applied,
        "unapplied": credited + received - applied, "outstanding": invoiced - applied - written_off,
        "balance": balance, "credit_limit": limit, "credit_used_pct": pct,
        "over_limit": has_limit & (balance > lim), "written_off": written_off,
    })
