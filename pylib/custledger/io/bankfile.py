"""Reading bank-statement exports (网银流水) into bank lines.

Accepted: CSV / TSV / TXT in UTF-8 (with or without BOM), UTF-16 with BOM, or GBK/GB18030
(tried in that order: utf-8-sig, then gb18030), and XLSX / XLSM / XLS / ODS workbooks (read with
python-calamine; the first sheet with a recognisable header is used). Title rows above the
header are skipped: the header is the row among the first 30 that names the most known columns
(it must name a date and an amount). Footer rows (合计, 总计, 小计, 共N笔, 本页…) and repeated
header rows are ignored. Header aliases cover ICBC, CCB, ABC, BOC, BOCOM, CMB and generic
exports (see ``ALIASES``).

Amounts: either a credit column and a debit column (收入金额 / 支出金额, 贷方发生额 / 借方发生额…),
or one signed amount column (交易金额, 发生额, 金额) with an optional direction column (借贷标志,
收支方向: 借/贷, 收/支, C/D, 来账/往账, 转入/转出). Without a direction column a signed amount is a
credit when positive. The header, date and amount rules are the ledger's (core/parse.py:
find_header / header_field, parse_date, parse_money — integer cents, never floats); what is
the bank's own is here: the aliases, the sign and direction conventions, and the "none" marks
(-, --, —, /) exports print in an empty amount column.

Output ``BankRead.lines`` columns: bank_ref (str, "" if none), date (datetime64[ns], midnight),
payer, payer_account, memo (str), amount (int64 cents: > 0 for credits, < 0 for debits),
direction ("credit" | "debit"), _row (1-based row in the file, or in the sheet).
Nothing read is evaluated: text starting with = + - @ is kept as text (writers escape it).

Problems are core/problems.Problem records (``BankRead.found``: a message code and its
parameters, the text made from messages.json in the workbook's language), never exceptions: a
file that cannot be read at all gives one error and no lines; a row with an unreadable date or
amount gives a warning and is left out. What the system said (an OSError's strerror, a csv.Error,
calamine's message) is English prose: it never becomes a parameter; the cause is worded by a
message code (core/errors.file_cause for the system's, ``bank_cause_*`` for the file's) and the
exception is kept in ``BankRead.cause`` (chained when the run stops, so CUSTLEDGER_DEBUG shows it).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from custledger.core.errors import LedgerError, file_cause
from custledger.core.parse import HEADER_SCAN_ROWS, find_header, header_field, header_key, parse_date, parse_money
from custledger.core.problems import Problem

LINE_COLUMNS = ["bank_ref", "date", "payer", "payer_account", "amount", "direction", "memo", "_row"]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ROWS = 200_000

# Field -> header aliases (compared after core.parse.header_key: NFKC, case, spaces and
# punctuation ignored; a unit in brackets at the end is ignored too: 收入金额(元)).
ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("交易日期", "记账日期", "入账日期", "日期", "交易日", "记账日", "会计日期", "transaction date",
             "date", "posting date", "value date", "起息日"),
    "datetime": ("交易时间", "记账时间", "交易日期时间", "time", "transaction time"),
    "payer": ("对方户名", "对方账户名称", "对方名称", "收/付方名称", "收(付)方名称", "收付方名称",
              "对方单位", "对方单位名称", "对方账户名", "对方户名称", "付款人名称", "付款方名称",
              "付款人户名", "付款人", "付款方", "对手户名", "交易对手名称", "交易对手", "对方姓名",
              "counterparty", "counterparty name", "payer", "payer name"),
    "payer_account": ("对方账号", "对方账户", "收/付方账号", "收(付)方账号", "收付方账号", "对方账户账号",
                      "对方卡号", "付款人账号", "付款方账号", "对手账号", "交易对手账号", "对方帐号",
                      "counterparty account", "payer account"),
    "credit": ("收入金额", "贷方发生额", "贷方金额", "收入", "存入金额", "存入", "贷方", "来账金额",
               "收款金额", "credit", "credit amount", "deposit"),
    "debit": ("支出金额", "借方发生额", "借方金额", "支出", "支取金额", "支取", "借方", "往账金额",
              "付款金额", "debit", "debit amount", "withdrawal"),
    "amount": ("交易金额", "发生额", "金额", "amount", "transaction amount"),
    "direction": ("借贷标志", "收支方向", "借贷方向", "交易方向", "收付标志", "收支标志", "借贷", "收支",
                  "方向", "dr/cr", "cr/dr", "direction"),
    "balance": ("余额", "账户余额", "当前余额", "balance"),
    "memo": ("摘要", "用途", "附言", "备注", "交易附言", "交易摘要", "交易备注", "交易用途", "摘要/附言",
             "memo", "remark", "remarks", "description", "narrative", "purpose"),
    "bank_ref": ("交易流水号", "流水号", "交易参考号", "凭证号", "业务流水号", "交易编号", "参考号",
                 "柜员流水号", "银行流水号", "交易序号", "账户明细编号-交易流水号", "reference", "ref", "reference no",
                 "transaction id", "bank ref"),
}
_DIRECTION_WORDS = {
    "credit": ("贷", "收", "c", "cr", "credit", "收入", "贷方", "来账", "转入", "存入", "入", "+"),
    "debit": ("借", "支", "d", "dr", "debit", "支出", "借方", "往账", "转出", "支取", "出", "-"),
}
_FOOTER_RE = re.compile(r"合计|总计|小计|累计|本页|共\s*\d+\s*笔|笔数|total", re.IGNORECASE)
_EXCEL_TEXT_RE = re.compile(r'^="(.*)"$')


@dataclass(frozen=True)
class BankRead:
    """What a bank file gave: the lines, and the problems met reading it (``found``: Problem
    records, the source of truth; ``problems`` is derived from them). ``cause``: the exception
    behind a file that could not be read, for the debug chain only (never shown as text)."""

    lines: pd.DataFrame
    found: tuple[Problem, ...] = ()
    cause: BaseException | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.found)

    def records(self) -> list[Problem]:
        """The problems as core/problems.Problem records (text from messages.json at the edge)."""
        return list(self.found)

    @property
    def problems(self) -> list[dict]:
        """The problems as dicts (sheet, row, column, value, problem, severity, code, params),
        ``problem`` being the English text of the record: the shape this reader returned before
        Problem existed, for its callers and logs. The Problems sheet uses ``records()``."""
        return [{"sheet": p.sheet, "row": p.row, "column": p.column or None, "value": p.value,
                 "problem": p.text("en"), "severity": p.severity, "code": p.code, "params": dict(p.params)}
                for p in self.found]


_ALIAS_INDEX: dict[str, str] = {}
for _field, _names in ALIASES.items():
    for _name in _names:
        _ALIAS_INDEX.setdefault(header_key(_name), _field)


def field_of(cell, index: dict | None = None) -> str | None:
    """The field a header cell names (in ``index``, default the bank aliases), or None: the
    header rule of core.parse.header_field (a unit in brackets at the end ignored)."""
    return header_field(cell, _ALIAS_INDEX if index is None else index)


def _rank(fields: dict) -> tuple[int] | None:
    """A header names a date (or a 交易时间 holding the whole timestamp) and an amount; the
    row naming the most columns wins."""
    has_date = "date" in fields or "datetime" in fields
    has_amount = "amount" in fields or "credit" in fields or "debit" in fields
    return (len(fields),) if has_date and has_amount else None


def _find_header(rows: list[list]) -> tuple[int, dict[str, int]] | None:
    found = find_header(rows, _ALIAS_INDEX, _rank)
    if found is None:
        return None
    mapping = dict(found.fields)
    # 交易时间 holding the whole timestamp is the date when there is no date column
    if "date" not in mapping and "datetime" in mapping:
        mapping["date"] = mapping.pop("datetime")
    return found.index, mapping


# ---- values ------------------------------------------------------------------------------

def _text(value) -> str:
    """A cell as trimmed text; integral floats (account numbers read as numbers) without '.0'."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:
            return ""
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text


