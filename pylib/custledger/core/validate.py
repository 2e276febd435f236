"""Entry validation: each row against the schema, then the cross-row rules.

Problems are records (sheet, row, column, value, problem, severity), never exceptions. A row with
an error is left out of every computation (DESIGN.md, As of); warnings only inform. Checks:

per field (from the schema)   required, maxLength, minimum/maximum/exclusiveMinimum, enums and
                              types (parse.py), implausible dates (warning: before 1990 or more
                              than 5 years after as_of; a field may set its own x-plausible range,
                              e.g. birthdays 1900 .. as_of)
Customers                     unique customer_id (later repeats are errors), phone numbers
                              (phonenumbers, region CN), unified social credit code (check digit,
                              python-stdnum; an individual may give a resident ID number),
                              email, likely duplicates (same tax id, phone or normalized name) and
                              stale profiles (updated — else created — older than
                              stale_profile_days before as_of) as warnings
Invoices                      unique doc_no, customer exists, amount given or quantity × unit
                              price, all three agree within 0.01, amount > 0 (a credit note may
                              be negative: its credit is the absolute value), due date not before
                              the date; a credit note's ref_doc names an invoice of the same
                              customer and does not exceed it (warnings: the credit still counts)
Receipts                      unique receipt_no and bank_ref, amount > 0, customer exists, or is
                              found from the payer by exact name, alias or normalized name
                              (exactly one customer), applied_to names invoices of that customer
                              (warning)
Interactions                  customer exists, satisfaction 1–5
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from ..schema import msg, sheet
from .load import LoadedBook, TypedSheet
from .model import Ledger
from .money import format_cents
from .names import name_key, normalize_name
from .parse import LIST_SPLIT, split_aliases, split_list  # noqa: F401  (split_list: re-exported)

PROBLEM_COLUMNS = ["sheet", "row", "column", "value", "problem", "severity", "cell", "field", "code"]
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Validation:
    ledger: Ledger               # clean, typed; rows with errors left out
    problems: pd.DataFrame       # PROBLEM_COLUMNS, sorted by sheet then row
    loaded: LoadedBook

    @property
    def errors(self) -> int:
        return int((self.problems["severity"] == "error").sum())

    @property
    def warnings(self) -> int:
        return int((self.problems["severity"] == "warning").sum())


class _Collector:
    """Builds problem records for many rows at once."""

    def __init__(self, lang: str):
        self.lang = lang
        self.frames: list[pd.DataFrame] = []

    def add(self, ts: TypedSheet, mask: pd.Series, field: str, code: str, severity: str,
            values=None, **params) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any() or ts.name is None:
            return
        idx = mask[mask].index
        # values and per-row params may be callables of the masked index (computed only then)
        values = values(idx) if callable(values) else values
        params = {k: (v(idx) if callable(v) else v) for k, v in params.items()}
        spec = sheet(ts.key)
        column = spec.field(field).label(self.lang) if field in spec.keys else field
        vals = (values if values is not None else ts.frame[field]) if field in spec.keys or values is not None else None
        vals = [_show(v) for v in vals.loc[idx]] if vals is not None else [""] * len(idx)
        per_row = {k: v.loc[idx].tolist() for k, v in params.items() if isinstance(v, pd.Series)}
        fixed = {k: v for k, v in params.items() if not isinstance(v, pd.Series)}
        texts = []
        for i, v in enumerate(vals):
            kw = {**fixed, **{k: _show(lst[i]) for k, lst in per_row.items()}}
            texts.append(msg(code, self.lang, column=column, value=v, **kw))
        rows = ts.frame.loc[idx, "_row"].astype("int64")
        letter = ts.letters.get(field, "A")
        self.frames.append(pd.DataFrame({
            "sheet": ts.name, "row": rows.to_numpy(), "column": column, "value": vals, "problem": texts,
            "severity": severity, "cell": [f"{letter}{r}" for r in rows], "field": field, "code": code,
            "_key": ts.key, "_idx": idx.to_numpy()}))

    def frame(self) -> pd.DataFrame:
        if not self.frames:
            return pd.DataFrame(columns=PROBLEM_COLUMNS + ["_key", "_idx"])
        return pd.concat(self.frames, ignore_index=True)


def _show(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _money_text(cents: pd.Series):
    """Lazy display text of cents for the rows a problem concerns."""
    def text(idx):
        return cents.loc[idx].map(lambda c: format_cents(c, thousands=False))
    return text


def _blank(s: pd.Series) -> pd.Series:
    if s.dtype == object or str(s.dtype) in ("str", "string"):
        return s.fillna("").astype(str).str.strip() == ""
    return s.isna()


def _field_checks(c: _Collector, ts: TypedSheet, as_of: pd.Timestamp) -> None:
    spec = sheet(ts.key)
    f_df = ts.frame
    for f in spec.fields:
        col = f_df[f.key]
        p = f.spec
        if f.required and f.key in ts.letters:
            c.add(ts, _blank(col), f.key, "required", "error")
        if "maxLength" in p and col.dtype == object:
            c.add(ts, col.astype(str).str.len() > p["maxLength"], f.key, "too_long", "error", limit=p["maxLength"])
        numeric = f.kind in ("money", "int", "number", "price")
        if numeric:
            scale = 100 if f.kind == "money" else 1
            if "minimum" in p:
                c.add(ts, col < p["minimum"] * scale, f.key, "below_min", "error", limit=p["minimum"])
            if "maximum" in p:
                c.add(ts, col > p["maximum"] * scale, f.key, "above_max", "error", limit=p["maximum"])
            if "exclusiveMinimum" in p:
                c.add(ts, col <= p["exclusiveMinimum"] * scale, f.key, "not_positive", "error",
                      values=_money_text(col) if f.kind == "money" else None)
        if f.kind == "date":
            lo, hi = p.get("x-plausible", ["1990-01-01", "+5y"])
            low = pd.Timestamp(lo)
            high = as_of if hi == "as_of" else as_of + pd.DateOffset(years=5)
            c.add(ts, (col < low) | (col > high), f.key, "implausible_date", "warning")


def _duplicates(c: _Collector, ts: TypedSheet, key: str) -> None:
    col = ts.frame[key]
    present = ~_blank(col)
    dup = col.duplicated(keep="first") & present
    if dup.any():
        first_row = ts.frame[present].drop_duplicates(key).set_index(key)["_row"]
        other = col.map(first_row)
        c.add(ts, dup, key, "duplicate_key", "error", other=other)


def _check_phone(text: str) -> bool:
    import phonenumbers

    try:
        num = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(num)


def _check_tax_id(text: str, kind: str) -> bool:
    from stdnum.cn import ric, uscc

    t = text.strip().upper()
    if uscc.is_valid(t):
        return True
    return kind == "individual" and ric.is_valid(t)


def _kind_checks(c: _Collector, ts: TypedSheet) -> None:
    """Format checks keyed by the schema's x-kind (phone, uscc, email), on whichever field of the
    sheet has that kind: a renamed or added field keeps its check. Warnings: the row still counts."""
    df = ts.frame
    fields = [f for f in sheet(ts.key).fields if f.key in df.columns]
    for kind in ("phone", "uscc", "email"):  # this order: the order the problems are listed in
        for f in (f for f in fields if f.kind == kind):
            col = df[f.key]
            has = ~_blank(col)
            if not has.any():
                continue
            if kind == "phone":
                ok = {u: _check_phone(u) for u in col[has].unique()}
                c.add(ts, has & ~col.map(ok).fillna(True).astype(bool), f.key, "phone_invalid", "warning")
            elif kind == "uscc":  # an individual may give a resident ID number instead
                types = df.loc[has, "type"] if "type" in df.columns else [""] * int(has.sum())
                valid = pd.Series([_check_tax_id(t, k) for t, k in zip(col[has], types)], index=col[has].index)
                c.add(ts, has & ~valid.reindex(df.index, fill_value=True), f.key, "uscc_invalid", "warning")
            else:
                c.add(ts, has & ~col.astype(str).str.match(EMAIL), f.key, "email_invalid", "warning")


def _customers(c: _Collector, ts: TypedSheet, as_of: pd.Timestamp, stale_days: int) -> None:
    df = ts.frame
    _duplicates(c, ts, "customer_id")
    _kind_checks(c, ts)
    # likely duplicates: a later row sharing a tax id, phone or normalized name with an earlier one
    lang = c.lang
    for field, keyfn, what in (("tax_id", lambda s: s.str.upper().str.strip(), "dup_what_tax_id"),
                               ("phone", lambda s: s.str.replace(r"\D", "", regex=True), "dup_what_phone"),
                               ("name", lambda s: s.map(normalize_name), "dup_what_name")):
        key = keyfn(df[field].fillna("").astype(str))
        present = key != ""
        dup = key.duplicated(keep="first") & present & ~df["customer_id"].duplicated(keep="first")
        if dup.any():
            first = df[present].assign(_k=key[present]).drop_duplicates("_k").set_index("_k")
            c.add(ts, dup, field, "dup_customer", "warning", other=key.map(first["_row"]),
                  other_id=key.map(first["customer_id"]), what=msg(what, lang))
    stamp = df["updated"].fillna(df["created"])
    age = (as_of - stamp).dt.days
    c.add(ts, age > stale_days, "updated" if "updated" in ts.letters else "created", "stale_profile", "warning",
          values=stamp, days=age.astype("Int64"))


def _fill_invoice_amounts(df: pd.DataFrame) -> pd.Series:
    """Amount from quantity × unit price where the amount is blank (half-up on the exact product)."""
    amount = df["amount"].copy()
    need = amount.isna() & df["quantity"].notna() & df["unit_price"].notna()
    if need.any():
        def one(q, p):
            d = Decimal(repr(float(q))) * Decimal(repr(float(p)))
            return int(d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)
        amount.loc[need] = [one(q, p) for q, p in zip(df.loc[need, "quantity"], df.loc[need, "unit_price"])]
    return amount


def _invoices(c: _Collector, ts: TypedSheet, cust_ids: set, all_ids: set) -> pd.DataFrame:
    df = ts.frame.copy()
    _duplicates(c, ts, "doc_no")
    cid = df["customer_id"]
    present = ~_blank(cid)
    c.add(ts, present & ~cid.isin(cust_ids), "customer_id", "unknown_customer", "error")
    amount = _fill_invoice_amounts(df)
    c.add(ts, amount.isna() & df["amount"].isna(), "amount", "amount_missing", "error", values=df["amount"])
    both = df["amount"].notna() & df["quantity"].notna() & df["unit_price"].notna()
    product = df["quantity"].astype("float64") * df["unit_price"].astype("float64")
    diff = (product - df["amount"].astype("float64") / 100).abs()
    c.add(ts, both & (diff > 0.01 + 1e-9), "amount", "amount_mismatch", "error",
          values=_money_text(df["amount"]), expected=lambda idx: product.loc[idx].map("{:.2f}".format))
    is_credit = df["kind"] == "credit_note"
    c.add(ts, ~is_credit & amount.notna() & (amount <= 0), "amount", "not_positive", "error",
          values=_money_text(amount))
    c.add(ts, is_credit & (amount == 0), "amount", "not_positive", "error", values=_money_text(amount))
    df["amount"] = amount.abs()
    c.add(ts, df["due_date"].notna() & df["date"].notna() & (df["due_date"] < df["date"]), "due_date",
          "due_before_date", "error", date=df["date"])
    # a credit note's ref_doc: invoices of the same customer; credit not above the invoice
    refs = df["ref_doc"].fillna("").astype(str)
    first = ~df["doc_no"].duplicated(keep="first") & ~is_credit   # a repeated number is an error row
    owner = dict(zip(df.loc[first, "doc_no"], df.loc[first, "customer_id"]))
    amt = dict(zip(df.loc[first, "doc_no"], amount[first]))
    has_ref = is_credit & (refs.str.strip() != "")
    if has_ref.any():
        wrong = _foreign_tokens(refs.where(has_ref, ""), df["customer_id"], owner)
        c.add(ts, wrong.notna(), "ref_doc", "credit_ref_missing", "warning", values=wrong)
        over, limit, ref_one = {}, {}, {}
        for i, text, cid, cents in zip(df.index[has_ref], refs[has_ref], df.loc[has_ref, "customer_id"], amount[has_ref]):
            good = [t for t in split_list(text) if owner.get(t) == cid]
            total = sum(int(amt[t]) for t in good if pd.notna(amt.get(t)))
            if good and pd.notna(cents) and abs(int(cents)) > total:
                over[i], limit[i], ref_one[i] = True, format_cents(total, thousands=False), ",".join(good)
        c.add(ts, pd.Series(over, dtype=bool).reindex(df.index, fill_value=False), "amount", "credit_exceeds",
              "warning", values=_money_text(amount.abs()), ref=pd.Series(ref_one).reindex(df.index),
              limit=pd.Series(limit).reindex(df.index))
    return df


def _foreign_tokens(lists: pd.Series, customer: pd.Series, owner: dict) -> pd.Series:
    """Per row, the tokens of a ``,;、`` list that are not invoices of the row's customer
    (joined by ','), or NaN where every token is one. Vectorized: explode, map, regroup."""
    has = lists.fillna("").astype(str).str.strip() != ""
    if not has.any():
        return pd.Series(np.nan, index=lists.index, dtype=object)
    toks = lists[has].astype(str).str.split(LIST_SPLIT.pattern, regex=True).explode()
    toks = toks[toks.notna() & (toks != "")]
    wrong = toks[toks.map(owner).to_numpy(dtype=object) != customer.loc[toks.index].to_numpy(dtype=object)]
    return wrong.groupby(level=0).agg(lambda t: ",".join(dict.fromkeys(t))).reindex(lists.index)


def _resolve_payers(receipts: pd.DataFrame, customers: pd.DataFrame) -> pd.Series:
    """customer_id for receipts with a blank one: the single customer whose name or alias equals
    the payer exactly, else whose normalized name equals the payer's normalized name."""
    out = receipts["customer_id"].copy()
    need = _blank(out) & ~_blank(receipts["payer"])
    if not need.any() or customers.empty:
        return out
    exact, normal = {}, {}
    for cid, name, aliases in zip(customers["customer_id"], customers["name"], customers["aliases"].fillna("")):
        for n in [name, *split_aliases(aliases)]:
            exact.setdefault(name_key(n), set()).add(cid)
            normal.setdefault(normalize_name(n), set()).add(cid)
    def pick(payer):
        for table, key in ((exact, name_key(payer)), (normal, normalize_name(payer))):
            ids = table.get(key)
            if ids:
                return next(iter(ids)) if len(ids) == 1 else None
        return None
    found = receipts.loc[need, "payer"].map(pick)
    out.loc[need] = found.fillna("")
    return out


