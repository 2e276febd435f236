"""Every button on every Excel client kind, replayed with that client's own action set.

Kinds (docs/excel-clients.md): desktop-like VBA (remote interpreter, empty cells sent as null),
Office.js with notes and without (Excel before ExcelApi 1.18 sends no ``notes``), Microsoft
Office Scripts (``alert`` throws) and Google Apps Script (``tables: []``, every table action
throws). Each button runs through custledger/xl.py on the payload that client sends
(tests/xlremote.payload); the returned actions are replayed with the action set parsed from the
xlwings sources (tests/xlremote.client_action_sets), a thrown action failing the test; the
generated sheets must equal, cell by cell, what the command line (FileBook) writes with the same
steps and options. What a client cannot do is skipped and named in the run note, never fatal.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from custledger import ops, xl
from custledger.io.template import CARD_CUSTOMER, build_ledger
from custledger.operations import BUTTONS, OPERATIONS
from custledger.schema import msg, output_sheet_name
from invoice_export import export_rows, write_xlsx
from xlremote import (
    LoglessFileBook,
    apply_actions,
    cf_marked_cells,
    client_action_sets,
    displayed,
    file_links,
    filled_cells,
    link_targets,
    remote_book,
    xl_license,  # noqa: F401  (a fixture, requested by _remote)
)

MONTH = "2026-10"
CUSTOMER = "C2"

# kind -> (payload client, payload options, action set key)
KINDS = {
    "desktop-like VBA": ("VBA", {"empty": None}, "VBA"),
    "Office.js with notes": ("Office.js", {}, "Office.js"),
    "Office.js without notes": ("Office.js", {"notes": False}, "Office.js without notes"),
    "Office Scripts": ("Microsoft Office Scripts", {}, "Microsoft Office Scripts"),
    "Google Apps Script": ("Google Apps Script", {}, "Google Apps Script"),
}
ACTIONS = client_action_sets()
LAID_OUT = {output_sheet_name(k, "zh") for k in ("card", "dashboard")}


def _trim(rows: list) -> list:
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows


@pytest.fixture(autouse=True)
def _remote(xl_license):
    """The remote engine is xlwings PRO (PolyForm Noncommercial): key set for the tests only."""


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    """A small ledger with overdue items (letters), a warning (a bad e-mail: marks, no error, so
    statements are issued), a name that looks like a formula, and C2 chosen on Home for the card."""
    path = tmp_path_factory.mktemp("matrix") / "ledger.xlsx"
    cust = pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4"], "name": ["甲公司", "乙公司", "丙公司", "=丁公司"],
                         "payment_terms": [30, 30, 60, 30], "email": ["not-an-email", None, None, None],
                         "credit_limit": [None, 100.0, None, None]})
    inv = pd.DataFrame({"doc_no": ["S1", "S2", "S3", "S4", "S5"],
                        "date": ["2026-08-01", "2026-08-15", "2026-09-20", "2026-10-05", "2026-10-20"],
                        "customer_id": ["C1", "C2", "C3", "C4", "C2"], "amount": [100.0, 250.5, 80.0, 60.0, 40.0]})
    rec = pd.DataFrame({"receipt_no": ["R1", "R2"], "date": ["2026-09-10", "2026-10-25"], "customer_id": ["C1", "C3"],
                        "amount": [100.0, 30.0]})
    build_ledger(path, "zh", data={"customers": cust, "invoices": inv, "receipts": rec},
                 settings={"as_of": "2026-10-31"})
    wb = openpyxl.load_workbook(path)
    sheet, cell = next(iter(wb.defined_names[CARD_CUSTOMER].destinations))
    wb[sheet][cell.replace("$", "")] = CUSTOMER
    wb.save(path)
    new = pd.DataFrame({"doc_no": ["N1", "N2"], "date": ["2026-10-10", "2026-10-12"], "customer_id": ["C1", "C3"],
                        "amount": [12000, 3050], "kind": ["invoice", "invoice"], "ref_doc": [None, None]})
    cust["tax_id"] = None
    write_xlsx(invoice_export(path), export_rows(new, cust, void=1))   # the file a person picks
    return path


def invoice_export(ledger: Path) -> Path:
    """The e-invoice export a person picks for the Import Invoices button, beside the ledger."""
    return ledger.with_name("全量发票查询导出.xlsx")


def _options(button: str, ledger: Path | None = None) -> dict:
    """The options the Excel route gives this button on a book without a folder."""
    op = OPERATIONS[button]
    options = {}
    if "month" in op.needs:
        options["month"] = MONTH
    if "customer" in op.needs:
        options["customer_id"] = CUSTOMER
    if op.files:
        options["as_sheets"] = True
    if "invoices" in op.needs and ledger is not None:
        options["invoices"] = invoice_export(ledger)
    return options


@pytest.fixture(scope="module")
def cli(ledger, tmp_path_factory) -> dict:
    """button -> (report, workbook path) of the command line's run, computed once."""
    out = {}
    folder = tmp_path_factory.mktemp("cli")
    for button in BUTTONS:
        path = folder / f"{button}.xlsx"
        shutil.copyfile(ledger, path)
        out[button] = (ops.run(LoglessFileBook(path), xl.COMMANDS[button], processes=1,
                                      **_options(button, ledger)), path)
    return out


