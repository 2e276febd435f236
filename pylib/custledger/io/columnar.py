"""Columnar sheet bodies: the data rows of a tabular SheetOut as worksheet XML, built from whole
columns with Arrow string kernels instead of one xlsxwriter call per cell.

xlsxwriter costs ~10–40 µs of Python per cell; a 900,000-row Allocations sheet is 8 M cells.
Here each column becomes an Arrow array of cell XML fragments in a few vectorised passes
(numbers and dates formatted, text escaped), the fragments of a row are joined element-wise,
and the rows of a chunk are the bytes of the joined array's data buffer.

The sheet around the rows — column widths and styles, header row, freeze pane, table part,
autofilter, print setup, note comment, protection — is still drawn by xlsxwriter
(io/xlsxsheets.write_sheet_out without its data loop), so styles and structure are the ones of
the xlsxwriter path; io/xlsxpatch inserts these rows before ``</sheetData>`` while
transplanting the sheet, with the cell styles already mapped to the target workbook.

Cells are written as the xlsxwriter path writes them (io/xlsxsheets.write_sheet_out):

- blank (None, NaN, NA, NaT): no cell; text, also "" and text starting with = + - @: an inline
  string (``t="inlineStr"``), never a formula; & < > escaped, XML-invalid control characters
  and a literal ``_xHHHH_`` escaped as Excel does (``_x0001_``, ``_x005F_x0001_``), the
  ``xml:space="preserve"`` attribute when the text starts or ends with white space, text longer
  than Excel's 32,767 UTF-16 units cut there;
- numbers in the column's number format, as ``%.16G`` (xlsxwriter's precision: a number that
  needs 17 significant digits is rounded to 16); booleans ``t="b"``;
- dates and datetimes as Excel serial numbers (1900 system) in the column's date format.

- a link column's cell with a target (``internal:`` links to cells of the workbook, the first
  MAX_LINKS rows): its text as a string in the link format, and a ``<hyperlink ref location
  display>`` element, as xlsxwriter's ``write_url(..., string=str(v))``. In a sheet with a link
  to a file (``external:``), the same text cells, while every link of the sheet is recorded by
  xlsxwriter's write_url without its cell (ColumnarBody.write_links): xlsxwriter writes the
  ``<hyperlinks>`` element and the relationships to the files as it always did.

Not for laid-out sheets (Card, Dashboard) (see ``eligible``): those stay with xlsxwriter, as do
sheets whose link targets write_url would refuse, and columns whose values are none of the
above (then the whole sheet does).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from ..contract import FORMATS, SheetOut
from ..core.optional_arrow import arrow, string_bytes

CHUNK_ROWS = 50_000
BATCH_VALUES = 100_000    # number or text cells of a sheet's columns formatted in one go (see _batched)
MIN_ROWS = 50             # below this xlsxwriter is as quick (a close of 240 customers: its 170-380-row
                          # sheets saved in ~0.2 s instead of ~0.35 s with xlsxwriter cell by cell)
STR_MAX = 32767           # Excel's limit, in UTF-16 code units
_EXCEL_EPOCH = np.datetime64("1899-12-31", "ns")
_FIRST_SAFE_DATE = pd.Timestamp("1900-03-01")   # before it, Excel's 1900 leap-year bug shifts serials
# the characters written as _xHHHH_ (and a literal _xHHHH_), in RE2 for Arrow's kernels
CONTROL_RE2 = r"[\x00-\x08\x0b-\x1f\x{FFFE}\x{FFFF}]|_x[0-9a-fA-F]{4}_"
# Python's str.isspace() set (xlsxwriter tests r"^\s" / r"\s$" on str): RE2's \s is ASCII only
_SPACE = (r"[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}"
          r"\x{205F}\x{3000}]")
_RE_CONTROL_1 = re.compile("(_x[0-9a-fA-F]{4}_)")
_RE_CONTROL_2 = re.compile(r"([\x00-\x08\x0b-\x1f])")


def available() -> bool:
    """pyarrow is there (not on Pyodide/xlwings Lite: that writer is the xlwings adapter)."""
    return arrow()[0] is not None


MAX_LINKS = 65000        # as io/xlsxsheets: Excel allows 65,530 links a sheet; later rows get plain text


def _internal(target) -> bool:
    return isinstance(target, str) and target.startswith("internal:") and "#" not in target and len(target) <= 255


MAX_URL = 255            # xlsxwriter's max_url_length is never below this (2079 by default)
MAX_SHEET_URLS = 65530   # xlsxwriter's limit of links a sheet


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _writer_link(target) -> bool:
    """A target xlsxwriter's write_url surely records (returns 0 for): its parts before and after
    '#' within MAX_URL UTF-16 units. Past its max_url_length it refuses one and leaves the cell
    unwritten; a longer target keeps the sheet on the cell-by-cell path, which does just that."""
    if not isinstance(target, str):
        return False
    url, _, anchor = target.partition("#")
    return _utf16_len(url) <= MAX_URL and _utf16_len(anchor) <= MAX_URL


def _writer_links(out: SheetOut) -> bool:
    """The sheet has a link that is not to a cell of the workbook (a file, a web page): all its
    links are then recorded by xlsxwriter (ColumnarBody.write_links)."""
    return any(t and not _internal(t) for targets in out.links.values() for t in (targets or ())[:MAX_LINKS])


def eligible(out: SheetOut, min_rows: int | None = None, file_links: bool = False) -> bool:
    """A tabular sheet of at least ``min_rows`` (MIN_ROWS) rows whose link targets (if any) are
    links to cells of the workbook, and pyarrow present. ``file_links``: links to files (any
    target xlsxwriter's write_url takes) too, for a writer that then calls
    ColumnarBody.write_links on the sheet's worksheet (io/xlsxsheets.write_sheet_out does)."""
    min_rows = MIN_ROWS if min_rows is None else min_rows
    if out.draw is not None or len(out.data) < min_rows or not len(out.headers):
        return False
    if _writer_links(out):
        if not file_links:
            return False
        targets = [t for ts in out.links.values() for t in (ts or ())[:MAX_LINKS] if t]
        if len(targets) > MAX_SHEET_URLS or not all(_writer_link(t) for t in targets):
            return False
    return available()


def escape_control(text: str) -> str:
    """xlsxwriter's escaping of control characters (and of literal _xHHHH_) in strings."""
    text = _RE_CONTROL_1.sub(r"_x005F\1", text)
    text = _RE_CONTROL_2.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    return text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")


def _truncate(text: str) -> str:
    """Cut at STR_MAX UTF-16 units (a surrogate pair is not split)."""
    units = text.encode("utf-16-le")
    if len(units) <= 2 * STR_MAX:
        return text
    return units[: 2 * STR_MAX].decode("utf-16-le", errors="ignore")


class NotColumnar(ValueError):
    """A column holds values this writer does not write (the sheet goes through xlsxwriter)."""


class _Column:
    """One column's cells, ready to be put in rows. (A plain class: a dataclass costs ~0.5 ms of
    every run's start.)"""

    __slots__ = ("letter", "kind", "values", "style", "type_attr", "is_num", "is_date", "date_style", "links",
                 "link_style")

    def __init__(self, letter: str, kind: str, values: Any, style: object, type_attr: Any = None,
                 is_num: Any = None, is_date: Any = None, date_style: object = None, links: Any = None,
                 link_style: object = None) -> None:
        self.letter = letter
        self.kind = kind                # number | date | text | bool | mixed
        self.values = values            # pyarrow StringArray of the <v>/<is> content (null = no cell)
        self.style = style              # the xlsxwriter Format of numbers/dates (None: no s attribute)
        self.type_attr = type_attr      # mixed columns: pyarrow array of ' t="..."' per cell
        self.is_num = is_num            # mixed columns: cells written as numbers (style), as dates (date_style)
        self.is_date = is_date
        self.date_style = date_style
        self.links = links              # link columns: bool mask of the cells written as links
        self.link_style = link_style


def _numbers(values: np.ndarray):
    """float64 -> Arrow strings as xlsxwriter writes them (``%.16G``), null for NaN."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(arr)
    if (~finite & ~np.isnan(arr)).any():
        raise NotColumnar("infinite number")
    text = pc.cast(pa.array(arr, mask=~finite), pa.string())   # shortest round-trip form
    # the shortest form has 17 significant digits where %.16G rounds: format those like xlsxwriter
    # (counted only when a value's text is long enough to hold 17 digits)
    sizes = _utf8_bytes(text)[1]
    if sizes is not None and (not len(sizes) or sizes.max() <= 16):
        long = np.zeros(len(arr), dtype=bool)
    else:
        digits = pc.utf8_length(pc.replace_substring_regex(
            pc.replace_substring_regex(text, r"e.*$|[-.]", ""), r"^0+", ""))
        long = np.asarray(pc.fill_null(pc.greater(digits, 16), False))
    if long.any():
        fixed = text.to_numpy(zero_copy_only=False).astype(object)
        fixed[long] = [f"{v:.16G}" for v in arr[long]]
        text = pa.array(fixed, type=pa.string(), mask=~finite)
    return text


def _serials(stamps: pd.Series) -> np.ndarray:
    """datetime64 -> Excel serial days (xlsxwriter's arithmetic: days + seconds/86400, +1 after
    1900-02-28), NaN for NaT. Callers keep dates before 1900-03-01 out (NotColumnar)."""
    ns = stamps.to_numpy(dtype="datetime64[ns]")
    nat = np.isnat(ns)
    delta = (ns - _EXCEL_EPOCH).astype("timedelta64[ns]").astype(np.int64)
    days = delta // 86_400_000_000_000
    rest = delta - days * 86_400_000_000_000
    seconds = rest // 1_000_000_000
    micros = (rest - seconds * 1_000_000_000) // 1000
    out = days + (seconds.astype(np.float64) + micros.astype(np.float64) / 1e6) / (60 * 60 * 24)
    out = out + 1.0      # Excel's day 60 (1900-02-29) does not exist but is counted
    out[nat] = np.nan
    return out


def _date_serials(series: pd.Series) -> np.ndarray:
    stamps = pd.to_datetime(series, errors="raise")
    if getattr(stamps.dt, "tz", None) is not None:
        raise NotColumnar("time zone")
    present = stamps.notna()
    if present.any() and (stamps[present] < _FIRST_SAFE_DATE).any():
        raise NotColumnar("date before 1900-03-01")
    return _serials(stamps)


def _dates(series: pd.Series):
    return _numbers(_date_serials(series))


def _number_values(series: pd.Series) -> np.ndarray:
    """A number column as float64 (NaN for a blank)."""
    if isinstance(series.dtype, np.dtype) and series.dtype in (np.float64, np.int64):
        return series.to_numpy(dtype="float64")   # what the general rule below gives, without its copies
    return pd.to_numeric(series.astype(object), errors="raise").to_numpy(dtype="float64", na_value=np.nan)


def _texts(series: pd.Series):
    """Text -> Arrow strings of the <is> element content: <t> or <t xml:space="preserve">."""
    return _text_values(series.astype(object).to_numpy())


def _text_values(obj: np.ndarray):
    """_texts of an object array (str, or None / NaN for a blank)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = pa.array(obj, type=pa.string(), from_pandas=True)
    except (pa.ArrowException, UnicodeError) as exc:   # e.g. a lone surrogate
        raise NotColumnar(str(exc)) from None
    # Each check below is first asked of all the column's UTF-8 bytes at once, and only made
    # value by value when those bytes could match (they rarely can).
    data, sizes = _utf8_bytes(text)
    if data is None or _may_need_escape(data):
        special = np.asarray(pc.fill_null(pc.match_substring_regex(text, CONTROL_RE2), False))
    else:
        special = np.zeros(len(obj), dtype=bool)
    if sizes is None or (len(sizes) and sizes.max() > STR_MAX // 2):   # a value's characters are at most its bytes
        long = np.asarray(pc.fill_null(pc.greater(pc.utf8_length(text), STR_MAX // 2), False))
    else:
        long = np.zeros(len(obj), dtype=bool)
    if special.any() or long.any():
        fixed = obj.copy()
        for i in np.flatnonzero(long):
            fixed[i] = _truncate(fixed[i])
        for i in np.flatnonzero(special):
            fixed[i] = escape_control(fixed[i])
        text = pa.array(fixed, type=pa.string(), mask=pd.isna(obj))
        data = _utf8_bytes(text)[0]
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        if data is None or char.encode() in data:
            text = pc.replace_substring(text, char, entity)
    preserve = pc.fill_null(pc.or_(pc.match_substring_regex(text, "^" + _SPACE),
                                   pc.match_substring_regex(text, _SPACE + "$")), False)
    open_tag = pc.if_else(preserve, '<is><t xml:space="preserve">', "<is><t>")
    return pc.binary_join_element_wise(open_tag, text, "</t></is>", "")


def _utf8_bytes(text) -> tuple[bytes | None, np.ndarray | None]:
    """The UTF-8 bytes of a StringArray's values (nulls add none) and each value's byte size;
    (None, None) for anything else (a chunked array past 2 GiB: every check value by value)."""
    import pyarrow as pa

    if not isinstance(text, pa.Array) or text.type != pa.string():
        return None, None
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset: text.offset + len(text) + 1] \
        if len(text) else np.zeros(1, dtype=np.int32)
    data = text.buffers()[2]
    body = bytes(memoryview(data)[offsets[0]:offsets[-1]]) if data is not None and len(text) else b""
    return body, np.diff(offsets)


# every byte but the control characters CONTROL_RE2 matches (below 0x20 but tab and line feed)
_NOT_CONTROL = bytes([0x09, 0x0A]) + bytes(range(0x20, 0x100))


def _may_need_escape(data: bytes) -> bool:
    """Whether any value could match CONTROL_RE2: a control byte (never part of a longer UTF-8
    character), "_x", or the UTF-8 of U+FFFE / U+FFFF."""
    if b"_x" in data or b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data:
        return True
    return bool((np.frombuffer(data, dtype=np.uint8) < 0x20).any()) and bool(data.translate(None, _NOT_CONTROL))


def _classify(series: pd.Series) -> str:
    if series.dtype == bool:
        return "bool"
    if pd.api.types.is_numeric_dtype(series.dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "date"
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    return {"string": "text", "empty": "empty", "floating": "number", "integer": "number",
            "mixed-integer-float": "number", "boolean": "bool", "datetime": "date", "date": "date",
            "datetime64": "date"}.get(inferred, "mixed")


def _column(series: pd.Series, letter: str, number_fmt, date_fmt) -> _Column:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = _classify(series)
    if kind == "empty":
        return _Column(letter, "text", pa.nulls(len(series), pa.string()), None)
    if kind == "number":
        return _Column(letter, kind, _numbers(_number_values(series)), number_fmt)
    if kind == "bool":
        vals = series.astype(object)
        # numpy's stubs refuse None as a choice; object arrays take it
        text = pa.array(np.where(pd.isna(vals), None, np.where(vals.fillna(False).astype(bool), "1", "0")),  # type: ignore[call-overload]
                        type=pa.string())
        return _Column(letter, kind, text, None)
    if kind == "date":
        return _Column(letter, kind, _dates(series), number_fmt or date_fmt)
    if kind == "text":
        return _Column(letter, kind, _texts(series), None)
    # mixed: xlsxwriter decides per value (str, bool, number, date, else str(v))
    obj = series.astype(object)
    types = obj.map(type)
    null = obj.isna().to_numpy()
    is_str = types.map(lambda t: issubclass(t, str)).to_numpy() & ~null
    is_bool = types.map(lambda t: issubclass(t, (bool, np.bool_))).to_numpy() & ~null
    is_num = types.map(lambda t: issubclass(t, (int, float)) and not issubclass(t, bool)).to_numpy() & ~null
    is_date = types.map(lambda t: issubclass(t, (dt.datetime, dt.date))).to_numpy() & ~null
    other = ~null & ~is_str & ~is_bool & ~is_num & ~is_date
    n = len(obj)
    as_text = obj.where(is_str | other, None).map(lambda v: v if v is None or isinstance(v, str) else str(v))
    parts = [
        (is_str | other, _texts(as_text), ' t="inlineStr"'),
        (is_bool, pa.array(np.where(obj.where(is_bool, False).astype(bool), "1", "0"), type=pa.string()), ' t="b"'),
        (is_num, _numbers(pd.to_numeric(obj.where(is_num, np.nan), errors="coerce").astype("float64").to_numpy()), ""),
        (is_date, _dates(obj.where(is_date, None)), ""),
    ]
    values = pa.nulls(n, pa.string())
    type_attr = pa.nulls(n, pa.string())
    for mask, arr, t_attr in parts:
        if mask.any():
            m = pa.array(mask)
            values = pc.if_else(m, arr, values)
            type_attr = pc.if_else(m, pa.scalar(t_attr), type_attr)
    return _Column(letter, "mixed", values, number_fmt, type_attr=type_attr, is_num=is_num, is_date=is_date,
                   date_style=number_fmt or date_fmt)


class _Pending:
    """A number, date or text column whose cell text is made with the sheet's others of its kind."""

    __slots__ = ("letter", "kind", "values", "style")

    def __init__(self, letter: str, kind: str, values: np.ndarray, style: object) -> None:
        self.letter = letter
        self.kind = kind        # number | date | text
        self.values = values    # float64 (numbers, date serials) or object (text)
        self.style = style


def _pending(series: pd.Series, letter: str, number_fmt, date_fmt) -> _Column | _Pending:
    """The column, or what it takes to make it in one batch with the sheet's other columns of
    its kind (see _batched)."""
    kind = _classify(series)
    if kind == "number":
        return _Pending(letter, kind, _number_values(series), number_fmt)
    if kind == "date":
        return _Pending(letter, kind, _date_serials(series), number_fmt or date_fmt)
    if kind == "text":
        return _Pending(letter, kind, series.astype(object).to_numpy(), None)
    return _column(series, letter, number_fmt, date_fmt)


def _batched(columns: list) -> list[_Column]:
    """The pending columns made: all number and date columns of the sheet in one _numbers call,
    all text columns in one _text_values call, then cut back into columns. Every step of those
    is value by value, so the cells are the ones column by column would give; what is saved is
    the fixed cost of each Arrow and pandas call (a few hundred µs a column, most of the time of
    a sheet of a few hundred rows)."""
    import pyarrow as pa

    out = list(columns)
    for kinds, make in ((("number", "date"), _numbers), (("text",), _text_values)):
        todo = [i for i, c in enumerate(out) if isinstance(c, _Pending) and c.kind in kinds]
        # batches of up to BATCH_VALUES values (a big sheet's columns go one by one: nothing
        # to save there, and its texts stay far below an Arrow string array's 2 GiB)
        batches: list[list[int]] = []
        size = BATCH_VALUES
        for i in todo:
            n = len(out[i].values)
            if size + n > BATCH_VALUES:
                batches.append([])
                size = 0
            batches[-1].append(i)
            size += n
        for batch in batches:
            parts = [out[i].values for i in batch]
            made = make(np.concatenate(parts) if len(parts) > 1 else parts[0])
            if isinstance(made, pa.ChunkedArray):
                made = made.combine_chunks()
            at = 0
            for i, part in zip(batch, parts):
                c = out[i]
                out[i] = _Column(c.letter, c.kind, made.slice(at, len(part)), c.style)
                at += len(part)
    return out


class ColumnarBody:
    """The data rows of one tabular SheetOut, prepared at build time (values formatted and
    escaped) and assembled when the sheet is transplanted (styles known then)."""

    def __init__(self, out: SheetOut, col_formats: list, date_format, link_format=None):
        from xlsxwriter.utility import xl_col_to_name

        self.rows = len(out.data)
        self.cols = len(out.headers)
        self.columns: list[_Column] = []
        self.hyperlinks: list = []     # pyarrow arrays of <hyperlink .../> elements (null: no link)
        self.by_writer = _writer_links(out)
        self.writer_links: list = []   # (column, rows, targets, texts) recorded by xlsxwriter (write_links)
        columns: list[_Column | _Pending] = []
        for j in range(self.cols):
            series = out.data[j].reset_index(drop=True)
            fmt = col_formats[j] if out.formats[j] in FORMATS else None
            targets = out.links.get(j)
            if targets is not None and any(targets[:MAX_LINKS]):
                columns.append(self._link_column(series, targets, xl_col_to_name(j), fmt, date_format, link_format))
            else:
                columns.append(_pending(series, xl_col_to_name(j), fmt, date_format))
        self.columns = _batched(columns)
        # A format gets its style index when a cell first uses it (xlsxwriter does this in each
        # write_*): the formats these cells use must be in the generated styles.
        for c in self.columns:
            for f in (c.style, c.date_style, c.link_style):
                if f is not None and hasattr(f, "_get_xf_index"):
                    f._get_xf_index()

    def _link_column(self, series: pd.Series, targets: list, letter: str, fmt, date_format, link_format) -> _Column:
        """A column whose cells with a target are links: the value's text, in the link format."""
        import pyarrow as pa

        n = len(series)
        target = np.fromiter((targets[i] if i < len(targets) else None for i in range(n)), dtype=object, count=n)
        values = series.astype(object).to_numpy()
        # a link where the target is neither blank nor "" and the cell is not blank (rows past MAX_LINKS: text)
        linked = ~pd.isna(target) & ~pd.isna(values) & (np.arange(n) < MAX_LINKS)
        linked &= np.fromiter((not (isinstance(t, str) and t == "") for t in target), dtype=bool, count=n)
        rows = np.flatnonzero(linked)
        text = values.copy()
        text[rows] = [v if isinstance(v, str) else str(v) for v in values[rows].tolist()]   # write_url's string=str(v)
        col = _column(pd.Series(text, dtype=object), letter, fmt, date_format)
        if col.kind not in ("text",) and linked.any():
            raise NotColumnar("a link column with values other than text")
        col.links, col.link_style = linked, link_format
        if self.by_writer:
            self.writer_links.append((letter, rows, target[rows].tolist(), text[rows].tolist()))
            return col
        location = np.full(n, None, dtype=object)
        location[rows] = [t[len("internal:"):] for t in target[rows].tolist()]
        shown = np.full(n, None, dtype=object)
        shown[rows] = text[rows]
        location, display = pa.array(location, type=pa.string()), pa.array(shown, type=pa.string())
        self.hyperlinks.append((letter, _attr(location), _attr(display)))
        return col

    def write_links(self, ws, link_format) -> None:
        """Record the links of a sheet linking to files on its xlsxwriter worksheet, as the cell
        by cell path does (``write_url(row, col, target, link_format, string=text)``), but without
        their cells (written here, column-wise): xlsxwriter then writes the same <hyperlinks>
        element and relationships (its ``ignore_write_string``, the switch its embed_image uses)."""
        from xlsxwriter.utility import xl_cell_to_rowcol

        for letter, rows, targets, texts in self.writer_links:
            col = xl_cell_to_rowcol(letter + "1")[1]
            ws.ignore_write_string = True
            try:
                for i, target, text in zip(rows.tolist(), targets, texts):
                    if ws.write_url(i + 1, col, target, link_format, string=text) != 0:
                        raise NotColumnar(f"xlsxwriter refused the link {target!r}")
            finally:
                ws.ignore_write_string = False

    def hyperlinks_xml(self, xf_of=None) -> bytes:
        """The ``<hyperlinks>`` element of the link columns (b"" when there are none)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not self.hyperlinks:
            return b""
        rownum = pc.cast(pa.array(np.arange(2, self.rows + 2, dtype=np.int64)), pa.string())
        # xlsxwriter writes them in row order, then column order
        per_col = [pc.binary_join_element_wise(f'<hyperlink ref="{letter}', rownum, '" location="', loc,
                                               '" display="', disp, '"/>', "")
                   for letter, loc, disp in self.hyperlinks]
        rows = pc.binary_join_element_wise(*[pc.fill_null(a, "") for a in per_col], "")
        body = string_bytes(rows)
        return b"<hyperlinks>" + body + b"</hyperlinks>" if body else b""

    def last_ref(self) -> str:
        from xlsxwriter.utility import xl_rowcol_to_cell

        return xl_rowcol_to_cell(self.rows, max(self.cols - 1, 0))

    def chunks(self, xf_of: Callable[[object], int | None], chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
        """Row XML in chunks; ``xf_of(format)`` gives the target workbook's style index."""
        import pyarrow as pa
        import pyarrow.compute as pc

        styles = []
        for c in self.columns:
            xf = xf_of(c.style) if c.style is not None else None
            styles.append(f' s="{xf}"' if xf else "")
        for lo in range(0, self.rows, chunk_rows):
            hi = min(lo + chunk_rows, self.rows)
            rownum = pc.cast(pa.array(np.arange(lo + 2, hi + 2, dtype=np.int64)), pa.string())
            cells = []
            for c, s_attr in zip(self.columns, styles):
                vals = c.values.slice(lo, hi - lo)
                if c.kind == "mixed":
                    d_attr = f' s="{xf_of(c.date_style)}"' if c.date_style is not None and xf_of(c.date_style) else ""
                    s_arr = pa.array(np.where(c.is_num[lo:hi], s_attr, np.where(c.is_date[lo:hi], d_attr, "")),
                                     type=pa.string())
                    cell = _mixed_cells(c.letter, rownum, s_arr, c.type_attr.slice(lo, hi - lo), vals)
                elif c.kind == "text" and c.links is not None:
                    link_xf = xf_of(c.link_style) if c.link_style is not None else None
                    s_link = pa.array(np.where(c.links[lo:hi], f' s="{link_xf}"' if link_xf else "", ""),
                                      type=pa.string())
                    cell = pc.binary_join_element_wise(f'<c r="{c.letter}', rownum, '"', s_link, ' t="inlineStr">',
                                                       vals, "</c>", "")
                elif c.kind == "text":
                    cell = pc.binary_join_element_wise(f'<c r="{c.letter}', rownum, '" t="inlineStr">', vals,
                                                       "</c>", "")
                elif c.kind == "bool":
                    cell = pc.binary_join_element_wise(f'<c r="{c.letter}', rownum, '" t="b"><v>', vals,
                                                       "</v></c>", "")
                else:
                    cell = pc.binary_join_element_wise(f'<c r="{c.letter}', rownum, f'"{s_attr}><v>', vals,
                                                       "</v></c>", "")
                cells.append(pc.fill_null(cell, ""))
            rows = pc.binary_join_element_wise('<row r="', rownum, '">', *cells, "</row>", "")
            yield string_bytes(rows)


def _attr(text):
    """xlsxwriter's escaping of attribute values: & " < > and line feeds."""
    import pyarrow.compute as pc

    for a, b in (("&", "&amp;"), ('"', "&quot;"), ("<", "&lt;"), (">", "&gt;"), ("\n", "&#xA;")):
        text = pc.replace_substring(text, a, b)
    return text


def _mixed_cells(letter, rownum, s_arr, t_attr, vals):
    import pyarrow.compute as pc

    is_text = pc.equal(t_attr, ' t="inlineStr"')
    open_v = pc.if_else(is_text, "", "<v>")
    close_v = pc.if_else(is_text, "", "</v>")
    return pc.binary_join_element_wise(f'<c r="{letter}', rownum, '"', s_arr, t_attr, ">", open_v, vals, close_v,
                                       "</c>", "")
