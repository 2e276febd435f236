"""Filling a user-editable xlsx template by name: named cells and marked table regions.

People restyle the templates (templates/*.xlsx) in Excel: they move columns, recolour, change
fonts, widths, captions, page setup. So nothing here knows a coordinate; everything is found
through the template's *defined names*:

named cell     a defined name on one cell (or a range: its top-left cell), e.g. ``opening``,
               ``customer_name``; ``fill`` writes the value there, keeping the cell's style;
table region   a defined name listed in ``regions`` (e.g. ``lines``) covering one or more
               styled template rows; each data row is written as a copy of those rows (row i
               uses template row i mod height, so banded rows work), styles, merges and heights
               included, and everything below moves down;
region column  which column of the region holds which value: a defined name on one cell of the
               region's first row named ``<anything>_<key>`` (``line_date`` -> ``date``), else
               the header text in the row just above the region matched against ``headers``
               (labels in any language, compared like input headers). Cutting and pasting a
               column in Excel carries its name along, so moved columns keep working.

How (and why): reading a template with openpyxl costs ~50 ms, too slow to do per statement,
and copying an openpyxl workbook per file is slower still. ``read_layout`` reads the template
ONCE into a Layout (cell values, styles as xlsxwriter format properties, merges, widths,
heights, page setup, names); ``fill`` then writes each file with xlsxwriter following that
layout (~3–5 ms a file). ``emit`` is that walk of the layout for one file, ``_classify`` the rule
of what each value becomes: render/template_parts.py uses both to write the same file from
parts made once per template (~0.6 ms a file), and statements and letters go that way.
Theme and indexed colours are resolved to RGB with the template's own theme. Formulas are
kept, their row references moved with the rows they point at (a range ending on a region's
last template row grows to the region's last written row).
With ``names=True`` the written file carries the same defined names, pointing at the filled
cells (a region's names cover all its written rows), so that it can be read back by name.

Not carried over (documented limits): images and drawings (openpyxl needs Pillow to read them),
conditional formats, data validations, comments, rich text runs within one cell, sheets other
than the one holding the names.
"""

from __future__ import annotations

import colorsys
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter

from ..schema import norm_header

# openpyxl is imported where a template is read (read_layout), not with this module: a run whose
# layouts come from render/layout_cache.py never loads it (~0.12 s)

WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
                    "nan_inf_to_errors": True, "in_memory": True}  # no temp files: 3x faster per file
DATE_FORMAT = "yyyy-mm-dd"
MONEY_FORMAT = "#,##0.00"


class Money(float):
    """A money value in units (yuan): written as a number; ``#,##0.00`` when its cell is General."""


class TemplateError(ValueError):
    """A template that cannot be filled (no such sheet, a region without columns...)."""


@dataclass
class Region:
    name: str
    r0: int              # first template row (0-based)
    r1: int              # last template row (0-based, inclusive)
    c0: int
    c1: int
    columns: dict        # column index -> key
    column_names: dict   # key -> defined name (for the names written back)

    @property
    def height(self) -> int:
        return self.r1 - self.r0 + 1


@dataclass
class Layout:
    """What fill needs from a template, read once (see the module docstring)."""

    sheet: str
    rows: dict                   # template row -> list of (col, value, style index)
    styles: list                 # xlsxwriter format properties per style index
    col_widths: dict             # col -> (pixels, hidden)
    row_heights: dict            # row -> (points, hidden)
    default_row_height: float | None
    merges: list                 # (r0, c0, r1, c1)
    names: dict                  # name -> (row, col) of a named cell
    regions: list                # Region, by first row
    page: dict = field(default_factory=dict)
    # what fill derives from the layout (rows by region, named cells, row order, styles visible
    # when blank), worked out on the first fill and reused for every later file
    plan: _Plan | None = field(default=None, init=False, repr=False, compare=False)
    # the xlsx parts made once per (document properties, names) by render/template_parts.py
    parts: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def region(self, name: str) -> Region:
        for r in self.regions:
            if r.name == name:
                return r
        raise KeyError(name)


