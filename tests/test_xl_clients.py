"""The Excel route's edges: capabilities read from the payload, failures on a client whose
message box throws, file links relative to the workbook, the Card customer from Home, Excel's
own wording for withheld statements, and the one declared OPERATIONS map with its RunOptions."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from custledger import ops, xl
from custledger.io.filebook import FileBook
from custledger.io.template import CARD_CUSTOMER, build_ledger
from custledger.io.xlbook import XlBook, caps_of
from custledger.operations import RunOptions
from custledger.schema import msg
from xlremote import (
    LoglessFileBook,
    Spy,
    apply_actions,
    client_action_sets,
    displayed,
    file_links,
    payload,
    remote_book,
    xl_license,  # noqa: F401  (a fixture, requested by _remote)
    )


@pytest.fixture(autouse=True)
def _remote(xl_license):
    """The remote engine is xlwings PRO (PolyForm Noncommercial): key set for the tests only."""


def _ledger(path: Path, bad_date: bool = False) -> Path:
    cust = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "name": ["甲公司", "乙公司", "丙公司"],
                         "payment_terms": [30, 30, 60]})
    inv = pd.DataFrame({"doc_no": ["S1", "S2", "S3"], "date": ["2026-08-01", "2026-08-15", "bad" if bad_date else "2026-09-01"],
                        "customer_id": ["C1", "C2", "C3"], "amount": [100.0, 250.5, 80.0]})
    build_ledger(path, "zh", data={"customers": cust, "invoices": inv}, settings={"as_of": "2026-10-31"})
    return path


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    return _ledger(tmp_path_factory.mktemp("clients") / "ledger.xlsx")


# -- capabilities from the payload ---------------------------------------------------------------
def test_caps_are_read_from_the_payload(ledger):
    import xlwings as xw

    gas = caps_of(remote_book(ledger, "Google Apps Script"))
    assert not gas.tables and gas.alert and not gas.notes
    office_scripts = caps_of(remote_book(ledger, "Microsoft Office Scripts"))
    assert office_scripts.tables and not office_scripts.alert
    with_notes = caps_of(remote_book(ledger, "Office.js"))
    assert with_notes.notes and with_notes.notes_on("客户档案")
    without = caps_of(remote_book(ledger, "Office.js", notes=False))
    assert not without.notes and not without.notes_on("客户档案") and without.marks
    data = payload(ledger, "Office.js")           # notes sent for one sheet only
    for s in data["sheets"][1:]:
        s.pop("notes")
    partial = caps_of(xw.Book(json=data))
    first = data["sheets"][0]["name"]
    assert partial.notes_on(first) and not partial.notes_on("客户档案") and not partial.notes


def test_office_js_without_notes_validates_and_says_what_it_skipped(tmp_path):
    src = _ledger(tmp_path / "bad.xlsx", bad_date=True)
    book = remote_book(src, "Office.js", notes=False)
    report = xl.validate(book)
    assert report is not None and report.summary["errors"] >= 1
    actions = book.json()["actions"]
    allowed, throws = client_action_sets()["Office.js without notes"]
    apply_actions(actions, src, tmp_path / "out.xlsx", "Office.js", allowed=allowed, throws=throws)
    assert "addNote" not in {a["func"] for a in actions}
    assert msg("xl_skipped", "zh", what=msg("xl_cap_notes", "zh")) in report.notes
    (alert,) = [a["args"][0] for a in actions if a["func"] == "alert"]
    assert msg("xl_cap_notes", "zh") in alert


# -- failures ------------------------------------------------------------------------------------
def test_a_failure_on_office_scripts_is_a_sheet_and_leaves_nothing_half_done(ledger, tmp_path, monkeypatch):
    def half_then_boom(xb, steps, **options):
        xb.book.sheets[1].range("A1").value = "half"        # queued, never to reach Excel
        raise ValueError("something odd\nsecond line")

    monkeypatch.setattr(ops, "run", half_then_boom)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    book = remote_book(ledger, "Microsoft Office Scripts")
    assert xl.reconcile(book) is None
    actions = book.json()["actions"]
    assert "alert" not in {a["func"] for a in actions}
    assert not any(a["func"] == "setValues" and a["values"] == [["half"]] for a in actions)
    allowed, throws = client_action_sets()["Microsoft Office Scripts"]
    out = tmp_path / "out.xlsx"
    apply_actions(actions, ledger, out, "Microsoft Office Scripts", allowed=allowed, throws=throws)
    wb = openpyxl.load_workbook(out)
    sheet = wb[msg("xl_message_sheet", "zh")]
    # said in the workbook's language, by the exception's class; its own text is in the log
    assert "程序内部出错(ValueError)" in sheet["A2"].value and wb.active.title == sheet.title
    assert "something odd" not in sheet["A2"].value
    assert "something odd" in (tmp_path / xl.LOG_NAME).read_text(encoding="utf-8")
    assert displayed(wb["客户档案"]) == displayed(openpyxl.load_workbook(ledger)["客户档案"])
    # a second message replaces the first on the same sheet
    book = remote_book(out, "Microsoft Office Scripts")
    xl.reconcile(book)
    apply_actions(book.json()["actions"], out, tmp_path / "out2.xlsx", "Microsoft Office Scripts",
                  allowed=allowed, throws=throws)
    assert openpyxl.load_workbook(tmp_path / "out2.xlsx").sheetnames.count(sheet.title) == 1


# -- links ---------------------------------------------------------------------------------------
def test_letters_are_real_file_links_relative_to_the_workbook(ledger, tmp_path):
    """On the desktop route (a saved book: ledger_path) the Overdue sheet links each letter by
    its path relative to the workbook's folder, as the file writer does: no '#' jump."""
    cli_dir, xl_dir = tmp_path / "cli", tmp_path / "xl"
    cli_dir.mkdir()
    xl_dir.mkdir()
    shutil.copyfile(ledger, cli_dir / "ledger.xlsx")
    shutil.copyfile(ledger, xl_dir / "ledger.xlsx")
    ops.run(LoglessFileBook(cli_dir / "ledger.xlsx"), ["reconcile", "aging", "letters"], processes=1)
    book = remote_book(ledger, "VBA")
    report = ops.run(XlBook(book), ["reconcile", "aging", "letters"], ledger_path=xl_dir / "ledger.xlsx",
                     processes=1)
    assert report.summary["letters"] >= 1
    out = tmp_path / "out.xlsx"
    apply_actions(book.json()["actions"], ledger, out)
    want = file_links(openpyxl.load_workbook(cli_dir / "ledger.xlsx")["逾期清单"])
    got = file_links(openpyxl.load_workbook(out)["逾期清单"])
    # the file writer stores Excel's backslashes; a HYPERLINK path with "/" works on Windows and Mac
    assert got and got == {k: v.replace("\\", "/") for k, v in want.items()}
    for target in got.values():
        assert not target.startswith(("#", "/")) and (xl_dir / target).exists()


