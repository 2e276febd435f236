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
Confirmations                 customer exists; period a month (YYYY-MM, read by parse.py)
Payers                        customer exists (warning: the row is ignored by bank matching)
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
from .names import normalize_name
from .parse import LIST_SPLIT, split_list  # noqa: F401  (split_list: re-exported)
from .payers import resolve_payers
from .problems import PROBLEM_COLUMNS, frame_of, problem_columns, problem_rows, problems_frame  # noqa: F401  (PROBLEM_COLUMNS, problems_frame: re-exported)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Validation:
    """validate()'s result: the clean ledger (rows with errors left out) and every problem found."""

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
    """Problems of many rows at once (core/problems.problem_columns; one frame for all of them
    at the end), and per sheet the frame indexes of the rows with an error (left out of every
    computation)."""

    def __init__(self, lang: str):
        self.lang = lang
        self.frames: list[dict] = []   # core/problems.problem_columns of each add
        self.errors: dict[str, set] = {}
        self.blanks: dict[tuple, pd.Series] = {}   # (sheet key, field) -> _blank of the typed column

    def blank(self, ts: TypedSheet, key: str) -> pd.Series:
        """``_blank(ts.frame[key])``, computed once per typed column (several checks read it;
        validation never changes a typed frame: it works on copies)."""
        found = self.blanks.get((ts.key, key))
        if found is None:
            found = self.blanks[(ts.key, key)] = _blank(ts.frame[key])
        return found

    def add(self, ts: TypedSheet, mask: pd.Series | np.ndarray, field: str, code: str, severity: str,
            values=None, **params) -> None:
        if ts.name is None:
            return
        if isinstance(mask, np.ndarray):   # a numpy mask over the frame's rows (bool)
            if not mask.any():
                return  # found nothing: not even a Series is made
            mask = pd.Series(mask, index=ts.frame.index)
        if mask.dtype == bool or isinstance(mask.dtype, pd.BooleanDtype):
            if not mask.to_numpy(dtype=bool, na_value=False).any():
                return  # the usual case, a check that found nothing: no further pandas calls
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        idx = mask[mask].index
        # values and per-row params may be callables of the masked index (computed only then)
        values = values(idx) if callable(values) else values
        params = {k: (v(idx) if callable(v) else v) for k, v in params.items()}
        spec = sheet(ts.key)
        column = spec.field(field).label(self.lang) if field in spec.keys else field
        vals = (values if values is not None else ts.frame[field]) if field in spec.keys or values is not None else None
        shown = [_show(v) for v in vals.loc[idx]] if vals is not None else ""
        params = {k: [_show(x) for x in v.loc[idx]] if isinstance(v, pd.Series) else v for k, v in params.items()}
        rows = ts.frame.loc[idx, "_row"].astype("int64")
        letter = ts.letters.get(field, "A")
        self.frames.append(problem_columns(sheet=ts.name, row=rows.to_numpy(), column=column, value=shown, code=code,
                                           severity=severity, params=params, cell=[f"{letter}{r}" for r in rows],
                                           field=field, lang=self.lang))
        if severity == "error":
            self.errors.setdefault(ts.key, set()).update(idx.tolist())

    def frame(self) -> pd.DataFrame:
        if not self.frames:
            return problem_rows([], self.lang)
        return frame_of(self.frames)   # one frame for every check's problems


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


def _date_bounds(p: dict, as_of: pd.Timestamp) -> tuple[np.datetime64, np.datetime64]:
    """The plausible range of a date field: its x-plausible, else 1990-01-01 .. as_of + 5 years."""
    lo, hi = p.get("x-plausible", ["1990-01-01", "+5y"])
    high = as_of if hi == "as_of" else as_of + pd.DateOffset(years=5)
    return pd.Timestamp(lo).to_datetime64(), high.to_datetime64()