# --------------------------------------------------------------------------- reading

def _theme_colors(wb) -> list[str]:
    """RGB hex of theme colour indexes 0.. (lt1, dk1, lt2, dk2, accent1-6, hlink, folHlink)."""
    default = ["FFFFFF", "000000", "E7E6E6", "44546A", "4472C4", "ED7D31", "A5A5A5", "FFC000", "5B9BD5",
               "70AD47", "0563C1", "954F72"]
    raw = getattr(wb, "loaded_theme", None)
    if not raw:
        return default
    try:
        root = ET.fromstring(raw)
    except ET.ParseError:
        return default
    ns = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
    scheme = root.find(f".//{ns}clrScheme")
    if scheme is None:
        return default
    found = {}
    for child in scheme:
        tag = child.tag.replace(ns, "")
        for c in child:
            val = c.get("val") if c.tag == f"{ns}srgbClr" else c.get("lastClr")
            if val:
                found[tag] = val.upper()
    order = ["lt1", "dk1", "lt2", "dk2", "accent1", "accent2", "accent3", "accent4", "accent5", "accent6",
             "hlink", "folHlink"]
    return [found.get(k, d) for k, d in zip(order, default)]


def _tinted(rgb: str, tint: float) -> str:
    if not tint:
        return rgb
    r, g, b = (int(rgb[i:i + 2], 16) / 255 for i in (0, 2, 4))
    h, light, s = colorsys.rgb_to_hls(r, g, b)
    light = light * (1 + tint) if tint < 0 else light * (1 - tint) + tint
    r, g, b = colorsys.hls_to_rgb(h, min(max(light, 0.0), 1.0), s)
    return "".join(f"{round(x * 255):02X}" for x in (r, g, b))


def _color(color, theme: list[str]) -> str | None:
    """An openpyxl Color as '#RRGGBB' (None for automatic / unset)."""
    from openpyxl.styles.colors import COLOR_INDEX

    if color is None:
        return None
    try:
        kind = color.type
        if kind == "rgb" and isinstance(color.rgb, str):
            rgb = color.rgb[-6:].upper()
        elif kind == "theme" and color.theme is not None and color.theme < len(theme):
            rgb = theme[color.theme]
        elif kind == "indexed" and color.indexed is not None and color.indexed < len(COLOR_INDEX) \
                and color.indexed < 64:
            rgb = COLOR_INDEX[color.indexed][-6:].upper()
        else:
            return None
        return "#" + _tinted(rgb, float(color.tint or 0))
    except (TypeError, ValueError, AttributeError):
        return None


_BORDER = {"thin": 1, "medium": 2, "dashed": 3, "dotted": 4, "thick": 5, "double": 6, "hair": 7,
           "mediumDashed": 8, "dashDot": 9, "mediumDashDot": 10, "dashDotDot": 11, "mediumDashDotDot": 12,
           "slantDashDot": 13}
_PATTERN = {"solid": 1, "mediumGray": 2, "darkGray": 3, "lightGray": 4, "darkHorizontal": 5, "darkVertical": 6,
            "darkDown": 7, "darkUp": 8, "darkGrid": 9, "darkTrellis": 10, "lightHorizontal": 11,
            "lightVertical": 12, "lightDown": 13, "lightUp": 14, "lightGrid": 15, "lightTrellis": 16,
            "gray125": 17, "gray0625": 18}
_HALIGN = {"left": "left", "center": "center", "right": "right", "fill": "fill", "justify": "justify",
           "centerContinuous": "center_across", "distributed": "distributed"}
_VALIGN = {"top": "top", "center": "vcenter", "bottom": "bottom", "justify": "vjustify",
           "distributed": "vdistributed"}
_UNDERLINE = {"single": 1, "double": 2, "singleAccounting": 33, "doubleAccounting": 34}


