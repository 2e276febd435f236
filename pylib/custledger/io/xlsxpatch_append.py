"""Rows appended below the data of a person's input sheet (bank imports), at the XML level.

What an append writes (``RowAppend``: sheet, field -> column letter, field -> schema kind, rows):

- Where: the new rows start right after the last row of the sheet that holds a value (a cell
  with ``<v>``, ``<f>`` or ``<is>``), numbered on from there. Rows after it that hold no value
  (empty but styled rows, or the empty placeholder row of an Excel table such as the template's
  A1:I2) are filled, not skipped.
- An existing empty row at a target row number is *merged*: its attributes (height, row style,
  ``x14ac`` extras) and its cells in the columns not written stay as they were; ``spans`` (an
  optional hint that may no longer hold) is dropped; the cells in the columns written are
  replaced by the new ones. Empty rows after the new block stay byte for byte.
- Nothing else in the sheet's existing rows changes: the sheet is read twice, streaming; the
  first pass keeps only the last row holding a value and the empty rows after it within reach
  of the block (bounded memory); the second passes every byte through except the spliced
  ranges (``<dimension>``, the block of target rows or the insertion point before
  ``</sheetData>``; and the tail after it when marks are written too).
- Values by kind: money (int cents) -> the exact decimal text of cents / 100 ("1234.5"),
  never through a float; date -> the Excel serial number (days since 1899-12-30, or since
  1904-01-01 in a 1904-date workbook; a date before 1900-03-01 shifted by Excel's phantom
  29 Feb 1900; a date the workbook cannot hold is written as ISO text); int / number / price
  -> number; bool -> boolean; everything else (id, ref, text, list, enum, phone, ...) -> an
  inline string (``t="inlineStr"``), XML-escaped, control characters as ``_xHHHH_`` (and a
  literal ``_xHHHH_`` escaped as ``_x005F_xHHHH_``): an inline string is never a formula, so
  text that starts with = + - @ stays text. Blank values (None, NaN, NaT, "") leave the cell
  out; a row whose values are all blank is not written. Enums are written as the frame holds them: the caller converts keys to the labels of
  the workbook's language first.
- Styles: a new cell takes the style of the cell in its column in the last row holding a value
  (unless that row is the header: the header row given by the caller, a table's header row, or
  the only row holding a value), else the style of the merged row's own cell there, else the
  column's default style (``<col style>``), else none. A date cell whose style does not show a
  date gets a copy of that style with ``yyyy-mm-dd``; a money cell without any style gets
  ``#,##0.00`` (both merged into styles.xml by xlsxpatch_styles; re-runs reuse them).
- ``<dimension ref>`` grows to cover the new rows and columns. Each Excel table of the sheet
  that holds the old last row (or its header row, for an empty table) and shares a column with
  the append grows to the new last row (``ref``, and its ``autoFilter`` / ``sortState`` ref
  where they ended on the table's last row). A table with a totals row is refused
  (:class:`XlsxPatchError`): rows would have to go above the totals. Data validations,
  conditional formats and merged cells are left as they are (they usually cover whole columns
  or a large range). A sheet-level autoFilter (one not of a table) that covers the old last row
  grows to the new last row (``grow_sheet_autofilter``); a protected sheet still gets its rows
  (the import was asked for) and the caller is told (``sheet_protected``) so it can say so.
- Built column by column (append_block, resolve_styles, block_xml: numpy and Arrow kernels over
  whole columns, value by value only for odd values and for the rows merged into existing ones;
  without pyarrow, as on Pyodide, row by row); row_cells and cell_xml state the same rule cell by
  cell, and a test holds the two equal.
- Rows of the sheet must carry their ``r`` number (Excel, LibreOffice, openpyxl and xlsxwriter
  all write it); a sheet whose last rows lack it is refused rather than guessed.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from numbers import Integral, Real

import numpy as np
import pandas as pd

from custledger.contract import RowAppend  # noqa: F401  (the contract type, re-exported)
from custledger.core.money import format_cents, format_cents_series
from custledger.core.optional_arrow import arrow, string_bytes
from custledger.io.xlsxpatch_errors import XlsxPatchError
from custledger.io.xlsxpatch_marks import col_letters, parse_ref
from custledger.io.xlsxpatch_opc import (
    TAG_RE,
    decode_xml,
    esc_text,
    get_attr,
    parse_xml,
    set_attr,
    split_children,
)
from custledger.io.xlsxpatch_sheets import search_sheetdata_end

DATE_FORMAT = "yyyy-mm-dd"
MONEY_FORMAT = "#,##0.00"
MAX_TEXT = 32_767   # Excel's limit on the characters of a cell
NUMERIC_KINDS = {"int", "number", "price"}

_VALUE = re.compile(rb"<(?:[\w.\-]+:)?(?:v|f|is)[\s/>]")
_ROW_START = re.compile(rb"<(?:[\w.\-]+:)?row[\s/>]")
_SD_START = re.compile(rb"<((?:[\w.\-]+:)?)sheetData\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>")
_DIMENSION = re.compile(rb"<(?:[\w.\-]+:)?dimension\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_COL = re.compile(rb"<(?:[\w.\-]+:)?col\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_R_ATTR = re.compile(rb"""\sr\s*=\s*["']([0-9]+)["']""")
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_RANGE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})(?::\$?([A-Za-z]{1,3})\$?([0-9]{1,7}))?")
MAX_HEAD = 64 << 20  # bytes before <sheetData> we are willing to hold


