"""The xlwings adapter: a ledger workbook open in Excel (RunPython), in xlwings Lite, or sent as JSON.

Same interface as the file adapter (io/filebook.FileBook): ``read()`` returns the RawBook of the
input sheets, ``write(outs, marks, clear_marks_on)`` writes the generated sheets and the marks.
Every Excel round trip is bulk, never a loop over cells:

- read: one ``used_range`` value read per sheet, converted to the very text the file reader
  (fastexcel, ``dtypes="string"``) produces, with the same row0/col0, so Problems name the same
  rows and cells whichever way in was used;
- write: per generated sheet one ``setValues`` (header + rows), one number format per run of
  columns of the same kind, a table, one autofit; nothing is read back (xlwings' remote engine
  never sees its own writes).

Not every Excel client can do everything (docs/excel.md, /work/shared/docs/excel-clients.md):
``Caps`` says what the book at hand supports, decided from the payload the client sent (its
``client`` field names the code that will apply the actions; the sheets' ``notes`` lists say
whether that Excel has notes, per sheet). Desktop Excel (COM/AppleScript, RunPython) and Office.js
(xlwings Lite, add-ins) get fills, a hidden register sheet and frozen headers, and notes where
the payload carries them; the VBA / Office Scripts / Google Apps Script clients only know the
basic action set, so there the generated sheets are written plain and input cells are not marked
(a fill could not be taken off again without wiping the cells' number formats): the Problems
sheet, with its go-to links, still lists every cell. Google Apps Script throws on every table
action: no tables there. Nothing optional (marks, notes, tables, freeze panes, autofit) can fail
a run: what a client cannot do is skipped and the write's ``note`` says what.

Marks: a marked cell gets a fill (light red error, light yellow warning, as the file adapter's
conditional format) and, where the client supports notes, a note with the messages (not on a
cell that already has one). The cells marked are listed in the hidden sheet ``_custledger``
(sheet, address, kind, original colour); the next run restores those cells (original fill read
where the client can read colours, else no fill; our notes deleted) before marking anew. Text
that Excel would turn into something else on input (leading = + - @ ', numbers, dates, TRUE)
is written with a leading apostrophe, so it stays the text it is.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..contract import FORMATS, BookDefaults, SheetOut
from ..core.load import sheet_reader
from ..core.parse import col_index, col_letter
from .reader import RawBook, RawSheet
from .xlcaps import Caps, caps_of  # noqa: F401  (the adapter's capabilities, re-exported)
from .xlsxpatch_marks import FILL, combine

REGISTER = "_custledger"
REGISTER_HEADER = ["sheet", "address", "kind", "color"]
TABLE_STYLE = "TableStyleLight9"          # the file adapter's "Table Style Light 9"
MARK_COLOR = {sev: "#" + argb[2:] for sev, argb in FILL.items()}
MAX_MARK_RANGES = 2000                    # fills per run (rectangles); Problems lists every cell
MAX_NOTES = 500                           # notes are one call per cell: bounded
AUTOFIT_ROWS = 1000                       # autofit looks at the header and the first rows only
CHUNK_ROWS = 100_000                      # desktop Excel: very big blocks in chunks (COM limits)
EXCEL_TEXT_MAX = 32767


@dataclass(frozen=True)
class XlWriteInfo:
    target: str
    backup: None
    sheets: tuple
    marks: int
    note: str = ""           # what this client could not do and was skipped (run note)
    skipped: tuple = ()


# -- reading: cell values -> the file reader's text ------------------------------------------------
def cell_text(v):
    """One cell as fastexcel's ``dtypes="string"`` gives it (NaN for an empty cell)."""
    if v is None or v == "":
        return np.nan
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return np.nan
        return number_text(float(v))
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.strftime("%Y-%m-%d 00:00:00")
    if isinstance(v, dt.time):
        return v.strftime("%H:%M:%S")
    return str(v)


def number_text(x: float) -> str:
    """calamine's float text: 9 decimals, trailing zeros and point dropped (1001.0 -> '1001')."""
    s = f"{x:.9f}"
    s = s.rstrip("0").rstrip(".") if "." in s else s
    return s


