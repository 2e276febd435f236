"""From raw text cells to typed frames: find sheets and headers, read each value by its kind.

Rules (DESIGN.md, Input sheets):
* sheet names and headers may be the zh label, the en label, the canonical key or a listed
  alias; matching ignores case, spaces, underscores and full/half width (schema.norm_header),
  and in headers brackets, slashes and 、 too, and a unit in brackets at the end (header_key);
* the header row is found automatically in the first 30 rows (a title row above is fine);
  column order is free; unknown columns are kept untouched (we never rewrite input sheets);
* blank rows are skipped; a total row (合计/总计/小计/Total) is skipped with a warning;
* dates: Excel dates, or text 2026-11-05, 2026/11/5, 2026.11.5, 2026年11月5日, 20261105,
  each optionally with a time, or an Excel serial number; months: 2026-10, 2026/10, 2026年10月,
  202610 or a date; amounts: numbers or text with ¥, thousands separators or full-width digits
  (core.money). Values that cannot be read become problems, not exceptions.

These are the one home of the header, date, month and amount rules: bank files
(io/bankfile.py) and invoice exports read theirs with the same functions.
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
_UNIT_CLOSE = ")]）】"   # what a text _UNIT matches in ends with, once stripped
# what schema.norm_header drops, and inside a header brackets, slashes and 、 too:
# 收(付)方名称 = 收/付方名称 = 收付方名称 (one pattern: a bank file keys every cell of every row)
_HEADER_DROP = re.compile(r"[\s_\-.·:：*()（）\[\]【】/\\、]+")


def header_key(text) -> str:
    """The key a column header is matched by: schema.norm_header (NFKC, case, spaces,
    underscores, hyphens, dots, colons and * ignored), brackets, slashes and 、 dropped too."""
    if text is None:
        return ""
    return _key_of_nfkc(unicodedata.normalize("NFKC", str(text)))


def _key_of_nfkc(text: str) -> str:
    """header_key of a text already in NFKC (NFKC again would change nothing)."""
    return _HEADER_DROP.sub("", text.lower())


def header_field(cell, index: dict) -> str | None:
    """The field a header cell names in ``index`` ({header_key: field}), or None; a unit or note
    in brackets at the end is ignored when the whole text names nothing: 金额(元), 收入金额（贷）."""
    if cell is None or (isinstance(cell, float) and cell != cell):
        return None
    text = unicodedata.normalize("NFKC", str(cell)).strip()
    if not text:
        return None
    # one NFKC per cell: a header row is looked for among the first rows of every sheet, so this
    # runs for hundreds of cells
    found = index.get(_key_of_nfkc(text))
    if found is None and text[-1] in _UNIT_CLOSE:   # only a text ending in a bracket has a unit
        stripped = _UNIT.sub("", text)
        if stripped and stripped != text:
            found = index.get(header_key(stripped))
    return found


@dataclass(frozen=True)
class HeaderRow:
    """A candidate header row: its position among the rows scanned, field -> column position
    (the first cell naming a field), field -> header text as written, and the later cells that
    name a field again ((position, text))."""

    index: int
    fields: dict
    headers: dict
    duplicates: tuple


def find_header(rows, index: dict, rank) -> HeaderRow | None:
    """The header among the first HEADER_SCAN_ROWS ``rows`` (sequences of cells; a title row
    above is fine): each cell names a field through :func:`header_field`; ``rank(fields)`` scores
    a row (None: it cannot be the header); the best score wins, the upper row on a tie."""
    best: HeaderRow | None = None
    best_rank = None
    for i, row in enumerate(rows):
        if i >= HEADER_SCAN_ROWS:
            break
        fields: dict = {}
        headers: dict = {}
        dups = []
        for pos, cell in enumerate(row):
            key = header_field(cell, index)
            if key is None:
                continue
            if key in fields:
                dups.append((pos, cell))
                continue
            fields[key], headers[key] = pos, str(cell).strip()
        score = rank(fields)
        if score is not None and (best_rank is None or score > best_rank):
            best, best_rank = HeaderRow(i, fields, headers, tuple(dups)), score
    return best


def locate_header(frame: pd.DataFrame, spec: SheetSpec, sheet_name: str) -> SheetLayout | None:
    """The row among the first 30 that names the most of the spec's columns (at least one
    required column, or two columns, must be named; more required columns break a tie); None if
    no row qualifies."""
    index: dict = {}
    for f in spec.fields:
        for k in f.header_keys():
            index.setdefault(header_key(k), f.key)
    required = {f.key for f in spec.fields if f.required}

    def rank(fields):
        n_required = len(required.intersection(fields))
        return (len(fields), n_required) if n_required >= 1 or len(fields) >= 2 else None

    found = find_header(frame.iloc[:HEADER_SCAN_ROWS].to_numpy(dtype=object), index, rank)
    if found is None:
        return None
    columns = {pos: key for key, pos in found.fields.items()}
    return SheetLayout(sheet_name, found.index, columns, found.headers, found.duplicates)


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


def _cells(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(each value as text, stripped; blank mask): a value is blank when missing or only
    spaces (the rule of ``_blank``). What every parser below starts from: parse_sheet computes
    it once for all the columns of a sheet (_sheet_cells), a lone column here."""
    t = s.astype("str").str.strip()
    return t, s.isna().to_numpy(bool) | (t == "").to_numpy(bool)


