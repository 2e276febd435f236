"""The data model the core works on: typed frames and settings.

Every core function takes and returns pandas DataFrames whose columns are the *canonical keys*
of the schema (English snake_case), never labels. Conventions, which every module relies on:

* money columns (``amount``, ``credit_limit``, ``unit_price`` excluded) are ``int64`` integer
  cents; credit notes carry their credit as a positive amount (``kind == "credit_note"``);
* date columns are ``datetime64[ns]`` normalised to midnight (NaT when blank);
* identifiers (customer_id, doc_no, receipt_no, bank_ref) are Python ``str`` (object dtype),
  trimmed; a number typed as digits is "1001", never "1001.0"; blank identifiers are "";
* enum columns hold the canonical key (``invoice``/``credit_note``, ``transfer``/``cash``/…);
* ``_row`` is the 1-based worksheet row the record came from (for Problems and highlights);
  generated frames do not have it.

The frames of a ledger, after reading and validation (rows with errors already left out):

customers     customer_id, name, aliases, type, industry, region, size, contact, title, phone,
              email, address, tax_id, bank_account, credit_limit (Int64 cents, <NA> = none),
              payment_terms (Int64 days, <NA> = Settings default), owner, birthday,
              contract_end, status, created, updated, notes, _row
invoices      doc_no, date, customer_id, kind, product, quantity (float), unit_price (float),
              amount (int64 cents, > 0), due_date (filled: date + terms), ref_doc, contract_no,
              notes, _row
receipts      receipt_no, date, customer_id, payer, amount (int64 cents, > 0), method, memo,
              applied_to, bank_ref, _row
interactions  date, customer_id, kind, summary, satisfaction (Int64), next_date, owner,
              status, _row
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import pandas as pd

CUSTOMER_COLUMNS = [
    "customer_id", "name", "aliases", "type", "industry", "region", "size", "contact", "title",
    "phone", "email", "address", "tax_id", "bank_account", "credit_limit", "payment_terms",
    "owner", "birthday", "contract_end", "status", "created", "updated", "notes",
]
INVOICE_COLUMNS = [
    "doc_no", "date", "customer_id", "kind", "product", "quantity", "unit_price", "amount",
    "due_date", "ref_doc", "contract_no", "notes",
]
RECEIPT_COLUMNS = [
    "receipt_no", "date", "customer_id", "payer", "amount", "method", "memo", "applied_to",
    "bank_ref",
]
INTERACTION_COLUMNS = [
    "date", "customer_id", "kind", "summary", "satisfaction", "next_date", "owner", "status",
]


def _default(key: str):
    """A setting's default: the schema's text converted as a typed-in value would be."""
    from .settings import schema_default  # core/settings.py reads settings.json; it imports no model

    return schema_default(key)


@dataclass(frozen=True)
class Settings:
    """Typed values of the Settings 参数 sheet. Every default is schema/settings.json's (the one
    home of the defaults), read through the same conversion as a value typed in the sheet."""

    language: str = _default("language")
    company_name: str = _default("company_name")
    currency: str = _default("currency")
    as_of: dt.date | None = _default("as_of")
    default_terms: int = _default("default_terms")
    aging_basis: str = _default("aging_basis")  # due_date | invoice_date
    aging_buckets: tuple[int, ...] = _default("aging_buckets")
    dunning_levels: tuple[int, ...] = _default("dunning_levels")
    abc_split: tuple[float, float] = _default("abc_split")
    tier_window_months: int = _default("tier_window_months")
    auto_fifo: bool = _default("auto_fifo")
    match_threshold: int = _default("match_threshold")
    remind_due_days: int = _default("remind_due_days")
    remind_contract_days: int = _default("remind_contract_days")
    remind_birthday_days: int = _default("remind_birthday_days")
    remind_no_contact_days: int = _default("remind_no_contact_days")
    stale_profile_days: int = _default("stale_profile_days")
    mask_exports: bool = _default("mask_exports")
    backup_keep: int = _default("backup_keep")
    payment_instructions: str = _default("payment_instructions")
    write_off_tolerance: int = _default("write_off_tolerance")   # int cents; 0 = no write-off (尾差)
    send_pause_seconds: int = _default("send_pause_seconds")
    owner_emails: str = _default("owner_emails")
    extra: dict = field(default_factory=dict)

    def with_as_of(self, as_of: dt.date | None) -> Settings:
        return replace(self, as_of=as_of) if as_of is not None else self

    def as_of_date(self) -> dt.date:
        return self.as_of or dt.date.today()

    def as_of_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.as_of_date())


def empty_frame(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


@dataclass(frozen=True)
class Ledger:
    """The clean, typed ledger the rules run on (see the module docstring for columns)."""

    customers: pd.DataFrame
    invoices: pd.DataFrame
    receipts: pd.DataFrame
    interactions: pd.DataFrame
    settings: Settings
    confirmations: pd.DataFrame | None = None   # customer_id, period (YYYY-MM), status, amount, date, note

    def replace(self, **changes) -> Ledger:
        return replace(self, **changes)