def test_without_a_folder_letters_are_a_sheet_and_nothing_goes_to_temp(ledger, tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    book = remote_book(ledger, "VBA")
    report = xl.letters(book)
    assert report.files == [] and not list((tmp_path / "tmp").rglob("*.xlsx"))
    out = tmp_path / "out.xlsx"
    apply_actions(book.json()["actions"], ledger, out)
    wb = openpyxl.load_workbook(out)
    letters = displayed(wb["催款函"])
    assert letters[0][0] == "催款函" and len(letters) == 1 + report.summary["letters"]
    assert {"甲公司", "乙公司"} <= {v for row in letters[1:] for v in row}
    assert all(len(str(row[-1])) > 20 for row in letters[1:])            # the letter's wording
    assert msg("files_as_sheets", "zh", what=msg("files_letters", "zh")) in report.notes
    overdue = wb["逾期清单"]
    formulas = [c.value for r in overdue.iter_rows(min_row=2) for c in r if str(c.value).startswith("=HYPERLINK")]
    assert formulas and all(f.startswith("=HYPERLINK(\"#'催款函'!A") for f in formulas)


# -- card from Home ------------------------------------------------------------------------------
def test_card_customer_from_home_before_the_selection(ledger, tmp_path, monkeypatch):
    wb = openpyxl.load_workbook(ledger)
    sheet, cell = next(iter(wb.defined_names[CARD_CUSTOMER].destinations))
    assert sheet == "首页"
    dv = [d for d in wb[sheet].data_validations.dataValidation if cell.replace("$", "") in str(d.sqref)]
    assert dv and dv[0].type == "list" and dv[0].formula1 == "CustomerIDs"
    wb[sheet][cell.replace("$", "")] = 3          # an ID typed as a number still reads as text
    wb["客户档案"]["A5"] = "3"
    path = tmp_path / "home.xlsx"
    wb.save(path)
    spy = Spy()
    monkeypatch.setattr(ops, "run", spy)
    xl.card(remote_book(path, selection="A3", active=1))                 # Home beats the selection
    assert spy.calls[-1][1] == {"customer_id": "3"}
    xl.card(remote_book(path, selection="A3", active=1), customer_id="C1")   # an explicit ID beats Home
    assert spy.calls[-1][1] == {"customer_id": "C1"}
    xl.card(remote_book(ledger, selection="A4", active=1))               # Home blank: the selection
    assert spy.calls[-1][1] == {"customer_id": "C3"}


# -- wording -------------------------------------------------------------------------------------
def test_excel_never_tells_the_user_to_add_a_cli_flag(tmp_path):
    src = _ledger(tmp_path / "bad.xlsx", bad_date=True)
    book = remote_book(src, "VBA")
    report = xl.statements(book)
    assert report.summary["statements"] == 0
    (alert,) = [a["args"][0] for a in book.json()["actions"] if a["func"] == "alert"]
    assert "--allow-errors" not in alert
    assert msg("statements_withheld_xl", "zh", errors=report.summary["errors"]) in alert
    for lang in ("zh", "en"):
        assert "--" not in msg("statements_withheld_xl", lang, errors=1)
    cli = tmp_path / "cli.xlsx"
    shutil.copyfile(src, cli)
    notes = ops.run(FileBook(cli), ["reconcile", "statements"], month="2026-10").notes
    assert any("--allow-errors" in n for n in notes)     # the command line keeps its flag


# -- OPERATIONS, RunOptions, steps -----------------------------------------------------------------
def test_unknown_options_and_steps_are_refused(ledger, tmp_path):
    p = tmp_path / "l.xlsx"
    shutil.copyfile(ledger, p)
    with pytest.raises(ValueError, match="monht"):
        ops.run(FileBook(p), ["validate"], monht="2026-10")
    with pytest.raises(ValueError, match="validat"):
        ops.run(FileBook(p), ["validat"])
    with pytest.raises(KeyError):
        RunOptions().get("monht")
    assert RunOptions.of({"month": "2026-10"}).get("month") == "2026-10"
    with pytest.raises(Exception):
        RunOptions().month = "x"        # frozen
    with pytest.raises(RuntimeError):
        ops.step("not_a_step")


def test_a_step_missing_from_the_registry_fails_at_import(monkeypatch):
    from custledger.ops import pipeline

    monkeypatch.delitem(pipeline.STEPS, "tiers")
    with pytest.raises(RuntimeError, match="tiers"):
        pipeline.check_registry()


def test_cli_refuses_an_unknown_operation_in_one_line():
    from custledger.operations import steps_of

    with pytest.raises(ValueError, match="unknown operation"):
        steps_of("letters_now")
