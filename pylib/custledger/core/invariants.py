"""Invariants of the receivables engine (DESIGN.md "Money"), checked from scratch.

``check_invariants`` recomputes every figure from the documents and the allocations and returns
one message per violation (an empty list = all hold):

* per customer: balance = invoiced − credited − received − written_off; outstanding = the sum
  of the open amounts of its invoices (amount − allocated, write-offs included); balance =
  outstanding − unapplied; and the Balances figures invoiced / credited / received / applied
  / written_off / unapplied / outstanding agree with the documents;
* every allocation is > 0, names an existing credit and an existing invoice (kind invoice),
  both of the allocation's customer, and is dated on or before as_of;
* a write-off row (credit_kind write_off) names no credit, closes its invoice (nothing open
  after it), follows at least one receipt allocation to that invoice and, when
  ``write_off_tolerance`` is given, is at most that;
* no credit and no invoice is allocated more than it had (amounts are positive, so each
  allocation was ≤ what its credit and its invoice had open when it was made).

It is meant for tests and for a self-check after a run; it never raises on bad data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custledger.core.allocate import (
    as_of_ts,
    credit_keys,
    credits,
    first_position,
    invoice_rows,
    is_write_off,
    sum_into,
)
from custledger.core.balances import sorted_ids
from custledger.core.frames import amount_cents as _cents
from custledger.core.frames import column_ids as _ids
from custledger.core.money import format_cents

_LIMIT = 20  # messages per kind: enough to see the pattern, not a flood


def _fmt(cents) -> str:
    return format_cents(int(cents), thousands=False)


def check_invariants(invoices: pd.DataFrame, receipts: pd.DataFrame, allocations: pd.DataFrame,
                     balances_df: pd.DataFrame | None, as_of=None,
                     write_off_tolerance: int | None = None) -> list[str]:
    """Violations of the engine invariants, as readable messages (empty list = ok).

    ``balances_df`` may be None to check the allocations only; ``write_off_tolerance`` (int
    cents) None skips the bound check of write-offs.
    """
    problems: list[str] = []
    as_of = as_of_ts(as_of)
    inv = invoice_rows(invoices, as_of)
    cred = credits(invoices, receipts, as_of)
    alloc = allocations

    def report(mask: np.ndarray, message) -> None:
        """One message per offending row (the first _LIMIT of them)."""
        rows = np.flatnonzero(mask)
        problems.extend(message(k) for k in rows[:_LIMIT])
        if len(rows) > _LIMIT:
            problems.append(f"... and {len(rows) - _LIMIT} more like the above")

    inv_doc = _ids(inv, "doc_no")
    inv_cust = _ids(inv, "customer_id").to_numpy(object)
    inv_amt = _cents(inv)
    c_key = credit_keys(cred["credit_kind"], cred["receipt_no"])
    c_cust = cred["customer_id"].to_numpy(object)
    c_amt = cred["amount"].to_numpy(dtype="int64")

    # Each allocation row on its own.
    n = len(alloc)
    a_amt = pd.to_numeric(alloc["amount"]).to_numpy(dtype="int64") if n else np.zeros(0, "int64")
    a_doc = _ids(alloc, "doc_no").to_numpy(object)
    a_cust = _ids(alloc, "customer_id").to_numpy(object)
    a_no = _ids(alloc, "receipt_no").to_numpy(object)
    a_kind = _ids(alloc, "credit_kind").to_numpy(object)
    a_key = credit_keys(_ids(alloc, "credit_kind"), _ids(alloc, "receipt_no"))
    doc_pos = first_position(inv_doc, a_doc)
    credit_pos = first_position(c_key, a_key)
    owner_doc = np.where(doc_pos >= 0, inv_cust[np.maximum(doc_pos, 0)] if len(inv_cust) else "", None)  # type: ignore[arg-type]  # numpy stubs: None as fill
    owner_credit = np.where(credit_pos >= 0, c_cust[np.maximum(credit_pos, 0)] if len(c_cust) else "", None)  # type: ignore[arg-type]  # numpy stubs: None as fill
    where = lambda k: f"allocation {k + 1} ({a_no[k]} -> {a_doc[k]})"  # noqa: E731
    report(a_amt <= 0, lambda k: f"{where(k)}: amount {_fmt(a_amt[k])} is not positive")
    report(doc_pos < 0, lambda k: f"{where(k)}: {a_doc[k]} is not an invoice of the ledger")
    report((doc_pos >= 0) & (owner_doc != a_cust),
           lambda k: f"{where(k)}: invoice {a_doc[k]} belongs to {owner_doc[k]}, not {a_cust[k]}")
    off = is_write_off(alloc) if n else np.zeros(0, dtype=bool)
    report((credit_pos < 0) & ~off, lambda k: f"{where(k)}: {a_kind[k]} {a_no[k]} is not a credit of the ledger")
    report(off & (a_no != ""), lambda k: f"{where(k)}: a write-off names a credit")
    if write_off_tolerance is not None:
        report(off & (a_amt > write_off_tolerance),
               lambda k: f"{where(k)}: write-off {_fmt(a_amt[k])} > tolerance {_fmt(write_off_tolerance)}")
    report((credit_pos >= 0) & (owner_credit != a_cust),
           lambda k: f"{where(k)}: credit {a_no[k]} belongs to {owner_credit[k]}, not {a_cust[k]}")
    if as_of is not None and n:
        late = pd.to_datetime(alloc["date"]).to_numpy() > as_of.to_datetime64()
        report(late, lambda k: f"{where(k)}: dated after as_of")

    # No credit and no invoice allocated more than it had.
    by_credit = sum_into(c_key, a_key, a_amt)
    report(by_credit > c_amt, lambda k: f"credit {cred['receipt_no'].iloc[k]}: allocated "
                                        f"{_fmt(by_credit[k])} > its amount {_fmt(c_amt[k])}")
    by_doc = sum_into(inv_doc, a_doc, a_amt)
    report(by_doc > inv_amt, lambda k: f"invoice {inv_doc.iloc[k]}: allocated {_fmt(by_doc[k])} "
                                       f"> its amount {_fmt(inv_amt[k])}")
    w_doc = a_doc[off]
    closed = sum_into(w_doc, a_doc, a_amt) == sum_into(w_doc, inv_doc, inv_amt)
    report(~closed, lambda k: f"write-off of {w_doc[k]}: the invoice is still open after it")
    paid = sum_into(w_doc, a_doc[a_kind == "receipt"], np.ones(int((a_kind == "receipt").sum()), "int64")) > 0
    report(~paid, lambda k: f"write-off of {w_doc[k]}: the invoice received no receipt")

    if balances_df is None:
        return problems

    # Per customer: recompute from the documents and compare.
    is_cn = (cred["credit_kind"] == "credit_note").to_numpy()
    b_ids = _ids(balances_df, "customer_id")
    ids = sorted_ids(b_ids, _ids(inv, "customer_id"), cred["customer_id"], _ids(alloc, "customer_id"))
    want = pd.DataFrame({
        "invoiced": sum_into(ids, inv_cust, inv_amt),
        "credited": sum_into(ids, c_cust[is_cn], c_amt[is_cn]),
        "received": sum_into(ids, c_cust[~is_cn], c_amt[~is_cn]),
        "applied": sum_into(ids, a_cust[~off], a_amt[~off]),
        "written_off": sum_into(ids, a_cust[off], a_amt[off]),
        "outstanding": sum_into(ids, inv_cust, inv_amt - by_doc),
    })
    want["unapplied"] = want["credited"] + want["received"] - want["applied"]
    want["balance"] = want["invoiced"] - want["credited"] - want["received"] - want["written_off"]
    report((want["balance"] != want["outstanding"] - want["unapplied"]).to_numpy(),
           lambda k: f"customer {ids[k]}: balance {_fmt(want['balance'].iloc[k])} != outstanding "
                     f"{_fmt(want['outstanding'].iloc[k])} − unapplied {_fmt(want['unapplied'].iloc[k])}")
    dup = b_ids.duplicated().to_numpy()
    report(dup, lambda k: f"customer {b_ids.iloc[k]}: more than one Balances row")
    pos = first_position(b_ids, ids)
    present = pos >= 0
    report(~present & (want != 0).any(axis=1).to_numpy(),
           lambda k: f"customer {ids[k]}: missing from Balances")
    have = {c: np.where(present, pd.to_numeric(balances_df[c]).to_numpy(dtype="float64")[np.maximum(pos, 0)]
                        if len(balances_df) else 0, np.nan)
            for c in want.columns if c in balances_df.columns}
    for col, got in have.items():
        expected = want[col].to_numpy()
        report(present & (got != expected), lambda k, col=col, got=got, expected=expected:
               f"customer {ids[k]}: Balances {col} {_fmt(got[k])}, documents give {_fmt(expected[k])}")
    if {"balance", "invoiced", "credited", "received", "outstanding", "unapplied"} <= set(have):
        written = have.get("written_off", 0)
        report(present & (have["balance"] != have["invoiced"] - have["credited"] - have["received"] - written),
               lambda k: f"customer {ids[k]}: Balances balance != invoiced − credited − received − written_off")
        report(present & (have["balance"] != have["outstanding"] - have["unapplied"]),
               lambda k: f"customer {ids[k]}: Balances balance != outstanding − unapplied")
    return problems
