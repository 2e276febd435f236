"""Invoices from the tax platform's export (数电票 / 增值税发票) → rows for Invoices 销售单据.

The rules are those of DESIGN.md "Getting data in: invoices from the tax platform", one right
answer each, over the export's rows as text (io/invoicefile.py reads the file):

Rows
    A row with no value at all, and a row with no invoice number whose text says 合计 / 总计 /
    小计 / 共N条 or that has no date (a footer or a note line), is not an invoice and is not
    listed. Every other row is listed in the Invoice Import 发票导入 sheet with one status.
Readable
    开票日期 must be a date and 价税合计 an amount of money (core/parse, core/money: integer
    cents) on every listed row; otherwise the import cannot run (``unreadable`` names the first
    row and column; the caller appends nothing).
doc_no
    数电票号码, else 发票代码 + 发票号码 (the older 增值税发票 exports), as text.
date, amount
    date = 开票日期 (the day); amount = 价税合计 (tax included).
Red invoices (红字)
    是否正数发票 = 否 (N / no / false) or a negative 价税合计: a credit note (kind credit_note)
    for the absolute amount; ref_doc = the blue invoice named in 备注 (被红冲蓝字数电票号码：N,
    or 对应正数发票代码:C号码:N → C + N), blank when none is named (a general credit).
Status, the first that applies:
    ``error``     no invoice number; the buyer's tax id fails its check digit (18 characters:
                  a unified social credit code, or for a person a resident ID number, checked
                  with python-stdnum; older 15/17/20-character numbers have no check digit and
                  are compared as written); a total of 0;
    ``void``      发票状态 says 作废 (a void invoice already in Invoices is said so in the note);
    ``duplicate`` its doc_no is already in Invoices (any row, even one with errors), or an
                  earlier row of the same file has it: importing the same file twice adds
                  nothing;
    ``unmatched`` no single customer: the buyer's tax id equals the tax_id of exactly one
                  customer, else the buyer's name equals exactly one customer's name or one of
                  its ``;``-separated aliases (exact: NFKC, case and spaces ignored);
    ``imported``  everything else — a blue invoice marked 已红冲 / 部分红冲 included (imported as
                  issued: its red invoice credits it).
Appended invoices
    doc_no, date, customer_id, kind, amount (int64 cents > 0), ref_doc, notes (where it came
    from); due_date is left blank so that the customer's terms apply as for any typed row.

Pure: frames in, frames out; texts from schema/messages.json in the workbook's language.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..schema import msg
from .names import name_key
from .optional_arrow import arrow
from .parse import parse_date, parse_money
from .problems import Problem

FIELDS = ("einvoice_no", "invoice_code", "invoice_no", "date", "buyer_tax_id", "buyer_name", "net", "tax",
          "total", "status", "positive", "remark")
IMPORT_COLUMNS = ["doc_no", "date", "buyer", "tax_id", "amount", "customer_id", "status", "note"]
NEW_COLUMNS = ["doc_no", "date", "customer_id", "kind", "amount", "ref_doc", "notes"]
STATUSES = ("imported", "duplicate", "unmatched", "void", "error")

_FOOTER = re.compile(r"合计|总计|小计|共\s*\d+\s*[条张笔行]|total", re.IGNORECASE)
_NEGATIVE_WORDS = {"否", "n", "no", "false", "负数", "红字", "0"}
_REF_DIGITAL = re.compile(r"被红冲(?:的)?蓝字(?:数电票|数电发票|全电发票|发票)?号码\s*[:：]?\s*([0-9A-Za-z]+)")
_REF_PAPER = re.compile(r"对应正数发票代码\s*[:：]?\s*(\d+)\s*[,，;；\s]*号码\s*[:：]?\s*(\d+)")


@dataclass(frozen=True)
class InvoiceImport:
    """The outcome of mapping one export.

    report      IMPORT_COLUMNS, one row per listed row of the export, in file order (amount =
                价税合计 as in the file, int cents, negative for most red invoices);
    invoices    NEW_COLUMNS, the rows to append to Invoices (status imported), in file order;
    unreadable  {row, field, value, what} of the first value that is not a date / an amount,
                or None (then the import can run);
    records     Problem records (core/problems.py; sheet = the file) for rows in error;
    lang        the workbook's language;
    problems    (property) the records as rows of the Problems frame (dicts, text in ``lang``),
                made when asked: the import step words the records itself (ops.validate.add_problems).
    """

    report: pd.DataFrame
    invoices: pd.DataFrame
    unreadable: dict | None = None
    records: list[Problem] = field(default_factory=list)
    lang: str = "zh"

    @property
    def problems(self) -> list[dict]:
        return [p.as_row(self.lang) for p in self.records]

    def counts(self) -> dict:
        c = self.report["status"].value_counts()
        out = {s: int(c.get(s, 0)) for s in STATUSES}
        out["credit_notes"] = int((self.invoices["kind"] == "credit_note").sum())
        out["rows"] = len(self.report)
        return out


def _distinct(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values) of a column of text: rules per distinct value, then ``[codes]``."""
    codes, uniq = pd.factorize(s.to_numpy(object))
    return codes, np.asarray(uniq, dtype=object)


