"""The customer card 客户卡 (客户管理卡): everything about one customer on one page.

``card(...)`` gathers, as of as_of, for one customer_id (sections as in practice: 基本信息,
联系方式, 信用, 分级, 余额与账龄, 近 12 个月往来, 跟进记录):

* ``customer``: its Customers row (canonical keys → values; {} when it is not in Customers);
* ``balance``: its Balances row (invoiced, credited, received, written_off — the small
  differences written off —, applied, unapplied, outstanding, balance); ``aging``: its Aging row
  (not_due, buckets, total, overdue, unapplied); ``tier``: its Tiers row ({} each when it has none);
* ``credit``: credit_limit, used (= balance), credit_used_pct, available (= limit − balance,
  blank without a limit), over_limit, credit_grade, avg_days_late, suggested_limit;
* ``monthly``: net sales and collections of the 12 months ending with the month of as_of;
* ``documents``: its invoices, credit notes and receipts dated in (as_of − 12 months, as_of],
  newest first (date descending, then number), with the open amount of each invoice and the
  unapplied amount of each credit; at most ``max_documents`` rows, ``documents_total`` = how
  many there are;
* ``interactions``: its latest ``max_interactions`` interactions (date descending);
  ``next_follow_up`` / ``follow_up_subject``: the next_date and summary of its latest
  interaction (the rule of core/reminders.py follow_up); ``last_contact``: the date of its latest
  interaction; ``open_complaints``: complaints not closed.

Nothing is masked on the card: it lives inside the ledger, which already holds these data;
masking (mask_exports) applies to files that leave it (statements, letters).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .aging import bucket_labels
from .allocate import as_of_ts, upto
from .dashboard import monthly_series
from .frames import amount_cents as _cents
from .frames import column_ids as _ids
from .frames import column_text as _text
from .model import Ledger

DOCUMENT_COLUMNS = ["date", "kind", "number", "amount", "due_date", "open"]
INTERACTION_COLUMNS = ["date", "kind", "summary", "satisfaction", "owner", "status", "next_date"]


@dataclass(frozen=True)
class Card:
    customer_id: str
    as_of: pd.Timestamp
    customer: dict
    balance: dict
    aging: dict
    tier: dict
    credit: dict
    monthly: pd.DataFrame
    documents: pd.DataFrame
    documents_total: int
    interactions: pd.DataFrame
    next_follow_up: pd.Timestamp | None = None
    follow_up_subject: str = ""
    last_contact: pd.Timestamp | None = None
    open_complaints: int = 0
    buckets: list = field(default_factory=list)


def _row(frame: pd.DataFrame, customer_id: str) -> dict:
    if frame is None or frame.empty or "customer_id" not in frame.columns:
        return {}
    hit = frame[(_ids(frame, "customer_id") == customer_id).to_numpy()]
    if hit.empty:
        return {}
    return {k: (None if (v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v))) else v)
            for k, v in hit.iloc[0].to_dict().items() if not str(k).startswith("_")}


def known(ledger: Ledger, customer_id: str) -> bool:
    """A customer in Customers, or one with an invoice or a receipt."""
    return any((_ids(f, "customer_id") == customer_id).any()
               for f in (ledger.customers, ledger.invoices, ledger.receipts) if len(f))


def card(ledger: Ledger, customer_id: str, as_of, balances: pd.DataFrame, aging_df: pd.DataFrame,
         tiers_df: pd.DataFrame, open_items: pd.DataFrame, unapplied: pd.DataFrame, months: int = 12,
         max_documents: int = 20, max_interactions: int = 8, buckets=None) -> Card:
    """The Card of ``customer_id`` as of ``as_of`` (see the module docstring)."""
    as_of = as_of_ts(as_of)
    cid = str(customer_id).strip()
    start = as_of - pd.DateOffset(months=months)
    customer = _row(ledger.customers, cid)
    balance = _row(balances, cid)
    tier = _row(tiers_df, cid)
    ag = _row(aging_df, cid)

    limit = balance.get("credit_limit", customer.get("credit_limit"))
    used = int(balance.get("balance", 0) or 0)
    credit = {
        "credit_limit": limit,
        "balance": used,
        "credit_used_pct": balance.get("credit_used_pct"),
        "credit_available": None if limit is None else int(limit) - used,
        "over_limit": bool(balance.get("over_limit", False)),
        "credit_grade": tier.get("credit_grade"),
        "avg_days_late": tier.get("avg_days_late"),
        "suggested_limit": tier.get("suggested_limit"),
    }

    # documents of the last 12 months: invoices and credit notes, then receipts
    inv = upto(ledger.invoices, as_of)
    inv = inv[(_ids(inv, "customer_id") == cid).to_numpy()]
    inv = inv[(pd.to_datetime(inv["date"]) > start).to_numpy()] if len(inv) else inv
    rec = upto(ledger.receipts, as_of)
    rec = rec[(_ids(rec, "customer_id") == cid).to_numpy()]
    rec = rec[(pd.to_datetime(rec["date"]) > start).to_numpy()] if len(rec) else rec
    open_by_doc = open_items.set_index(_ids(open_items, "doc_no").to_numpy(object))["open"] if len(open_items) else \
        pd.Series(dtype="int64")
    left = unapplied.set_index([_text(unapplied, "credit_kind").to_numpy(object),
                                _ids(unapplied, "receipt_no").to_numpy(object)])["unapplied"] if len(unapplied) else \
        pd.Series(dtype="int64")
    inv_kind = _text(inv, "kind").where(lambda s: s != "", "invoice").to_numpy(object)
    inv_no = _ids(inv, "doc_no").to_numpy(object)
    rec_no = _ids(rec, "receipt_no").to_numpy(object)

    def lookup(series: pd.Series, keys) -> list:
        return [None if k not in series.index else int(series.loc[k]) for k in keys]

    inv_open = [lookup(open_by_doc, [n])[0] if k == "invoice" else lookup(left, [(k, n)])[0]
                for k, n in zip(inv_kind, inv_no)]
    docs = pd.DataFrame({
        "date": pd.concat([pd.to_datetime(inv["date"]), pd.to_datetime(rec["date"])], ignore_index=True)
        if len(inv) + len(rec) else pd.Series(dtype="datetime64[ns]"),
        "kind": pd.Series(list(inv_kind) + ["receipt"] * len(rec), dtype=object),
        "number": pd.Series(list(inv_no) + list(rec_no), dtype=object),
        "amount": np.r_[_cents(inv), _cents(rec)].astype("int64"),
        "due_date": pd.Series(list(pd.to_datetime(inv["due_date"]) if len(inv) else []) + [pd.NaT] * len(rec),
                              dtype="datetime64[ns]"),
        "open": pd.array(inv_open + lookup(left, [("receipt", n) for n in rec_no]), dtype="Int64"),
    })
    docs["due_date"] = docs["due_date"].where(docs["kind"] == "invoice")
    docs = docs.sort_values(["date", "number"], ascending=[False, True], kind="stable").reset_index(drop=True)
    total_docs = len(docs)

    inter = upto(ledger.interactions, as_of)
    inter = inter[(_ids(inter, "customer_id") == cid).to_numpy()] if len(inter) else inter
    if len(inter):
        order = inter.assign(_d=pd.to_datetime(inter["date"]), _r=inter["_row"] if "_row" in inter.columns
                             else np.arange(len(inter))).sort_values(["_d", "_r"], kind="stable")
        latest = order.iloc[-1]
        nd = latest.get("next_date")
        next_fu = None if pd.isna(nd) else pd.Timestamp(nd)
        subject = "" if pd.isna(latest.get("summary")) else str(latest.get("summary"))
        last_contact = pd.Timestamp(latest["_d"])
        complaints = int(((_text(inter, "kind") == "complaint") & (_text(inter, "status") != "closed")).sum())
        recent = order.iloc[::-1].head(max_interactions)
        interactions = pd.DataFrame({c: recent[c].to_numpy() if c in recent.columns else [None] * len(recent)
                                     for c in INTERACTION_COLUMNS})
    else:
        next_fu, subject, last_contact, complaints = None, "", None, 0
        interactions = pd.DataFrame({c: pd.Series(dtype=object) for c in INTERACTION_COLUMNS})

    return Card(customer_id=cid, as_of=as_of, customer=customer, balance=balance, aging=ag, tier=tier,
                credit=credit,
                monthly=monthly_series(ledger.invoices, ledger.receipts, as_of.to_period("M"), as_of, months,
                                       customer_id=cid),
                documents=docs.head(max_documents)[DOCUMENT_COLUMNS], documents_total=total_docs,
                interactions=interactions, next_follow_up=next_fu, follow_up_subject=subject,
                last_contact=last_contact, open_complaints=complaints,
                buckets=bucket_labels(buckets or ledger.settings.aging_buckets))
