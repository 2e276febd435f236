"""The Dashboard 看板 sheet: KPI table in A:B (header in row 1), data blocks beside it, native
Excel charts (xlsxwriter) that read those blocks on the same sheet.

Layout (row 1 is a header row everywhere, so each block reads back as a table):
A:B KPIs (指标/数值) · D:F monthly net sales vs collections · H:J aging distribution ·
L:M ABC Pareto points · O:T top 10 customers · V:Y receivable by owner; charts below the KPIs:
monthly sales vs collections (column + line), aging distribution (column), Pareto (scatter
with lines). Also the shared helpers for laid-out sheets (Grid, block labels, formats) used by
render/card.py.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from ..core.dashboard import Dashboard
from ..schema import msg, output_columns, output_enum_label, output_sheet_name, outputs
from .sheets import FORMATS, SheetOut

STYLES = {
    "header": {"bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF", "text_wrap": True,
               "valign": "vcenter", "border": 1},
    "section": {"bold": True, "font_size": 12, "font_color": "#1F4E78", "bg_color": "#DDEBF7", "bottom": 2,
                "bottom_color": "#1F4E78"},
    "label": {"font_color": "#404040", "bg_color": "#F2F2F2", "border": 1, "border_color": "#D9D9D9"},
    "note": {"italic": True, "font_color": "#7F7F7F"},
}
PALETTE = ["#2E75B6", "#70AD47", "#FFC000", "#ED7D31", "#C00000", "#7030A0", "#264478", "#9E480E"]


def style(fmts, kind: str):
    """A cached xlsxwriter format: a number kind of FORMATS, a STYLES key, or 'kind+cell'
    (the number format with a light border, for values in the field/value tables)."""
    key = "dash:" + kind
    if key not in fmts.cache:
        base, _, extra = kind.partition("+")
        props = dict(STYLES.get(base, {}))
        if base in FORMATS:
            props["num_format"] = FORMATS[base]
        if extra == "cell":
            props.update({"border": 1, "border_color": "#D9D9D9", "align": "left" if base == "text" else None})
            props = {k: v for k, v in props.items() if v is not None}
        if base == "text" and extra == "wrap":
            props["text_wrap"] = True
            props["valign"] = "top"
        fmts.cache[key] = fmts.wb.add_format(props) if props else None
    return fmts.cache[key]


class Grid:
    """Cells gathered first, then written in row order: xlsxwriter's constant_memory mode (used
    when another generated sheet is big) drops writes to rows above the last one written."""

    def __init__(self):
        self.cells: dict[tuple[int, int], tuple] = {}

    def put(self, r: int, c: int, value, kind: str = "text") -> None:
        self.cells[(r, c)] = (value, kind)

    @property
    def last_row(self) -> int:
        return max((r for r, _ in self.cells), default=0)

    @property
    def last_col(self) -> int:
        return max((c for _, c in self.cells), default=0)

    def flush(self, ws, fmts) -> None:
        for (r, c) in sorted(self.cells):
            v, kind = self.cells[(r, c)]
            f = style(fmts, kind)
            if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
                if f is not None and kind not in ("text",):
                    ws.write_blank(r, c, None, f)
                continue
            if isinstance(v, pd.Timestamp):
                v = v.to_pydatetime()
            if isinstance(v, (dt.date, dt.datetime)):
                ws.write_datetime(r, c, v, f or style(fmts, "date"))
            elif isinstance(v, bool):
                ws.write_string(r, c, str(v), f)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(r, c, v, f)
            elif hasattr(v, "item"):  # numpy scalar
                ws.write_number(r, c, v.item(), f)
            else:
                ws.write_string(r, c, str(v), f)


def block_columns(key: str, lang: str) -> list[tuple[str, str, str]]:
    """(key, label, format) of a data block of outputs.json "blocks"."""
    return [(c["key"], c[lang], c["format"]) for c in outputs()["blocks"][key]["columns"]]


def display(value, fmt: str, enum: str | None = None, lang: str = "zh"):
    """A core value as written in a cell: cents → units, enum key → label, NA → None."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if fmt == "money":
        return int(value) / 100
    if fmt == "int":
        return int(value)
    if fmt in ("pct", "float"):
        return float(value)
    if fmt == "date":
        return pd.Timestamp(value).to_pydatetime()
    if fmt == "enum" and enum:
        return output_enum_label(enum, value, lang)
    if fmt == "bool":
        return output_enum_label("bool", "true" if bool(value) else "false", lang)
    return str(value)


def put_block(grid: Grid, r0: int, c0: int, key: str, frame: pd.DataFrame, lang: str, enums: dict | None = None,
              labels: dict | None = None) -> tuple[int, int]:
    """Header at row r0 and the frame's rows below; returns (first, last) data row (last < first
    when the frame is empty). ``labels`` maps a column to a function key → display text."""
    cols = block_columns(key, lang)
    for j, (_, label, _) in enumerate(cols):
        grid.put(r0, c0 + j, label, "header")
    for i in range(len(frame)):
        for j, (ck, _, fmt) in enumerate(cols):
            v = frame[ck].iloc[i] if ck in frame.columns else None
            if labels and ck in labels and v is not None and not pd.isna(v):
                grid.put(r0 + 1 + i, c0 + j, labels[ck](v), "text")
            else:
                grid.put(r0 + 1 + i, c0 + j, display(v, fmt, (enums or {}).get(ck), lang),
                         fmt if fmt in FORMATS else "text")
    return r0 + 1, r0 + len(frame)