# -- values ----------------------------------------------------------------------------------
def money_text(cents: int) -> str:
    """Integer cents as the exact decimal text of the amount: 123449 -> '1234.49', 123450 ->
    '1234.5', -5 -> '-0.05' (core/money's text, trailing zeros dropped: a cell's <v>)."""
    return format_cents(int(cents), thousands=False).rstrip("0").rstrip(".")


def _blank(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    if isinstance(v, str) and v == "":
        return True
    try:
        return bool(pd.isna(v)) if np.ndim(v) == 0 else False  # type: ignore[arg-type]  # any object has a ndim
    except (TypeError, ValueError):
        return False


def excel_text(s: str) -> str:
    """Text as the content of ``<t>``: XML-escaped, characters XML cannot hold as ``_xHHHH_``
    (Excel's escape), and a literal ``_xHHHH_`` protected as ``_x005F_xHHHH_``."""
    s = _CTRL.sub(lambda m: "_x005F_" if m.group(0) == "_" else f"_x{ord(m.group(0)):04X}_", s)
    return esc_text(s)


def _number_text(v: object, what: str) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, Integral):
        return str(int(v))
    if isinstance(v, Decimal):
        if not v.is_finite():
            raise XlsxPatchError(f"{what}: {v} is not a finite number")
        return format(v.normalize(), "f")
    if isinstance(v, Real):
        f = float(v)
        if not math.isfinite(f):
            raise XlsxPatchError(f"{what}: {f} is not a finite number")
        return str(int(f)) if f.is_integer() and abs(f) < 2**53 else repr(f)
    raise XlsxPatchError(f"{what}: {v!r} is not a number")


def _cents(v: object, what: str) -> int:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (Integral, Real, Decimal)):
        raise XlsxPatchError(f"{what}: money must be integer cents, not {v!r}")
    if isinstance(v, Integral):
        return int(v)
    if isinstance(v, Real) and not math.isfinite(float(v)):
        raise XlsxPatchError(f"{what}: {v} is not a finite amount")
    if v != int(v):  # type: ignore[arg-type]  # typeshed's Real has no __int__; every Real that reaches here does
        raise XlsxPatchError(f"{what}: money must be integer cents, not {v!r}")
    return int(v)  # type: ignore[arg-type]  # typeshed's Real has no __int__; every Real that reaches here does


_DAY_NS = 86_400 * 10**9


def _date_serial(v: object, date1904: bool, what: str) -> str | None:
    """Excel serial number text of a date / datetime, or None when the workbook cannot hold it."""
    try:
        ts = pd.Timestamp(v)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise XlsxPatchError(f"{what}: {v!r} is not a date") from exc
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    epoch = pd.Timestamp(1904, 1, 1) if date1904 else pd.Timestamp(1899, 12, 30)
    if ts < (epoch if date1904 else pd.Timestamp(1900, 1, 1)):
        return None
    days, rest = divmod((ts - epoch).value, _DAY_NS)
    if not date1904 and ts < pd.Timestamp(1900, 3, 1):
        days -= 1  # Excel counts a 29 Feb 1900 that never was
    return str(days) if not rest else repr(days + rest / _DAY_NS)


def _text_of(v: object) -> str:
    if isinstance(v, (list, tuple)):
        return ", ".join(_text_of(x) for x in v if not _blank(x))
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        return v.isoformat(sep=" ") if (v.hour, v.minute, v.second) != (0, 0, 0) else v.date().isoformat()
    return str(v)


@dataclass
class Cell:
    col: int          # 0-based column
    kind: str         # "money" | "date" | "number" | "bool" | "text"
    value: str        # <v> text, or the (escaped) text of an inline string
    xf: int = 0       # resolved style


def _klass(kind: str) -> str:
    if kind == "money":
        return "money"
    if kind == "date":
        return "date"
    if kind in NUMERIC_KINDS:
        return "number"
    if kind == "bool":
        return "bool"
    return "text"


