"""The shipped document templates (templates/*.xlsx), built from schema/documents.json.

``build_all(folder)`` writes templates/statement.xlsx (zh), statement_en.xlsx,
dunning_letter.xlsx (zh) and dunning_letter_en.xlsx. They are committed; tests/test_statements.py
fails when they are stale (rebuild with ``python -m custledger.render.build_templates``).
People restyle them in Excel; everything the program fills is found by defined name (see
render/template_fill.py), so only the names matter:

statement       company_name, title, customer_name, customer_id, customer_contact,
                customer_phone, customer_address, period, statement_date, currency, opening,
                invoiced, credited, received, closing, unapplied, payment_instructions, note,
                confirm_block; table ``lines`` (columns line_date, line_doc_no, line_kind,
                line_due_date, line_debit, line_credit, line_balance, line_memo) and table
                ``aging`` (aging_label, aging_amount).
dunning letter  company_name, title, letter_date, salutation, customer_contact, customer_phone,
                body, total, payment_instructions, closing, signature; table ``items``
                (item_doc_no, item_date, item_due_date, item_amount, item_outstanding,
                item_days_overdue).

The captions (客户名称, 期初余额, …) are plain template text: a user may reword them.
"""

from __future__ import annotations

import datetime as dt
import sys
from functools import cache
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from ..schema import documents

REPO_TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
FILES = {("statement", "zh"): "statement.xlsx", ("statement", "en"): "statement_en.xlsx",
         ("letter", "zh"): "dunning_letter.xlsx", ("letter", "en"): "dunning_letter_en.xlsx"}
BUILT = dt.datetime(2026, 1, 1)  # fixed document dates: the same build gives the same bytes
FONT = {"zh": "DengXian", "en": "Calibri"}
BLUE, GREY, LIGHT = "#1F4E78", "#595959", "#DDEBF7"


@cache
def _ref(sheet: str, r0, c0, r1=None, c1=None) -> str:
    ref = xl_rowcol_to_cell(r0, c0, row_abs=True, col_abs=True)
    if r1 is not None:
        ref += ":" + xl_rowcol_to_cell(r1, c1, row_abs=True, col_abs=True)
    return f"='{sheet}'!{ref}"


class _Sheet:
    def __init__(self, path: Path, lang: str, sheet: str, title: str):
        self.wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
        self.wb.set_properties({"title": title, "author": "custledger", "created": BUILT,
                                "comments": "custledger template: keep the defined names (Formulas > Name Manager)"})
        self.ws = self.wb.add_worksheet(sheet)
        self.sheet, self.lang = sheet, lang
        self.cache: dict = {}

    def fmt(self, **props):
        props.setdefault("font_name", FONT[self.lang])
        props.setdefault("font_size", 10)
        key = tuple(sorted(props.items()))
        if key not in self.cache:
            self.cache[key] = self.wb.add_format(props)
        return self.cache[key]

    def name(self, name, r0, c0, r1=None, c1=None):
        self.wb.define_name(name, _ref(self.sheet, r0, c0, r1, c1))

    def cell(self, r, c, value, fmt, name=None, to=None):
        """A cell (or merged block up to ``to`` = (row, col)), optionally named."""
        if to is not None:
            self.ws.merge_range(r, c, to[0], to[1], value, fmt)
        elif value in (None, ""):
            self.ws.write_blank(r, c, None, fmt)
        else:
            self.ws.write(r, c, value, fmt)
        if name:
            self.name(name, r, c, *(to or ()))

    def close(self):
        self.wb.close()


def _page(ws, landscape=False):
    ws.set_paper(9)  # A4
    if landscape:
        ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(0.5, 0.5, 0.6, 0.6)
    ws.center_horizontally()
    ws.hide_gridlines(2)


