"""Writing SheetOut blocks with xlsxwriter (new workbooks and sheets transplanted by xlsxpatch).

Text is always written with write_string, so text from outside that starts with = + - @ stays
text, never a formula. Header in row 1, frozen, an Excel table (or an autofilter in
constant_memory mode, where xlsxwriter cannot make tables), formats by column kind, internal
links for 'link' columns (Excel allows 65,530 links a sheet: later rows get plain text).
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from ..contract import FORMATS, SheetOut

MAX_LINKS = 65000
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
                    "nan_inf_to_errors": True}


class Formats:
    """One xlsxwriter format per kind, made once per workbook."""

    def __init__(self, wb):
        self.wb = wb
        self.cache = {}

    def get(self, kind: str):
        if kind not in self.cache:
            props: dict = {}
            if kind in FORMATS:
                props["num_format"] = FORMATS[kind]
            if kind == "header":
                props = {"bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF", "text_wrap": True,
                         "valign": "vcenter", "border": 1}
            if kind == "link":
                props = {"font_color": "#0563C1", "underline": 1}
            self.cache[kind] = self.wb.add_format(props) if props else None
        return self.cache[kind]


def write_sheet_out(wb, out: SheetOut, fmts: Formats, protect: bool = False, constant_memory: bool = False,
                    bodies: dict | None = None):
    """``bodies``: when given (the xlsxpatch path), a big tabular sheet's data rows are prepared
    column-wise (io/columnar.py) into ``bodies[out.name]`` instead of written cell by cell."""
    ws = wb.add_worksheet(out.name)
    if out.draw is not None:  # a laid-out sheet draws itself (render/card.py, render/dashboard.py)
        out.draw(wb, ws, fmts)
        if protect:
            ws.protect("", {"format_columns": True, "format_cells": True})
        return ws
    ncols, nrows = len(out.headers), len(out.data)
    header_fmt = fmts.get("header")
    for j, w in enumerate(out.widths or [12] * ncols):
        ws.set_column(j, j, w, fmts.get(out.formats[j]) if out.formats[j] in FORMATS else None)
    use_table = not constant_memory and bool(out.table) and ncols > 0
    if use_table:
        _add_table(ws, max(nrows, 1), ncols - 1, {
            "name": out.table, "style": "Table Style Light 9", "autofilter": True,
            "columns": [{"header": h, "header_format": header_fmt} for h in out.headers]})
    for j, h in enumerate(out.headers):
        ws.write_string(0, j, str(h), header_fmt)
    ws.set_row(0, 30)
    ws.freeze_panes(1, 0)
    # printable as a report: landscape, one page wide, the header repeated on every page
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    if out.note:
        ws.write_comment(0, 0, out.note, {"x_scale": 3, "y_scale": 1.5})
    col_fmts = [fmts.get(k) if k in FORMATS else None for k in out.formats]
    link_fmt = fmts.get("link")
    body = _columnar_body(out, col_fmts, fmts) if bodies is not None else None
    if body is not None and bodies is not None:  # (body implies bodies; said for the type checker)
        bodies[out.name] = body
        nrows = 0
        body.write_links(ws, link_fmt)
    columns = [out.data[j].tolist() for j in range(ncols)] if nrows else []
    links: dict = {j: out.links.get(j) for j in range(ncols) if out.links.get(j) is not None}
    for i in range(nrows):
        r = i + 1
        for j in range(ncols):
            v = columns[j][i]
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
                continue
            target = links[j][i] if j in links and i < MAX_LINKS else None
            if target:
                ws.write_url(r, j, target, link_fmt, string=str(v))
            elif isinstance(v, str):
                ws.write_string(r, j, v)
            elif isinstance(v, bool):
                ws.write_boolean(r, j, v)
            elif isinstance(v, (int, float)):
                ws.write_number(r, j, v, col_fmts[j])
            elif isinstance(v, (dt.datetime, dt.date)):
                ws.write_datetime(r, j, v, col_fmts[j] or fmts.get("date"))
            else:
                ws.write_string(r, j, str(v))
    if not use_table and ncols:
        ws.autofilter(0, 0, max(len(out.data), 1), ncols - 1)
    if protect and out.protect:
        ws.protect("", {"autofilter": True, "sort": True, "format_columns": True, "format_cells": True})
    if out.hidden:
        ws.very_hidden()
    return ws


def _add_table(ws, last_row: int, last_col: int, options: dict) -> None:
    """``ws.add_table(0, 0, last_row, last_col, options)`` without xlsxwriter's overlap check
    cell by cell (a dict entry per cell of the range: ~40 ms for a 2,500-row Allocations sheet).

    A generated sheet has this one table and no merge, so the check has nothing to find: the
    table is added over its header and first row (the same check, two rows) and its ranges are
    then set to the whole range, which is all that add_table derives from the last row when no
    column has a formula and there is no total row. The table part written is the same. Anything
    else (a formula column, a total row, data passed in, another table or a merge already on the
    sheet, a range Excel cannot hold, a table dict not shaped as expected) takes add_table as is."""
    from xlsxwriter.utility import xl_range

    plain = not (options.get("total_row") or options.get("data")
                 or any(c.get("formula") for c in options.get("columns", ())))
    if (last_row <= 1 or not plain or getattr(ws, "table_cells", None) or getattr(ws, "merged_cells", None)
            or last_row >= getattr(ws, "xls_rowmax", 0) or not isinstance(getattr(ws, "tables", None), list)):
        ws.add_table(0, 0, last_row, last_col, options)
        return
    count = len(ws.tables)
    ws.add_table(0, 0, 1, last_col, options)
    small, full = xl_range(0, 0, 1, last_col), xl_range(0, 0, last_row, last_col)
    table = ws.tables[-1] if len(ws.tables) == count + 1 else None
    if (isinstance(table, dict) and table.get("range") == small and table.get("a_range") == small
            and table.get("autofilter", small) == small):
        table["range"] = table["a_range"] = full
        if "autofilter" in table:
            table["autofilter"] = full
        return
    # not the table this rule expects (another xlsxwriter): undo it and take add_table as is
    del ws.tables[count:]
    ws.table_cells.clear()
    ws.add_table(0, 0, last_row, last_col, options)


def _columnar_body(out: SheetOut, col_fmts: list, fmts: Formats):
    from . import columnar

    if not columnar.eligible(out, file_links=True):
        return None
    try:
        return columnar.ColumnarBody(out, col_fmts, fmts.get("date"), fmts.get("link"))
    except columnar.NotColumnar:
        return None