def _fields(ra: RowAppend) -> list[tuple[str, int, str]]:
    """(field, 0-based column, class) of each field of *ra* the frame has, in column order."""
    fields: list[tuple[str, int, str]] = []
    seen: dict[int, str] = {}
    for key, letter in ra.columns.items():
        if key not in ra.rows.columns:
            continue
        try:
            if not re.fullmatch(r"[A-Za-z]{1,3}", str(letter).strip()):
                raise ValueError(letter)
            col = parse_ref(f"{str(letter).strip()}1")[1]
        except ValueError:
            raise XlsxPatchError(f"append to {ra.sheet!r}: {letter!r} is not a column letter (field {key!r})") from None
        if col in seen:
            raise XlsxPatchError(f"append to {ra.sheet!r}: fields {seen[col]!r} and {key!r} both in column {letter}")
        seen[col] = key
        fields.append((key, col, _klass(str(ra.kinds.get(key, "text")))))
    fields.sort(key=lambda f: f[1])
    return fields


def _blanks(values: np.ndarray) -> np.ndarray:
    """_blank over a column: None, NA, NaN, NaT and "" (whole column; per value only for odd objects)."""
    try:
        out = np.asarray(pd.isna(values), dtype=bool)
        if values.dtype == object:
            out = out | np.asarray(values == "", dtype=bool)
        return out
    except (TypeError, ValueError):
        return np.fromiter((_blank(v) for v in values), dtype=bool, count=len(values))


def _str(a: np.ndarray) -> np.ndarray:
    return a.astype(str).astype(object)


def money_texts(cents: np.ndarray) -> np.ndarray:
    """money_text over a column of int64 cents (object array of str)."""
    text = format_cents_series(pd.Series(cents.astype(np.int64)))
    return text.str.rstrip("0").str.rstrip(".").to_numpy(dtype=object)


def _date_texts(values: np.ndarray, date1904: bool) -> tuple[np.ndarray, np.ndarray]:
    """(serial text, or ISO date text where the workbook cannot hold the date; True where ISO)
    over naive datetime64 values (none blank): _date_serial column-wise."""
    ns = values.astype("datetime64[ns]")
    epoch = np.datetime64("1904-01-01", "ns") if date1904 else np.datetime64("1899-12-30", "ns")
    early = ns < (epoch if date1904 else np.datetime64("1900-01-01", "ns"))
    delta = (ns - epoch).astype(np.int64)
    days, rest = delta // _DAY_NS, delta % _DAY_NS
    if not date1904:
        days = days - (ns < np.datetime64("1900-03-01", "ns"))  # Excel's 29 Feb 1900 that never was
    out = _str(days)
    odd = np.flatnonzero(rest != 0)
    out[odd] = [repr(int(d) + int(r) / _DAY_NS) for d, r in zip(days[odd], rest[odd])]
    if early.any():
        out[early] = excel_texts(_str(ns[early].astype("datetime64[D]")))
    return out, early


def excel_texts(texts: np.ndarray) -> np.ndarray:
    """excel_text over an object array of str (Arrow kernels; the rare text holding a character
    to escape, one by one)."""
    pa, pc = arrow()
    try:
        if pa is None:  # Pyodide
            raise ValueError("no pyarrow")
        arr = pa.array(texts, type=pa.string())
    except (UnicodeError, ValueError):  # a lone surrogate
        return np.array([excel_text(t) for t in texts] + [None], dtype=object)[:-1]
    # which texts hold such a character: _CTRL as columnar states it for Arrow's RE2 (no
    # surrogates there: Arrow refuses them before); a run writing generated sheets has it loaded
    from .columnar import CONTROL_RE2

    special = np.asarray(pc.match_substring_regex(arr, CONTROL_RE2), dtype=bool)
    for op, rep in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        arr = pc.replace_substring(arr, op, rep)
    out = arr.to_numpy(zero_copy_only=False).astype(object)
    if special.any():
        out[special] = [excel_text(t) for t in texts[special]]
    return out


def _lengths(texts: np.ndarray) -> np.ndarray:
    """len() of each str of an object array (characters, as Excel's limit counts them here)."""
    pa, pc = arrow()
    try:
        if pa is None:  # Pyodide
            raise ValueError("no pyarrow")
        return np.asarray(pc.utf8_length(pa.array(texts, type=pa.string())), dtype=np.int64)
    except (UnicodeError, ValueError):  # a lone surrogate
        return np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))