def _numbers(col: pd.Series) -> np.ndarray | None:
    """A numeric column as float64 with NaN where blank, for comparisons with a schema bound
    (NaN compares False, as <NA> counts as no problem); None for another dtype. Exact for every
    amount (cents below core/parse.MAX_CENTS < 2**53); a larger whole number rounds, but never
    across a bound of the schema (all far below 2**53)."""
    if isinstance(col.dtype, pd.Int64Dtype) or col.dtype in ("int64", "float64"):
        return col.to_numpy(dtype="float64", na_value=np.nan)
    return None


def _field_checks(c: _Collector, ts: TypedSheet, as_of: pd.Timestamp) -> None:
    spec = sheet(ts.key)
    f_df = ts.frame
    if f_df.empty:
        return  # no rows, nothing to find (an optional sheet the workbook does not have)
    # the text columns a required or maxLength check reads: as text in one call for all of them
    # (blank = _blank's rule; a length as str.len counts it)
    objects = {k for k, d in f_df.dtypes.items() if d == "object"}   # the columns of object dtype
    texts = [f.key for f in spec.fields if f.key in objects
             and ("maxLength" in f.spec or (f.required and f.key in ts.letters))]
    if texts:
        cells = pd.Series(np.concatenate([f_df[k].to_numpy() for k in texts]), dtype=object).fillna("").astype(str)
        shape = (len(texts), len(f_df))
        length = dict(zip(texts, cells.str.len().to_numpy().reshape(shape)))
        for k, empty in zip(texts, (cells.str.strip() == "").to_numpy(bool).reshape(shape)):
            c.blanks[(ts.key, k)] = pd.Series(empty, index=f_df.index, name=k)   # what _blank gives
    for f in spec.fields:
        p = f.spec
        if f.required and f.key in ts.letters:
            c.add(ts, c.blank(ts, f.key), f.key, "required", "error")
        if "maxLength" in p and f.key in objects:
            c.add(ts, length[f.key] > p["maxLength"], f.key, "too_long", "error", limit=p["maxLength"])
        numeric = f.kind in ("money", "int", "number", "price")
        if numeric and ("minimum" in p or "maximum" in p or "exclusiveMinimum" in p):
            col = f_df[f.key]
            scale = 100 if f.kind == "money" else 1
            x = _numbers(col)
            v = col if x is None else x   # another dtype: pandas compares it
            if "minimum" in p:
                c.add(ts, v < p["minimum"] * scale, f.key, "below_min", "error", limit=p["minimum"])
            if "maximum" in p:
                c.add(ts, v > p["maximum"] * scale, f.key, "above_max", "error", limit=p["maximum"])
            if "exclusiveMinimum" in p:
                c.add(ts, v <= p["exclusiveMinimum"] * scale, f.key, "not_positive", "error",
                      values=_money_text(col) if f.kind == "money" else None)
        if f.kind == "date":
            col = f_df[f.key]
            low, high = _date_bounds(p, as_of)
            if col.dtype == "datetime64[ns]":   # what load gives: compared in numpy (NaT compares False)
                day = col.to_numpy()
                c.add(ts, (day < low) | (day > high), f.key, "implausible_date", "warning")
            else:
                c.add(ts, (col < low) | (col > high), f.key, "implausible_date", "warning")


def _duplicates(c: _Collector, ts: TypedSheet, key: str) -> None:
    col = ts.frame[key]
    present = ~c.blank(ts, key)
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


# An 11-digit number 13x..19x (not 11x/12x/179x, which CN parsing may read as a carrier prefix):
# parse() keeps it whole as a national number, so is_valid_number is "matches the general
# pattern and one of the number types" of the CN metadata, checked here without parsing.
_PLAIN_MOBILE = r"1(?:[3-68-9]\d|7[0-8])\d{8}"
_PLAIN_MOBILE_RE = re.compile(_PLAIN_MOBILE)
# A fixed line as accountants type it, 0 + area code, a dash or not, then the local number
# ("0571-88886666", "02188886666"): parse() strips the national prefix 0 when what is left has
# one of the general lengths (the rule is checked below against the metadata, not assumed).
_PLAIN_FIXED_RE = re.compile(r"0[1-9]\d{1,2}-?\d{5,8}")
_TYPES = ("mobile", "fixed_line", "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager",
          "uan", "voicemail")  # the likely ones first