def raw_sheet(name: str, values, row: int = 1, column: int = 1) -> RawSheet:
    """A 2-D block read at (row, column) (1-based) -> RawSheet trimmed as fastexcel trims:
    leading and trailing rows/columns without a value are dropped, row0/col0 say where it starts."""
    rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in (values or [])]
    width = max((len(r) for r in rows), default=0)
    if not rows or width == 0:
        return RawSheet(name=name, frame=pd.DataFrame(), row0=1, col0=0)
    grid = pd.DataFrame([r + [None] * (width - len(r)) for r in rows], dtype=object)
    text = grid.map(cell_text)
    filled = text.notna()
    rows_used = np.flatnonzero(filled.any(axis=1).to_numpy())
    cols_used = np.flatnonzero(filled.any(axis=0).to_numpy())
    if len(rows_used) == 0:
        return RawSheet(name=name, frame=pd.DataFrame(), row0=1, col0=0)
    r0, r1, c0, c1 = rows_used[0], rows_used[-1], cols_used[0], cols_used[-1]
    block = text.iloc[r0:r1 + 1, c0:c1 + 1]
    frame = pd.DataFrame({j: pd.Series(block.iloc[:, j].to_numpy(), dtype="str")
                          for j in range(block.shape[1])})
    return RawSheet(name=name, frame=frame, row0=int(row + r0), col0=int(column - 1 + c0))


# -- writing: Python values -> what Excel stores as typed ------------------------------------------
_MONTHISH = re.compile(r"[A-Za-z]{3,9}\.?[\s\-/,]*\d")
_BOOLISH = {"true", "false"}


def excel_text(s: str):
    """Text as a value Excel keeps as that text: a leading apostrophe where Excel would otherwise
    read a formula, number, date, time, boolean or error (the apostrophe is not stored)."""
    if s == "":
        return None
    s = s[:EXCEL_TEXT_MAX]
    first = s[0]
    if (first in "=+-@'$¥€£(.#" or first.isdigit() or first.isspace() or s.lower() in _BOOLISH
            or _MONTHISH.match(s)):
        return "'" + s
    return s


def _link_formula(target: str, text: str) -> str:
    """A link cell: ``internal:Sheet!A1`` a jump inside the workbook (``#``), ``external:path`` a
    file link by its path relative to the workbook's folder (Excel resolves it from there, so
    the workbook and its letters/statements folders move together)."""
    q = lambda t: t.replace('"', '""')  # noqa: E731
    if target.startswith("external:"):
        return f'=HYPERLINK("{q(target[len("external:"):])}","{q(text)}")'
    place = target[len("internal:"):] if target.startswith("internal:") else target
    return f'=HYPERLINK("#{q(place)}","{q(text)}")'


def out_rows(out: SheetOut) -> list[list]:
    """Header + data of a SheetOut as one 2-D list of Excel input values."""
    ncols = len(out.headers)
    columns = []
    for j in range(ncols):
        col = out.data[j].tolist() if j in out.data.columns else [None] * len(out.data)
        links = out.links.get(j)
        cells: list = []
        for i, v in enumerate(col):
            if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                cells.append(None)
            elif links is not None and links[i]:
                cells.append(_link_formula(links[i], str(v)))
            elif isinstance(v, str):
                cells.append(excel_text(v))
            elif isinstance(v, (bool, np.bool_)):
                cells.append(bool(v))
            elif isinstance(v, (np.integer, np.floating)):
                cells.append(v.item())
            elif isinstance(v, pd.Timestamp):
                cells.append(v.to_pydatetime())
            else:
                cells.append(v)
        columns.append(cells)
    header = [excel_text(str(h)) for h in out.headers]
    return [header, *map(list, zip(*columns))] if columns else [header]


def format_runs(formats: list) -> list[tuple[int, int, str]]:
    """(first, last, number format) for each run of adjacent columns with the same format."""
    runs: list = []
    for j, kind in enumerate(formats):
        fmt = FORMATS.get(kind)
        if fmt is None:
            continue
        if runs and runs[-1][1] == j - 1 and runs[-1][2] == fmt:
            runs[-1] = (runs[-1][0], j, fmt)
        else:
            runs.append((j, j, fmt))
    return runs