def _column(ra: RowAppend, key: str, klass: str, date1904: bool) -> tuple[np.ndarray, np.ndarray]:
    """(cell content: <v> text or escaped inline text, None for no cell; True where the cell is an
    inline string) of one field of *ra*, by the rules of the module docstring. Whole-column for
    the frame contract's dtypes (int64 cents, datetime64, str); other values one by one."""
    series = ra.rows[key]
    raw = series.to_numpy()
    n = len(raw)
    values = np.full(n, None, dtype=object)
    text = np.zeros(n, dtype=bool)
    present = np.flatnonzero(~_blanks(raw))
    if not len(present):
        return values, text

    def what(i) -> str:  # i: a row position (int or numpy integer)
        return f"append to {ra.sheet!r}, row {int(i) + 1}, {key}"

    vals = raw[present]
    dtype = series.dtype
    if klass == "money" and pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        values[present] = money_texts(vals.astype(np.int64))
    elif klass == "money":
        values[present] = [money_text(_cents(v, what(i))) for i, v in zip(present, vals)]
    elif klass == "date" and pd.api.types.is_datetime64_dtype(dtype):
        values[present], text[present] = _date_texts(vals, date1904)
    elif klass == "date":
        for i, v in zip(present, vals):
            serial = _date_serial(v, date1904, what(i))
            if serial is None:  # before the workbook's epoch: ISO text rather than a wrong number
                values[i] = excel_text(pd.Timestamp(v).date().isoformat())  # type: ignore[arg-type]
                text[i] = True
            else:
                values[i] = serial
    elif klass == "number" and pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        values[present] = _str(vals.astype(np.int64))
    elif klass == "number":
        values[present] = [_number_text(v, what(i)) for i, v in zip(present, vals)]
    elif klass == "bool" and pd.api.types.is_bool_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        values[present] = np.where(vals.astype(bool), "1", "0").astype(object)
    else:
        if klass == "bool":
            flag = np.fromiter((isinstance(v, (bool, np.bool_)) for v in vals), dtype=bool, count=len(vals))
            values[present[flag]] = np.where(vals[flag].astype(bool), "1", "0").astype(object)
            present, vals = present[~flag], vals[~flag]
        texts = vals.astype(object).copy()
        if pd.api.types.infer_dtype(texts, skipna=False) != "string":  # not all str: one by one
            texts = np.array([v if type(v) is str else _text_of(v) for v in texts] + [None], dtype=object)[:-1]
        lengths = _lengths(texts)
        if (lengths > MAX_TEXT).any():
            k = int(np.flatnonzero(lengths > MAX_TEXT)[0])
            raise XlsxPatchError(f"{what(present[k])}: {lengths[k]} characters (Excel holds at most {MAX_TEXT})")
        keep = lengths > 0
        values[present[keep]] = excel_texts(texts[keep])
        text[present[keep]] = True
    return values, text


@dataclass
class Block:
    """The rows of the appends to one sheet, column-wise; rows whose values are all blank are
    left out. ``values[col]``: cell content or None (no cell); ``text[col]``: inline string."""

    n: int
    cols: list[int]
    klass: dict[int, str]
    values: dict[int, np.ndarray]
    text: dict[int, np.ndarray]
    xf: dict[int, np.ndarray] = field(default_factory=dict)     # resolved style of each cell
    need: dict[int, np.ndarray] = field(default_factory=dict)   # derived style asked for, or -1

    def used_cols(self) -> list[int]:
        """The columns holding at least one cell."""
        return [c for c in self.cols if (self.values[c] != None).any()]  # noqa: E711  (element-wise)

    def cells(self, i: int) -> list[Cell]:
        """Row *i* as Cells, in column order."""
        out = []
        for c in self.cols:
            v = self.values[c][i]
            if v is not None:
                xf = self.xf[c][i] if c in self.xf else 0
                out.append(Cell(c, "text" if self.text[c][i] else self.klass[c], v, int(xf)))
        return out


def _frame_columns(ra: RowAppend, date1904: bool) -> list[tuple[int, str, np.ndarray, np.ndarray]]:
    return [(col, klass, *_column(ra, key, klass, date1904)) for key, col, klass in _fields(ra)]


def append_block(ras: Iterable[RowAppend], date1904: bool) -> Block:
    """The rows of *ras* (in order) as one Block; rows whose values are all blank left out."""
    parts = []
    for ra in ras:
        columns = _frame_columns(ra, date1904)
        if not columns:
            continue
        keep = np.zeros(len(ra.rows), dtype=bool)
        for _, _, values, _ in columns:
            keep |= values != None  # noqa: E711  (element-wise)
        parts.append((int(keep.sum()), {col: (klass, values[keep], text[keep]) for col, klass, values, text in columns}))
    n = sum(k for k, _ in parts)
    cols = sorted({c for _, got in parts for c in got})
    block = Block(n, cols, {}, {c: np.full(n, None, dtype=object) for c in cols},
                  {c: np.zeros(n, dtype=bool) for c in cols})
    at = 0
    for k, got in parts:
        for c, (klass, values, text) in got.items():
            block.klass.setdefault(c, klass)
            block.values[c][at:at + k] = values
            block.text[c][at:at + k] = text
        at += k
    return block