def _ident(value) -> str:
    """An account number or reference: also unwraps the ="0123" and '0123 / tab-prefixed
    forms exports use to stop Excel from eating leading zeros (nothing is evaluated)."""
    text = _text(value)
    m = _EXCEL_TEXT_RE.match(text)
    if m and re.fullmatch(r"[\w\-*/ ]*", m.group(1)):
        text = m.group(1).strip()
    if text.startswith("'") and re.fullmatch(r"'[\w\-*/ ]+", text):
        text = text[1:]
    return "" if text in ("--", "-", "—") else text


_NO_AMOUNT = ("", "-", "--", "—", "——", "/")  # what exports print for "none" in an amount column


def _cents_column(values: list) -> tuple[list, list]:
    """Amount cells -> (cents or None per cell, whether each is not an amount): core.parse.
    parse_money (money.to_cents, at most ten trillion yuan), the "none" marks above read as blank."""
    cells = [None if isinstance(v, str) and len(v.strip()) <= 4 and unicodedata.normalize("NFKC", v).strip()
             in _NO_AMOUNT else v for v in values]
    cents, bad = parse_money(pd.Series(cells, dtype=object))
    return cents.astype(object).where(cents.notna(), None).tolist(), bad.tolist()


def _direction(value) -> str | None:
    text = header_key(_text(value))
    if not text:
        return None
    for kind, words in _DIRECTION_WORDS.items():
        if text in words:
            return kind
    # 贷方(收入) / 收入(贷) and the like: the first direction character decides
    for ch in text:
        if ch in "贷收入":
            return "credit"
        if ch in "借支出":
            return "debit"
    return None