def _format_props(cell, theme) -> dict:
    """The xlsxwriter format properties of an openpyxl cell's style."""
    p: dict = {}
    f = cell.font
    if f is not None:
        if f.name:
            p["font_name"] = f.name
        if f.sz:
            p["font_size"] = float(f.sz)
        if f.b:
            p["bold"] = True
        if f.i:
            p["italic"] = True
        if f.u:
            p["underline"] = _UNDERLINE.get(f.u, 1)
        if f.strike:
            p["font_strikeout"] = True
        if f.vertAlign == "superscript":
            p["font_script"] = 1
        elif f.vertAlign == "subscript":
            p["font_script"] = 2
        c = _color(f.color, theme)
        if c:
            p["font_color"] = c
    fill = cell.fill
    ptype = getattr(fill, "fill_type", None) or getattr(fill, "patternType", None)
    if ptype in _PATTERN:
        fg, bg = _color(fill.fgColor, theme), _color(fill.bgColor, theme)
        p["pattern"] = _PATTERN[ptype]
        if ptype == "solid":
            if fg:
                p["bg_color"] = fg
        else:
            if fg:
                p["fg_color"] = fg
            if bg:
                p["bg_color"] = bg
    elif getattr(fill, "stop", None):  # gradient: its first colour, solid
        c = _color(fill.stop[0].color, theme)
        if c:
            p.update(pattern=1, bg_color=c)
    b = cell.border
    if b is not None:
        for side in ("left", "right", "top", "bottom"):
            s = getattr(b, side)
            if s is not None and s.style in _BORDER:
                p[side] = _BORDER[s.style]
                c = _color(s.color, theme)
                if c:
                    p[f"{side}_color"] = c
    a = cell.alignment
    if a is not None:
        if a.horizontal in _HALIGN:
            p["align"] = _HALIGN[a.horizontal]
        if a.vertical in _VALIGN:
            p["valign"] = _VALIGN[a.vertical]
        if a.wrap_text:
            p["text_wrap"] = True
        if a.shrink_to_fit:
            p["shrink"] = True
        if a.indent:
            p["indent"] = int(a.indent)
        rot = int(a.text_rotation or 0)
        if rot:
            p["rotation"] = 270 if rot == 255 else (rot if rot <= 90 else 90 - rot)
    if cell.number_format and cell.number_format != "General":
        p["num_format"] = cell.number_format
    return p


def _destinations(dn) -> list[tuple[str, str]]:
    try:
        return [(s, r) for s, r in dn.destinations]
    except Exception:  # noqa: BLE001 - a name with a formula or #REF! is not ours to fill
        return []


def _all_names(wb) -> list[tuple[str, str, str]]:
    """(name, sheet title, range) of every workbook- and sheet-scoped defined name on cells."""
    out = []
    for name, dn in wb.defined_names.items():
        out += [(name, s, r) for s, r in _destinations(dn)]
    for ws in wb.worksheets:
        for name, dn in getattr(ws, "defined_names", {}).items():
            out += [(name, s or ws.title, r) for s, r in _destinations(dn)]
    return [(n, s, r) for n, s, r in out if not n.startswith("_xlnm")]