def row_cells(ra: RowAppend, date1904: bool) -> list[list[Cell]]:
    """The cells of each row of *ra* (blank values left out), in column order."""
    out: list[list[Cell]] = [[] for _ in range(len(ra.rows))]
    for col, klass, values, text in _frame_columns(ra, date1904):
        for i in np.flatnonzero(values != None):  # noqa: E711  (element-wise)
            out[i].append(Cell(col, "text" if text[i] else klass, values[i]))
    return out


def resolve_styles(block: Block, source: dict[int, int], own: dict[int, dict[int, int]],
                   col_style: Callable[[int], int | None], formats: list, ask: Callable[[tuple[int, str]], int]) -> None:
    """Fill ``block.xf`` and ``block.need`` by the style rule of the module docstring: the source
    row's style in the column, else the merged row's own (``own``: block row -> its styles),
    else the column's; a date cell not showing a date and a money cell without a style ask
    (``ask``) for a derived style (its index, resolved after the style merge)."""
    from .xlsxpatch_styles import is_date_format

    for c in block.cols:
        base = np.full(block.n, -1, dtype=np.int64)
        if source.get(c) is not None:
            base[:] = source[c]
        else:
            default = col_style(c)
            base[:] = -1 if default is None else default
            for i, styles in own.items():
                if styles.get(c) is not None:
                    base[i] = styles[c]
        base[(base < 0) | (base >= len(formats))] = -1  # a style index the stylesheet does not have
        need = np.full(block.n, -1, dtype=np.int64)
        kind = np.where(block.text[c], "text", block.klass[c])
        present = block.values[c] != None  # noqa: E711  (element-wise)
        for b in np.unique(base):
            at = present & (base == b)
            if block.klass[c] == "date" and (b < 0 or not is_date_format(*formats[b])):
                want: tuple[int, str] | None = (max(int(b), 0), DATE_FORMAT)
                at &= kind == "date"
            elif block.klass[c] == "money" and b < 0:
                want = (0, MONEY_FORMAT)
                at &= kind == "money"
            else:
                want = None
            if want is not None and at.any():
                need[at] = ask(want)
        block.xf[c] = np.maximum(base, 0)
        block.need[c] = need


def block_xml(p: str, first_r: int, block: Block, merged: dict[int, str]) -> bytes:
    """The ``<row>`` XML of every row of *block*, UTF-8: cell_xml column-wise (Arrow kernels);
    the rows in *merged* (block row -> its XML, see merge_row) as given."""
    pa, pc = arrow()
    if pa is None:  # Pyodide: row by row
        return "".join(merged[i] if i in merged else
                       f'<{p}row r="{first_r + i}">' + "".join(cell_xml(p, first_r + i, c) for c in block.cells(i))
                       + f"</{p}row>" for i in range(block.n)).encode("utf-8")
    rnum = pc.cast(pa.array(np.arange(first_r, first_r + block.n, dtype=np.int64)), pa.string())
    parts = [pc.binary_join_element_wise(f"<{p}row r=\"", rnum, "\">", "")]
    for c in block.cols:
        values, text, xf = block.values[c], block.text[c], block.xf[c]
        present = values != None  # noqa: E711  (element-wise)
        if not present.any():
            continue
        styles, which = np.unique(xf, return_inverse=True)
        s_attr = pa.array([f' s="{x}"' if x else "" for x in styles.tolist()], type=pa.string()).take(
            pa.array(which.ravel()))
        v = pa.array(values, type=pa.string())  # null: no cell
        if text.any():
            stripped = pc.utf8_trim_whitespace(v)  # the characters str.strip() takes
            space = pc.if_else(pc.equal(v, stripped), "", ' xml:space="preserve"')
            as_text = pc.binary_join_element_wise(
                f'<{p}c r="{col_letters(c)}', rnum, '"', s_attr, f' t="inlineStr"><{p}is><{p}t', space, ">", v,
                f"</{p}t></{p}is></{p}c>", "")
        t_attr = ' t="b"' if block.klass[c] == "bool" else ""
        as_v = pc.binary_join_element_wise(f'<{p}c r="{col_letters(c)}', rnum, '"', s_attr, f"{t_attr}><{p}v>", v,
                                           f"</{p}v></{p}c>", "")
        cell = pc.if_else(pa.array(text), as_text, as_v) if text.any() else as_v
        parts.append(pc.fill_null(cell, ""))
    rows = pc.binary_join_element_wise(*parts, f"</{p}row>", "")
    if merged:
        at = np.zeros(block.n, dtype=bool)
        at[list(merged)] = True
        given = np.full(block.n, "", dtype=object)
        given[list(merged)] = list(merged.values())
        rows = pc.if_else(pa.array(at), pa.array(given, type=pa.string()), rows)
    return string_bytes(rows)