def _matches_one(text: str, desc) -> bool:
    """phonenumbers' _is_number_matching_desc for one national number: the type's lengths, and
    its pattern matching the whole number."""
    if desc is None or desc.national_number_pattern is None:
        return False
    if desc.possible_length and len(text) not in desc.possible_length:
        return False
    return re.fullmatch(desc.national_number_pattern, text) is not None


def _fixed_national(digits: str, md) -> str | None:
    """The national number phonenumbers.parse(digits, "CN") keeps for a plain 0-prefixed number
    (its _maybe_strip_national_prefix_carrier_code and length rule): the digits after a national
    prefix that captures no carrier code, when the whole is not itself a viable number and what is
    left has a general length that is not local-only. None when any of that does not hold: then
    phonenumbers itself decides."""
    m = re.match(md.national_prefix_for_parsing or "(?!)", digits)
    general = md.general_desc
    if m is None or m.end() == 0 or any(g is not None for g in m.groups()) or md.national_prefix_transform_rule:
        return None
    if re.fullmatch(general.national_number_pattern, digits) is not None:
        return None
    rest = digits[m.end():]
    if len(rest) not in general.possible_length or len(rest) in (general.possible_length_local_only or ()):
        return None
    return rest


def phones_valid(phones: pd.Series) -> pd.Series:
    """Per value: a valid phone number of China (phonenumbers, region CN), as ``_check_phone``;
    plain 11-digit mobile numbers and plain 0-prefixed fixed lines are checked with the CN
    metadata (the general pattern and one of the number types), others by phonenumbers one by
    one. Each distinct number once, in a plain loop: a few hundred regex matches cost less than
    the pandas calls around them, and parse() per fixed line cost its patterns' compiling."""
    from phonenumbers import PhoneMetadata

    s = phones.astype(str)
    md = None
    verdict = {}
    for t in pd.unique(s):
        plain = isinstance(t, str) and (_PLAIN_MOBILE_RE.fullmatch(t) or _PLAIN_FIXED_RE.fullmatch(t))
        if plain and md is None:
            md = PhoneMetadata.metadata_for_region("CN")
            assert md is not None  # phonenumbers ships CN's metadata
            types = [d for d in (getattr(md, k, None) for k in _TYPES) if d is not None]
            mobile_types = [d for d in types if not (d.possible_length and 11 not in d.possible_length)]
        national = None
        if plain and t[0] == "1":
            national, candidates = t, mobile_types   # no 11-digit number is of the others
        elif plain:
            national, candidates = _fixed_national(t.replace("-", ""), md), types
        if national is not None and md is not None:
            verdict[t] = _matches_one(national, md.general_desc) and any(_matches_one(national, d) for d in candidates)
        else:
            verdict[t] = _check_phone(t)
    return s.map(verdict)


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)