def _text(s: pd.Series) -> pd.Series:
    """Text of a column: "" for blanks, stripped, NFKC; whole-column (Arrow kernels), NFKC once
    per distinct value that is not ASCII."""
    pa, pc = arrow()
    arr = None
    if pa is not None and isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        arr = pa.array(s.array)  # Arrow-backed text (io/invoicefile): no copy through Python objects
    obj = s.to_numpy(object) if arr is None else None
    if arr is None and pa is not None:
        try:
            arr = pa.array(obj, type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # values that are not text: their str()
            arr = None
    if arr is None:
        text = pd.Series(obj, dtype=object).where(s.notna().to_numpy(), "").astype(str).to_numpy(object)
        if pa is not None:
            arr = pa.array(text, type=pa.string())
        else:
            out = pd.Series(text, dtype=object).str.strip().to_numpy(object).copy()  # writable
            other = pd.Series(out, dtype=object).str.contains(r"[^\x00-\x7f]", regex=True).to_numpy(bool)
    if arr is not None:
        arr = pc.utf8_trim_whitespace(pc.fill_null(arr, ""))  # the same characters as str.strip()
        out = arr.to_numpy(zero_copy_only=False).astype(object)
        other = ~np.asarray(pc.string_is_ascii(arr), dtype=bool)
    if other.any():
        codes, uniq = pd.factorize(out[other])
        out[other] = np.array([unicodedata.normalize("NFKC", u) for u in uniq], dtype=object)[codes]
    return pd.Series(out, index=s.index, dtype=object)


def valid_tax_id(tax_id: str) -> bool:
    """A buyer's tax id as the platform prints it: 18 characters must pass the check digit of a
    unified social credit code (or, for a person, of a resident ID number); the older 15, 17 or
    20 character numbers have none and pass as written."""
    if len(tax_id) != 18:
        return True
    from stdnum.cn import ric, uscc

    return uscc.is_valid(tax_id) or ric.is_valid(tax_id)


def _customer_index(customers: pd.DataFrame) -> tuple[dict, dict]:
    """(tax id -> customer ids, exact name key -> customer ids) over Customers names and aliases."""
    ids = _text(customers["customer_id"]) if "customer_id" in customers else pd.Series([], dtype=object)
    by_tax: dict[str, set] = {}
    by_name: dict[str, set] = {}
    if "tax_id" in customers:
        for t, cid in zip(_text(customers["tax_id"]).str.upper(), ids):
            if t:
                by_tax.setdefault(t, set()).add(cid)
    names = _text(customers["name"]) if "name" in customers else pd.Series([""] * len(ids))
    aliases = _text(customers["aliases"]) if "aliases" in customers else pd.Series([""] * len(ids))
    for cid, name, alias in zip(ids, names, aliases):
        for text in [name, *re.split(r"[;；]", alias)]:
            key = name_key(text)
            if key:
                by_name.setdefault(key, set()).add(cid)
    return by_tax, by_name


def _match(tax: str, name: str, by_tax: dict, by_name: dict) -> tuple[str, str, tuple]:
    """(customer_id or "", note code, ids named) for one buyer."""
    hit = by_tax.get(tax, set()) if tax else set()
    if len(hit) == 1:
        return next(iter(hit)), "", ()
    named = by_name.get(name_key(name), set()) if name else set()
    if len(named) == 1:
        return next(iter(named)), "invoice_note_by_name", ()
    several = tuple(sorted(hit | named))
    return "", "invoice_note_several" if len(several) > 1 else "invoice_note_no_customer", several


def map_invoices(rows: pd.DataFrame, customers: pd.DataFrame, existing_doc_nos, source: str,
                 lang: str = "zh", labels: dict | None = None) -> InvoiceImport:
    """Apply the rules of the module docstring to an export's rows (FIELDS as text, ``_row``).

    ``existing_doc_nos``: every doc_no in Invoices; ``source``: the file name (Problems' sheet
    and the appended rows' notes); ``labels``: field -> the export's header text, for messages.
    """
    labels = labels or {}
    used = [f for f in FIELDS if f not in ("net", "tax")]  # read for the header, not needed here
    t = {f: _text(rows[f]) if f in rows else pd.Series([""] * len(rows), index=rows.index, dtype=object)
         for f in used}
    number = t["einvoice_no"].where(t["einvoice_no"] != "", t["invoice_code"] + t["invoice_no"])
    keep = (number != "").to_numpy().copy()
    loose = np.flatnonzero(~keep)  # no number: a footer, a note line, or an invoice in error
    if len(loose):
        texts = pd.concat([t[f].iloc[loose] for f in used], axis=1)
        filled = (texts != "").any(axis=1)
        footer = (t["date"].iloc[loose] == "") | texts.apply(lambda c: c.str.contains(_FOOTER)).any(axis=1)
        keep[loose] = (filled & ~footer).to_numpy()
    t = {f: s[keep].reset_index(drop=True) for f, s in t.items()}
    number = number[keep].reset_index(drop=True)
    row_no = rows["_row"].to_numpy()[keep] if "_row" in rows else np.arange(int(keep.sum())) + 2

    dates, bad_date = parse_date(t["date"])
    cents, bad_amount = parse_money(t["total"])
    bad_date |= dates.isna()
    bad_amount |= cents.isna()
    unreadable = None
    first = np.flatnonzero((bad_date | bad_amount).to_numpy())
    if len(first):
        k = int(first[0])
        f = "date" if bad_date.iloc[k] else "total"
        unreadable = {"row": int(row_no[k]), "field": f, "column": labels.get(f, f), "value": t[f].iloc[k],
                      "what": msg("invoice_what_date" if f == "date" else "invoice_what_amount", lang)}
    cents = cents.fillna(0).astype("int64")

    codes, words = _distinct(t["positive"])
    red = pd.Series(pd.Series(words, dtype=object).str.casefold().isin(_NEGATIVE_WORDS).to_numpy(bool)[codes]) | (cents < 0)
    codes, states = _distinct(t["status"])
    states = pd.Series(states, dtype=object)
    void = pd.Series(states.str.contains("作废").to_numpy(bool)[codes])
    reversed_ = ~red & states.str.contains("红冲").to_numpy(bool)[codes]
    tax_codes, taxes = _distinct(t["buyer_tax_id"])
    taxes = pd.Series(taxes, dtype=object).str.upper().str.replace(r"[^0-9A-Z]", "", regex=True).to_numpy(object)
    tax = pd.Series(taxes[tax_codes], dtype=object)
    tax_ok = pd.Series(np.array([valid_tax_id(v) for v in taxes], dtype=bool)[tax_codes])

    # the customer of each distinct (tax id, name) pair
    by_tax, by_name = _customer_index(customers)
    name_codes, names = _distinct(t["buyer_name"])
    stride = max(len(names), 1)   # pair code = tax code * stride + name code
    pair_codes, pairs = pd.factorize(tax_codes.astype(np.int64) * stride + name_codes)
    matched = [_match(taxes[k // stride], names[k % stride], by_tax, by_name) for k in pairs]
    customer = pd.Series(np.array([m[0] for m in matched], dtype=object)[pair_codes], dtype=object)
    how = np.array([m[1] for m in matched], dtype=object)
    named = np.array([", ".join(m[2]) for m in matched], dtype=object)

    existing = set(pd.Series(list(existing_doc_nos), dtype=object).astype(str).str.strip())
    recorded = number.isin(existing)
    repeated = (number != "") & number.duplicated(keep="first")

    status = np.select(
        [number == "", void, recorded, repeated, ~tax_ok, cents == 0, customer == ""],
        ["error", "void", "duplicate", "duplicate", "error", "error", "unmatched"], "imported").astype(object)

    remark_codes, remarks = _distinct(t["remark"])
    remarks = pd.Series(remarks, dtype=object)
    ref = remarks.str.extract(_REF_DIGITAL)[0].fillna("")
    paper = remarks.str.extract(_REF_PAPER).fillna("")
    ref_a = ref.where(ref != "", paper[0] + paper[1]).to_numpy(object)[remark_codes]

    note = np.full(len(number), "", dtype=object)
    m = lambda code, **kw: msg(code, lang, **kw)  # noqa: E731

    def each(mask: np.ndarray, values: np.ndarray, text) -> None:
        """note[mask] = text(value), once per distinct value."""
        if mask.any():
            codes, uniq = pd.factorize(values[mask])
            note[mask] = np.array([text(v) for v in uniq], dtype=object)[codes]

    is_ = {s: status == s for s in STATUSES}
    note[is_["error"] & (number == "").to_numpy()] = m("invoice_note_no_number")
    bad_tax = is_["error"] & ~tax_ok.to_numpy() & (number != "").to_numpy()
    each(bad_tax, tax.to_numpy(object), lambda v: m("invoice_note_tax_id_bad", tax_id=v))
    note[is_["error"] & (note == "")] = m("invoice_note_zero")
    note[is_["void"]] = np.where(recorded[is_["void"]], m("invoice_note_void_recorded"), m("invoice_note_void"))
    note[is_["duplicate"]] = np.where(recorded[is_["duplicate"]], m("invoice_note_duplicate"),
                                      m("invoice_note_duplicate_file"))
    each(is_["unmatched"], pair_codes, lambda k: m(how[k], ids=named[k]))
    imp = is_["imported"]
    red_a, rev_a = red.to_numpy(), reversed_.to_numpy()
    by_name_a = (how == "invoice_note_by_name")[pair_codes]
    parts = {
        "red": imp & red_a & (ref_a != ""), "general": imp & red_a & (ref_a == ""), "rev": imp & rev_a,
    }
    each(parts["red"], ref_a, lambda r: m("invoice_note_red", ref=r))
    note[parts["general"]] = m("invoice_note_red_general")
    note[parts["rev"]] = m("invoice_note_reversed")
    both = imp & by_name_a
    by_name_note = m("invoice_note_by_name")
    note[both] = np.where(note[both] != "", note[both] + "; " + by_name_note, by_name_note)

    def blank(a):  # "" -> None: no cell written
        return np.where(a == "", None, a).astype(object)

    report = pd.DataFrame({
        "doc_no": number.to_numpy(object), "date": dates.to_numpy("datetime64[ns]"),
        "buyer": blank(t["buyer_name"].to_numpy(object)), "tax_id": blank(tax.to_numpy(object)),
        "amount": cents.to_numpy("int64"), "customer_id": blank(customer.to_numpy(object)),
        "status": status, "note": blank(note),
    }, columns=IMPORT_COLUMNS)
    new = pd.DataFrame({
        "doc_no": number.to_numpy(object)[imp], "date": dates.to_numpy("datetime64[ns]")[imp],
        "customer_id": customer.to_numpy(object)[imp],
        "kind": np.where(red_a[imp], "credit_note", "invoice").astype(object),
        "amount": np.abs(cents.to_numpy("int64")[imp]),
        "ref_doc": np.where(red_a[imp], ref_a[imp], "").astype(object),
        "notes": np.full(int(imp.sum()), m("invoice_import_source", file=source), dtype=object),
    }, columns=NEW_COLUMNS)
    records = [Problem(source, int(row_no[k]), labels.get("buyer_tax_id", "buyer_tax_id"), str(tax.iloc[k]),
                       "invoice_note_tax_id_bad", "warning", {"tax_id": tax.iloc[k]}, field="tax_id")
               for k in np.flatnonzero(bad_tax)]
    return InvoiceImport(report=report, invoices=new, unreadable=unreadable, records=records, lang=lang)