# -- pass 1: where the data ends -------------------------------------------------------------
@dataclass
class RowSeen:
    r: int
    start: int      # absolute offsets of the row (to the next row's start or </sheetData>)
    end: int
    xml: bytes


@dataclass
class SheetScan:
    """What pass 1 learnt about a sheet (offsets are into the decompressed part)."""

    prefix: str                       # main-namespace prefix used in sheetData ("" or "x:")
    sd_start: int = 0                 # <sheetData ...> start tag span
    sd_end: int = 0
    sd_empty: bool = False            # written as <sheetData/>
    head_len: int = 0                 # end of </sheetData> (as xlsxpatch_sheets.find_tail)
    tail: bytes = b""                 # everything after it
    dimension: tuple[int, int, bytes] | None = None   # (start, end, tag)
    col_styles: list[tuple[int, int, int]] = field(default_factory=list)  # <col>: lo, hi (0-based), style

    def col_style(self, col: int) -> int | None:
        """The default style of a column (its ``<col style>``), if it has one."""
        return next((s for lo, hi, s in self.col_styles if lo <= col <= hi), None)
    last: RowSeen | None = None       # last row holding a value
    first_value_r: int = 0            # number of the first row holding a value (0: none)
    trailing: list[RowSeen] = field(default_factory=list)  # empty rows after `last` within reach


def _row_number(row: bytes, what: str) -> int:
    end = row.find(b">")
    m = _R_ATTR.search(row, 0, end if end >= 0 else len(row))
    if m is None:
        raise XlsxPatchError(f"{what}: a row without its r= number near the end of the data; "
                             "open and save the workbook in Excel first")
    return int(m.group(1))


def _row_start_before(data: bytes, end: int, lo: int = 0) -> int:
    """Start of the last ``<row`` start tag that begins in data[lo:end], or -1."""
    i = end
    while True:
        i = data.rfind(b"row", lo, i)
        if i < 0:
            return -1
        j = data.rfind(b"<", lo, i)
        if j >= 0:
            m = _ROW_START.match(data, j, i + 4)
            if m is not None and m.end() == i + 4:
                return j


class _Scanner:
    def __init__(self, n: int, what: str) -> None:
        self.n = n
        self.what = what
        self.scan = SheetScan("")
        self.collecting = True   # still gathering empty rows after the last value row

    def portion(self, data: bytes, base: int) -> None:
        """Complete rows (data starts at a row start or after <sheetData>, ends at one or at
        </sheetData>), at absolute offset *base*."""
        sc = self.scan
        first = _VALUE.search(data)
        pos = 0
        if first is not None:
            if not sc.first_value_r:
                j = _row_start_before(data, first.start() + 1)
                if j >= 0:
                    sc.first_value_r = _row_number(data[j:], self.what)
            end = len(data)
            i = _row_start_before(data, end)
            while i >= 0 and _VALUE.search(data, i, end) is None:
                end = i
                i = _row_start_before(data, end)
            if i >= 0:
                sc.last = RowSeen(_row_number(data[i:end], self.what), base + i, base + end, data[i:end])
                sc.trailing = []
                self.collecting = True
                pos = end
        if not self.collecting:
            return
        limit = (sc.last.r if sc.last else 0) + self.n
        while True:
            m = _ROW_START.search(data, pos)
            if m is None:
                return
            nxt = _ROW_START.search(data, m.end())
            e = nxt.start() if nxt else len(data)
            row = data[m.start():e]
            r = _row_number(row, self.what)
            if r > limit:
                self.collecting = False
                return
            sc.trailing.append(RowSeen(r, base + m.start(), base + e, row))
            pos = e