def mark_rectangles(cells: dict) -> list[tuple[int, int, int, int, str]]:
    """{(row0, col0): CellNote} -> (r0, c0, r1, c1, severity) rectangles: runs down a column,
    then runs of equal row span across adjacent columns (one fill call each)."""
    by_col = defaultdict(list)
    for (r, c), note in cells.items():
        by_col[(c, note.severity)].append(r)
    runs = []
    for (c, sev), rows in by_col.items():
        rows.sort()
        start = prev = rows[0]
        for r in rows[1:]:
            if r != prev + 1:
                runs.append((start, prev, c, sev))
                start = r
            prev = r
        runs.append((start, prev, c, sev))
    runs.sort(key=lambda t: (t[0], t[1], t[3], t[2]))
    rects: list = []
    for r0, r1, c, sev in runs:
        last = rects[-1] if rects else None
        if last and last[0] == r0 and last[2] == r1 and last[3] == c - 1 and last[4] == sev:
            rects[-1] = (r0, last[1], r1, c, sev)
        else:
            rects.append((r0, c, r1, c, sev))
    return rects


def a1(r0: int, c0: int, r1: int | None = None, c1: int | None = None) -> str:
    top = f"{col_letter(c0)}{r0 + 1}"
    if r1 is None or (r1 == r0 and c1 == c0):
        return top
    assert c1 is not None  # a range is given with both of its far corner's coordinates
    return f"{top}:{col_letter(c1)}{r1 + 1}"


