"""Monthly customer statements (对账单): the figures of each customer's statement for a month.

Rules (DESIGN.md "Statements"), all money in int64 cents, per customer, for the month
[start, end] (first and last day):

* opening  = balance of everything dated up to the day before the month: invoices − credit
  notes − receipts dated < start;
* lines    = every invoice, credit note, receipt and write-off (尾差, a line of its own: the
  Allocations write-off rows, doc_no = the invoice written off) dated in the month, in date
  order (same day: invoices, then credit notes, then receipts, then write-offs, then by number
  as text by code point), each with the running balance after it (opening + the signed
  amounts so far); an invoice is a ``debit``, a credit note, a receipt or a write-off a
  ``credit`` (credit notes count by their absolute amount, as everywhere);
* invoiced / credited / received / written_off = the month's invoice / credit note / receipt
  / write-off amounts;
* write-offs come from the allocation as of ``end`` (the same run as the aging below); those
  dated before the month are in the opening;
* closing  = balance of everything dated up to the month's last day
  = opening + invoiced − credited − received − written_off = the last line's running balance
  (the opening when there are no lines) = Balances.balance as of ``end``;
* aging and unapplied credit at month end come from the allocation run as of ``end`` (not the
  run's as_of): ``allocate(..., as_of=end)`` → ``open_items`` → ``aging``;
* a statement is made for every customer with a line in the month, a non-zero opening or
  closing balance, something open or unapplied at month end, sorted by customer_id;
* confirmation / stated / difference: the customer's answer for the month from the
  Confirmations sheet (core/confirmations.for_period: the latest row of the period; difference
  = stated − closing), blank when it has not answered.

Pure: frames in, frames out. The core does not know templates, languages or files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .aging import DEFAULT_BUCKETS, aging, bucket_labels
from .allocate import allocate, is_write_off, open_items, unapplied_credits, upto
from .confirmations import for_period
from .frames import amount_cents as _cents
from .frames import column_ids as _ids
from .frames import column_text as _text
from .parse import parse_month

LINE_COLUMNS = ["customer_id", "date", "kind", "doc_no", "due_date", "debit", "credit", "balance", "memo"]
SUMMARY_COLUMNS = ["customer_id", "name", "period", "opening", "invoiced", "credited", "received",
                   "closing", "outstanding", "unapplied", "lines", "written_off"]
KIND_ORDER = ("invoice", "credit_note", "receipt", "write_off")


def month_text(month) -> str:
    """core.parse.parse_month, read once per text: a close asks for its month's bounds in the
    statements step, in month_statements and in the dashboard, and each reading costs a few
    pandas calls (~3 ms)."""
    return _month_text(month) if isinstance(month, str) else parse_month(month)


@lru_cache(maxsize=64)
def _month_text(month: str) -> str:
    return parse_month(month)   # a ValueError is not cached: raised again on every call


def month_bounds(month) -> tuple[pd.Timestamp, pd.Timestamp]:
    """'2026-10' (or a date in the month) -> (2026-10-01, 2026-10-31) as midnight Timestamps."""
    start = pd.Timestamp(month_text(month) + "-01")
    return start, start + pd.offsets.MonthEnd(0)


@dataclass(frozen=True)
class MonthStatements:
    """The statements of one month.

    summary   one row per statement: SUMMARY_COLUMNS, then the aging columns at month end
              (not_due, one per bucket label, total, overdue), sorted by customer_id;
    lines     LINE_COLUMNS, the month's documents per customer in statement order, with the
              running ``balance``;
    buckets   the bucket labels of the aging columns.
    """

    month: str
    start: pd.Timestamp
    end: pd.Timestamp
    summary: pd.DataFrame
    lines: pd.DataFrame
    buckets: tuple

    def lines_of(self, customer_id: str) -> pd.DataFrame:
        return self.lines[self.lines["customer_id"].to_numpy(object) == customer_id]


def _write_offs(allocations: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """The write-off rows of ``allocations`` dated on or before end, as statement documents."""
    alloc = upto(allocations, end)
    off = alloc[is_write_off(alloc)]
    return pd.DataFrame({
        "customer_id": _texts(_ids(off, "customer_id").to_numpy(object)),
        "date": pd.to_datetime(off["date"]).to_numpy("datetime64[ns]"),
        "kind": _texts(np.full(len(off), "write_off", dtype=object)),
        "doc_no": _texts(_ids(off, "doc_no").to_numpy(object)),
        "due_date": np.full(len(off), np.datetime64("NaT"), dtype="datetime64[ns]"),
        "debit": np.zeros(len(off), dtype="int64"),
        "credit": _cents(off),
        "memo": _texts(np.full(len(off), "", dtype=object)),
    })


def _texts(values: np.ndarray) -> pd.Series:
    """Text of a document frame as plain object values (not the str dtype a frame would infer)."""
    return pd.Series(values, dtype=object)


def _dated_upto(frame: pd.DataFrame, end: pd.Timestamp) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows of ``frame`` dated on or before end, and their dates (datetime64[ns])."""
    dates = pd.to_datetime(frame["date"]).to_numpy("datetime64[ns]")
    if not len(frame):
        return frame, dates
    keep = dates <= end.to_datetime64()
    return frame[keep], dates[keep]


