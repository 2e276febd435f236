"""Invariants of the receivables engine (DESIGN.md "Money"), checked from scratch.

``check_invariants`` recomputes every figure from the documents and the allocations and returns
one message per violation (an empty list = all hold):

* per customer: balance = invoiced − credited − received; outstanding = the sum of the open
  amounts of its invoices (amount − allocated); balance = outstanding − unapplied; and the
  Balances figures invoiced / credited / received / applied / unapplied / outstanding agree
  with the documents;
* every allocation is > 0, names an existing credit and an existing invoice (kind invoice),
  both of the allocation's customer, and is dated on or before as_of;
* no credit and no invoice is allocated more than it had (amounts are positive, so each
  allocation was ≤ what its credit and its invoice had open when it was made).

It is meant for tests and for a self-check after a run; it never raises on bad data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custledger.core.allocate import _cents, _ids, as_of_ts, credits, invoice_rows

_LIMIT = 20  # messages per kind: enough to see the pattern, not a flood


def _fmt(cents) -> str:
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def check_invariants(invoices: pd.DataFrame, receipts: pd.DataFrame, allocations: pd.DataFrame,
                     balances_df: pd.DataFrame | None, as_of=None) -> list[str]:
    """Violations of the engine invariants, as readable messages (empty list = ok).

    ``balances_df`` may be None to check the allocations only.
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

    inv_doc = _ids(inv, "doc_no").to_numpy(object)
    inv_cust = _ids(inv, "customer_id").to_numpy(object)
    inv_amt = _cents(inv)
    first = ~pd.Index(inv_doc).duplicated()
    doc_owner = pd.Series(inv_cust[first], index=inv_doc[first])
    doc_amount = pd.Series(inv_amt[first], index=inv_doc[first])
    c_key = pd.MultiIndex.from_arrays([cred["credit_kind"].to_numpy(object), cred["receipt_no"].to_numpy(object)])
    c_first = ~c_key.duplicated()
    credit_owner = pd.Series(cred["customer_id"].to_numpy(object)[c_first], index=c_key[c_first])
    credit_amount = pd.Series(cred["amount"].to_numpy(dtype="int64")[c_first], index=c_key[c_first])

    # Each allocation row on its own.
    n = len(alloc)
    a_amt = pd.to_numeric(alloc["amount"]).to_numpy(dtype="int64") if n else np.zeros(0, "int64")
    a_doc = _ids(alloc, "doc_no").to_numpy(object)
    a_cust = _ids(alloc, "customer_id").to_numpy(object)
    a_no = _ids(alloc, "receipt_no").to_numpy(object)
    a_key = pd.MultiIndex.from_arrays([_ids(alloc, "credit_kind").to_numpy(object), a_no])
    owner_doc = doc_owner.reindex(a_doc).to_numpy(object)
    owner_credit = credit_owner.reindex(a_key).to_numpy(object)
    where = lambda k: f"allocation {k + 1} ({a_no[k]} -> {a_doc[k]})"  # noqa: E731
    report(a_amt <= 0, lambda k: f"{where(k)}: amount {_fmt(a_amt[k])} is not positive")
    no_doc = pd.isna(owner_doc)
    report(no_doc, lambda k: f"{where(k)}: {a_doc[k]} is not an invoice of the ledger")
    report(~no_doc & (owner_doc != a_cust),
           lambda k: f"{where(k)}: invoice {a_doc[k]} belongs to {owner_doc[k]}, not {a_cust[k]}")
    no_credit = pd.isna(owner_credit)
    report(no_credit, lambda k: f"{where(k)}: {a_key[k][0]} {a_no[k]} is not a credit of the ledger")
    report(~no_credit & (owner_credit != a_cust),
           lambda k: f"{where(k)}: credit {a_no[k]} belongs to {owner_credit[k]}, not {a_cust[k]}")
    if as_of is not None and n:
        late = pd.to_datetime(alloc["date"]).to_numpy() > as_of.to_datetime64()
        report(late, lambda k: f"{where(k)}: dated after as_of")

    # No credit and no invoice allocated more than it had.
    by_credit = pd.Series(a_amt).groupby([a_key.get_level_values(0), a_key.get_level_values(1)]).sum() if n \
        else pd.Series(dtype="int64", index=pd.MultiIndex.from_arrays([[], []]))
    cap = credit_amount.reindex(by_credit.index).to_numpy()
    mask = ~pd.isna(cap) & (by_credit.to_numpy() > np.nan_to_num(cap.astype("float64"), nan=0))
    report(mask, lambda k: f"credit {by_credit.index[k][1]}: allocated {_fmt(by_credit.iloc[k])} "
                           f"> its amount {_fmt(cap[k])}")
    by_doc = pd.Series(a_amt).groupby(a_doc).sum() if n else pd.Series(dtype="int64")
    dcap = doc_amount.reindex(by_doc.index).to_numpy()
    mask = ~pd.isna(dcap) & (by_doc.to_numpy() > np.nan_to_num(dcap.astype("float64"), nan=0))
    report(mask, lambda k: f"invoice {by_doc.index[k]}: allocated {_fmt(by_doc.iloc[k])} > its amount {_fmt(dcap[k])}")

    if balances_df is None:
        return problems

    # Per customer: recompute from the documents and compare.
    is_cn = (cred["credit_kind"] == "credit_note").to_numpy()
    cc = cred["customer_id"].to_numpy(object)
    camt = cred["amount"].to_numpy(dtype="int64")
    open_amt = inv_amt - by_doc.reindex(inv_doc).fillna(0).to_numpy(dtype="int64")
    figures = {
        "invoiced": pd.Series(inv_amt).groupby(inv_cust).sum(),
        "credited": pd.Series(camt[is_cn]).groupby(cc[is_cn]).sum(),
        "received": pd.Series(camt[~is_cn]).groupby(cc[~is_cn]).sum(),
        "applied": pd.Series(a_amt).groupby(a_cust).sum(),
        "outstanding": pd.Series(open_amt).groupby(inv_cust).sum(),
    }
    b_ids = _ids(balances_df, "customer_id").to_numpy(object)
    dup = pd.Index(b_ids).duplicated()
    report(dup, lambda k: f"customer {b_ids[k]}: more than one Balances row")
    ids = sorted(set(b_ids.tolist()).union(*(set(f.index.tolist()) for f in figures.values())))
    want = pd.DataFrame({k: f.reindex(ids).fillna(0).to_numpy(dtype="int64") for k, f in figures.items()},
                        index=ids)
    want["unapplied"] = want["credited"] + want["received"] - want["applied"]
    want["balance"] = want["invoiced"] - want["credited"] - want["received"]
    ids_arr = np.array(ids, dtype=object)
    report((want["balance"] != want["outstanding"] - want["unapplied"]).to_numpy(),
           lambda k: f"customer {ids[k]}: balance {_fmt(want['balance'].iloc[k])} != outstanding "
                     f"{_fmt(want['outstanding'].iloc[k])} − unapplied {_fmt(want['unapplied'].iloc[k])}")
    have = balances_df[~dup].set_index(b_ids[~dup])
    missing = ~pd.Index(ids).isin(have.index) & (want != 0).any(axis=1).to_numpy()
    report(missing, lambda k: f"customer {ids_arr[k]}: missing from Balances")
    have = have.reindex(ids)
    present = pd.Index(ids).isin(b_ids[~dup])
    for col in want.columns:
        if col not in have.columns:
            continue
        got = pd.to_numeric(have[col]).to_numpy(dtype="float64")
        bad = present & (got != want[col].to_numpy())
        report(bad, lambda k, col=col, got=got: f"customer {ids_arr[k]}: Balances {col} {_fmt(got[k])}, "
                                                f"documents give {_fmt(want[col].iloc[k])}")
    if {"balance", "invoiced", "credited", "received", "outstanding", "unapplied"} <= set(have.columns):
        h = {c: pd.to_numeric(have[c]).to_numpy(dtype="float64") for c in
             ("balance", "invoiced", "credited", "received", "outstanding", "unapplied")}
        report(present & (h["balance"] != h["invoiced"] - h["credited"] - h["received"]),
               lambda k: f"customer {ids_arr[k]}: Balances balance != invoiced − credited − received")
        report(present & (h["balance"] != h["outstanding"] - h["unapplied"]),
               lambda k: f"customer {ids_arr[k]}: Balances balance != outstanding − unapplied")
    return problems