# ---- file formats -----------------------------------------------------------------------

def _problem(sheet, row, column, value, severity="error", *, code: str, **params) -> Problem:
    """A Problem record: ``code`` (messages.json) and ``params`` make its text, in the language
    it is shown in (BankRead.records, BankRead.problems)."""
    return Problem(str(sheet), row, column or "", "" if value is None else str(value), code, severity, params)


def _unread(name: str, value, code: str, cause: BaseException | None = None, **params) -> BankRead:
    """No lines: the file cannot be used (one error); ``cause`` kept for the debug chain."""
    return BankRead(_empty_lines(), (_problem(name, None, None, value, code=code, **params),), cause)


def decode_text(data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # control characters other than tab/newline mean this was not text in that encoding
        if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", text):
            continue
        return text
    return None


def text_rows(text: str) -> list[list]:
    sample = "\n".join(text.splitlines()[:HEADER_SCAN_ROWS + 5])
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    if sample.count(",") == 0 and sample.count("\t") == 0 and sample.count(";") > 0:
        delimiter = ";"
    return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _workbook_sheets(path: Path) -> list[tuple[str, list[list]]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    try:
        sheets = []
        for i, name in enumerate(book.sheet_names):
            sheets.append((name, book.get_sheet_by_index(i).to_python(skip_empty_area=False)))
        return sheets
    finally:
        close = getattr(book, "close", None)
        if close:
            close()


MAX_SHEET_CELLS = 5_000_000  # a bank export's sheet box (rows x columns); far more than any export


def _untrusted_package(path: Path):
    """Why a zipped workbook must not reach calamine (see io/reader.check_package and
    check_sheet_extent: zip-bomb limits, DTDs, a sheet box calamine would allocate densely),
    as the LedgerError that refused it (its text in any language), or None. ODS packages get the
    zip and DTD checks only."""
    from custledger.core.errors import LedgerError
    from custledger.io.reader import check_package, check_sheet_extent

    try:
        check_package(path)
        with zipfile.ZipFile(path) as zf:
            xlsx = "xl/workbook.xml" in zf.namelist()
        if xlsx:
            from defusedxml import ElementTree as ET

            with zipfile.ZipFile(path) as zf:
                wb = ET.fromstring(zf.read("xl/workbook.xml"))
            names = [s.get("name") for s in wb.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet")]
            for sheet in names:
                check_sheet_extent(path, sheet, limit=MAX_SHEET_CELLS)
    except LedgerError as exc:
        return exc if exc.code in ("file_unsafe", "sheet_too_large") else None
    except Exception:  # damaged: calamine's own message follows
        return None
    return None


def _empty_lines() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in LINE_COLUMNS})
    frame["date"] = pd.Series(dtype="datetime64[ns]")
    frame["amount"] = pd.Series(dtype="int64")
    frame["_row"] = pd.Series(dtype="int64")
    return frame


def read_bank_file(path, *, max_bytes: int = DEFAULT_MAX_BYTES,
                   max_rows: int = DEFAULT_MAX_ROWS) -> BankRead:
    """Read a bank-statement export (rules in the module docstring). Never raises for a bad
    file: what went wrong is in ``problems`` (severity error → no lines). Files larger than
    ``max_bytes`` or with more than ``max_rows`` rows below the header are refused."""
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        return _unread(name, path, code="bank_cannot_open", cause=exc, detail=file_cause(exc))
    if size > max_bytes:
        return _unread(name, size, code="bank_too_big", size=f"{size:,}", limit=f"{max_bytes:,}")
    if size == 0:
        return _unread(name, "", code="bank_empty")
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _unread(name, path, code="bank_cannot_open", cause=exc, detail=file_cause(exc))

    head = data[:8]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        refused = _untrusted_package(path) if head.startswith(b"PK") else None
        if refused:  # zip bomb, DTD, absurd sheet extent: refused before calamine sees it
            return _unread(name, "", code="bank_unsafe", cause=refused, detail=refused)
        try:
            sheets = _workbook_sheets(path)
        except Exception as exc:  # calamine raises several types for corrupt/encrypted files
            return _unread(name, "", code="bank_workbook_unreadable", cause=exc,
                           detail=LedgerError("bank_cause_damaged"))
        candidates = [(f"{name}:{sheet}", rows) for sheet, rows in sheets]
    else:
        sniff = data[:512].lstrip().lower()
        if sniff.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml")):
            return _unread(name, "", code="bank_web_page")
        text = decode_text(data)
        if text is None:
            return _unread(name, "", code="bank_undecodable")
        try:
            candidates = [(name, text_rows(text))]
        except csv.Error as exc:  # a field over csv's 128 KB limit, a stray quote or CR: not a bank export
            return _unread(name, "", code="bank_not_csv", cause=exc, detail=LedgerError("bank_cause_csv"))

    for sheet, rows in candidates:
        found = _find_header(rows)
        if found is not None:
            return _lines_from_rows(sheet, rows, found[0], found[1], max_rows)
    if all(not any(_text(c) for c in row) for _, rows in candidates for row in rows):
        return _unread(name, "", code="bank_empty")
    return _unread(name, "", code="bank_no_header", rows=HEADER_SCAN_ROWS)


class _LeftOut(Exception):
    """A line left out (its problem is recorded)."""


def _lines_from_rows(sheet: str, rows: list[list], header_at: int, mapping: dict[str, int],
                     max_rows: int) -> BankRead:
    problems: list[Problem] = []
    header = rows[header_at]
    body = rows[header_at + 1:]
    if len(body) > max_rows:
        return _unread(sheet, len(body), code="bank_too_many_rows", rows=f"{len(body):,}", limit=f"{max_rows:,}")
    # every memo-like column (摘要 and 用途 and 附言…) goes into the memo, in sheet order
    memo_cols = [i for i, c in enumerate(header) if field_of(c) == "memo"]
    label = {f: _text(header[i]) for f, i in mapping.items()}

    def cell(row, f):
        i = mapping.get(f)
        return row[i] if i is not None and i < len(row) else None

    # Dates and amounts are read a whole column at a time, by the core's rules (core/parse.py).
    # (Plain lists for the row loop below: a pandas look-up per cell would cost seconds.)
    body_texts = [[_text(c) for c in row] for row in body]
    at = mapping["date"]
    date_texts = [t[at] if at < len(t) else "" for t in body_texts]
    distinct = list(dict.fromkeys(date_texts))  # a statement repeats its few dates
    date_of = dict(zip(distinct, parse_date(pd.Series(distinct, dtype=object))[0].tolist()))
    dates = [date_of[t] for t in date_texts]
    amounts = {f: _cents_column([cell(row, f) for row in body])
               for f in ("credit", "debit", "amount") if f in mapping}

    def cents_of(f, offset, rowno):
        cents, bad = amounts[f]
        if bad[offset]:
            problems.append(_problem(sheet, rowno, label[f], _text(cell(body[offset], f)), "warning",
                                     code="bank_line_not_amount"))
            raise _LeftOut
        return cents[offset]

    out: dict[str, list] = {c: [] for c in LINE_COLUMNS}
    header_keys = [header_key(_text(c)) for c in header]
    for offset, row in enumerate(body):
        rowno = header_at + 2 + offset
        texts = body_texts[offset]
        if not any(texts):
            continue
        if header_key(texts[0]) == header_keys[0] and \
                [header_key(t) for t in texts[: len(header_keys)]] == header_keys[: len(texts)]:
            continue  # the header repeated on every printed page
        date = dates[offset]
        if date is pd.NaT:
            if any(_FOOTER_RE.search(t) for t in texts) or len([t for t in texts if t]) <= 1:
                continue  # footer (合计 / 共N笔) or a note line
            problems.append(_problem(sheet, rowno, label["date"], _text(cell(row, "date")), "warning",
                                     code="bank_line_not_date"))
            continue
        try:
            if "credit" in mapping or "debit" in mapping:
                credit = cents_of("credit", offset, rowno) if "credit" in mapping else None
                debit = cents_of("debit", offset, rowno) if "debit" in mapping else None
                credit, debit = credit or 0, debit or 0
                if credit and debit:
                    problems.append(_problem(sheet, rowno, label.get("credit"), _text(cell(row, "credit")),
                                             "warning", code="bank_line_both_sides"))
                    continue
                if not credit and not debit and "amount" in mapping:
                    credit = cents_of("amount", offset, rowno) or 0
                    if credit < 0:
                        credit, debit = 0, -credit
                if credit:
                    amount, direction = abs(credit), "credit"
                    if credit < 0:  # a negative credit is a reversal: money out
                        direction = "debit"
                elif debit:
                    amount, direction = abs(debit), "debit"
                    if debit < 0:
                        direction = "credit"
                else:
                    continue  # zero line (interest 0.00, fee waived)
            else:
                signed = cents_of("amount", offset, rowno)
                if not signed:
                    continue
                flag = _direction(cell(row, "direction")) if "direction" in mapping else None
                if "direction" in mapping and flag is None:
                    problems.append(_problem(sheet, rowno, label["direction"], _text(cell(row, "direction")),
                                             "warning", code="bank_line_bad_direction"))
                    continue
                if flag is None:
                    direction = "credit" if signed > 0 else "debit"
                else:
                    direction = flag
                amount = abs(signed)
        except _LeftOut:
            continue
        out["bank_ref"].append(_ident(cell(row, "bank_ref")))
        out["date"].append(date)
        out["payer"].append(_text(cell(row, "payer")))
        out["payer_account"].append(_ident(cell(row, "payer_account")))
        out["amount"].append(amount if direction == "credit" else -amount)
        out["direction"].append(direction)
        memo_parts = [texts[i] for i in memo_cols if i < len(texts) and texts[i]]
        out["memo"].append(" / ".join(dict.fromkeys(memo_parts)))
        out["_row"].append(rowno)

    lines = pd.DataFrame({c: pd.Series(out[c], dtype="object") for c in LINE_COLUMNS})
    lines["date"] = pd.to_datetime(pd.Series(out["date"], dtype="object"), errors="coerce").astype(
        "datetime64[ns]")
    lines["amount"] = pd.Series(out["amount"], dtype="int64")
    lines["_row"] = pd.Series(out["_row"], dtype="int64")
    return BankRead(lines, tuple(problems))