def scan_sheet(chunks: Iterable[bytes], n: int, what: str) -> SheetScan:
    """Pass 1 over a worksheet part: the last row holding a value, the empty rows after it up
    to *n* rows further, the dimension, column styles, and (as find_tail) the tail."""
    sc_ = _Scanner(n, what)
    sc = sc_.scan
    buf, base, state = b"", 0, "head"
    tail: list[bytes] = []
    for chunk in chunks:
        if state == "tail":
            tail.append(chunk)
            continue
        buf += chunk
        if state == "head":
            m = _SD_START.search(buf)
            if m is None:
                if len(buf) > MAX_HEAD:
                    raise XlsxPatchError(f"{what}: no <sheetData> in the first {MAX_HEAD >> 20} MiB")
                continue
            head = buf[:m.start()]
            sc.prefix = m.group(1).decode()
            sc.sd_start, sc.sd_end, sc.sd_empty = m.start(), m.end(), bool(m.group(3))
            dm = _DIMENSION.search(head)
            if dm is not None:
                sc.dimension = (dm.start(), dm.end(), dm.group(0))
            for cm in _COL.finditer(head):
                tag = cm.group(0).decode("utf-8", "replace")
                style = get_attr(tag, "style")
                lo, hi = get_attr(tag, "min"), get_attr(tag, "max")
                if style and style.isdigit() and lo and lo.isdigit() and hi and hi.isdigit():
                    sc.col_styles.append((int(lo) - 1, int(hi) - 1, int(style)))
            if sc.sd_empty:
                sc.head_len = m.end()
                tail.append(buf[m.end():])
                state = "tail"
                continue
            buf, base, state = buf[m.end():], m.end(), "body"
        m = search_sheetdata_end(buf)
        if m is not None:
            sc_.portion(buf[:m.start()], base)
            sc.head_len = base + m.end()
            tail.append(buf[m.end():])
            state = "tail"
            continue
        k = _row_start_before(buf, len(buf))
        if k > 0:
            sc_.portion(buf[:k], base)
            buf, base = buf[k:], base + k
    if state != "tail":
        raise XlsxPatchError(f"{what}: worksheet without <sheetData>")
    sc.tail = b"".join(tail)
    return sc


# -- the rows --------------------------------------------------------------------------------
def cell_styles(row: bytes) -> dict[int, int]:
    """0-based column -> style of the cells of a row (cells without r= follow the previous)."""
    row_xml = decode_xml(row, "worksheet row")
    m = TAG_RE.match(row_xml)
    out: dict[int, int] = {}
    if m is None or m.group(4) == "/":
        return out
    col = -1
    for ch in split_children(row_xml[m.end():])[0]:
        if ch.name != "c":
            continue
        tm = TAG_RE.match(ch.text)
        assert tm is not None
        ref = get_attr(tm.group(0), "r")
        col = parse_ref(ref)[1] if ref else col + 1
        out[col] = int(get_attr(tm.group(0), "s") or 0)
    return out


def cell_xml(p: str, r: int, cell: Cell) -> str:
    s = f' s="{cell.xf}"' if cell.xf else ""
    ref = f"{col_letters(cell.col)}{r}"
    if cell.kind == "text":
        space = ' xml:space="preserve"' if cell.value != cell.value.strip() else ""
        return f'<{p}c r="{ref}"{s} t="inlineStr"><{p}is><{p}t{space}>{cell.value}</{p}t></{p}is></{p}c>'
    t = ' t="b"' if cell.kind == "bool" else ""
    return f'<{p}c r="{ref}"{s}{t}><{p}v>{cell.value}</{p}v></{p}c>'


def merge_row(p: str, r: int, old_xml: str, cells: list[Cell]) -> str:
    """An existing empty row with *cells* written in: its attributes and its other cells kept,
    ``spans`` dropped, cells in column order."""
    m = TAG_RE.match(old_xml)
    if m is None or m.group(2) is None:
        raise XlsxPatchError(f"row {r}: unreadable row element")
    tag = m.group(0)
    tag = re.sub(r"""\sspans\s*=\s*(?:"[^"]*"|'[^']*')""", "", tag)
    inner: list[tuple[int, str]] = []
    rest: list[str] = []
    closing = f"</{m.group(2)}>"
    if m.group(4) == "/":
        tag = tag[:-2].rstrip() + ">"
    else:
        chunks, closing_all = split_children(old_xml[m.end():])
        closing = closing_all[: closing_all.index(">") + 1]
        col = -1
        for ch in chunks:
            if ch.name == "c":
                tm = TAG_RE.match(ch.text)
                assert tm is not None
                ref = get_attr(tm.group(0), "r")
                col = parse_ref(ref)[1] if ref else col + 1
                text = ch.text if ref else set_attr(tm.group(0), "r", f"{col_letters(col)}{r}") + ch.text[tm.end():]
                inner.append((col, text))
            elif ch.name is not None:
                rest.append(ch.text)  # extLst
    ours = {c.col for c in cells}
    kept = [(col, text) for col, text in inner if col not in ours]
    merged = sorted(kept + [(c.col, cell_xml(p, r, c)) for c in cells], key=lambda x: x[0])
    return tag + "".join(text for _, text in merged) + "".join(rest) + closing