def _mask(values: np.ndarray, like: pd.Series, name=None) -> pd.Series:
    return pd.Series(values, index=like.index, dtype=bool, name=name)


def parse_text(s: pd.Series) -> pd.Series:
    return _text_of(*_cells(s))


def _text_of(t: pd.Series, blank: np.ndarray, objects: np.ndarray | None = None) -> pd.Series:
    """Text cells: stripped, "" where blank (``objects``: the same text as Python objects, an
    array of its own that becomes the column)."""
    out = t.to_numpy(dtype=object, copy=True) if objects is None else objects
    return _text_column(out, blank, t.index, t.name)


def _text_column(objects: np.ndarray, blank: np.ndarray, index, name=None) -> pd.Series:
    """``_text_of`` from the stripped text as Python objects (an array of its own, changed in place)."""
    objects[blank] = ""
    return pd.Series(objects, index=index, dtype=object, name=name)


def _stacked(frame: pd.DataFrame) -> pd.Series:
    """The frame's cells as one text column, column after column: one string operation over
    every cell instead of one per column (each costs ~0.1 ms whatever its length)."""
    cols = [frame[c] for c in frame.columns]   # each column taken once (a column look-up costs too)
    return pd.concat([c if c.dtype == "str" else c.astype("str") for c in cols], ignore_index=True)


# A cell reads as a total word only if it holds the word's last character in one case or the
# other (only "L" lowers to "l", CJK has no case), so the exact test (strip, lower, drop every
# space: Python's regex, slow) runs on those cells only.
_TOTAL_HINT = "[" + "".join(sorted({c for w in TOTAL_WORDS for c in (w[-1], w[-1].upper())})) + "]"


