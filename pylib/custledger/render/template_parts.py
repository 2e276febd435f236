"""Filled templates written from parts made once per template: statements and letters at the
floor of writing a file.

A statement or letter file is the same package every time except for one sheet's cells: the
styles, theme, workbook, content types, relationships, document properties, column widths,
page setup and print options do not depend on the customer. ``Parts`` makes them ONCE per
template (and per document properties and ``names``): it writes a prototype with the reference
route (template_fill.workbook: xlsxwriter, every template style registered with each number
format fallback) and keeps its parts as compressed bytes, the sheet XML around its data and
merges, and the xf index of every (template style, fallback). ``Parts.write`` then makes each
file from the same walk of the template (template_fill.emit) and the same value rules
(template_fill._classify): only the sheet's rows, merges and dimension, the shared strings and,
when the file carries names or print titles, workbook.xml's defined names are made per file,
compressed at a fast level and joined into the zip with the constant parts as they are.

The output reads back as the reference route's: the same values, styles (the same styles.xml
entries), merges, widths, heights, print setup and names; text stays text (a value filled in is
never a formula), control characters and XML-invalid code units are written as Excel's _xHHHH_
escapes, leading/trailing blanks preserved. tests/test_template_parts.py compares both routes
cell by cell. A template whose formulas xlsxwriter writes as dynamic-array formulas, or whose
prototype has a part this writer does not make, is written by the reference route instead.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from pathlib import Path

from xlsxwriter.utility import quote_sheetname, xl_col_to_name
from xlsxwriter.worksheet import Worksheet, re_dynamic_function

from . import template_fill as tf

LEVEL = 1            # zlib level of the per-file parts: the sheet is small, speed matters more
CONSTANT_LEVEL = 9   # the parts made once are compressed once, as small as they get
STRMAX = 32767       # Excel's limit of a cell's text, in UTF-16 code units (xlsxwriter's too)
ROWMAX, COLMAX = 1_048_576, 16_384
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
WORKBOOK = "xl/workbook.xml"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
SST_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

_SPECIAL = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]|_x[0-9a-fA-F]{4}_|^\\s|\\s$")
_ESCAPED = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]")
_LEADING, _TRAILING = re.compile(r"^\s"), re.compile(r"\s$")
_NAME = re.compile(r'<definedName name="([^"]*)"([^>]*)>(.*?)</definedName>', re.S)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def string_item(text: str) -> str:
    """The <si> of one shared string, escaped as Excel does: a literal _xHHHH_ protected, control
    characters and XML-invalid code units (U+FFFE, U+FFFF, lone surrogates) as _xHHHH_, blanks at
    either end kept."""
    if not _SPECIAL.search(text):
        return f"<si><t>{text}</t></si>"
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", _ESCAPED.sub(r"_x005F\1", text))
    space = ' xml:space="preserve"' if _LEADING.search(text) or _TRAILING.search(text) else ""
    return f"<si><t{space}>{_escape(text)}</t></si>"


def _truncated(text: str) -> str:
    """At most 32,767 UTF-16 code units (Excel's limit), as xlsxwriter cuts it."""
    if len(text) <= STRMAX // 2:
        return text
    units = text.encode("utf-16-le", "surrogatepass")
    if len(units) <= 2 * STRMAX:
        return text
    return units[: 2 * STRMAX].decode("utf-16-le", "ignore")


_EPOCH = 693595  # date(1899, 12, 31).toordinal(): xlsxwriter's epoch


def excel_serial(value) -> float:
    """A date or naive datetime as Excel's serial number (1900 system), exactly as xlsxwriter
    computes it (including Excel's phantom 1900-02-29 and its 1900-01-01 time quirk)."""
    if hasattr(value, "hour"):
        if value.tzinfo is not None:
            raise TypeError("Excel doesn't support timezones in datetimes")
        serial = (value.toordinal() - _EPOCH) + (float(value.hour * 3600 + value.minute * 60 + value.second)
                                                  + float(value.microsecond) / 1e6) / 86400
        if value.year == 1900 and value.month == 1 and value.day == 1:
            serial -= 1
    else:
        serial = value.toordinal() - _EPOCH
    return serial + 1 if serial > 59 else serial


def _member(name: str, data: bytes, level: int) -> tuple:
    comp = zlib.compressobj(level, zlib.DEFLATED, -15)
    return name.encode("ascii"), zlib.crc32(data), comp.compress(data) + comp.flush(), len(data)


_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_DOS_DATE = (1 << 5) | 1  # 1980-01-01 00:00, as Excel and xlsxwriter stamp package parts


def zip_package(members: list) -> bytes:
    """A zip of already deflated members (name, crc32, deflated bytes, size): zipfile cannot
    take bytes compressed once and reused, so the few fixed-size headers are packed here."""
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, crc, comp, size in members:
        local = _LOCAL.pack(0x04034B50, 20, 0, zipfile.ZIP_DEFLATED, 0, _DOS_DATE, crc, len(comp), size, len(name), 0)
        central.append(_CENTRAL.pack(0x02014B50, 20, 20, 0, zipfile.ZIP_DEFLATED, 0, _DOS_DATE, crc, len(comp), size,
                                     len(name), 0, 0, 0, 0, 0, offset) + name)
        out += (local, name, comp)
        offset += len(local) + len(name) + len(comp)
    directory = b"".join(central)
    out += (directory, _END.pack(0x06054B50, 0, 0, len(central), len(central), len(directory), offset, 0))
    return b"".join(out)


def _dimension(rows: list, cols: list, letters: list) -> str:
    """The <dimension> reference of the used rows and columns, as xlsxwriter writes it."""
    if not rows and not cols:
        return "A1"
    c0, c1 = (min(cols), max(cols)) if cols else (0, 0)
    if not rows:
        return f"{letters[c0]}1" if c0 == c1 else f"{letters[c0]}1:{letters[c1]}1"
    r0, r1 = min(rows), max(rows)
    if r0 == r1 and c0 == c1:
        return f"{letters[c0]}{r0 + 1}"
    return f"{letters[c0]}{r0 + 1}:{letters[c1]}{r1 + 1}"


class Unsupported(Exception):
    """The template needs a part this writer does not make: the reference route writes it."""


def _area(sheet: str, r0: int, c0: int, r1: int, c1: int) -> str:
    """A print area reference, as xlsxwriter's worksheet writes it (whole rows or columns short)."""
    if r0 == 0 and r1 == ROWMAX - 1:
        a, b, only = xl_col_to_name(c0, True), xl_col_to_name(c1, True), True
    elif c0 == 0 and c1 == COLMAX - 1:
        a, b, only = f"${r0 + 1}", f"${r1 + 1}", True
    else:
        a, b, only = f"{xl_col_to_name(c0, True)}${r0 + 1}", f"{xl_col_to_name(c1, True)}${r1 + 1}", False
    return f"{quote_sheetname(sheet)}!{a if a == b and not only else a + ':' + b}"


class Parts:
    """A template's package made once; ``write`` makes one filled file from it (module docstring)."""

    def __init__(self, layout: tf.Layout, properties: dict | None = None, names: bool = False):
        self.layout, self.names = layout, names
        for row in layout.rows.values():
            for _, value, _ in row:
                if isinstance(value, str) and value.startswith("=") and re_dynamic_function.search(value):
                    raise Unsupported("dynamic array formula")
        buf = io.BytesIO()
        wb, ws, fmts = tf.workbook(layout, buf, properties=properties, names=names)
        # below the template (xlsxwriter walks every row from the first to the last): a string,
        # so that the package has its sharedStrings part, then a cell in every style, each with
        # every number format fallback, so that styles.xml holds them all (those cells dropped)
        probe = max([*layout.rows, *layout.row_heights, *(m[2] for m in layout.merges), 0]) + 2
        ws.write_string(probe, 0, "-")
        probe += 1
        for idx in range(len(layout.styles)):
            for fallback in (None, tf.MONEY_FORMAT, tf.DATE_FORMAT):
                fmt = fmts.get(idx, fallback)
                if fmt is not None:
                    ws.write_blank(probe, 0, None, fmt)
                    probe += 1
        wb.close()
        # the xf index of each (template style, fallback): ' s="n"', or "" for no style (a
        # format equal to an earlier one shares its index, which only _get_xf_index returns)
        self.xf = {key: (f' s="{fmt._get_xf_index()}"' if fmt is not None else "") for key, fmt in fmts.cache.items()}
        self.visible = tf._plan(layout).visible
        with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
            order = zf.namelist()
            parts = {n: zf.read(n) for n in order}
        if not {SHEET, STRINGS, WORKBOOK} <= set(parts) or sum(n.startswith("xl/worksheets/") for n in order) != 1:
            raise Unsupported("unexpected package parts")
        self.order = order
        self.sheet = layout.sheet[:31]
        self._split_sheet(parts[SHEET].decode("utf-8"))
        self._split_workbook(parts[WORKBOOK].decode("utf-8"))
        # made per file: the sheet, its strings, and workbook.xml when its names move with the rows
        self.variable = {SHEET, STRINGS} | ({WORKBOOK} if self.workbook_parts else set())
        self.constant = {n: _member(n, data, CONSTANT_LEVEL) for n, data in parts.items() if n not in self.variable}
        self._rows_attrs()
        widest = max([c for row in layout.rows.values() for c, _, _ in row] + [m[3] for m in layout.merges]
                     + [c for _, c in layout.names.values()] + [r.c1 for r in layout.regions]
                     + list(layout.col_widths) + [0])
        self.letters = [xl_col_to_name(c) for c in range(widest + 1)]
        # a template's own formulas are prepared as xlsxwriter prepares them (leading "=" off,
        # newer functions prefixed); its private helper, on a worksheet of its own
        self._prepare_formula = Worksheet()._prepare_formula

    # ------------------------------------------------------------------ made once

    def _split_sheet(self, xml: str) -> None:
        m = re.search(r'<dimension ref="[^"]*"/>', xml)
        start, end = xml.find("<sheetData>"), xml.find("</sheetData>")
        if m is None or start < 0 or end < 0 or m.end() > start:
            raise Unsupported("sheet XML")
        self.head = (xml[:m.start()], xml[m.end():start])
        tail = xml[end + len("</sheetData>"):]
        merges = re.match(r"<mergeCells [^>]*>.*?</mergeCells>", tail, re.S)
        if merges is not None:
            tail = tail[merges.end():]
        elif "<mergeCells" in tail:
            raise Unsupported("merges not right after the data")
        self.tail = tail
        # a hidden column with a width widens the sheet's dimension (xlsxwriter's rule)
        self.dim_cols = [c for c, (px, hidden) in self.layout.col_widths.items() if hidden and px]

    def _split_workbook(self, xml: str) -> None:
        start, end = xml.find("<definedNames>"), xml.find("</definedNames>")
        if start < 0:
            self.workbook_parts, self.defined = None, []
            return
        self.workbook_parts = (xml[:start], xml[end + len("</definedNames>"):])
        self.defined = [(name, attrs) for name, attrs, _ in _NAME.findall(xml[start:end])]
        known = {n for n, _ in tf.defined_names(self.layout, tf._RowMap(self.layout.regions, {}))} if self.names else set()
        for name, _ in self.defined:
            if name not in known and name not in ("_xlnm.Print_Titles", "_xlnm.Print_Area"):
                raise Unsupported(f"defined name {name}")

    def _rows_attrs(self) -> None:
        """Each template row's <row> attributes (height, hidden), as xlsxwriter writes them."""
        default_px = 20  # 15 points, xlsxwriter's original height
        if self.layout.default_row_height:   # set_default_row
            default_px = int(self.layout.default_row_height * 4.0 / 3.0 + 0.5)
        self.default_px = default_px

        def attrs(px, hidden: bool) -> str:
            out = ""
            custom = px != 20 or px != default_px
            if custom:
                out += f' ht="{px * 0.75:.16g}"'
            if hidden:
                out += ' hidden="1"'
            if custom:
                out += ' customHeight="1"'
            return out
        self._attrs = attrs
        self.plain_row = attrs(default_px, False)
        self.row_attr_cache: dict = {}

    def row_attrs(self, height, hidden: bool) -> str:
        key = (height, hidden)
        got = self.row_attr_cache.get(key)
        if got is None:
            px = int(height * 4.0 / 3.0 + 0.5) if height is not None else self.default_px
            if px == 0:
                px, hidden = self.default_px, True
            got = self.row_attr_cache[key] = self._attrs(px, hidden)
        return got

    # ------------------------------------------------------------------ per file

    def write(self, path, values: dict | None = None, tables: dict | None = None,
              defaults: dict | None = None) -> Path:
        """Write one filled file (the arguments of template_fill.fill)."""
        values, tables, defaults = values or {}, tables or {}, defaults or {}
        rows = tf._RowMap(self.layout.regions, {name: len(data) for name, data in tables.items()})
        sink = _XmlSink(self)
        tf.emit(self.layout, values, tables, defaults, rows, sink)
        members = []
        for name in self.order:
            if name not in self.variable:
                members.append(self.constant[name])
            elif name == SHEET:
                members.append(_member(name, self._sheet_xml(sink).encode("utf-8"), LEVEL))
            elif name == STRINGS:
                members.append(_member(name, sink.strings_xml().encode("utf-8"), LEVEL))
            else:
                members.append(_member(name, self._workbook_xml(rows).encode("utf-8"), LEVEL))
        Path(path).write_bytes(zip_package(members))
        return Path(path)

    def _sheet_xml(self, sink: _XmlSink) -> str:
        cells, info, merges = sink.cells, sink.info, sink.merges
        all_rows = sorted(cells.keys() | info.keys())
        # dimension: every cell, every row given a height, both corners of every merge (and
        # column A when a height came before any cell or merge: xlsxwriter's rule)
        used_cols = [c for row in cells.values() for c in row] + [c for m in merges for c in (m[1], m[3])] \
            + self.dim_cols + ([0] if sink.zero_col else [])
        used_rows = all_rows + [r for m in merges for r in (m[0], m[2])]
        ref = _dimension(used_rows, used_cols, self.letters)
        letters = self.letters

        # spans: the columns in use per block of 16 rows (an optional hint Excel writes)
        spans: dict = {}
        for r, row in cells.items():
            if row:
                b = r // 16
                lo, hi = min(row), max(row)
                if b in spans:
                    spans[b] = (min(spans[b][0], lo), max(spans[b][1], hi))
                else:
                    spans[b] = (lo, hi)
        span_text = {b: f' spans="{lo + 1}:{hi + 1}"' for b, (lo, hi) in spans.items()}

        out = [self.head[0], f'<dimension ref="{ref}"/>', self.head[1], "<sheetData>"]
        plain = self.plain_row
        for r in all_rows:
            attrs = self.row_attrs(*info[r]) if r in info else plain
            row = cells.get(r)
            if row:
                out.append(f'<row r="{r + 1}"{span_text.get(r // 16, "")}{attrs}>')
                out += (row[c] for c in sorted(row))
                out.append("</row>")
            else:
                out.append(f'<row r="{r + 1}"{span_text.get(r // 16, "")}{attrs}/>')
        out.append("</sheetData>")
        if merges:
            out.append(f'<mergeCells count="{len(merges)}">')
            out += (f'<mergeCell ref="{letters[c0]}{r0 + 1}:{letters[c1]}{r1 + 1}"/>' for r0, c0, r1, c1 in merges)
            out.append("</mergeCells>")
        out.append(self.tail)
        return "".join(out)

    def _workbook_xml(self, rows) -> str:
        refs = dict(tf.defined_names(self.layout, rows)) if self.names else {}
        page = self.layout.page
        if page.get("repeat_rows"):
            a, b = page["repeat_rows"]
            refs["_xlnm.Print_Titles"] = f"{quote_sheetname(self.sheet)}!${rows.row(a) + 1}:${rows.end(b) + 1}"
        if page.get("print_area"):
            r0, c0, r1, c1 = page["print_area"]
            refs["_xlnm.Print_Area"] = _area(self.sheet, rows.row(r0), c0, rows.end(r1), c1)
        names = "".join(f'<definedName name="{name}"{attrs}>{_escape(refs[name])}</definedName>'
                        for name, attrs in self.defined)
        head, tail = self.workbook_parts or ("", "")   # only called when the workbook has names
        return f"{head}<definedNames>{names}</definedNames>{tail}"


class _XmlSink:
    """Cells of one file as <c> elements, by row and column (the last write of a cell wins, as in
    xlsxwriter); merges and row heights as given; the file's shared strings."""

    __slots__ = ("parts", "cells", "info", "merges", "strings", "count", "zero_col")

    def __init__(self, parts: Parts):
        self.parts = parts
        self.cells: dict = {}
        self.info: dict = {}
        self.merges: list = []
        self.strings: dict = {}
        self.count = 0
        self.zero_col = False

    def merge(self, r0: int, c0: int, r1: int, c1: int) -> None:
        self.merges.append((r0, c0, r1, c1))

    def row(self, r: int, height, hidden: bool) -> None:
        if not self.cells and not self.merges and not self.parts.dim_cols:
            self.zero_col = True
        self.info[r] = (height, bool(hidden))

    def cell(self, r: int, c: int, value, style: int, rows) -> None:
        parts = self.parts
        if value is None:   # the commonest cell: nothing, shown only when its style shows blank
            if not parts.visible[style]:
                return
            kind = tf.BLANK
        elif type(value) is str and value and (rows is None or value[0] != "=" or len(value) == 1):
            kind = tf.TEXT   # text that is not a template's own formula (_classify's first rule)
        else:
            kind, value, fallback = tf._classify(value, rows)
        ref = f"{parts.letters[c]}{r + 1}" if c < len(parts.letters) else f"{xl_col_to_name(c)}{r + 1}"
        if kind == tf.TEXT:
            value = _truncated(value)
            idx = self.strings.get(value)
            if idx is None:
                idx = self.strings[value] = len(self.strings)
            self.count += 1
            xml = f'<c r="{ref}"{parts.xf[style, None]} t="s"><v>{idx}</v></c>'
        elif kind == tf.BLANK:
            if not parts.visible[style]:
                return
            xml = f'<c r="{ref}"{parts.xf[style, None]}/>'
        elif kind == tf.NUMBER or kind == tf.DATE:
            number = excel_serial(value) if kind == tf.DATE else value
            s = parts.xf[style, fallback]
            if number != number or number in (float("inf"), float("-inf")):
                # xlsxwriter's nan_inf_to_errors: an error value, not a number Excel cannot hold
                formula, error = ("1/0", "#DIV/0!") if number == float("inf") else \
                    ("-1/0", "#DIV/0!") if number == float("-inf") else ("#NUM!", "#NUM!")
                xml = f'<c r="{ref}"{s} t="e"><f>{formula}</f><v>{error}</v></c>'
            else:
                xml = f'<c r="{ref}"{s}><v>{number:.16G}</v></c>'
        elif kind == tf.BOOLEAN:
            xml = f'<c r="{ref}"{parts.xf[style, None]} t="b"><v>{int(value)}</v></c>'
        else:  # a template's own formula (never a value filled in: _classify)
            xml = f'<c r="{ref}"{parts.xf[style, None]}><f>{_escape(parts._prepare_formula(value))}</f><v>0</v></c>'
        row = self.cells.get(r)
        if row is None:
            self.cells[r] = {c: xml}
        else:
            row[c] = xml

    def strings_xml(self) -> str:
        items = "".join(map(string_item, self.strings))
        return (f'{XML_HEAD}<sst xmlns="{SST_NS}" count="{self.count}" uniqueCount="{len(self.strings)}">'
                f"{items}</sst>")


def parts_for(layout: tf.Layout, properties: dict | None = None, names: bool = False) -> Parts | None:
    """The layout's Parts for these document properties and ``names``, made on first use and
    kept on the layout; None when the template needs the reference route (Unsupported)."""
    key = (tuple(sorted((properties or {}).items())), bool(names))
    if key not in layout.parts:
        try:
            layout.parts[key] = Parts(layout, properties, names)
        except Unsupported:
            layout.parts[key] = None
    return layout.parts[key]


def write_filled(layout: tf.Layout, path, values: dict | None = None, tables: dict | None = None,
                 defaults: dict | None = None, properties: dict | None = None, names: bool = False) -> Path:
    """template_fill.fill's contract, written from the template's parts when it can be."""
    parts = parts_for(layout, properties, names)
    if parts is None:
        return tf.fill(layout, path, values, tables, defaults, properties=properties, names=names)
    return parts.write(path, values, tables, defaults)