def read_layout(source, regions=(), headers: dict | None = None) -> Layout:
    """Read a template (path or bytes) into a Layout.

    ``regions``: the defined names that mark table regions; ``headers``: per region, key ->
    list of header texts that identify a column when it has no ``*_<key>`` name.
    """
    import openpyxl
    from openpyxl.utils.cell import range_boundaries

    data = source if isinstance(source, (bytes, bytearray)) else Path(source).read_bytes()
    wb = openpyxl.load_workbook(io.BytesIO(data), rich_text=False)
    theme = _theme_colors(wb)
    names = _all_names(wb)
    sheet_votes: dict = {}
    for _, s, _ in names:
        sheet_votes[s] = sheet_votes.get(s, 0) + 1
    title = max(sheet_votes, key=lambda s: sheet_votes[s]) if sheet_votes else wb.active.title
    if title not in wb.sheetnames:
        raise TemplateError(f"the template's names point to a missing sheet {title!r}")
    ws = wb[title]

    style_ids: dict = {(): 0}
    styles: list = [{}]  # style 0: no style (a cell the template left unstyled)
    rows: dict = {}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None and not cell.has_style:
                continue
            style_key = tuple(cell._style) if cell.has_style else ()
            if style_key not in style_ids:
                style_ids[style_key] = len(styles)
                styles.append(_format_props(cell, theme) if cell.has_style else {})
            value = cell.value
            if cell.data_type == "f" and not isinstance(value, str):
                value = getattr(value, "text", None) or str(value)
            rows.setdefault(cell.row - 1, []).append((cell.column - 1, value, style_ids[style_key]))

    col_widths = {}
    for letter, dim in ws.column_dimensions.items():
        if dim.width or dim.hidden:
            lo, hi = dim.min or openpyxl.utils.column_index_from_string(letter), dim.max or dim.min
            hi = hi or lo
            for c in range(lo, min(hi, lo + 200) + 1):
                col_widths[c - 1] = (round((dim.width or 8.43) * 7), bool(dim.hidden))
    row_heights = {r - 1: (dim.height, bool(dim.hidden)) for r, dim in ws.row_dimensions.items()
                   if dim.height is not None or dim.hidden}
    merges = [(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in ws.merged_cells.ranges]

    region_set = set(regions)
    named: dict = {}
    spans: dict = {}
    for name, s, ref in names:
        if s != title:
            continue
        try:
            c0, r0, c1, r1 = range_boundaries(ref.replace("$", ""))
        except (ValueError, TypeError):
            continue
        if None in (c0, r0):
            continue
        c1, r1 = c1 or c0, r1 or r0
        if name in region_set:
            spans[name] = (r0 - 1, r1 - 1, c0 - 1, c1 - 1)
        else:
            named[name] = (r0 - 1, c0 - 1)

    out_regions = []
    for name, (r0, r1, c0, c1) in spans.items():
        columns, column_names = {}, {}
        for n, (r, c) in list(named.items()):
            if r0 <= r <= r1 and c0 <= c <= c1 and "_" in n:
                key = n.split("_", 1)[1]
                columns[c], column_names[key] = key, n
                del named[n]
        lookup: dict = {}
        for key, texts in (headers or {}).get(name, {}).items():
            for t in [key, *texts]:
                lookup.setdefault(norm_header(t), key)
        above = {c: v for c, v, _ in rows.get(r0 - 1, [])}
        for c in range(c0, c1 + 1):
            key = lookup.get(norm_header(above.get(c)))
            if c not in columns and key and key not in column_names:
                columns[c], column_names[key] = key, ""
        if not columns:
            raise TemplateError(f"table region {name!r} has no named or headed columns")
        out_regions.append(Region(name, r0, r1, c0, c1, columns, column_names))
    out_regions.sort(key=lambda r: r.r0)
    for a, b in zip(out_regions, out_regions[1:]):
        if b.r0 <= a.r1:
            raise TemplateError(f"table regions {a.name!r} and {b.name!r} share rows")

    return Layout(sheet=title, rows=rows, styles=styles, col_widths=col_widths, row_heights=row_heights,
                  default_row_height=ws.sheet_format.defaultRowHeight if ws.sheet_format.customHeight else None,
                  merges=merges, names=named, regions=out_regions, page=_page(ws))


def _page(ws) -> dict:
    from openpyxl.utils.cell import range_boundaries

    ps, pm, po = ws.page_setup, ws.page_margins, ws.print_options
    page = {
        "landscape": ps.orientation == "landscape",
        "paper": int(ps.paperSize) if ps.paperSize else None,
        "fit": (int(ps.fitToWidth if ps.fitToWidth is not None else 1),
                int(ps.fitToHeight if ps.fitToHeight is not None else 1))
        if ws.sheet_properties.pageSetUpPr is not None and ws.sheet_properties.pageSetUpPr.fitToPage else None,
        "margins": (pm.left, pm.right, pm.top, pm.bottom) if pm is not None else None,
        "center": bool(po.horizontalCentered) if po is not None else False,
        "gridlines": ws.sheet_view.showGridLines is not False,
        "zoom": ws.sheet_view.zoomScale,
        "header": _hf(ws.oddHeader), "footer": _hf(ws.oddFooter),
        "repeat_rows": None, "print_area": None,
    }
    if ws.print_title_rows:
        m = re.match(r"\$?(\d+):\$?(\d+)", ws.print_title_rows)
        if m:
            page["repeat_rows"] = (int(m.group(1)) - 1, int(m.group(2)) - 1)
    if ws.print_area:
        area = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
        try:
            c0, r0, c1, r1 = range_boundaries(area.split("!")[-1].replace("$", ""))
            page["print_area"] = (r0 - 1, c0 - 1, r1 - 1, c1 - 1)
        except (ValueError, TypeError):
            pass
    return page


def _hf(part) -> str:
    if part is None:
        return ""
    out = []
    for code, side in (("&L", part.left), ("&C", part.center), ("&R", part.right)):
        if side is not None and side.text:
            out.append(code + side.text)
    return "".join(out)


# --------------------------------------------------------------------------- writing

class _RowMap:
    """Template row -> written row, given how many rows each region writes."""

    def __init__(self, regions, counts: dict):
        self.spans = []  # (r0, r1, written rows)
        for reg in regions:
            self.spans.append((reg.r0, reg.r1, max(counts.get(reg.name, 0), 1)))

    def _place(self, r: int) -> tuple[int, int, int, bool]:
        """(where r's region starts once written, r's offset in it, the region's written rows,
        whether r is its last template row); a row outside every region is a region of one."""
        shift = 0
        for r0, r1, n in self.spans:
            if r > r1:
                shift += n - (r1 - r0 + 1)
            elif r >= r0:
                return r0 + shift, r - r0, n, r == r1
        return r + shift, 0, 1, False

    def row(self, r: int) -> int:
        start, offset, n, _ = self._place(r)
        return start + min(offset, n - 1)

    def end(self, r: int) -> int:
        """Where a range that ends on template row r ends (a region's last row: its last line)."""
        start, offset, n, last = self._place(r)
        return start + n - 1 if last else start + min(offset, n - 1)


_REF = re.compile(r'("[^"]*")|(?<![A-Za-z_\d.$!])(\$?[A-Z]{1,3}\$?)(\d+)(?::(\$?[A-Z]{1,3}\$?)(\d+))?(?![\d(A-Za-z_])')


def shift_formula(formula: str, rows: _RowMap) -> str:
    """Move the A1 row references of a formula with the rows they point at (strings untouched)."""
    def sub(m):
        if m.group(1):
            return m.group(1)
        out = f"{m.group(2)}{rows.row(int(m.group(3)) - 1) + 1}"
        if m.group(4):
            out += f":{m.group(4)}{rows.end(int(m.group(5)) - 1) + 1}"
        return out
    return _REF.sub(sub, formula)


@dataclass(frozen=True)
class _Plan:
    region_of: dict      # template row -> Region
    named_at: dict       # (row, col) -> name
    order: list          # template rows in writing order
    visible: list        # per style index: shows without a value (borders, fill)
    # region template row -> (its cells as (col, value, style, region key or None), the region
    # columns it has no cell in as (col, key))
    line_cells: dict = field(default_factory=dict)
    # template row outside the regions -> its cells as (col, value, style, name or None)
    row_cells: dict = field(default_factory=dict)
    # the named cells outside every template cell and region, as (name, row, col)
    loose_names: list = field(default_factory=list)


def _plan(layout: Layout) -> _Plan:
    """The layout's derived structure, computed once per Layout (not once per file)."""
    if layout.plan is None:
        region_of = {r: reg for reg in layout.regions for r in range(reg.r0, reg.r1 + 1)}
        line_cells = {}
        for tr, reg in region_of.items():
            cells = [(c, value, style, reg.columns.get(c)) for c, value, style in layout.rows.get(tr, ())]
            seen = {c for c, _, _, _ in cells}
            line_cells[tr] = (cells, [(c, key) for c, key in reg.columns.items() if c not in seen])
        named_at = {pos: name for name, pos in layout.names.items()}
        row_cells = {r: [(c, value, style, named_at.get((r, c))) for c, value, style in cells]
                     for r, cells in layout.rows.items() if r not in region_of}
        loose = [(name, r, c) for name, (r, c) in layout.names.items()
                 if not any(cc == c for cc, _, _ in layout.rows.get(r, ())) and r not in region_of]
        layout.plan = _Plan(region_of=region_of, named_at=named_at,
                            order=sorted(set(layout.rows) | set(layout.row_heights)),
                            visible=[any(k in props for k in _VISIBLE_WHEN_BLANK) for props in layout.styles],
                            line_cells=line_cells, row_cells=row_cells, loose_names=loose)
    return layout.plan


class _Formats:
    def __init__(self, wb, styles, visible: list | None = None):
        self.wb, self.styles = wb, styles
        self.cache: dict = {}
        self._visible = visible

    def visible(self, idx: int) -> bool:
        if self._visible is not None:
            return self._visible[idx]
        props = self.styles[idx]
        return any(k in props for k in _VISIBLE_WHEN_BLANK)

    def get(self, idx: int, fallback: str | None = None):
        key = (idx, fallback)
        fmt = self.cache.get(key, False)
        if fmt is False:
            props = dict(self.styles[idx])
            if fallback and not props.get("num_format"):
                props["num_format"] = fallback
            fmt = self.wb.add_format(props) if props else None
            self.cache[key] = fmt
        return fmt


_VISIBLE_WHEN_BLANK = ("pattern", "bg_color", "left", "right", "top", "bottom")


# the kinds of cell value _classify tells apart
BLANK, BOOLEAN, NUMBER, DATE, FORMULA, TEXT = range(6)


def _classify(value, rows: _RowMap | None):
    """(kind, value to write, fallback number format) of one cell value: the one rule of what a
    value becomes, shared by the xlsxwriter route (fill) and the part-reusing writer
    (render/template_parts.py). Only a template's own cell (``rows`` given) may be a formula."""
    if type(value) is str:  # the common case first; a str is none of the types below
        if value == "":
            return BLANK, None, None
        if rows is not None and value.startswith("=") and len(value) > 1:
            return FORMULA, shift_formula(value, rows), None
        return TEXT, value, None
    if value is None or value == "":
        return BLANK, None, None
    if isinstance(value, bool):
        return BOOLEAN, value, None
    if isinstance(value, Money):
        return NUMBER, float(value), MONEY_FORMAT
    if isinstance(value, (int, float)):
        if value != value:  # NaN: blank
            return BLANK, None, None
        return NUMBER, value, None
    if isinstance(value, (dt.datetime, dt.date)):
        return DATE, value, DATE_FORMAT
    if isinstance(value, str) and rows is not None and value.startswith("=") and len(value) > 1:
        return FORMULA, shift_formula(value, rows), None
    return TEXT, str(value), None


def _write(ws, fmts: _Formats, r: int, c: int, value, style: int, rows: _RowMap | None = None) -> None:
    kind, value, fallback = _classify(value, rows)
    if kind == BLANK:
        # A blank cell only needs its style when the style shows without a value (borders,
        # fill): skipping the others keeps each file small and fast to write.
        if fmts.visible(style):
            ws.write_blank(r, c, None, fmts.get(style))
    elif kind == TEXT:
        ws.write_string(r, c, value, fmts.get(style))
    elif kind == NUMBER:
        ws.write_number(r, c, value, fmts.get(style, fallback))
    elif kind == DATE:
        ws.write_datetime(r, c, value, fmts.get(style, fallback))
    elif kind == BOOLEAN:
        ws.write_boolean(r, c, value, fmts.get(style))
    else:
        ws.write_formula(r, c, value, fmts.get(style))


def _abs(sheet: str, r0: int, c0: int, r1: int | None = None, c1: int | None = None) -> str:
    from xlsxwriter.utility import xl_rowcol_to_cell

    quoted = "'" + sheet.replace("'", "''") + "'"
    ref = xl_rowcol_to_cell(r0, c0, row_abs=True, col_abs=True)
    if r1 is not None and (r1, c1) != (r0, c0):
        ref += ":" + xl_rowcol_to_cell(r1, c1, row_abs=True, col_abs=True)
    return f"={quoted}!{ref}"


def fill(layout: Layout, path, values: dict | None = None, tables: dict | None = None,
         defaults: dict | None = None, properties: dict | None = None, names: bool = False) -> Path:
    """Write ``path``: the template with ``values`` in its named cells and ``tables`` in its regions.

    values    name -> value (str, int, float, Money, date/datetime, bool, None); names the
              template lacks are ignored (a user may drop a field);
    tables    region name -> list of rows, each a dict key -> value; keys without a column in
              the region are ignored; an empty list writes one blank styled row;
    defaults  name -> value written only where the template's cell is blank (wording a user may
              have replaced in the template, e.g. a confirmation block);
    names     also define the template's names in the written file, pointing at the filled
              cells (off by default: ~15 % of the time of a small file).
    Text is always written as text (a name starting with "=" stays text).
    This is the reference route (xlsxwriter, every part made per file); statements and letters
    are written by render/template_parts.py from parts made once per template, same content.
    """
    wb, _, _ = workbook(layout, str(path), values, tables, defaults, properties, names)
    wb.close()
    return Path(path)


def workbook(layout: Layout, target, values: dict | None = None, tables: dict | None = None,
             defaults: dict | None = None, properties: dict | None = None, names: bool = False):
    """The filled xlsxwriter (Workbook, Worksheet, _Formats), not yet closed (see ``fill``)."""
    values, tables, defaults = values or {}, tables or {}, defaults or {}
    counts = {name: len(rows) for name, rows in tables.items()}
    rows = _RowMap(layout.regions, counts)
    wb = xlsxwriter.Workbook(target, WORKBOOK_OPTIONS)
    if properties:
        wb.set_properties(properties)
    ws = wb.add_worksheet(layout.sheet[:31])
    plan = _plan(layout)
    fmts = _Formats(wb, layout.styles, plan.visible)

    for c, (px, hidden) in layout.col_widths.items():
        ws.set_column_pixels(c, c, px, None, {"hidden": True} if hidden else None)
    if layout.default_row_height:
        ws.set_default_row(layout.default_row_height)

    emit(layout, values, tables, defaults, rows, _SheetSink(ws, fmts))

    for name, ref in (defined_names(layout, rows) if names else ()):
        wb.define_name(name, "=" + ref)
    _apply_page(ws, layout.page, rows)
    return wb, ws, fmts


class _SheetSink:
    """Where ``emit`` puts cells, row heights and merges: an xlsxwriter worksheet."""

    def __init__(self, ws, fmts: _Formats):
        self.ws, self.fmts = ws, fmts

    def merge(self, r0: int, c0: int, r1: int, c1: int) -> None:
        self.ws.merge_range(r0, c0, r1, c1, None)

    def row(self, r: int, height, hidden: bool) -> None:
        self.ws.set_row(r, height, None, {"hidden": True} if hidden else None)

    def cell(self, r: int, c: int, value, style: int, rows: _RowMap | None) -> None:
        _write(self.ws, self.fmts, r, c, value, style, rows)


def emit(layout: Layout, values: dict, tables: dict, defaults: dict, rows: _RowMap, sink) -> None:
    """Walk the template once for one file: every merge, row height and cell, in writing order,
    handed to ``sink`` (merge, row, cell). The one place that decides what goes where."""
    plan = _plan(layout)
    counts = {name: len(data) for name, data in tables.items()}
    region_of = plan.region_of
    # Merges first (merge_range writes every cell of the range), then each cell with its own
    # style, so that a merged block keeps per-cell borders.
    for r0, c0, r1, c1 in layout.merges:
        reg = region_of.get(r0)
        if reg is None and region_of.get(r1) is None:
            sink.merge(rows.row(r0), c0, rows.row(r1), c1)
        elif reg is not None and r1 <= reg.r1:  # a merge inside a region row: once per line
            n, start = max(counts.get(reg.name, 0), 1), rows.row(reg.r0)
            for i in range(n - (r1 - r0)):
                if i % reg.height == r0 - reg.r0:
                    sink.merge(start + i, c0, start + i + (r1 - r0), c1)

    row_cells = plan.row_cells
    done_regions = set()
    for r in plan.order:
        reg = region_of.get(r)
        if reg is not None:
            if reg.name not in done_regions:
                done_regions.add(reg.name)
                _fill_region(sink, layout, reg, tables.get(reg.name) or [], rows)
            continue
        out_r = rows.row(r)
        if r in layout.row_heights:
            sink.row(out_r, *layout.row_heights[r])
        for c, value, style, name in row_cells.get(r, ()):
            # Only the template's own cells may carry a formula; a value filled in is data (a
            # customer name "=HYPERLINK(...)" stays text), so it is written without ``rows``.
            if name is not None and name in values:
                sink.cell(out_r, c, values[name], style, None)
            elif name is not None and name in defaults and (value is None or value == ""):
                sink.cell(out_r, c, defaults[name], style, None)
            else:
                sink.cell(out_r, c, value, style, rows)
    for reg in layout.regions:  # a region row the template left entirely blank
        if reg.name not in done_regions:
            _fill_region(sink, layout, reg, tables.get(reg.name) or [], rows)
    # A named cell outside any template cell (an unstyled blank cell) still gets its value.
    for name, r, c in plan.loose_names:
        if name in values:
            sink.cell(rows.row(r), c, values[name], 0, None)


def defined_names(layout: Layout, rows: _RowMap) -> list[tuple[str, str]]:
    """(name, reference without "=") of the template's names in a filled file: each named cell,
    each region over all its written rows, each region column over its written rows."""
    sheet = layout.sheet[:31]
    out = [(name, _abs(sheet, rows.row(r), c)[1:]) for name, (r, c) in layout.names.items()]
    for reg in layout.regions:
        start, end = rows.row(reg.r0), rows.end(reg.r1)
        out.append((reg.name, _abs(sheet, start, reg.c0, end, reg.c1)[1:]))
        for c, key in reg.columns.items():
            if reg.column_names.get(key):
                out.append((reg.column_names[key], _abs(sheet, start, c, end, c)[1:]))
    return out


def _fill_region(sink, layout: Layout, reg: Region, data: list, rows: _RowMap) -> None:
    start = rows.row(reg.r0)
    n = max(len(data), 1)
    heights = layout.row_heights
    line_cells = _plan(layout).line_cells
    cell = sink.cell
    for i in range(n):
        tr = reg.r0 + i % reg.height
        line = data[i] if i < len(data) else {}
        out_r = start + i
        if tr in heights:
            sink.row(out_r, *heights[tr])
        cells, unstyled = line_cells[tr]
        for c, value, style, key in cells:
            if key is None:
                cell(out_r, c, value, style, rows)
            else:
                cell(out_r, c, line.get(key), style, None)
        for c, key in unstyled:  # a column cell the template left unstyled
            if line.get(key) not in (None, ""):
                cell(out_r, c, line.get(key), 0, None)


def _apply_page(ws, page: dict, rows: _RowMap) -> None:
    if page.get("landscape"):
        ws.set_landscape()
    if page.get("paper"):
        ws.set_paper(page["paper"])
    if page.get("fit"):
        ws.fit_to_pages(*page["fit"])
    if page.get("margins") and all(m is not None for m in page["margins"]):
        ws.set_margins(*page["margins"])
    if page.get("center"):
        ws.center_horizontally()
    if not page.get("gridlines", True):
        ws.hide_gridlines(2)
    if page.get("zoom") and page["zoom"] != 100:
        ws.set_zoom(page["zoom"])
    if page.get("header"):
        ws.set_header(page["header"])
    if page.get("footer"):
        ws.set_footer(page["footer"])
    if page.get("repeat_rows"):
        a, b = page["repeat_rows"]
        ws.repeat_rows(rows.row(a), rows.end(b))
    if page.get("print_area"):
        r0, c0, r1, c1 = page["print_area"]
        ws.print_area(rows.row(r0), c0, rows.end(r1), c1)