# -- tables and dimension ----------------------------------------------------------------------
def parse_range(ref: str) -> tuple[int, int, int, int] | None:
    """'A1:I2' -> (r1, c1, r2, c2), 1-based rows and 0-based columns; None if unreadable."""
    m = _RANGE.fullmatch(ref.strip())
    if m is None:
        return None
    try:
        r1, c1 = parse_ref(f"{m.group(1)}{m.group(2)}")
        r2, c2 = parse_ref(f"{m.group(3)}{m.group(4)}") if m.group(3) else (r1, c1)
    except ValueError:
        return None
    return min(r1, r2) + 1, min(c1, c2), max(r1, r2) + 1, max(c1, c2)


def range_text(r1: int, c1: int, r2: int, c2: int) -> str:
    a, b = f"{col_letters(c1)}{r1}", f"{col_letters(c2)}{r2}"
    return a if a == b else f"{a}:{b}"


@dataclass
class TableInfo:
    part: str
    name: str
    r1: int
    c1: int
    r2: int
    c2: int
    header_rows: int
    totals_rows: int


def table_info(data: bytes, part: str) -> TableInfo | None:
    root = parse_xml(data, part)
    rng = parse_range(root.get("ref", ""))
    if rng is None:
        return None
    return TableInfo(part, root.get("displayName") or root.get("name") or part, *rng,
                     int(root.get("headerRowCount", "1") or 1), int(root.get("totalsRowCount", "0") or 0))


def grow_table(data: bytes, part: str, new_r2: int) -> bytes:
    """A table part with its ref (and the autoFilter / sortState refs that ended on its last
    row) reaching *new_r2*; everything else as it was."""
    text = decode_xml(data, part)
    out, pos, old_r2 = [], 0, None
    for m in TAG_RE.finditer(text):
        if m.group(2) is None or m.group(1):
            continue
        name = m.group(2).split(":")[-1]
        if name not in ("table", "autoFilter", "sortState"):
            continue
        ref = get_attr(m.group(0), "ref")
        rng = parse_range(ref) if ref else None
        if rng is None:
            continue
        if name == "table":
            old_r2 = rng[2]
        elif rng[2] != old_r2:
            continue
        out.append(text[pos:m.start()] + set_attr(m.group(0), "ref", range_text(rng[0], rng[1], new_r2, rng[3])))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out).encode("utf-8")


_SHEET_AUTOFILTER = re.compile(rb"<(?:[\w.\-]+:)?autoFilter\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_SHEET_PROTECTION = re.compile(rb"<(?:[\w.\-]+:)?sheetProtection\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")


def grow_sheet_autofilter(tail: bytes, last_r: int, new_r2: int, c1: int, c2: int) -> bytes:
    """The sheet's tail with its sheet-level AutoFilter (not a table's: that one lives in the
    table part, see grow_table) grown to *new_r2* when it covers the old last row *last_r* and
    the appended columns: new rows outside the filter would be left out of every filter and
    sort a person applies. Any other tail comes back as it was."""
    m = _SHEET_AUTOFILTER.search(tail)
    if m is None:
        return tail
    text = m.group(0).decode("utf-8")
    rng = parse_range(get_attr(text, "ref") or "")
    if rng is None or not (rng[0] <= last_r <= rng[2] or rng[0] == rng[2] == last_r) or rng[2] >= new_r2:
        return tail
    if rng[3] < c1 or rng[1] > c2:
        return tail
    grown = set_attr(text, "ref", range_text(rng[0], rng[1], new_r2, rng[3])).encode("utf-8")
    return tail[:m.start()] + grown + tail[m.end():]


def sheet_protected(tail: bytes) -> bool:
    """The sheet is protected (``<sheetProtection sheet="1">``): Excel refuses edits to its
    locked cells, so rows added by custledger deserve a word to the person (see filebook)."""
    m = _SHEET_PROTECTION.search(tail)
    if m is None:
        return False
    return (get_attr(m.group(0).decode("utf-8", "replace"), "sheet") or "").lower() in ("1", "true")


def grow_dimension(tag: bytes, r2: int, c1: int, c2: int) -> bytes:
    text = tag.decode("utf-8")
    rng = parse_range(get_attr(text, "ref") or "")
    if rng is None:
        return tag
    new = range_text(rng[0], min(rng[1], c1), max(rng[2], r2), max(rng[3], c2))
    return set_attr(text, "ref", new).encode("utf-8")


__all__ = ["Block", "RowAppend", "SheetScan", "append_block", "block_xml", "cell_styles", "cell_xml", "grow_dimension", "grow_sheet_autofilter",
           "grow_table", "merge_row", "sheet_protected",
           "money_text", "resolve_styles", "row_cells", "scan_sheet", "table_info"]