def _receipts(c: _Collector, ts: TypedSheet, customers: pd.DataFrame, cust_ids: set,
              invoices: pd.DataFrame) -> pd.DataFrame:
    df = ts.frame.copy()
    _duplicates(c, ts, "receipt_no")
    _duplicates(c, ts, "bank_ref")
    given = ~_blank(df["customer_id"])
    c.add(ts, given & ~df["customer_id"].isin(cust_ids), "customer_id", "unknown_customer", "error")
    no_payer = _blank(df["payer"])
    c.add(ts, ~given & no_payer, "customer_id", "receipt_no_customer", "error")
    resolved = _resolve_payers(df, customers)
    c.add(ts, ~given & ~no_payer & _blank(resolved), "payer", "payer_unmatched", "error")
    df["customer_id"] = resolved
    is_inv = invoices["kind"] != "credit_note"
    owner = dict(zip(invoices.loc[is_inv, "doc_no"], invoices.loc[is_inv, "customer_id"]))
    wrong = _foreign_tokens(df["applied_to"], df["customer_id"], owner)
    c.add(ts, wrong.notna(), "applied_to", "applied_unknown", "warning", values=wrong)
    return df


def validate(loaded: LoadedBook) -> Validation:
    settings = loaded.settings
    lang = settings.language
    as_of = settings.as_of_ts()
    c = _Collector(lang)
    sheets = loaded.sheets
    reading = pd.DataFrame(loaded.problems, columns=PROBLEM_COLUMNS)
    _adopt_reading_errors(c, reading, sheets)
    for ts in sheets.values():
        _field_checks(c, ts, as_of)
    cust_ts = sheets["customers"]
    _customers(c, cust_ts, as_of, settings.stale_profile_days)
    cust_err = _error_index(c, "customers")
    customers = cust_ts.frame.drop(index=list(cust_err))
    cust_ids = set(customers["customer_id"])
    all_ids = set(cust_ts.frame["customer_id"])
    inv = _invoices(c, sheets["invoices"], cust_ids, all_ids)
    inv_clean = inv.drop(index=list(_error_index(c, "invoices")))
    rec = _receipts(c, sheets["receipts"], customers, cust_ids, inv_clean)
    it = sheets["interactions"]
    c.add(it, ~_blank(it.frame["customer_id"]) & ~it.frame["customer_id"].isin(cust_ids), "customer_id",
          "unknown_customer", "error")
    problems = c.frame()
    inv_clean = inv.drop(index=list(_error_index(c, "invoices")))
    inv_clean = _fill_due_dates(inv_clean, customers, settings.default_terms)
    ledger = Ledger(
        customers=customers.reset_index(drop=True),
        invoices=inv_clean.reset_index(drop=True),
        receipts=rec.drop(index=list(_error_index(c, "receipts"))).reset_index(drop=True),
        interactions=it.frame.drop(index=list(_error_index(c, "interactions"))).reset_index(drop=True),
        settings=settings,
    )
    problems = problems[problems["code"] != "_reading"]
    allp = pd.concat([reading, problems[PROBLEM_COLUMNS]], ignore_index=True) if len(reading) else problems[PROBLEM_COLUMNS]
    # a value that could not be read is not also reported as missing
    unread = set(zip(reading["sheet"], reading["cell"]))
    at_unread = pd.Series(list(zip(allp["sheet"], allp["cell"])), index=allp.index, dtype=object).isin(unread)
    allp = allp[~(allp["code"].isin(["required", "amount_missing"]) & at_unread)]
    order = {name: i for i, name in enumerate(loaded.sheet_names)}
    allp = allp.assign(_o=allp["sheet"].map(order).fillna(99)).sort_values(["_o", "row", "cell"], kind="stable")
    allp = allp.drop(columns="_o").drop_duplicates(["sheet", "cell", "code"]).reset_index(drop=True)
    allp["row"] = allp["row"].astype("int64")
    return Validation(ledger=ledger, problems=allp, loaded=loaded)