def build_statement(path: Path, lang: str) -> Path:
    doc = documents()["statement"]
    cap = {k: v[lang] for k, v in doc["captions"].items()}
    s = _Sheet(path, lang, doc["title"][lang], doc["title"][lang])
    ws = s.ws
    for c, w in enumerate((17, 16, 12, 12, 15, 15, 16, 26)):
        ws.set_column(c, c, w)
    _page(ws)
    label = s.fmt(bold=True, font_color=GREY)
    value = s.fmt(bottom=1, bottom_color="#BFBFBF")
    date_value = s.fmt(bottom=1, bottom_color="#BFBFBF", num_format="yyyy-mm-dd", align="left")
    head = s.fmt(bold=True, font_color="#FFFFFF", bg_color=BLUE, border=1, align="center", valign="vcenter",
                 text_wrap=True)
    section = s.fmt(bold=True, font_size=11, font_color=BLUE)
    money = s.fmt(num_format="#,##0.00", border=1, border_color="#BFBFBF")
    money_bold = s.fmt(num_format="#,##0.00", border=1, border_color="#BFBFBF", bold=True)
    cell = s.fmt(border=1, border_color="#BFBFBF")
    date = s.fmt(border=1, border_color="#BFBFBF", num_format="yyyy-mm-dd", align="center")

    s.cell(0, 0, "", s.fmt(bold=True, font_size=16, align="center", valign="vcenter"), "company_name", (0, 7))
    ws.set_row(0, 28)
    s.cell(1, 0, doc["title"][lang], s.fmt(bold=True, font_size=14, align="center", font_color=BLUE), "title",
           (1, 7))
    ws.set_row(1, 24)
    info = [
        (3, "customer_name", "period"), (4, "customer_id", "statement_date"),
        (5, "customer_contact", "customer_phone"),
    ]
    for r, left, right in info:
        s.cell(r, 0, cap[left], label)
        s.cell(r, 1, "", value, left, (r, 3))
        s.cell(r, 4, cap[right], label)
        s.cell(r, 5, "", date_value if right == "statement_date" else value, right, (r, 7))
    s.cell(6, 0, cap["customer_address"], label)
    s.cell(6, 1, "", value, "customer_address", (6, 3))
    s.cell(6, 4, cap["currency"], label)
    s.cell(6, 5, "", value, "currency", (6, 7))

    s.cell(8, 0, cap["summary"], section)
    for c, key in enumerate(("opening", "invoiced", "credited", "received", "closing", "unapplied")):
        s.cell(9, c, cap[key], head)
        s.cell(10, c, None, money_bold if key == "closing" else money, key)
    ws.set_row(9, 30)

    s.cell(12, 0, cap["lines"], section)
    col_fmt = {"date": date, "money": money, "text": cell}
    for c, col in enumerate(doc["columns"]):
        s.cell(13, c, col[lang], head)
        s.cell(14, c, None, col_fmt[col["format"]], "line_" + col["key"])
    s.name("lines", 14, 0, 14, len(doc["columns"]) - 1)
    ws.repeat_rows(13)

    s.cell(16, 0, cap["aging"], section)
    for c, col in enumerate(doc["aging_columns"]):
        s.cell(17, c, col[lang], head)
    s.cell(18, 0, None, cell, "aging_label")
    s.cell(18, 1, None, money, "aging_amount")
    s.name("aging", 18, 0, 18, 1)

    s.cell(20, 0, cap["payment"], section)
    s.cell(21, 0, "", s.fmt(text_wrap=True, valign="top"), "payment_instructions", (22, 7))
    s.cell(23, 0, cap["note"], s.fmt(italic=True, font_color=GREY, font_size=9, text_wrap=True), "note", (23, 7))
    ws.set_row(23, 26)
    box = s.fmt(text_wrap=True, valign="top", border=2, border_color=BLUE)
    s.cell(25, 0, doc["confirm_block"][lang], box, "confirm_block", (29, 7))
    s.close()
    return path


