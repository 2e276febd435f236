"""The ledger workbook: `custledger new` and the demo ledger, built from the schema.

Every input sheet is an Excel table with a styled, frozen header, widths and number formats by
column kind, dropdowns for enums and for customer_id (from the Customers table), and an input
message per column from the schema's description. Settings is filled with every default and a
sentence on each; Home 首页 explains the monthly workflow and leaves room for the buttons.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import xlsxwriter

from ..core.parse import enum_lookup
from ..core.settings import settings_rows
from ..schema import documents, msg, norm_header, sheet
from .xlsxsheets import WORKBOOK_OPTIONS

DATA_SHEETS = ("customers", "invoices", "receipts", "interactions")
MIN_ROWS = 2000          # validations and formats reach at least this far below the header
HOME = {"zh": "首页", "en": "Home"}
KIND_FORMAT = {"money": "#,##0.00", "price": "#,##0.00##", "date": "yyyy-mm-dd", "int": "0", "number": "General"}

def _enum_text(value, field, lang):
    """An enum cell as a person of that language would type it (label), whatever was given."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    key = enum_lookup(field).get(norm_header(value))
    return field.enum_label(key, lang) if key else str(value)


def build_ledger(path: Path, lang: str = "zh", data: dict | None = None, settings: dict | None = None,
                 extend=None) -> Path:
    """Write a ledger workbook at ``path`` (overwrites). ``data``: sheet key -> DataFrame with
    canonical-key columns holding values as typed by a person; ``settings``: key -> text;
    ``extend(wb, lang)``: called before the workbook is closed (the .xlsm build adds its buttons)."""
    data = data or {}
    wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    wb.set_properties({"title": msg("workbook_title", lang), "author": "custledger",
                       "comments": "Built by custledger from its schema",
                       "created": dt.datetime(2026, 1, 1)})  # fixed: the shipped files are reproducible
    fmt = {
        "header": wb.add_format({"bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF", "border": 1,
                                 "valign": "vcenter", "text_wrap": True}),
        "required": wb.add_format({"bold": True, "bg_color": "#C00000", "font_color": "#FFFFFF", "border": 1,
                                   "valign": "vcenter", "text_wrap": True}),
        "title": wb.add_format({"bold": True, "font_size": 18, "font_color": "#1F4E78"}),
        "note": wb.add_format({"italic": True, "font_color": "#595959"}),
        "text": wb.add_format({"text_wrap": False}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
    }
    kind_fmt = {k: wb.add_format({"num_format": v}) for k, v in KIND_FORMAT.items()}
    _home(wb, lang, fmt)
    for key in DATA_SHEETS:
        _data_sheet(wb, key, lang, data.get(key), fmt, kind_fmt)
    _settings_sheet(wb, lang, settings or {}, fmt)
    cust = sheet("customers")
    n = max(MIN_ROWS, len(data.get("customers", ())) + 500)
    wb.define_name("CustomerIDs", f"='{cust.name(lang)}'!$A$2:$A${n + 1}")
    if extend is not None:
        extend(wb, lang)
    wb.close()
    return path


def _home(wb, lang, fmt):
    ws = wb.add_worksheet(HOME[lang])
    ws.hide_gridlines(2)
    ws.set_column(0, 0, 3)
    ws.set_column(1, 1, 110)
    r = 1
    for line in documents()["home"][lang]:   # the monthly workflow, worded in schema/documents.json
        ws.write_string(r, 1, line["text"], fmt.get(line["style"]) or fmt["wrap"])
        r += 2 if line["style"] == "title" else 1
    ws.write_string(r + 1, 1, msg("home_buttons", lang), fmt["note"])
    ws.set_row(0, 20)
    _card_customer(wb, ws, lang, fmt)
    ws.activate()


CARD_CUSTOMER = "CardCustomer"   # the Home cell the Card button reads (custledger/xl.py)


def _card_customer(wb, ws, lang, fmt):
    """Beside the Card button: a caption and the customer cell, a dropdown of the Customers'
    IDs, named CardCustomer, so the Card button works whichever sheet is active."""
    from ..operations import BUTTONS, FIRST_BUTTON_ROW

    row = FIRST_BUTTON_ROW + BUTTONS.index("card")
    ws.set_column(2, 2, 22)
    ws.set_column(3, 3, 16)
    ws.write_string(row, 2, msg("home_card_customer", lang), fmt["note"])
    ws.write_blank(row, 3, None, wb.add_format({"border": 1, "bg_color": "#FFF2CC"}))
    ws.data_validation(row, 3, row, 3, {"validate": "list", "source": "=CustomerIDs", "error_type": "warning",
                                         "input_title": msg("home_card_customer", lang)[:32],
                                         "input_message": msg("dv_customer", lang)[:250],
                                         "error_message": msg("dv_customer", lang)[:250]})
    wb.define_name(CARD_CUSTOMER, f"='{HOME[lang]}'!$D${row + 1}")


def _data_sheet(wb, key, lang, frame, fmt, kind_fmt):
    spec = sheet(key)
    ws = wb.add_worksheet(spec.name(lang))
    fields = spec.fields
    rows = 0 if frame is None else len(frame)
    last = max(rows, 1)
    reach = max(MIN_ROWS, rows + 500)
    ws.add_table(0, 0, last, len(fields) - 1, {
        "name": spec.table, "style": "Table Style Medium 2",
        "columns": [{"header": f.label(lang), "header_format": fmt["required" if f.required else "header"]}
                    for f in fields]})
    ws.freeze_panes(1, 1 if key in ("customers",) else 0)
    ws.set_row(0, 32)
    for j, f in enumerate(fields):
        ws.set_column(j, j, f.width, kind_fmt.get(f.kind))
        _validation(ws, j, f, lang, reach, key)
    if frame is not None and rows:
        _write_rows(ws, frame, fields, lang, kind_fmt)


def _validation(ws, j, f, lang, reach, sheet_key):
    title = f.label(lang)[:32]
    message = (f.descriptions.get(lang) or "")[:250]
    opts = {"input_title": title, "input_message": message, "error_type": "warning"}
    if f.kind == "enum":
        labels = [f.enum_label(v, lang) for v in f.enum]
        opts.update({"validate": "list", "source": labels, "error_title": title[:32],
                     "error_message": msg("dv_choose", lang, choices="/".join(labels))[:250]})
    elif f.kind == "ref" and f.spec.get("x-ref") == "customers.customer_id":
        opts.update({"validate": "list", "source": "=CustomerIDs", "error_title": title[:32],
                     "error_message": msg("dv_customer", lang)})
    elif f.kind == "date":
        opts.update({"validate": "date", "criteria": "between", "minimum": dt.date(1990, 1, 1),
                     "maximum": dt.date(2100, 12, 31),
                     "error_message": msg("dv_date", lang)})
    else:
        opts["validate"] = "any"
    ws.data_validation(1, j, reach, j, opts)


def _write_rows(ws, frame: pd.DataFrame, fields, lang, kind_fmt):
    for j, f in enumerate(fields):
        if f.key not in frame.columns:
            continue
        values = frame[f.key].tolist()
        cf = kind_fmt.get(f.kind)
        for i, v in enumerate(values):
            r = i + 1
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
                continue
            if f.kind == "enum":
                v = _enum_text(v, f, lang)
                if v is None:
                    continue
            if isinstance(v, pd.Timestamp):
                v = v.to_pydatetime()
            if isinstance(v, (dt.date, dt.datetime)):
                ws.write_datetime(r, j, v, kind_fmt["date"])
            elif isinstance(v, bool):
                ws.write_string(r, j, str(v))
            elif isinstance(v, (int, float)) and f.kind in ("money", "price", "int", "number"):
                ws.write_number(r, j, float(v), cf)
            else:
                text = str(v)
                if f.kind in ("money", "price", "int", "number"):
                    ws.write_string(r, j, text)
                else:
                    ws.write_string(r, j, text)


def _settings_sheet(wb, lang, values: dict, fmt):
    spec = sheet("settings")
    meta = spec.schema["x-sheet"]["columns"]
    ws = wb.add_worksheet(spec.name(lang))
    rows = settings_rows()
    label_head = msg("settings_name", lang)
    headers = [meta["key"][lang], label_head, meta["value"][lang], meta["description"][lang]]
    ws.add_table(0, 0, len(rows), 3, {"name": spec.table, "style": "Table Style Medium 2",
                                      "columns": [{"header": h, "header_format": fmt["header"]} for h in headers]})
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 18)
    ws.set_column(2, 2, 18)
    ws.set_column(3, 3, 80)
    ws.freeze_panes(1, 0)
    for i, (key, default, zh, en) in enumerate(rows, start=1):
        f = spec.field(key)
        value = values.get(key, default)
        if key == "language":
            value = values.get(key, lang)
        ws.write_string(i, 0, key)
        ws.write_string(i, 1, f.label(lang))
        if str(value) != "":  # a blank setting is an empty cell, not an empty string (readers differ on those)
            ws.write_string(i, 2, str(value))
        ws.write_string(i, 3, zh if lang == "zh" else en)
        if "enum" in f.spec:
            ws.data_validation(i, 2, i, 2, {"validate": "list", "source": list(f.spec["enum"]),
                                            "input_title": f.label(lang)[:32], "input_message": (zh if lang == "zh" else en)[:250]})
        else:
            ws.data_validation(i, 2, i, 2, {"validate": "any", "input_title": f.label(lang)[:32],
                                            "input_message": (zh if lang == "zh" else en)[:250]})