class XlBook(BookDefaults):
    """A workbook reached through xlwings: ``xw.Book.caller()``, a Lite book or ``xw.Book(json=...)``."""

    def __init__(self, book, caps: Caps | None = None, progress=None):
        self.book = book
        self.caps = caps or caps_of(book)
        self.progress = progress or (lambda text: None)
        self._register: list | None = None
        self._raw: RawBook | None = None
        self.lang = "zh"                   # set by ops.run to the ledger's language (run note)
        self.skipped: list = []            # optional features this client could not do, in order

    # statements withheld on errors: Excel has no --allow-errors flag, so its own wording
    withheld_message = "statements_withheld_xl"

    @property
    def target(self) -> str:
        return str(self.book.name)

    # -- read ------------------------------------------------------------------------------------
    def read(self) -> RawBook:
        """The input sheets (and Bank) as text; read once per XlBook, later calls reuse it
        (the caller may look at the book before ops.run reads it)."""
        if self._raw is None:
            self._raw = self._read()
        return self._raw

    def _read(self) -> RawBook:
        want = sheet_reader()
        names, sheets = [], {}
        for sheet in self.book.sheets:
            name = sheet.name
            names.append(name)
            if name == REGISTER:
                self._register = self._read_register(sheet)
                continue
            if not want(name):
                continue
            rng = sheet.used_range
            values = rng.options(ndim=2).value          # the one bulk read of this sheet
            sheets[name] = raw_sheet(name, values, rng.row, rng.column)
        return RawBook(path=None, sheet_names=tuple(names), sheets=sheets)

    def _read_register(self, sheet) -> list:
        values = sheet.used_range.options(ndim=2).value or []
        entries = []
        for row in values[1:]:
            row = list(row) + [None] * (4 - len(row))
            if row[0] and row[1] and row[2] in ("fill", "note"):
                entries.append({"sheet": str(row[0]), "address": str(row[1]), "kind": row[2],
                                "color": str(row[3]) if row[3] not in (None, "") else None})
        return entries

    def _sheet(self, name: str):
        for s in self.book.sheets:
            if s.name.lower() == name.lower():
                return s
        return None

    # -- write -----------------------------------------------------------------------------------
    def write(self, outs: Sequence[SheetOut], marks=(), clear_marks_on=(), keep: int = 10,
              protect: bool = True, appends=()) -> XlWriteInfo:
        """Write the generated sheets and the marks; ``appends`` (RowAppend records) add rows below an input sheet's data (bank imports), one block per sheet. ``keep``
        (backups) does not apply: Excel holds the workbook and saving is the person's call.
        ``protect`` is not applied either: sheet protection is not in every client's action set,
        and a generated sheet is rewritten anyway."""
        for rec in appends:
            self._append(rec)
        marks = list(marks)
        if self.caps.marks:
            marked, register = self._marks(marks, set(clear_marks_on))
        else:
            marked, register = 0, None
            if marks:
                self._skip("marks")
        first = None
        for out in outs:
            self.progress(out.name)
            sheet = self._write_sheet(out)
            first = first or sheet
        if register is not None:
            self._write_register(register)   # last, so it sits after the generated sheets
        if first is not None:
            first.activate()
        return XlWriteInfo(target=self.target, backup=None, sheets=tuple(o.name for o in outs), marks=marked,
                           note=self.skipped_note(), skipped=tuple(self.skipped))

    def _skip(self, what: str) -> None:
        if what not in self.skipped:
            self.skipped.append(what)

    def _optional(self, what: str, allowed: bool, call) -> None:
        """An optional finish (table, autofit, freeze panes, note): done where the client can,
        else, or if it fails, skipped and said in the run note, never failing the run."""
        if not allowed:
            self._skip(what)
            return
        try:
            call()
        except Exception:  # noqa: BLE001 - optional: the results are written already
            self._skip(what)

    def skipped_note(self) -> str:
        """One line (the ledger's language) naming what this client skipped; "" when nothing."""
        if not self.skipped:
            return ""
        from ..schema import msg

        what = msg("xl_list_sep", self.lang).join(msg(f"xl_cap_{k}", self.lang) for k in self.skipped)
        return msg("xl_skipped", self.lang, what=what)

    def _write_sheet(self, out: SheetOut):
        book = self.book
        old = self._sheet(out.name)
        if old is not None:
            pos = old.index
            count = len(book.sheets)
            old.delete()
            if pos > 1:
                sheet = book.sheets.add(out.name, after=book.sheets[pos - 2])
            elif count > 1:
                sheet = book.sheets.add(out.name, before=book.sheets[0])
            else:
                sheet = book.sheets.add(out.name)
        else:
            sheet = book.sheets.add(out.name, after=book.sheets[len(book.sheets) - 1])
        rows = out_rows(out)
        n, ncols = len(rows) - 1, len(out.headers)
        if ncols == 0:
            return sheet
        target = sheet.range("A1")
        if self.caps.client == "desktop" and n > CHUNK_ROWS:
            target = target.options(chunksize=CHUNK_ROWS)
        target.value = rows
        if n:
            for j0, j1, fmt in format_runs(out.formats):
                sheet.range((2, j0 + 1), (n + 1, j1 + 1)).number_format = fmt
        if out.table:
            self._optional("tables", self.caps.tables, lambda: sheet.tables.add(
                source=sheet.range((1, 1), (max(n, 1) + 1, ncols)), name=out.table,
                table_style_name=TABLE_STYLE, has_headers=True))
        self._optional("autofit", self.caps.autofit,
                       lambda: sheet.range((1, 1), (min(n, AUTOFIT_ROWS) + 1, ncols)).columns.autofit())
        self._optional("freeze", self.caps.freeze, lambda: sheet.freeze_panes.freeze_at("A2"))
        if out.note:   # a sheet added now: notes where the client has them at all
            self._optional("notes", self.caps.notes, lambda: sheet.range("A1").add_note(out.note))
        return sheet

    def _append(self, rec) -> None:
        """Rows below the data of an input sheet, in its columns, one block: ``rec`` is an
        xlsxpatch RowAppend (sheet, columns key -> letter, kinds key -> kind, rows: typed frame,
        money in cents)."""
        name, frame, kinds = rec.sheet, rec.rows, dict(rec.kinds)
        columns = {key: col_index(letter) for key, letter in rec.columns.items()}
        sheet, raw = self._sheet(name), self.read().sheets.get(name)
        columns = {k: c for k, c in columns.items() if k in frame.columns}
        if sheet is None or raw is None or not len(frame) or not columns:
            return
        first, last = min(columns.values()), max(columns.values())
        rows = [[None] * (last - first + 1) for _ in range(len(frame))]
        for key, col in columns.items():
            for i, v in enumerate(frame[key].tolist()):
                rows[i][col - first] = _input_value(v, kinds.get(key, "text"))
        top = raw.row0 + len(raw.frame)            # 1-based row after the last row with data
        sheet.range((top, first + 1)).value = rows

    # -- marks -----------------------------------------------------------------------------------
    def _marks(self, marks: list, clear_on: set) -> tuple[int, list]:
        """Restore the cells marked by earlier runs on the sheets concerned, mark the new ones;
        returns (cells marked, register entries to keep)."""
        if self._register is None:
            reg = self._sheet(REGISTER)
            self._register = self._read_register(reg) if reg is not None else []
        touched = {m.sheet for m in marks} | set(clear_on)
        touched_keys = {s.lower() for s in touched}
        kept: list = []
        restore: list = []
        for e in self._register:
            (restore if e["sheet"].lower() in touched_keys else kept).append(e)
        for e in restore:
            sheet = self._sheet(e["sheet"])
            if sheet is None:
                continue
            rng = sheet.range(e["address"])
            if e["kind"] == "fill":
                rng.color = e["color"]
            elif self.caps.notes_on(sheet.name) and rng.note is not None:
                rng.note.delete()
        by_sheet = defaultdict(list)
        for m in marks:
            by_sheet[m.sheet].append((m.cell, m.severity, m.message))
        entries, fills, notes = list(kept), 0, 0
        for name, triples in by_sheet.items():
            sheet = self._sheet(name)
            if sheet is None:
                continue
            cells = combine(triples)
            for r0, c0, r1, c1, sev in mark_rectangles(cells):
                if fills >= MAX_MARK_RANGES:
                    break
                address = a1(r0, c0, r1, c1)
                rng = sheet.range(address)
                before = _color_hex(rng.color) if self.caps.read_color else None
                rng.color = MARK_COLOR[sev]
                entries.append({"sheet": sheet.name, "address": address, "kind": "fill", "color": before})
                fills += 1
            if not self.caps.notes_on(sheet.name):
                self._skip("notes")
                continue
            for (r, c), note in sorted(cells.items()):
                if notes >= MAX_NOTES:
                    break
                rng = sheet.range(a1(r, c))
                if rng.note is not None or not note.message:
                    continue  # a person's note stays; the fill still shows the mark
                rng.add_note(note.message)
                entries.append({"sheet": sheet.name, "address": a1(r, c), "kind": "note", "color": None})
                notes += 1
        self._register = entries
        return len({(m.sheet, m.cell) for m in marks}), entries

    def _write_register(self, entries: list) -> None:
        reg = self._sheet(REGISTER)
        if reg is None and not entries:
            return
        rows = [REGISTER_HEADER] + [[e["sheet"], e["address"], e["kind"], e["color"]] for e in entries]
        if reg is None:
            reg = self.book.sheets.add(REGISTER, after=self.book.sheets[len(self.book.sheets) - 1])
            if self.caps.hide:
                reg.visible = False
        else:
            reg.clear_contents()
        reg.range("A1").value = [[excel_text(str(v)) if isinstance(v, str) else v for v in r] for r in rows]


def _input_value(v, kind: str):
    """A typed ledger value as a person would have typed it (money in units, dates as dates)."""
    if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if kind == "money":
        return int(v) / 100
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, (np.integer, np.floating)):
        return v.item()
    if isinstance(v, str):
        return excel_text(v)
    return v


def _color_hex(color) -> str | None:
    """A colour as xlwings reads it ((r, g, b) tuple or None) -> '#rrggbb' or None."""
    if color is None:
        return None
    if isinstance(color, str):
        return color
    r, g, b = color
    return f"#{r:02x}{g:02x}{b:02x}"