def monthly_chart(wb, sheet: str, first: int, last: int, c0: int, lang: str, title: str | None = None):
    """Column (net sales) + line (collections) chart over a 'monthly' block at rows first..last."""
    cols = block_columns("monthly", lang)
    cats = [sheet, first, c0, max(last, first), c0]
    col = wb.add_chart({"type": "column"})
    col.add_series({"name": cols[1][1], "categories": cats, "values": [sheet, first, c0 + 1, max(last, first), c0 + 1],
                    "fill": {"color": PALETTE[0]}, "gap": 80})
    line = wb.add_chart({"type": "line"})
    line.add_series({"name": cols[2][1], "categories": cats, "values": [sheet, first, c0 + 2, max(last, first), c0 + 2],
                     "line": {"color": PALETTE[4], "width": 2.25}, "marker": {"type": "circle", "size": 5,
                                                                               "fill": {"color": PALETTE[4]},
                                                                               "border": {"color": PALETTE[4]}}})
    col.combine(line)
    col.set_title({"name": title or msg("chart_sales_collections", lang), "name_font": {"size": 11}})
    col.set_y_axis({"num_format": "#,##0", "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    col.set_x_axis({"num_font": {"rotation": -45}, "label_position": "low"})
    col.set_legend({"position": "bottom"})
    return col


def _aging_labels(buckets: list[str], lang: str) -> dict:
    return {k: label for k, label, _ in output_columns("aging", lang, buckets)}


def dashboard_sheet(d: Dashboard, lang: str, buckets: list[str], note: str = "") -> SheetOut:
    """The Dashboard SheetOut: tabular fallback = the KPI table; draw = the full layout."""
    name = output_sheet_name("dashboard", lang)
    (_, metric_label, _), (_, value_label, _) = output_columns("dashboard", lang)[:2]
    kpi_labels = [output_enum_label("metric", m, lang) for m in d.kpis["metric"]]
    kpi_values = [display(v, f) for v, f in zip(d.kpis["value"], d.kpis["format"])]
    aging_names = _aging_labels(buckets, lang)
    unassigned = msg("owner_unassigned", lang)
    full_note = (note + "\n" + msg("dashboard_definitions", lang)).strip()

    def draw(wb, ws, fmts):
        g = Grid()
        g.put(0, 0, metric_label, "header")
        g.put(0, 1, value_label, "header")
        for i, (label, v, f) in enumerate(zip(kpi_labels, kpi_values, d.kpis["format"])):
            g.put(i + 1, 0, label, "label")
            g.put(i + 1, 1, v, (f if f in FORMATS else "text") + "+cell")
        m_first, m_last = put_block(g, 0, 3, "monthly", d.monthly, lang)
        a_first, a_last = put_block(g, 0, 7, "aging_dist", d.aging_dist, lang,
                                    labels={"bucket": lambda k: aging_names.get(k, k)})
        p_first, p_last = put_block(g, 0, 11, "pareto", d.pareto, lang)
        put_block(g, 0, 14, "top", d.top, lang)
        put_block(g, 0, 21, "by_owner", d.by_owner, lang, labels={"owner": lambda o: o or unassigned})
        widths = {0: 24, 1: 16, 2: 2, 3: 10, 4: 14, 5: 14, 6: 2, 7: 12, 8: 14, 9: 9, 10: 2, 11: 13, 12: 13,
                  13: 2, 14: 6, 15: 12, 16: 24, 17: 14, 18: 9, 19: 14, 20: 2, 21: 14, 22: 14, 23: 14, 24: 10}
        for c, w in widths.items():
            ws.set_column(c, c, w)
        ws.set_row(0, 30)
        g.flush(ws, fmts)
        if note or full_note:
            ws.write_comment(0, 0, full_note, {"x_scale": 4, "y_scale": 3})
        ws.freeze_panes(1, 0)

        top = len(kpi_labels) + 2
        ch = monthly_chart(wb, name, m_first, m_last, 3, lang)
        ch.set_size({"width": 820, "height": 300})
        ws.insert_chart(top, 0, ch, {"x_offset": 4, "y_offset": 4})

        ag = wb.add_chart({"type": "column"})
        ag.add_series({"name": msg("chart_aging", lang), "categories": [name, a_first, 7, a_last, 7],
                       "values": [name, a_first, 8, a_last, 8],
                       "points": [{"fill": {"color": PALETTE[i % len(PALETTE)]}} for i in range(len(d.aging_dist))],
                       "data_labels": {"value": False}, "gap": 50})
        ag.set_title({"name": msg("chart_aging", lang), "name_font": {"size": 11}})
        ag.set_legend({"none": True})
        ag.set_y_axis({"num_format": "#,##0", "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        ag.set_size({"width": 405, "height": 300})
        ws.insert_chart(top + 16, 0, ag, {"x_offset": 4, "y_offset": 4})

        pa = wb.add_chart({"type": "scatter", "subtype": "straight"})
        pa.add_series({"name": "ABC", "categories": [name, p_first, 11, p_last, 11],
                       "values": [name, p_first, 12, p_last, 12], "line": {"color": PALETTE[3], "width": 2.5}})
        pa.set_title({"name": msg("chart_pareto", lang), "name_font": {"size": 10}})
        pa.set_legend({"none": True})
        axis = {"min": 0, "max": 1, "major_unit": 0.2, "num_format": "0%",
                "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}}
        pa.set_x_axis(axis)
        pa.set_y_axis(axis)
        pa.set_size({"width": 405, "height": 300})
        ws.insert_chart(top + 16, 0, pa, {"x_offset": 419, "y_offset": 4})

        last = max(g.last_row, top + 32)
        ws.print_area(0, 0, last, 24)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)

    data = pd.DataFrame({0: pd.Series(kpi_labels, dtype=object), 1: pd.Series(kpi_values, dtype=object)})
    return SheetOut(key="dashboard", name=name, headers=[metric_label, value_label], formats=["text", "text"],
                    data=data, table="", widths=[24, 16], note=full_note, draw=draw)