def _nonblank_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows with a value (not only spaces) in some column of ``frame``; none without columns."""
    return _sheet_cells(frame).nonblank


def _total_cells(cells: pd.Series, ncols: int, nrows: int) -> np.ndarray:
    """(ncols, nrows) mask of the stacked cells saying 合计/总计/小计/Total (case, spaces ignored)."""
    hint = cells.str.contains(_TOTAL_HINT, regex=True, na=False).to_numpy(bool)
    hit = np.zeros(len(cells), bool)
    if hint.any():
        words = cells[hint].str.strip().str.lower().str.replace(r"\s+", "", regex=True)
        hit[np.flatnonzero(hint)] = words.isin(TOTAL_WORDS).to_numpy(bool)
    return hit.reshape(ncols, nrows)


def _total_rows(body: pd.DataFrame) -> np.ndarray:
    """Rows with a cell saying 合计/总计/小计/Total (any column; case, spaces ignored)."""
    if not body.shape[1]:
        return np.zeros(len(body), bool)
    return np.asarray(_total_cells(_stacked(body), body.shape[1], len(body)).any(axis=0))


@dataclass
class SheetCells:
    """The cells of a sheet's columns, read once for all of them (one text conversion, one
    strip, one blank test over every cell instead of one of each per column; each pandas call
    costs ~0.05 ms whatever its length): ``text`` the stripped text, column after column;
    ``blank`` (columns x rows) what ``_blank`` says of each cell; ``nonblank`` the rows with a
    value in some column."""

    text: pd.Series
    blank: np.ndarray
    nonblank: np.ndarray
    _objects: dict | None = None

    def column(self, j: int, keep: np.ndarray, index) -> tuple[pd.Series, np.ndarray]:
        """(stripped text, blank mask) of column ``j`` at the rows ``keep``, as ``_cells`` gives."""
        n = self.blank.shape[1]
        part = self.text.array[j * n:(j + 1) * n]
        if keep.all():
            return pd.Series(part, index=index, copy=False), self.blank[j]
        return pd.Series(part[keep], index=index, copy=False), self.blank[j][keep]

    def blank_at(self, j: int, keep: np.ndarray) -> np.ndarray:
        """The blank mask of column ``j`` at the rows ``keep`` (``column``'s second part)."""
        return self.blank[j] if keep.all() else self.blank[j][keep]

    def dates(self, among, keep: np.ndarray, index) -> dict:
        """{column j: (dates, mask of unreadable values)} for the date columns ``among`` at the
        rows ``keep``, as ``_date_of`` gives each: read in one call over all of them (the rule
        reads each cell on its own; the call costs the same for one column or four)."""
        n, rows = self.blank.shape[1], np.flatnonzero(keep)
        m = len(rows)
        text = pd.Series(self.text.array.take(np.concatenate([j * n + rows for j in among])), copy=False)
        day, bad = _date_of(text, np.concatenate([self.blank[j][rows] for j in among]))
        day, bad = day.to_numpy(), bad.to_numpy()
        return {j: (pd.Series(day[i * m:(i + 1) * m], index=index), pd.Series(bad[i * m:(i + 1) * m], index=index))
                for i, j in enumerate(among)}

    def objects(self, j: int, keep: np.ndarray, among) -> np.ndarray:
        """Column ``j``'s text at the rows ``keep`` as Python objects (a new array): the cells of
        the columns ``among`` (the sheet's text columns) converted in one call, the first time
        one asks."""
        n = self.blank.shape[1]
        if self._objects is None:
            at = np.concatenate([np.arange(k * n, (k + 1) * n) for k in among])
            self._objects = dict(zip(among, self.text.array.take(at).to_numpy(dtype=object).reshape(len(among), n)))
        return self._objects[j][keep]   # boolean indexing: always a copy


def _sheet_cells(frame: pd.DataFrame) -> SheetCells:
    n, m = len(frame), frame.shape[1]
    if not m:
        return SheetCells(pd.Series([], dtype="str"), np.zeros((0, n), bool), np.zeros(n, bool))
    cells = _stacked(frame)
    text = cells.str.strip()
    empty = (text == "").to_numpy(bool)
    # a row counts as blank by its cells' text; each value as _blank says (missing or spaces)
    nonblank = ~(cells.isna().to_numpy(bool) | empty).reshape(m, n).all(axis=0)
    blank = frame.isna().to_numpy(bool).T | empty.reshape(m, n)
    return SheetCells(text, blank, nonblank)


# The date rule (ledger cells and bank files alike): a year, month and day with - / . or 年月日
# between them, optionally followed by a time (and a UTC offset: ISO timestamps), or yyyymmdd
# (optionally .0, or a time hhmmss after it), or an Excel serial number.
_TIME = r"(?:[\sT]+\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?(?:\s*(?:Z|[+-]\d{2}(?::?\d{2})?))?)?"
_YMD = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?" + _TIME + "$"
_COMPACT = r"^(\d{4})(\d{2})(\d{2})(?:\.0+|\s*\d{2}:?\d{2}:?\d{2})?$"
_SERIAL = r"\d{1,6}(?:\.\d+)?"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# what a date column holds (datetime64[ns]): a date outside is a typo, not a date
FIRST_DAY = pd.Timestamp("1677-09-22")
LAST_DAY = pd.Timestamp("2262-04-11")
_LAST_SERIAL = (LAST_DAY - _EXCEL_EPOCH).days
_FIRST, _LAST = np.datetime64(FIRST_DAY.date(), "D"), np.datetime64(LAST_DAY.date(), "D")


def parse_date(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """-> (datetime64[ns] normalised, mask of non-blank values that are not dates).

    The one date rule (module docstring): 2026-11-05, 2026/11/5, 2026.11.5, 2026年11月5日, each
    with an optional time (2026-11-05 13:45, 2026-11-05T08:00:00+08:00: the day as written),
    20261105 (or 20261105 134500), an Excel serial (46331; text or number), and the text of a
    date or datetime object. A day that does not exist, or one outside 1677-09-22..2262-04-11,
    is not a date."""
    return _date_of(*_cells(s))


def _date_of(t: pd.Series, blank: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """parse_date over cells already read (``_cells``: stripped text, blank mask)."""
    if blank.all():  # nothing to read (an optional column left empty)
        return pd.Series(pd.NaT, index=t.index, dtype="datetime64[ns]", name=t.name), _mask(np.zeros(len(t), bool), t, t.name)
    out = pd.to_datetime(t, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    todo = ~blank & out.isna().to_numpy(bool)
    if todo.any():
        # a date typed as 2026-10-05 (ASCII digits): the day the rule below reads, in one call
        iso = todo & t.str.fullmatch(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}").to_numpy(bool, na_value=False)
        if iso.any():
            days = pd.to_datetime(t[iso], format="%Y-%m-%d", errors="coerce")
            out.loc[iso] = days
            todo &= out.isna().to_numpy(bool)
    if todo.any():
        rest = _nfkc(t[todo])
        parts = rest.str.extract(_YMD)
        eight = rest.str.extract(_COMPACT)
        parts = parts.fillna(eight)
        year = pd.to_numeric(parts[0], errors="coerce")
        ymd = pd.to_datetime(
            {"year": year.where(year.between(FIRST_DAY.year, LAST_DAY.year)),
             "month": pd.to_numeric(parts[1], errors="coerce"),
             "day": pd.to_numeric(parts[2], errors="coerce")},
            errors="coerce",
        )
        serial = pd.to_numeric(rest.where(rest.str.fullmatch(_SERIAL)), errors="coerce")
        # Excel's serials count a 1900-02-29 that never was: 1-59 are 1900-01-01..02-28, 60 is
        # that fictitious day (not a date: a problem, never a silent 02-28), 61 on are right
        day = np.floor(serial.where(serial < _LAST_SERIAL))
        from_serial = _EXCEL_EPOCH + pd.to_timedelta(day + (day < 60), unit="D")
        from_serial = from_serial.where((serial >= 1) & (day != 60))
        out.loc[todo] = ymd.fillna(from_serial)
    # the day (a time dropped: floored, as Series.dt.normalize), within what datetime64[ns] holds
    day = out.to_numpy().astype("datetime64[D]")
    day[(day < _FIRST) | (day > _LAST)] = np.datetime64("NaT")
    day = day.astype("datetime64[ns]")
    return pd.Series(day, index=t.index, name=t.name), _mask(~blank & np.isnat(day), t, t.name)


def parse_money(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """-> (Int64 cents, mask of non-blank values that are not amounts).

    Fast path: a plain number whose value x100 is within 1e-6 of an integer has at most two
    decimals as written (or is a binary-float artefact of such), so rounding x100 is exact.
    Everything else (¥, separators, full-width, 2.675) goes through core.money.to_cents."""
    return _money_of(*_cells(s))


def _money_of(t: pd.Series, blank: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """parse_money over cells already read (``_cells``)."""
    if blank.all():
        return pd.Series(pd.NA, index=t.index, dtype="Int64", name=t.name), _mask(np.zeros(len(t), bool), t)
    x = pd.to_numeric(t, errors="coerce").astype("float64").to_numpy()
    with np.errstate(invalid="ignore", over="ignore"):  # inf, 1e308: not near, read by to_cents
        scaled = x * 100
        rounded = np.round(scaled)
        near = (np.abs(scaled - rounded) < 1e-6) & (np.abs(x) < 1e11)
    cents = pd.Series(np.where(near, rounded, np.nan), index=t.index, name=t.name).astype("Int64")
    todo = ~blank & ~near
    bad = pd.Series(False, index=t.index)
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
    return _number_of(*_cells(s))


def _number_of(t: pd.Series, blank: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """parse_number over cells already read (``_cells``)."""
    if blank.all():
        return pd.Series(np.nan, index=t.index, dtype="float64", name=t.name), _mask(np.zeros(len(t), bool), t, t.name)
    x = pd.to_numeric(t, errors="coerce").astype("float64")
    todo = ~blank & x.isna().to_numpy(bool)
    if todo.any():
        def one(v):
            try:
                d = money.to_decimal(v)
                return float(d) if d is not None else np.nan
            except money.MoneyError:
                return np.nan
        x.loc[todo] = t[todo].map(one).astype("float64")
    return x, _mask(~blank & x.isna().to_numpy(bool), t, t.name)


def parse_int(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    return _int_of(*_cells(s))


def _int_of(t: pd.Series, blank: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """parse_int over cells already read (``_cells``): a number that is whole, and within what
    the Int64 column holds (1e20 is no count of days: a problem, not a crash)."""
    x, bad = _number_of(t, blank)
    v = x.to_numpy()
    with np.errstate(invalid="ignore"):  # inf is no whole number
        rounded = np.round(v)
        integral = ~np.isnan(v) & (np.abs(v - rounded) < 1e-9) & (np.abs(v) < 2.0**63)
    bad = bad | (~np.isnan(v) & ~integral)
    return pd.Series(np.where(integral, rounded, np.nan), index=t.index, name=t.name).astype("Int64"), bad


def enum_lookup(f: Field) -> dict:
    table: dict = {}
    for value in f.enum:
        names = [value, *f.spec.get("x-enum-labels", {}).get(value, {}).values(),
                 *f.spec.get("x-enum-aliases", {}).get(value, [])]
        for n in names:
            table.setdefault(norm_header(n), value)
    return table


def parse_enum(s: pd.Series, f: Field) -> tuple[pd.Series, pd.Series]:
    return _enum_of(*_cells(s), f)


def _enum_of(t: pd.Series, blank: np.ndarray, f: Field) -> tuple[pd.Series, pd.Series]:
    """An enum's value for each cell (its value, a label of either language or an alias,
    matched by norm_header, once per distinct text); a blank cell takes the field's default."""
    default = f.spec.get("default")
    fill = default if default is not None else ""
    n = len(t)
    if blank.all():
        return pd.Series([fill] * n, index=t.index, dtype=object, name=t.name), _mask(np.zeros(n, bool), t, t.name)
    table = enum_lookup(f)
    codes, uniques = pd.factorize(t)
    found = np.array([table.get(norm_header(u)) for u in uniques] + [None], dtype=object)
    out = found[codes]                        # code -1 (a missing value): the None at the end
    bad = ~blank & (out == None)  # noqa: E711  (elementwise: which cells name no value)
    out[blank] = fill
    out[out == None] = ""  # noqa: E711
    return pd.Series(out, index=t.index, dtype=object, name=t.name), _mask(bad, t, t.name)


def _month_of(value):
    """"2026-10" for anything with a year and a month (date, Timestamp, Period of any frequency)."""
    if hasattr(value, "year") and hasattr(value, "month"):
        return f"{int(value.year):04d}-{int(value.month):02d}"
    return value


_YM = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$|^(\d{4})(\d{2})$"


_ISO_MONTH = r"\d{4}-\d{1,2}(?:-\d{1,2}(?:[\sT].*)?)?"


def parse_months(s: pd.Series, iso: bool = False) -> tuple[pd.Series, pd.Series]:
    """A column of months (x-kind month) -> (month as "YYYY-MM" text, mask of non-blank values
    that are not months). The one month rule (parse_month is this rule for one value):

    * a year and a month: 2026-10, 2026-1, 2026/10, 2026.10, 2026年10月, 202610;
    * a date in any form :func:`parse_date` reads, or the text of a date, Timestamp or Period
      (Excel turns a typed 2026-10 into the date 2026-10-01): its month;
    * but not a bare number other than yyyymm or yyyymmdd: 2026 alone is a year, not the Excel
      serial of a day in 1905;
    * the year within the dates a date column holds (1678..2261);
    * ``iso``: a month given to a command (--month, the StatementMonth cell) is written the ISO
      way, 2026-10 or a date 2026-10-15 (or a date object); the other forms are refused there."""
    blank = _blank(s)
    if s.dtype == object:  # a date, Timestamp or Period object (not text) is its month
        objects = ~blank & ~s.map(lambda v: isinstance(v, str)).astype(bool)
        if objects.any():
            s = s.copy()
            s[objects] = s[objects].map(_month_of)
    t = _nfkc(s.where(~blank).astype("str").str.strip())
    parts = t.str.extract(_YM)
    year = pd.to_numeric(parts[0].fillna(parts[2]), errors="coerce")
    mon = pd.to_numeric(parts[1].fillna(parts[3]), errors="coerce")
    todo = ~blank & year.isna() & ~t.str.fullmatch(_SERIAL).fillna(False).astype(bool)
    if todo.any():
        d, _ = parse_date(t[todo])
        year.loc[todo], mon.loc[todo] = d.dt.year, d.dt.month
    ok = year.between(FIRST_DAY.year + 1, LAST_DAY.year - 1) & mon.between(1, 12)
    if iso:
        ok &= t.str.fullmatch(_ISO_MONTH).fillna(False).astype(bool)
    text = year.where(ok).map(lambda y: "" if pd.isna(y) else f"{int(y):04d}") + "-" + \
        mon.where(ok).map(lambda m: "" if pd.isna(m) else f"{int(m):02d}")
    out = text.where(ok, "").astype(object)
    return out, ~blank & ~ok


BOOL_WORDS = {"yes": True, "y": True, "true": True, "1": True, "是": True, "开": True, "on": True,
              "no": False, "n": False, "false": False, "0": False, "否": False, "关": False, "off": False}


def parse_column(s: pd.Series, f: Field) -> tuple[pd.Series, pd.Series]:
    """Typed column + mask of unreadable values, by the field's x-kind."""
    if f.kind == "month":
        return parse_months(s)
    return _column_of(*_cells(s), f)


_NOT_TEXT = ("date", "money", "int", "number", "price", "enum", "month")


def _column_of(t: pd.Series, blank: np.ndarray, f: Field) -> tuple[pd.Series, pd.Series]:
    """parse_column over cells already read (``_cells``); not for months (parse_months reads
    date objects as well as text)."""
    kind = f.kind
    if kind == "date":
        return _date_of(t, blank)
    if kind == "money":
        return _money_of(t, blank)
    if kind == "int":
        return _int_of(t, blank)
    if kind in ("number", "price"):
        return _number_of(t, blank)
    if kind == "enum":
        return _enum_of(t, blank, f)
    return _text_of(t, blank), _mask(np.zeros(len(t), bool), t)


# the dtype of a typed column by its kind (text and the rest: object); with what a blank is
_KIND_DTYPE = {"date": ("datetime64[ns]", pd.NaT), "money": ("Int64", pd.NA), "int": ("Int64", pd.NA),
               "number": ("float64", np.nan), "price": ("float64", np.nan)}


def empty_typed(f: Field, n: int, index) -> pd.Series:
    if f.kind in _KIND_DTYPE:
        dtype, blank = _KIND_DTYPE[f.kind]
        return pd.Series(blank, index=index, dtype=dtype)
    default = f.spec.get("default", "")
    return pd.Series([default] * n, index=index, dtype=object)


def empty_frame(spec: SheetSpec) -> pd.DataFrame:
    """A typed frame of no rows: the spec's columns in the dtypes ``empty_typed`` gives them, and
    ``_row``; built from empty arrays (a Series per column cost ~0.7 ms a sheet, and a ledger
    without Payers, Interactions or Confirmations builds three)."""
    cols: dict = {}
    for f in spec.fields:
        dtype = _KIND_DTYPE.get(f.kind, (object, None))[0]
        cols[f.key] = pd.array([], dtype=dtype) if dtype == "Int64" else np.empty(0, dtype)
    cols["_row"] = np.empty(0, "int64")
    return pd.DataFrame(cols)


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
    cells = _sheet_cells(body[mapped])   # every mapped cell read once: the rows, then each column
    keep = cells.nonblank
    body = body[keep]
    problems: list[Problem] = []
    # total rows: a cell of the row (in any column, a 序号 column too) saying 合计/总计/Total
    if len(body):
        n_all = len(keep)
        hit = np.asarray(_total_cells(cells.text, len(mapped), n_all).any(axis=0))[keep]
        others = [c for c in body.columns if c not in set(mapped)]
        if others:
            hit |= _total_rows(body[others])
        if hit.any():
            for idx in body.index[hit]:
                problems.append(problem(raw.name, raw.row0 + idx, "", "", "total_row_skipped", "warning", lang,
                                        cell=f"A{raw.row0 + idx}"))
            body = body[~hit]
            keep = keep.copy()
            keep[np.flatnonzero(keep)[hit]] = False
    out = {}
    n = len(body)
    at = {pos: j for j, pos in enumerate(mapped)}
    texts = [at[pos_of[f.key]] for f in spec.fields if f.key in pos_of and f.kind not in _NOT_TEXT]
    date_cols = [at[pos_of[f.key]] for f in spec.fields if f.key in pos_of and f.kind == "date"]
    dates = cells.dates(date_cols, keep, body.index) if len(date_cols) > 1 else {}
    for f in spec.fields:
        pos = pos_of.get(f.key)
        if pos is None:
            out[f.key] = empty_typed(f, n, body.index)
            continue
        if f.kind == "month":   # parse_months reads date objects too: from the column as it is
            col, bad = parse_months(body[pos])
        elif at[pos] in dates:   # the sheet's date columns, read together
            col, bad = dates[at[pos]]
        elif f.kind in _NOT_TEXT:
            col, bad = _column_of(*cells.column(at[pos], keep, body.index), f)
        else:   # text of any kind: the Python objects converted for the whole sheet at once
            col, bad = _text_column(cells.objects(at[pos], keep, texts), cells.blank_at(at[pos], keep), body.index), None
        out[f.key] = col
        if bad is not None and bad.any():
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


def parse_month(value) -> str:
    """'2026-10', '2026-1', '2026-10-15', a date, Timestamp or Period -> '2026-10'; ValueError
    for a blank or anything else. The month rule of :func:`parse_months` (``iso``: a month given
    to a command) for one value: the CLI, the Excel button and core statements/dashboard use it."""
    out, bad = parse_months(pd.Series([value], dtype=object), iso=True)
    if bad.iat[0] or not out.iat[0]:
        raise ValueError(f"month must be YYYY-MM, not {value!r}")
    return out.iat[0]