def _uscc_valid(codes: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """stdnum.cn.uscc.is_valid for codes that are 18 ASCII letters/digits (check digit computed
    for the whole column): (which codes are such, their verdict; False elsewhere). The others
    are checked one by one."""
    plain = codes.str.fullmatch(r"[0-9A-Z]{18}").to_numpy(bool, na_value=False)
    ok = np.zeros(len(codes), bool)
    if plain.any():
        raw = np.frombuffer("".join(codes.to_numpy(dtype=object)[plain]).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
        table = np.full(256, -1, dtype=np.int64)
        for i, ch in enumerate(_USCC_ALPHABET):
            table[ord(ch)] = i
        idx = table[raw]
        digits8 = (raw[:, :8] >= ord("0")) & (raw[:, :8] <= ord("9"))
        check = (31 - (idx[:, :17] * _USCC_WEIGHTS).sum(axis=1) % 31) % 31
        ok[plain] = digits8.all(axis=1) & (idx[:, 8:] >= 0).all(axis=1) & (idx[:, 17] == check)
    return plain, ok


def tax_ids_valid(tax: pd.Series, kinds: pd.Series) -> pd.Series:
    """Per row, ``_check_tax_id``: a valid unified social credit code, or for an individual a
    valid resident ID number; the check digits of plain codes computed column-wise."""
    known, out = _uscc_valid(tax.astype(str).str.strip().str.upper())
    # other characters, or an individual's ID number
    rest = ~known | (~out & (kinds.to_numpy(dtype=object) == "individual"))
    if rest.any():
        out[rest] = [_check_tax_id(x, k) for x, k in zip(tax[rest], kinds[rest])]
    return pd.Series(out, index=tax.index)


def _map_unique(s: pd.Series, fn) -> pd.Series:
    """``s.map(fn)`` with ``fn`` called once per distinct value (names repeat)."""
    u = s.unique()
    return s.map(dict(zip(u, map(fn, u))))


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
            has = ~c.blank(ts, f.key)
            if not has.any():
                continue
            if kind == "phone":   # column-wise (phones_valid); one by one only for unusual values
                ok = phones_valid(col[has]).reindex(df.index, fill_value=True)
                c.add(ts, has & ~ok.astype(bool), f.key, "phone_invalid", "warning")
            elif kind == "uscc":  # an individual may give a resident ID number instead
                types = df.loc[has, "type"] if "type" in df.columns else pd.Series("", index=col[has].index)
                valid = tax_ids_valid(col[has], types)
                c.add(ts, has & ~valid.reindex(df.index, fill_value=True), f.key, "uscc_invalid", "warning")
            else:
                c.add(ts, has & ~col.astype(str).str.match(EMAIL), f.key, "email_invalid", "warning")


def _customers(c: _Collector, ts: TypedSheet, as_of: pd.Timestamp, stale_days: int) -> None:
    df = ts.frame
    _duplicates(c, ts, "customer_id")
    _kind_checks(c, ts)
    # likely duplicates: a later row sharing a tax id, phone or normalized name with an earlier one
    lang = c.lang
    first_id = ~df["customer_id"].duplicated(keep="first").to_numpy()   # a repeated id is _duplicates' error
    for field, keyfn, what in (("tax_id", lambda s: s.str.upper().str.strip(), "dup_what_tax_id"),
                               ("phone", lambda s: s.str.replace(r"\D", "", regex=True), "dup_what_phone"),
                               ("name", lambda s: _map_unique(s, normalize_name), "dup_what_name")):
        key = keyfn(df[field].fillna("").astype(str))
        present = (key != "").to_numpy(bool)
        dup = key.duplicated(keep="first").to_numpy() & present & first_id
        if dup.any():
            first = df[present].assign(_k=key[present]).drop_duplicates("_k").set_index("_k")
            c.add(ts, dup, field, "dup_customer", "warning", other=key.map(first["_row"]),
                  other_id=key.map(first["customer_id"]), what=msg(what, lang))
    stamp = df["updated"].fillna(df["created"])
    age = (as_of - stamp).dt.days
    c.add(ts, (age > stale_days).to_numpy(), "updated" if "updated" in ts.letters else "created", "stale_profile",
          "warning", values=stamp, days=lambda idx: age.loc[idx].astype("Int64"))


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
    present = ~c.blank(ts, "customer_id")
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
    first = (~df["doc_no"].duplicated(keep="first") & ~is_credit).to_numpy(bool)   # a repeated number is an error row
    docs = df["doc_no"].to_numpy(dtype=object)[first]
    owner = dict(zip(docs, df["customer_id"].to_numpy(dtype=object)[first]))
    amt = dict(zip(docs, amount.array[first]))
    has_ref = is_credit & (refs.str.strip() != "")
    if has_ref.any():
        wrong = _foreign_tokens(refs, df["customer_id"], owner, has_ref)
        c.add(ts, wrong.notna(), "ref_doc", "credit_ref_missing", "warning", values=wrong)
        over, limit, ref_one = {}, {}, {}
        for i, text, cid, cents in zip(df.index[has_ref], refs[has_ref], df.loc[has_ref, "customer_id"], amount[has_ref]):
            good = [t for t in split_list(text) if owner.get(t) == cid]
            total = sum(int(amt[t]) for t in good if pd.notna(amt.get(t)))
            if good and pd.notna(cents) and abs(int(cents)) > total:
                over[i], limit[i], ref_one[i] = True, format_cents(total, thousands=False), ",".join(good)
        if over:
            c.add(ts, pd.Series(over, dtype=bool).reindex(df.index, fill_value=False), "amount", "credit_exceeds",
                  "warning", values=_money_text(amount.abs()), ref=pd.Series(ref_one).reindex(df.index),
                  limit=pd.Series(limit).reindex(df.index))
    return df


def _foreign_tokens(lists: pd.Series, customer: pd.Series, owner: dict, has: pd.Series) -> pd.Series:
    """Per row, the tokens of a ``,;、`` list that are not invoices of the row's customer
    (joined by ','), or NaN where every token is one. Vectorized: explode, map, regroup.
    ``has``: the rows whose list is not blank (the caller's blank test, already made)."""
    if not has.any():
        return pd.Series(np.nan, index=lists.index, dtype=object)
    toks = lists[has].astype(str).str.split(LIST_SPLIT.pattern, regex=True).explode()
    toks = toks[toks.notna() & (toks != "")]
    wrong = toks[toks.map(owner).to_numpy(dtype=object) != customer.loc[toks.index].to_numpy(dtype=object)]
    if wrong.empty:
        return pd.Series(np.nan, index=lists.index, dtype=object)
    return wrong.groupby(level=0).agg(lambda t: ",".join(dict.fromkeys(t))).reindex(lists.index)


def _resolve_payers(receipts: pd.DataFrame, customers: pd.DataFrame, need: pd.Series | None = None) -> pd.Series:
    """customer_id for receipts with a blank one: the one customer the payer names (core/payers.py).
    ``need``: the rows with a blank customer_id and a payer, when the caller knows them."""
    out = receipts["customer_id"].copy()
    if need is None:
        need = _blank(out) & ~_blank(receipts["payer"])
    if need.any():
        out.loc[need] = resolve_payers(receipts.loc[need, "payer"], customers)
    return out


def _receipts(c: _Collector, ts: TypedSheet, customers: pd.DataFrame, cust_ids: set,
              invoices: pd.DataFrame) -> pd.DataFrame:
    df = ts.frame.copy()
    _duplicates(c, ts, "receipt_no")
    _duplicates(c, ts, "bank_ref")
    given = ~c.blank(ts, "customer_id")
    c.add(ts, given & ~df["customer_id"].isin(cust_ids), "customer_id", "unknown_customer", "error")
    no_payer = c.blank(ts, "payer")
    c.add(ts, ~given & no_payer, "customer_id", "receipt_no_customer", "error")
    resolved = _resolve_payers(df, customers, ~given & ~no_payer)
    c.add(ts, ~given & ~no_payer & _blank(resolved), "payer", "payer_unmatched", "error")
    df["customer_id"] = resolved
    is_inv = invoices["kind"] != "credit_note"
    owner = dict(zip(invoices.loc[is_inv, "doc_no"], invoices.loc[is_inv, "customer_id"]))
    wrong = _foreign_tokens(df["applied_to"], df["customer_id"], owner, ~c.blank(ts, "applied_to"))
    c.add(ts, wrong.notna(), "applied_to", "applied_unknown", "warning", values=wrong)
    return df


def validate(loaded: LoadedBook) -> Validation:
    settings = loaded.settings
    lang = settings.language
    as_of = settings.as_of_ts()
    c = _Collector(lang)
    sheets = loaded.sheets
    reading = problem_rows(loaded.problems, lang)
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
    inv_clean = inv.drop(index=list(_error_index(c, "invoices")))   # final: the rules below find no invoice error
    rec = _receipts(c, sheets["receipts"], customers, cust_ids, inv_clean)
    it = sheets["interactions"]
    if len(it.frame):   # an empty sheet (or none) has nothing to find
        c.add(it, ~c.blank(it, "customer_id") & ~it.frame["customer_id"].isin(cust_ids), "customer_id",
              "unknown_customer", "error")
    cf = sheets.get("confirmations")
    if cf is not None and len(cf.frame):  # period format: parse.py (x-kind month); required fields: _field_checks
        c.add(cf, ~c.blank(cf, "customer_id") & ~cf.frame["customer_id"].isin(cust_ids), "customer_id",
              "unknown_customer", "error")
    _payers(c, sheets.get("payers"), all_ids)
    problems = c.frame()
    inv_clean = fill_due_dates(inv_clean, customers, settings.default_terms)
    ledger = Ledger(
        customers=customers.reset_index(drop=True),
        invoices=inv_clean.reset_index(drop=True),
        receipts=rec.drop(index=list(_error_index(c, "receipts"))).reset_index(drop=True),
        interactions=it.frame.drop(index=list(_error_index(c, "interactions"))).reset_index(drop=True),
        settings=settings,
        confirmations=cf.frame.drop(index=list(_error_index(c, "confirmations"))).reset_index(drop=True)
        if cf is not None else None,
    )
    allp = pd.concat([reading, problems], ignore_index=True) if len(reading) else problems
    # a value that could not be read is not also reported as missing
    if len(reading):
        unread = set(zip(reading["sheet"], reading["cell"]))
        at_unread = pd.Series(list(zip(allp["sheet"], allp["cell"])), index=allp.index, dtype=object).isin(unread)
        allp = allp[~(allp["code"].isin(["required", "amount_missing"]) & at_unread)]
    return Validation(ledger=ledger, problems=_in_order(allp, loaded.sheet_names), loaded=loaded)


def _in_order(problems: pd.DataFrame, sheet_names) -> pd.DataFrame:
    """Problems by sheet (the workbook's order; a sheet it does not have last), then row, then
    cell, each tie kept in the order found; of the problems with the same sheet, cell and code
    the first. One stable sort on integer keys (np.lexsort, what a multi-column sort_values
    does after factorizing each column)."""
    order = {name: i for i, name in enumerate(sheet_names)}
    sheet_at = np.array([order.get(s, 99) for s in problems["sheet"].tolist()])
    cells, _ = pd.factorize(problems["cell"], sort=True)
    cells = np.where(cells < 0, len(problems), cells)   # a missing cell last (sort_values' na_position)
    out = problems.take(np.lexsort((cells, problems["row"].to_numpy(), sheet_at)))
    out = out[~out.duplicated(["sheet", "cell", "code"]).to_numpy()].reset_index(drop=True)
    out["row"] = out["row"].astype("int64")
    return out


def _payers(c: _Collector, ts: TypedSheet | None, all_ids: set) -> None:
    """A Payers row naming no customer of Customers is a warning (bank matching ignores it:
    core/bank.py learns only rows of known customers); a blank one is the required check's."""
    if ts is not None and len(ts.frame):
        cid = ts.frame["customer_id"]
        c.add(ts, ~c.blank(ts, "customer_id") & ~cid.isin(all_ids), "customer_id", "payer_unknown_customer", "warning")


def _adopt_reading_errors(c: _Collector, reading: pd.DataFrame, sheets: dict) -> None:
    """Rows whose values could not be read count as rows with errors (not re-reported)."""
    if reading.empty:
        return
    for ts in sheets.values():
        if ts.name is None:
            continue
        rows = set(reading.loc[(reading["sheet"] == ts.name) & (reading["severity"] == "error"), "row"])
        idx = ts.frame.index[ts.frame["_row"].isin(rows)]
        if len(idx):
            c.errors.setdefault(ts.key, set()).update(idx.tolist())


def _error_index(c: _Collector, key: str) -> set:
    """Frame indexes of rows of ``key`` with an error (reading problems included)."""
    return c.errors.get(key, set())


def fill_due_dates(inv: pd.DataFrame, customers: pd.DataFrame, default_terms: int) -> pd.DataFrame:
    terms = inv["customer_id"].map(dict(zip(customers["customer_id"], customers["payment_terms"])))
    terms = pd.to_numeric(terms, errors="coerce").fillna(default_terms).astype("int64")
    due = inv["date"] + pd.to_timedelta(terms, unit="D")
    return inv.assign(due_date=inv["due_date"].fillna(due))