def build_letter(path: Path, lang: str) -> Path:
    doc = documents()["letter"]
    cap = {k: v[lang] for k, v in doc["captions"].items()}
    s = _Sheet(path, lang, doc["file_prefix"][lang][:31], doc["file_prefix"][lang])
    ws = s.ws
    for c, w in enumerate((16, 13, 13, 15, 15, 12)):
        ws.set_column(c, c, w)
    _page(ws)
    label = s.fmt(bold=True, font_color=GREY)
    head = s.fmt(bold=True, font_color="#FFFFFF", bg_color="#833C0B", border=1, align="center", valign="vcenter",
                 text_wrap=True)
    cell = s.fmt(border=1, border_color="#BFBFBF")
    money = s.fmt(num_format="#,##0.00", border=1, border_color="#BFBFBF")
    date = s.fmt(border=1, border_color="#BFBFBF", num_format="yyyy-mm-dd", align="center")
    integer = s.fmt(border=1, border_color="#BFBFBF", num_format="0", align="center")

    s.cell(0, 0, "", s.fmt(bold=True, font_size=16, align="center", valign="vcenter"), "company_name", (0, 5))
    ws.set_row(0, 28)
    s.cell(1, 0, "", s.fmt(bold=True, font_size=14, align="center", font_color="#833C0B"), "title", (1, 5))
    ws.set_row(1, 24)
    s.cell(2, 4, cap["date"], s.fmt(bold=True, font_color=GREY, align="right"))
    s.cell(2, 5, None, s.fmt(num_format="yyyy-mm-dd", align="left"), "letter_date")
    s.cell(3, 0, "", s.fmt(bold=True, font_size=11), "salutation", (3, 5))
    s.cell(4, 0, "", s.fmt(font_color=GREY), "customer_contact", (4, 2))
    s.cell(4, 3, "", s.fmt(font_color=GREY), "customer_phone", (4, 5))
    s.cell(5, 0, "", s.fmt(text_wrap=True, valign="top", font_size=11), "body", (9, 5))
    fmt_of = {"date": date, "money": money, "text": cell, "int": integer}
    for c, col in enumerate(doc["columns"]):
        s.cell(11, c, col[lang], head)
        s.cell(12, c, None, fmt_of[col["format"]], "item_" + col["key"])
    s.name("items", 12, 0, 12, len(doc["columns"]) - 1)
    s.cell(13, 3, cap["total"], s.fmt(bold=True, align="right", border=1, border_color="#BFBFBF"))
    s.cell(13, 4, None, s.fmt(bold=True, num_format="#,##0.00", border=1, border_color="#BFBFBF"), "total")
    s.cell(15, 0, cap["payment"], label)
    s.cell(16, 0, "", s.fmt(text_wrap=True, valign="top"), "payment_instructions", (17, 5))
    s.cell(19, 0, "", s.fmt(text_wrap=True, valign="top", font_size=11), "closing", (20, 5))
    s.cell(22, 3, "", s.fmt(bold=True, align="right"), "signature", (22, 5))
    s.close()
    return path


def build(kind: str, lang: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILES[(kind, lang)]
    return (build_statement if kind == "statement" else build_letter)(path, lang)


def build_all(folder: Path = REPO_TEMPLATES) -> list[Path]:
    """Write the four shipped templates into ``folder`` (and the email texts of ``send``)."""
    from .email_body import build_email_templates

    return [build(kind, lang, Path(folder)) for kind, lang in FILES] + build_email_templates(Path(folder))


def shipped(kind: str, lang: str) -> Path:
    """The shipped template of a kind and language (templates/ of the checkout, or a copy built
    into the user's cache folder when the package runs without the checkout)."""
    path = REPO_TEMPLATES / FILES[(kind, lang)]
    if path.exists():
        return path
    import tempfile

    folder = Path(tempfile.gettempdir()) / "custledger-templates"
    path = folder / FILES[(kind, lang)]
    if not path.exists():
        build(kind, lang, folder)
    return path


if __name__ == "__main__":
    for p in build_all(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_TEMPLATES):
        print(p)