def _documents(invoices: pd.DataFrame, receipts: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Every invoice, credit note and receipt dated on or before end, one frame, signed amount."""
    inv, inv_dates = _dated_upto(invoices, end)
    rec, rec_dates = _dated_upto(receipts, end)
    is_cn = (_text(inv, "kind") == "credit_note").to_numpy()
    inv_amt, rec_amt = _cents(inv), _cents(rec)
    inv_memo = np.where(is_cn, _text(inv, "ref_doc").to_numpy(object), _text(inv, "product").to_numpy(object))
    frame = pd.DataFrame({
        "customer_id": _texts(np.concatenate([_ids(inv, "customer_id").to_numpy(object),
                                              _ids(rec, "customer_id").to_numpy(object)])),
        "date": np.concatenate([inv_dates, rec_dates]),
        "kind": _texts(np.concatenate([np.where(is_cn, "credit_note", "invoice").astype(object),
                                       np.full(len(rec), "receipt", dtype=object)])),
        "doc_no": _texts(np.concatenate([_ids(inv, "doc_no").to_numpy(object),
                                         _ids(rec, "receipt_no").to_numpy(object)])),
        "due_date": np.concatenate([
            np.where(is_cn, np.datetime64("NaT"),
                     pd.to_datetime(inv["due_date"]).to_numpy("datetime64[ns]") if "due_date" in inv.columns
                     else np.full(len(inv), np.datetime64("NaT"))).astype("datetime64[ns]"),
            np.full(len(rec), np.datetime64("NaT"), dtype="datetime64[ns]")]),
        "debit": np.concatenate([np.where(is_cn, 0, inv_amt), np.zeros(len(rec), dtype="int64")]).astype("int64"),
        "credit": np.concatenate([np.where(is_cn, inv_amt, 0), rec_amt]).astype("int64"),
        "memo": _texts(np.concatenate([inv_memo.astype(object), _text(rec, "memo").to_numpy(object)])),
    })
    return frame


def month_statements(customers: pd.DataFrame, invoices: pd.DataFrame, receipts: pd.DataFrame, month,
                     buckets=DEFAULT_BUCKETS, basis: str = "due_date", auto_fifo: bool = True,
                     allocations: pd.DataFrame | None = None, write_off_tolerance: int = 0,
                     confirmations: pd.DataFrame | None = None, open_items_df: pd.DataFrame | None = None,
                     unapplied: pd.DataFrame | None = None, aging_df: pd.DataFrame | None = None) -> MonthStatements:
    """The statements of ``month`` (YYYY-MM) from the clean ledger frames.

    ``allocations``: the Allocations of the ledger as of the month's last day, if already
    computed; otherwise the allocation is run here as of that day (with ``auto_fifo`` and
    ``write_off_tolerance``, int cents). ``open_items_df`` / ``unapplied``: open_items and
    unapplied_credits of those allocations as of that day, ``aging_df`` their aging with these
    ``buckets`` and ``basis``, if already computed (read only).
    """
    start, end = month_bounds(month)
    labels = tuple(bucket_labels(buckets))
    if allocations is None:
        allocations = allocate(invoices, receipts, as_of=end, auto_fifo=auto_fifo,
                               write_off_tolerance=write_off_tolerance)
    docs = _documents(invoices, receipts, end)
    offs = _write_offs(allocations, end)
    if len(offs):   # both with their text as object values (_texts): so is the whole
        docs = pd.concat([docs, offs], ignore_index=True)
    cust = docs["customer_id"].to_numpy(object)
    dates = docs["date"].to_numpy("datetime64[ns]")
    debit, credit = docs["debit"].to_numpy(dtype="int64"), docs["credit"].to_numpy(dtype="int64")
    signed = debit - credit
    before = dates < start.to_datetime64()
    # every figure per customer in one pass over the documents: their customers numbered once
    # (codes), each figure an int64 sum per number (np.add.at: exact, no float on the way)
    codes, known = pd.factorize(cust)
    known = known.astype(object) if len(known) else np.zeros(0, dtype=object)

    def per_customer(mask, values) -> np.ndarray:
        out = np.zeros(len(known), dtype="int64")
        np.add.at(out, codes[mask], values[mask])
        return out

    opening = per_customer(before, signed)
    closing = per_customer(np.ones(len(codes), dtype=bool), signed)

    in_month = ~before
    lines = docs[in_month]
    order = np.lexsort((
        lines["doc_no"].astype("str").rank(method="dense").to_numpy() if len(lines) else np.zeros(0),
        lines["kind"].map({k: i for i, k in enumerate(KIND_ORDER)}).to_numpy(dtype="int64"),
        lines["date"].to_numpy("datetime64[ns]").view("int64"),
        lines["customer_id"].astype("str").rank(method="dense").to_numpy() if len(lines) else np.zeros(0),
    ))
    lines = lines.iloc[order].reset_index(drop=True)
    lc = lines["customer_id"].to_numpy(object)
    step = lines["debit"].to_numpy() - lines["credit"].to_numpy()
    line_codes = codes[in_month][order]
    run = pd.Series(step, dtype="int64").groupby(lc, sort=False).cumsum().to_numpy(dtype="int64")
    lines["balance"] = run + opening[line_codes]
    lines = lines[LINE_COLUMNS]

    oi = open_items(invoices, allocations, as_of=end) if open_items_df is None else open_items_df
    un = unapplied_credits(invoices, receipts, allocations, as_of=end) if unapplied is None else unapplied
    if aging_df is None:
        aging_df = aging(oi, un, customers, end, buckets=buckets, basis=basis)
    ag = aging_df.set_index("customer_id")

    kinds = docs["kind"].to_numpy(object)
    by_kind = {k: per_customer(in_month & (kinds == k), debit + credit) for k in KIND_ORDER}
    count = per_customer(in_month, np.ones(len(codes), dtype="int64"))
    id_set = set(known[(count > 0) | (opening != 0) | (closing != 0)])
    id_set |= set(ag.index[(ag["total"] != 0) | (ag["unapplied"] != 0)])
    ids = sorted(str(i) for i in id_set)

    # where each statement's customer is among the documents' (-1: it has none, only aging)
    at = pd.Index(known).get_indexer(ids) if len(known) else np.full(len(ids), -1)
    has = at >= 0

    def gathered(values: np.ndarray) -> np.ndarray:
        return np.where(has, values[np.maximum(at, 0)] if len(values) else 0, 0).astype("int64")

    names = customers.assign(customer_id=_ids(customers, "customer_id").to_numpy(object)) \
        .drop_duplicates("customer_id").set_index("customer_id")
    name = names["name"].reindex(ids) if "name" in names.columns else pd.Series([""] * len(ids))
    aging_columns = ["total", "unapplied", "not_due", *labels, "overdue"]
    aged = ag.reindex(ids)[aging_columns].fillna(0).to_numpy(dtype="int64")
    aged = dict(zip(aging_columns, aged.T))
    period = f"{start:%Y-%m}"
    out = pd.DataFrame({
        "customer_id": pd.Series(ids, dtype=object),
        "name": pd.Series(name.to_numpy(object), dtype=object).where(lambda s: s.notna(), ""),
        "period": pd.Series([period] * len(ids), dtype="str"),
        "opening": gathered(opening), "invoiced": gathered(by_kind["invoice"]),
        "credited": gathered(by_kind["credit_note"]), "received": gathered(by_kind["receipt"]),
        "written_off": gathered(by_kind["write_off"]), "closing": gathered(closing),
        "outstanding": aged["total"], "unapplied": aged["unapplied"], "lines": gathered(count),
        **{col: aged[col] for col in ("not_due", *labels, "total", "overdue")},
    })
    answered = for_period(confirmations, period, pd.Series(out["closing"].to_numpy(), index=ids), as_of=None)
    for col in ("confirmation", "stated", "difference"):
        out[col] = answered[col].to_numpy()
    keep = np.isin(lines["customer_id"].to_numpy(object), np.asarray(ids, dtype=object))
    return MonthStatements(month=f"{start:%Y-%m}", start=start, end=end, summary=out,
                           lines=lines[keep].reset_index(drop=True), buckets=labels)