def _adopt_reading_errors(c: _Collector, reading: pd.DataFrame, sheets: dict) -> None:
    """Rows whose values could not be read count as rows with errors (tagged, not re-reported)."""
    for ts in sheets.values():
        if ts.name is None:
            continue
        rows = set(reading.loc[(reading["sheet"] == ts.name) & (reading["severity"] == "error"), "row"])
        idx = ts.frame.index[ts.frame["_row"].isin(rows)]
        if len(idx):
            c.frames.append(pd.DataFrame({"severity": "error", "_key": ts.key, "_idx": idx.to_numpy(),
                                          **{k: "" for k in PROBLEM_COLUMNS if k != "severity"}}))
            c.frames[-1]["_key"] = ts.key
            c.frames[-1]["code"] = "_reading"


def _error_index(c: _Collector, key: str) -> set:
    """Frame indexes of rows of ``key`` with an error (reading problems included)."""
    out = set()
    for f in c.frames:
        if len(f) and f["_key"].iat[0] == key:
            out.update(f.loc[f["severity"] == "error", "_idx"].tolist())
    return out


def _fill_due_dates(inv: pd.DataFrame, customers: pd.DataFrame, default_terms: int) -> pd.DataFrame:
    terms = inv["customer_id"].map(dict(zip(customers["customer_id"], customers["payment_terms"])))
    terms = pd.to_numeric(terms, errors="coerce").fillna(default_terms).astype("int64")
    due = inv["date"] + pd.to_timedelta(terms, unit="D")
    return inv.assign(due_date=inv["due_date"].fillna(due))
