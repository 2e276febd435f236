"""From raw text cells to typed frames: find sheets and headers, read each value by its kind.

Rules (DESIGN.md, Input sheets):
* sheet names and headers may be the zh label, the en label, the canonical key or a listed
  alias; matching ignores case, spaces, underscores and full/half width (schema.norm_header);
* the header row is found automatically in the first 30 rows (a title row above is fine);
  column order is free; unknown columns are kept untouched (we never rewrite input sheets);
* blank rows are skipped; a total row (合计/总计/小计/Total) is skipped with a warning;
* dates: Excel dates, or text 2026-11-05, 2026/11/5, 2026.11.5, 2026年11月5日, 20261105,
  or an Excel serial number; amounts: numbers or text with ¥, thousands separators or
  full-width digits (core.money). Values that cannot be read become problems, not exceptions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..schema import Field, SheetSpec, norm_header
from . import money
from .problems import Problem

HEADER_SCAN_ROWS = 30
MAX_CENTS = 10**15          # ten trillion yuan: anything larger is a typo, and beyond int64 safety
TOTAL_WORDS = {"合计", "总计", "小计", "total", "subtotal", "grandtotal"}


@dataclass(frozen=True)
class SheetLayout:
    """Where a sheet's table is: header row (frame index), column index -> field key."""

    sheet_name: str
    header_index: int
    columns: dict        # frame column position -> field key
    headers: dict        # field key -> header text as written
    duplicates: tuple    # (position, header) mapped twice: kept as unknown columns


def col_letter(idx0: int) -> str:
    """0 -> 'A', 26 -> 'AA': a 0-based column index as Excel letters (the one helper; io imports it)."""
    s, n = "", idx0 + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def col_index(letters: str) -> int:
    """'A' -> 0, 'AA' -> 26: the inverse of col_letter (letters in either case)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


# a unit or note in brackets after a header: 金额(元), 数量（件）, Amount [CNY], 电话【手机】
_UNIT = re.compile(r"\s*[(\[（【][^()\[\]（）【】]*[)\]）】]\s*$")


def locate_header(frame: pd.DataFrame, spec: SheetSpec, sheet_name: str) -> SheetLayout | None:
    """The row among the first 30 that names the most of the spec's columns (at least one
    required column, or two columns, must be named); None if no row qualifies."""
    lookup: dict = {}
    for f in spec.fields:
        for k in f.header_keys():
            lookup.setdefault(k, f.key)
    best = None
    head = frame.iloc[:HEADER_SCAN_ROWS]
    cells = head.to_numpy(dtype=object)   # rows as Python values at once (row access to Arrow text is slow)
    for i in range(len(head)):
        cols, headers, dups = {}, {}, []
        for pos, text in zip(head.columns, cells[i]):
            if not isinstance(text, str):
                continue
            key = lookup.get(norm_header(text)) or lookup.get(norm_header(_UNIT.sub("", text)))
            if key is None:
                continue
            if key in headers:
                dups.append((pos, text))
                continue
            cols[pos], headers[key] = key, text.strip()
        required = sum(1 for f in spec.fields if f.required and f.key in headers)
        score = (len(cols), required)
        if (required >= 1 or len(cols) >= 2) and (best is None or score > best[0]):
            best = (score, SheetLayout(sheet_name, i, cols, headers, tuple(dups)))
    return best[1] if best else None


def match_sheet_names(names, specs) -> dict:
    """spec key -> workbook sheet name, by name (labels, key, aliases)."""
    found: dict = {}
    for spec in specs:
        keys = spec.name_keys()
        for name in names:
            if norm_header(name) in keys and name not in found.values():
                found[spec.key] = name
                break
    return found


def _nfkc(t: pd.Series) -> pd.Series:
    if t.str.contains(r"[^\x00-\x7f]", regex=True, na=False).any():
        return t.str.normalize("NFKC")
    return t


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype("str").str.strip() == "")


def parse_text(s: pd.Series) -> pd.Series:
    out = s.fillna("").astype("str").str.strip()
    return out.astype(object)


def _stacked(frame: pd.DataFrame) -> pd.Series:
    """The frame's cells as one text column, column after column: one string operation over
    every cell instead of one per column (each costs ~0.1 ms whatever its length)."""
    return pd.concat([frame[c].astype("str") for c in frame.columns], ignore_index=True)


# A cell reads as a total word only if it holds the word's last character in one case or the
# other (only "L" lowers to "l", CJK has no case), so the exact test (strip, lower, drop every
# space: Python's regex, slow) runs on those cells only.
_TOTAL_HINT = "[" + "".join(sorted({c for w in TOTAL_WORDS for c in (w[-1], w[-1].upper())})) + "]"


def _nonblank_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows with a value (not only spaces) in some column of ``frame``; none without columns."""
    if not frame.shape[1]:
        return np.zeros(len(frame), bool)
    cells = _stacked(frame)
    blank = (cells.isna() | (cells.str.strip() == "")).to_numpy(bool)
    return ~blank.reshape(frame.shape[1], len(frame)).all(axis=0)


