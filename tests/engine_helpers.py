"""Small builders of clean ledger frames (core/model.py contract) for the engine tests.

Amounts are given in yuan as text or int and stored as int64 cents; dates as "YYYY-MM-DD".
"""

from __future__ import annotations

import pandas as pd

from custledger.core.model import CUSTOMER_COLUMNS, INVOICE_COLUMNS, RECEIPT_COLUMNS
from custledger.core.money import to_cents

D = pd.Timestamp


def _frame(rows: list[dict], columns: list[str], defaults: dict) -> pd.DataFrame:
    records = [{**defaults, **r} for r in rows]
    frame = pd.DataFrame(records, columns=columns) if records else pd.DataFrame(columns=columns)
    for c in ("date", "due_date", "birthday", "contract_end", "created", "updated"):
        if c in frame.columns:
            frame[c] = pd.to_datetime(frame[c]).astype("datetime64[ns]")
    if "amount" in frame.columns:
        frame["amount"] = pd.Series([to_cents(a) for a in frame["amount"]], dtype="int64")
    frame["_row"] = range(2, len(frame) + 2)
    return frame


def invoices(*rows: dict, terms: int = 30) -> pd.DataFrame:
    """Invoices rows: doc_no, date, customer_id, amount; kind/due_date/ref_doc optional."""
    out = []
    for r in rows:
        r = dict(r)
        r.setdefault("kind", "invoice")
        r.setdefault("customer_id", "C1")
        r.setdefault("ref_doc", "")
        if not r.get("due_date"):
            r["due_date"] = (D(r["date"]) + pd.Timedelta(days=terms)).strftime("%Y-%m-%d")
        out.append(r)
    return _frame(out, INVOICE_COLUMNS, {"product": "", "notes": "", "contract_no": ""})


def inv(doc_no: str, date: str, amount, customer_id: str = "C1", **kw) -> dict:
    return {"doc_no": doc_no, "date": date, "amount": amount, "customer_id": customer_id, **kw}


def cn(doc_no: str, date: str, amount, customer_id: str = "C1", ref_doc: str = "", **kw) -> dict:
    return {"doc_no": doc_no, "date": date, "amount": amount, "customer_id": customer_id,
            "kind": "credit_note", "ref_doc": ref_doc, **kw}


def receipts(*rows: dict) -> pd.DataFrame:
    out = []
    for r in rows:
        r = dict(r)
        r.setdefault("customer_id", "C1")
        out.append(r)
    return _frame(out, RECEIPT_COLUMNS,
                  {"payer": "", "method": "transfer", "memo": "", "applied_to": "", "bank_ref": ""})


def rc(receipt_no: str, date: str, amount, customer_id: str = "C1", **kw) -> dict:
    return {"receipt_no": receipt_no, "date": date, "amount": amount, "customer_id": customer_id, **kw}


def customers(*rows: dict) -> pd.DataFrame:
    out = []
    for r in rows:
        r = dict(r)
        r.setdefault("name", f"Name {r['customer_id']}")
        out.append(r)
    frame = _frame(out, CUSTOMER_COLUMNS, {"contact": "", "phone": "", "owner": "", "status": "active"})
    frame["credit_limit"] = pd.array(
        [None if v is None or v == "" or (isinstance(v, float) and pd.isna(v)) else to_cents(v)
         for v in frame["credit_limit"]], dtype="Int64")
    frame["payment_terms"] = pd.array([None] * len(frame), dtype="Int64")
    return frame


def cust(customer_id: str, credit_limit=None, **kw) -> dict:
    return {"customer_id": customer_id, "credit_limit": credit_limit, **kw}


def rows(alloc: pd.DataFrame) -> list[tuple]:
    """Allocations as (credit number, doc_no, amount in cents, rule) tuples, in order."""
    return list(zip(alloc["receipt_no"], alloc["doc_no"], alloc["amount"].tolist(), alloc["rule"]))
