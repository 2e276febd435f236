"""Invariants of the receivables engine (DESIGN.md "Money"), checked from scratch.

``invariant_problems`` recomputes every figure from the documents and the allocations and returns
one Problem per violation (an empty list = all hold; ``check_invariants``: their English text):

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
    WRITE_OFF,
    as_of_ts,
    credit_keys,
    credits,
    first_position,
    invoice_rows,
    sum_into,
)
from custledger.core.balances import sorted_ids
from custledger.core.frames import amount_cents as _cents
from custledger.core.frames import column_ids as _ids
from custledger.core.money import format_cents
from custledger.core.problems import OutputLabel, Problem

_LIMIT = 20  # problems per kind: enough to see the pattern, not a flood


def _fmt(cents) -> str:
    return format_cents(int(cents), thousands=False)


def check_invariants(invoices: pd.DataFrame, receipts: pd.DataFrame, allocations: pd.DataFrame,
                     balances_df: pd.DataFrame | None, as_of=None,
                     write_off_tolerance: int | None = None) -> list[str]:
    """Violations of the engine invariants, as readable English messages (empty list = ok):
    the text of ``invariant_problems``, for tests and logs."""
    return [p.text("en") for p in invariant_problems(invoices, receipts, allocations, balances_df, as_of,
                                                     write_off_tolerance)]


def invariant_problems(invoices: pd.DataFrame, receipts: pd.DataFrame, allocations: pd.DataFrame,
                       balances_df: pd.DataFrame | None, as_of=None,
                       write_off_tolerance: int | None = None, cred: pd.DataFrame | None = None) -> list[Problem]:
    """Violations of the engine invariants as Problem records (empty list = ok): sheet
    ``allocations`` (row = the allocation's 1-based position, or None for a credit or an
    invoice over-allocated) or ``balances`` (per customer); codes ``invariant_*`` of
    messages.json, worded in the workbook's language where they are shown.

    ``balances_df`` may be None to check the allocations only; ``write_off_tolerance`` (int
    cents) None skips the bound check of write-offs. ``cred``: ``credits(invoices, receipts,
    as_of)`` when the caller has it already (read only).
    """
    problems: list[Problem] = []
    as_of = as_of_ts(as_of)
    inv = invoice_rows(invoices, as_of)
    cred = credits(invoices, receipts, as_of) if cred is None else cred
    alloc = allocations

    def report(mask: np.ndarray, code: str, make) -> None:
        """One problem per offending row (the first _LIMIT of them); ``make(k)`` gives
        (sheet, row, column, value, params) of row ``k``."""
        rows = np.flatnonzero(mask)
        for k in rows[:_LIMIT]:
            sheet, row, column, value, params = make(k)
            problems.append(Problem(sheet, row, column, str(value), code, "error", params))
        if len(rows) > _LIMIT:
            problems.append(Problem(problems[-1].sheet, None, "", "", "invariant_more", "error",
                                    {"n": len(rows) - _LIMIT}))

    inv_doc = _ids(inv, "doc_no")
    inv_cust_ids = _ids(inv, "customer_id")
    inv_cust = inv_cust_ids.to_numpy(object)
    inv_amt = _cents(inv)
    c_key = credit_keys(cred["credit_kind"], cred["receipt_no"])
    c_cust = cred["customer_id"].to_numpy(object)
    c_amt = cred["amount"].to_numpy(dtype="int64")

    # Each allocation row on its own.
    n = len(alloc)
    a_amt = pd.to_numeric(alloc["amount"]).to_numpy(dtype="int64") if n else np.zeros(0, "int64")
    # each id column of the allocations read once (each read is a few pandas calls)
    a_doc = _ids(alloc, "doc_no").to_numpy(object)
    a_cust_ids, a_no_ids, a_kind_ids = (_ids(alloc, c) for c in ("customer_id", "receipt_no", "credit_kind"))
    a_cust, a_no, a_kind = (x.to_numpy(object) for x in (a_cust_ids, a_no_ids, a_kind_ids))
    a_key = credit_keys(a_kind_ids, a_no_ids)
    doc_pos = first_position(inv_doc, a_doc)
    credit_pos = first_position(c_key, a_key)
    owner_doc = np.where(doc_pos >= 0, inv_cust[np.maximum(doc_pos, 0)] if len(inv_cust) else "", None)  # type: ignore[arg-type]  # numpy stubs: None as fill
    owner_credit = np.where(credit_pos >= 0, c_cust[np.maximum(credit_pos, 0)] if len(c_cust) else "", None)  # type: ignore[arg-type]  # numpy stubs: None as fill

    def at(column: str, value, **params):
        """make(k) for a problem of allocation row k: where it is, and what the text names."""
        def make(k):
            return ("allocations", int(k) + 1, column, value(k),
                    {"n": int(k) + 1, "credit": a_no[k], "doc": a_doc[k], **{p: f(k) for p, f in params.items()}})
        return make

    report(a_amt <= 0, "invariant_amount_not_positive", at("amount", lambda k: _fmt(a_amt[k]),
                                                           amount=lambda k: _fmt(a_amt[k])))
    report(doc_pos < 0, "invariant_doc_unknown", at("doc_no", lambda k: a_doc[k]))
    report((doc_pos >= 0) & (owner_doc != a_cust), "invariant_doc_other_customer",
           at("customer_id", lambda k: a_cust[k], owner=lambda k: owner_doc[k], customer=lambda k: a_cust[k]))
    off = (a_kind == WRITE_OFF) if n else np.zeros(0, dtype=bool)   # is_write_off, on the ids read above
    report((credit_pos < 0) & ~off, "invariant_credit_unknown",
           at("receipt_no", lambda k: a_no[k], kind=lambda k: a_kind[k]))
    report(off & (a_no != ""), "invariant_write_off_names_credit", at("receipt_no", lambda k: a_no[k]))
    if write_off_tolerance is not None:
        report(off & (a_amt > write_off_tolerance), "invariant_write_off_over_tolerance",
               at("amount", lambda k: _fmt(a_amt[k]), amount=lambda k: _fmt(a_amt[k]),
                  tolerance=lambda k: _fmt(write_off_tolerance)))
    report((credit_pos >= 0) & (owner_credit != a_cust), "invariant_credit_other_customer",
           at("customer_id", lambda k: a_cust[k], owner=lambda k: owner_credit[k], customer=lambda k: a_cust[k]))
    if as_of is not None and n:
        dates = pd.to_datetime(alloc["date"])
        late = dates.to_numpy() > as_of.to_datetime64()
        report(late, "invariant_after_as_of", at("date", lambda k: dates.iloc[k].strftime("%Y-%m-%d"),
                                                 as_of=lambda k: as_of.strftime("%Y-%m-%d")))

    # No credit and no invoice allocated more than it had.
    by_credit = sum_into(c_key, a_key, a_amt)
    report(by_credit > c_amt, "invariant_credit_over",
           lambda k: ("allocations", None, "receipt_no", cred["receipt_no"].iloc[k],
                      {"credit": cred["receipt_no"].iloc[k], "allocated": _fmt(by_credit[k]), "amount": _fmt(c_amt[k])}))
    by_doc = sum_into(inv_doc, a_doc, a_amt)
    report(by_doc > inv_amt, "invariant_invoice_over",
           lambda k: ("allocations", None, "doc_no", inv_doc.iloc[k],
                      {"doc": inv_doc.iloc[k], "allocated": _fmt(by_doc[k]), "amount": _fmt(inv_amt[k])}))
    w_doc = a_doc[off]
    closed = sum_into(w_doc, a_doc, a_amt) == sum_into(w_doc, inv_doc, inv_amt)
    report(~closed, "invariant_write_off_open", lambda k: ("allocations", None, "doc_no", w_doc[k], {"doc": w_doc[k]}))
    paid = sum_into(w_doc, a_doc[a_kind == "receipt"], np.ones(int((a_kind == "receipt").sum()), "int64")) > 0
    report(~paid, "invariant_write_off_unpaid", lambda k: ("allocations", None, "doc_no", w_doc[k], {"doc": w_doc[k]}))

    if balances_df is None:
        return problems

    # Per customer: recompute from the documents and compare.
    is_cn = (cred["credit_kind"] == "credit_note").to_numpy()
    b_ids = _ids(balances_df, "customer_id")
    ids = sorted_ids(b_ids, inv_cust_ids, cred["customer_id"], a_cust_ids)
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

    def customer(ids_of, column: str = "customer_id", **params):
        """make(k) for a problem of customer ``ids_of[k]``."""
        def make(k):
            return ("balances", None, column, ids_of[k],
                    {"customer": ids_of[k], **{p: f(k) for p, f in params.items()}})
        return make

    report((want["balance"] != want["outstanding"] - want["unapplied"]).to_numpy(), "invariant_balance_identity",
           customer(ids, balance=lambda k: _fmt(want["balance"].iloc[k]),
                    outstanding=lambda k: _fmt(want["outstanding"].iloc[k]),
                    unapplied=lambda k: _fmt(want["unapplied"].iloc[k])))
    dup = b_ids.duplicated().to_numpy()
    report(dup, "invariant_balances_repeated", customer(b_ids.to_numpy(object)))
    pos = first_position(b_ids, ids)
    present = pos >= 0
    report(~present & (want != 0).any(axis=1).to_numpy(), "invariant_balances_missing", customer(ids))
    have = {c: np.where(present, pd.to_numeric(balances_df[c]).to_numpy(dtype="float64")[np.maximum(pos, 0)]
                        if len(balances_df) else 0, np.nan)
            for c in want.columns if c in balances_df.columns}
    for col, got in have.items():
        expected = want[col].to_numpy()
        report(present & (got != expected), "invariant_balances_differ",
               customer(ids, col, field=lambda k, col=col: OutputLabel("balances", col),
                        got=lambda k, got=got: _fmt(got[k]), expected=lambda k, expected=expected: _fmt(expected[k])))
    if {"balance", "invoiced", "credited", "received", "outstanding", "unapplied"} <= set(have):
        written = have.get("written_off", 0)
        report(present & (have["balance"] != have["invoiced"] - have["credited"] - have["received"] - written),
               "invariant_balances_sum", customer(ids, "balance"))
        report(present & (have["balance"] != have["outstanding"] - have["unapplied"]),
               "invariant_balances_open", customer(ids, "balance"))
    return problems