def _total_rows(body: pd.DataFrame) -> np.ndarray:
    """Rows with a cell saying 合计/总计/小计/Total (any column; case, spaces ignored)."""
    cells = _stacked(body)
    hint = cells.str.contains(_TOTAL_HINT, regex=True, na=False).to_numpy(bool)
    hit = np.zeros(len(cells), bool)
    if hint.any():
        words = cells[hint].str.strip().str.lower().str.replace(r"\s+", "", regex=True)
        hit[np.flatnonzero(hint)] = words.isin(TOTAL_WORDS).to_numpy(bool)
    return np.asarray(hit.reshape(body.shape[1], len(body)).any(axis=0))


_YMD = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"


def parse_date(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """-> (datetime64[ns] normalised, mask of non-blank values that are not dates)."""
    blank = _blank(s)
    t = s.where(~blank).astype("str").str.strip()
    out = pd.to_datetime(t, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    todo = ~blank & out.isna()
    if todo.any():
        rest = _nfkc(t[todo])
        parts = rest.str.extract(_YMD)
        eight = rest.str.extract(r"^(\d{4})(\d{2})(\d{2})(?:\.0+)?$")
        parts = parts.fillna(eight)
        ymd = pd.to_datetime(
            {"year": pd.to_numeric(parts[0], errors="coerce"),
             "month": pd.to_numeric(parts[1], errors="coerce"),
             "day": pd.to_numeric(parts[2], errors="coerce")},
            errors="coerce",
        )
        serial = pd.to_numeric(rest.where(rest.str.fullmatch(r"\d{1,6}(?:\.\d+)?")), errors="coerce")
        # Excel's serials count a 1900-02-29 that never was: 1-59 are 1900-01-01..02-28, 60 is
        # that fictitious day (not a date: a problem, never a silent 02-28), 61 on are right
        day = np.floor(serial)
        from_serial = pd.Timestamp("1899-12-30") + pd.to_timedelta(day + (day < 60), unit="D")
        from_serial = from_serial.where((serial >= 1) & (serial < 2958466) & (day != 60))
        out.loc[todo] = ymd.fillna(from_serial)
    out = out.dt.normalize().astype("datetime64[ns]")
    return out, ~blank & out.isna()


def parse_money(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """-> (Int64 cents, mask of non-blank values that are not amounts).

    Fast path: a plain number whose value x100 is within 1e-6 of an integer has at most two
    decimals as written (or is a binary-float artefact of such), so rounding x100 is exact.
    Everything else (¥, separators, full-width, 2.675) goes through core.money.to_cents."""
    blank = _blank(s)
    t = s.where(~blank).astype("str").str.strip()
    x = pd.to_numeric(t, errors="coerce").astype("float64")
    scaled = x * 100
    near = (np.abs(scaled - np.round(scaled)) < 1e-6) & (np.abs(x) < 1e11)
    cents = pd.Series(np.round(scaled).where(near), index=s.index).astype("Int64")
    todo = ~blank & cents.isna()
    bad = pd.Series(False, index=s.index)
    if todo.any():
        def one(v):
            try:
                c = money.to_cents(v)
            except money.MoneyError:
                return None
            return c if c is None or abs(c) < MAX_CENTS else None  # 1e20 is no amount
        conv = t[todo].map(one)
        cents.loc[todo] = conv.astype("Int64")
        bad.loc[todo] = conv.isna()
    return cents, bad


def parse_number(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    blank = _blank(s)
    t = s.where(~blank).astype("str").str.strip()
    x = pd.to_numeric(t, errors="coerce").astype("float64")
    todo = ~blank & x.isna()
    if todo.any():
        def one(v):
            try:
                d = money.to_decimal(v)
                return float(d) if d is not None else np.nan
            except money.MoneyError:
                return np.nan
        x.loc[todo] = t[todo].map(one).astype("float64")
    return x, ~blank & x.isna()


def parse_int(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    x, bad = parse_number(s)
    integral = x.notna() & (np.abs(x - np.round(x)) < 1e-9)
    bad = bad | (x.notna() & ~integral)
    return pd.Series(np.round(x).where(integral), index=s.index).astype("Int64"), bad


def enum_lookup(f: Field) -> dict:
    table: dict = {}
    for value in f.enum:
        names = [value, *f.spec.get("x-enum-labels", {}).get(value, {}).values(),
                 *f.spec.get("x-enum-aliases", {}).get(value, [])]
        for n in names:
            table.setdefault(norm_header(n), value)
    return table


def parse_enum(s: pd.Series, f: Field) -> tuple[pd.Series, pd.Series]:
    blank = _blank(s)
    t = s.where(~blank).astype("str")
    table = enum_lookup(f)
    uniq = {u: table.get(norm_header(u)) for u in t.dropna().unique()}
    out = t.map(uniq).astype(object)
    bad = ~blank & out.isna()
    default = f.spec.get("default")
    out = out.where(~blank, default if default is not None else "").fillna("")
    return out, bad


def parse_months(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A column of months (x-kind month) -> (month as "YYYY-MM" text, mask of non-blank values that are not months). Accepted:
    2026-10, 2026/10, 2026.10, 2026年10月, and a date (Excel turns a typed 2026-10 into the
    date 2026-10-01): its month."""
    blank = _blank(s)
    t = _nfkc(s.where(~blank).astype("str").str.strip())
    parts = t.str.extract(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
    year = pd.to_numeric(parts[0], errors="coerce")
    mon = pd.to_numeric(parts[1], errors="coerce")
    todo = ~blank & year.isna()
    if todo.any():
        d, _ = parse_date(s[todo])
        year.loc[todo], mon.loc[todo] = d.dt.year, d.dt.month
    ok = year.notna() & mon.between(1, 12)
    text = year.where(ok).map(lambda y: "" if pd.isna(y) else f"{int(y):04d}") + "-" + \
        mon.where(ok).map(lambda m: "" if pd.isna(m) else f"{int(m):02d}")
    out = text.where(ok, "").astype(object)
    return out, ~blank & ~ok


BOOL_WORDS = {"yes": True, "y": True, "true": True, "1": True, "是": True, "开": True, "on": True,
              "no": False, "n": False, "false": False, "0": False, "否": False, "关": False, "off": False}


def parse_column(s: pd.Series, f: Field) -> tuple[pd.Series, pd.Series]:
    """Typed column + mask of unreadable values, by the field's x-kind."""
    kind = f.kind
    if kind == "date":
        return parse_date(s)
    if kind == "money":
        return parse_money(s)
    if kind == "int":
        return parse_int(s)
    if kind in ("number", "price"):
        return parse_number(s)
    if kind == "enum":
        return parse_enum(s, f)
    if kind == "month":
        return parse_months(s)
    return parse_text(s), pd.Series(False, index=s.index)


def empty_typed(f: Field, n: int, index) -> pd.Series:
    if f.kind == "date":
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    if f.kind in ("money", "int"):
        return pd.Series(pd.NA, index=index, dtype="Int64")
    if f.kind in ("number", "price"):
        return pd.Series(np.nan, index=index, dtype="float64")
    default = f.spec.get("default", "")
    return pd.Series([default] * n, index=index, dtype=object)


def problem(sheet, row, column, value, code, severity, lang, cell="", field="", **params) -> Problem:
    """A Problem record (core/problems.py; its text is made in the workbook's language later)."""
    return Problem(sheet, row, column, "" if value is None else str(value), code, severity, params, cell, field)


def parse_sheet(raw, spec: SheetSpec, layout: SheetLayout, lang: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Typed frame (canonical keys + _row + _cells) and problems of unreadable values.

    ``_bad`` (bool) marks rows with an unreadable required value; validation decides errors."""
    frame = raw.frame
    body = frame.iloc[layout.header_index + 1:]
    pos_of = {key: pos for pos, key in layout.columns.items()}
    mapped = [pos for pos in layout.columns]
    nonblank = _nonblank_rows(body[mapped])
    body = body[nonblank]
    problems: list[Problem] = []
    # total rows: a cell of the row (in any column, a 序号 column too) saying 合计/总计/Total
    if len(body):
        is_total = _total_rows(body)
        if is_total.any():
            for idx in body.index[is_total]:
                problems.append(problem(raw.name, raw.row0 + idx, "", "", "total_row_skipped", "warning", lang,
                                        cell=f"A{raw.row0 + idx}"))
            body = body[~is_total]
    out = {}
    n = len(body)
    for f in spec.fields:
        pos = pos_of.get(f.key)
        if pos is None:
            out[f.key] = empty_typed(f, n, body.index)
            continue
        col, bad = parse_column(body[pos], f)
        out[f.key] = col
        if bad.any():
            label = f.label(lang)
            code = {"date": "bad_date", "money": "bad_amount", "int": "bad_integer", "number": "bad_number",
                    "price": "bad_number", "enum": "bad_enum", "month": "bad_month"}.get(f.kind, "bad_value")
            choices = "/".join(f.enum_label(v, lang) for v in f.enum) if f.kind == "enum" else ""
            letter = col_letter(raw.col0 + pos)
            for idx in body.index[bad]:
                r = raw.row0 + idx
                problems.append(problem(raw.name, r, label, body.at[idx, pos], code, "error", lang,
                                        cell=f"{letter}{r}", field=f.key, choices=choices))
    typed = pd.DataFrame(out, index=body.index)
    typed["_row"] = (raw.row0 + body.index.to_numpy()).astype("int64")
    typed = typed.reset_index(drop=True)
    return typed, problems


def cell_of(raw, layout: SheetLayout, key: str, row: int) -> str:
    """A1 reference of field ``key`` at worksheet row ``row`` (header cell if not mapped)."""
    for pos, k in layout.columns.items():
        if k == key:
            return f"{col_letter(raw.col0 + pos)}{row}"
    return f"A{row}"


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


# The one home of the list rules (DESIGN.md). A list of documents (applied_to, ref_doc) is split
# on , ; 、 ， ； and whitespace; aliases are ``;``-separated, and the full-width ``；`` a Chinese
# input method types is the same separator (aliases may hold spaces: "Acme Trading").
LIST_SPLIT = re.compile(r"[,;、，；\s]+")
ALIAS_SPLIT = re.compile(r"[;；]")


def split_list(text) -> list[str]:
    """'XS-1, XS-2；XS-3' -> ['XS-1', 'XS-2', 'XS-3'] (DESIGN.md separators), order kept, no repeats."""
    return [t for t in dict.fromkeys(LIST_SPLIT.split(text or "")) if t]


def split_aliases(text) -> list[str]:
    """'甲公司; 甲厂；甲' -> ['甲公司', '甲厂', '甲']: each alias stripped, blanks dropped, order kept."""
    if text is None or (isinstance(text, float) and text != text):  # a blank cell read as NaN
        return []
    return [a for a in (p.strip() for p in ALIAS_SPLIT.split(str(text))) if a]


# A statement/report month: text YYYY-MM (a day or time after it is ignored, as in a date typed
# in the StatementMonth cell) or anything with a year and a month (date, Timestamp, Period).
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-\d{1,2}(?:[ T][\d:.]*)?)?\s*$")


def parse_month(value) -> str:
    """'2026-10', '2026-1', '2026-10-15', a date or a Period -> '2026-10'; ValueError otherwise.
    The one month rule: the CLI, the Excel button and the core statements/dashboard use it."""
    if hasattr(value, "year") and hasattr(value, "month") and not isinstance(value, str):
        year, mon = int(value.year), int(value.month)
    else:
        m = _MONTH.match(str(value))
        if not m:
            raise ValueError(f"month must be YYYY-MM, not {value!r}")
        year, mon = int(m.group(1)), int(m.group(2))
    if not (1 <= mon <= 12 and 1 <= year <= 9999):
        raise ValueError(f"month must be YYYY-MM, not {value!r}")
    return f"{year:04d}-{mon:02d}"