def test_the_ledger_exercises_the_matrix(cli):
    report, _ = cli["close"]
    assert report.summary["errors"] == 0 and report.summary["warnings"] >= 1
    assert report.summary["letters"] >= 1 and report.summary["statements"] >= 1
    assert cli["card"][0].summary["card"] == CUSTOMER


def test_action_sets_come_from_the_sources():
    assert "alert" in ACTIONS["Microsoft Office Scripts"][1]
    assert {"addTable", "setTableStyle"} <= ACTIONS["Google Apps Script"][1]
    assert "addNote" not in ACTIONS["VBA"][0] and "setValues" in ACTIONS["VBA"][0]
    assert "freezePaneAtRange" in ACTIONS["Office.js"][0]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("button", BUTTONS)
def test_button_on_client(ledger, cli, tmp_path, button, kind):
    client, payload_kw, set_key = KINDS[kind]
    allowed, throws = ACTIONS[set_key]
    book = remote_book(ledger, client, **payload_kw)
    given = {"file": invoice_export(ledger)} if "invoices" in OPERATIONS[button].needs else {}
    report = getattr(xl, button)(book, **given)
    actions = book.json()["actions"]
    alerts = [a["args"][0] for a in actions if a["func"] == "alert"]
    assert report is not None, (alerts, [a["func"] for a in actions][-5:])
    out = tmp_path / "xl.xlsx"
    apply_actions(actions, ledger, out, client, allowed=allowed, throws=throws)   # a throw fails here

    want, cli_path = cli[button]
    assert report.summary == want.summary
    a, b = openpyxl.load_workbook(cli_path), openpyxl.load_workbook(out)
    before = openpyxl.load_workbook(ledger).sheetnames
    generated = [n for n in a.sheetnames if n not in before]
    assert generated and all(n in b.sheetnames for n in generated), (generated, b.sheetnames)
    for n in generated:
        va, vb = displayed(a[n]), displayed(b[n])
        if n in LAID_OUT:   # the file writer draws these; Excel gets their table (the left block)
            width = len(vb[0])
            va = _trim([r[:width] for r in va])
        assert len(va) == len(vb), n
        for i, (ra, rb) in enumerate(zip(va, vb)):
            assert ra == rb, (n, i + 1, ra, rb)
        assert link_targets(a[n]) == link_targets(b[n]), n
        assert file_links(a[n]) == file_links(b[n]) == {}, n       # no folder: no file to link
    for n in before:   # people's cells: values untouched
        assert displayed(a[n]) == displayed(b[n]), n

    done = msg("xl_done", "zh", button=msg(f"xl_button_{button}", "zh"))
    if "alert" in throws:   # Office Scripts: the closing message is a sheet, never an alert
        assert alerts == []
        note = b[msg("xl_message_sheet", "zh")]
        assert note["A2"].value == done and b.active.title == note.title
    else:
        assert len(alerts) == 1 and alerts[0].splitlines()[0] == done
    text = "\n".join(str(n) for n in report.notes)
    if OPERATIONS[button].files and want.summary.get("letters", 0) + want.summary.get("statements", 0):
        assert "没有所在文件夹" in text                      # no folder: said, results are sheets

    marked = {n: filled_cells(b[n]) for n in before}
    if button in ("validate", "close"):
        if set_key.startswith("Office.js"):   # fills and a register every Office.js has
            assert marked == {n: cf_marked_cells(a[n]) for n in before} and any(marked.values())
        else:
            assert not any(marked.values()) and msg("xl_cap_marks", "zh") in text
    if "addNote" in throws or "addNote" not in allowed:
        assert msg("xl_cap_notes", "zh") in text
    if "addTable" in throws:
        assert msg("xl_cap_tables", "zh") in text and all(not b[n].tables for n in generated)
    elif set_key.startswith("Office.js") or set_key == "VBA":
        assert all(list(a[n].tables) == list(b[n].tables) for n in generated)


def test_every_operation_is_a_button_everywhere():
    """One entry in OPERATIONS is a button on the desktop, in Lite and on the command line."""
    from typer.testing import CliRunner  # noqa: F401  (the CLI is importable)

    from custledger import cli as cli_mod
    from custledger.io import xlsm

    assert xlsm.BUTTONS == BUTTONS == tuple(OPERATIONS)
    assert all(callable(getattr(xl, b)) for b in BUTTONS)
    commands = {c.name or c.callback.__name__ for c in cli_mod.app.registered_commands}
    assert {b.replace("_", "-") for b in BUTTONS} <= commands | {"validate"}
    text = xlsm.bas_text()
    assert all(f"custledger.xl.{b}()" in text for b in BUTTONS)


def test_the_replayer_fails_a_run_that_uses_a_throwing_action(ledger, tmp_path):
    """So the matrix can fail: a table on Google Apps Script, an alert on Office Scripts."""
    from xlremote import ClientThrew

    table = {"func": "addTable", "args": ["A1:B2", True, "TableStyleLight9", "t1"], "values": None,
             "sheet_position": 0, "start_row": 0, "start_column": 0, "row_count": 1, "column_count": 1}
    alert = dict(table, func="alert", args=["done", "custledger", "ok", "info", ""])
    for client, action in (("Google Apps Script", table), ("Microsoft Office Scripts", alert)):
        allowed, throws = ACTIONS[client]
        with pytest.raises(ClientThrew):
            apply_actions([action], ledger, tmp_path / "x.xlsx", client, allowed=allowed, throws=throws)
