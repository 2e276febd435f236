"""The RunPython entry points (custledger/xl.py) through xlwings' remote engine.

Each button runs the command line's steps; the calling workbook comes from
``xw.Book.caller()`` (here a mock caller); results and failures are one message box, never a
traceback; card() finds the customer from the selection, statements()/close() the month from
the StatementMonth cell or Settings.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from custledger import ops, xl
from custledger.io.template import build_ledger
from custledger.schema import msg
from xlremote import LoglessFileBook, Spy, apply_actions, displayed, link_targets, remote_book, xl_license  # noqa: F401


@pytest.fixture(autouse=True)
def _remote(xl_license):
    """The remote engine is xlwings PRO (PolyForm Noncommercial): key set for the tests only."""


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("entry") / "ledger.xlsx"
    cust = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "name": ["甲公司", "乙公司", "丙公司"],
                         "payment_terms": [30, 30, 60]})
    inv = pd.DataFrame({"doc_no": ["S1", "S2", "S3", "S4"], "date": ["2026-08-01", "2026-09-01", "bad", "2026-10-01"],
                        "customer_id": ["C1", "C2", "C2", "C9"], "amount": [100.0, 250.5, 10.0, 30.0]})
    rec = pd.DataFrame({"receipt_no": ["R1"], "date": ["2026-09-10"], "customer_id": ["C1"], "amount": [100.0]})
    build_ledger(path, "zh", data={"customers": cust, "invoices": inv, "receipts": rec},
                 settings={"as_of": "2026-10-31"})
    return path


def _alerts(book):
    return [a["args"][0] for a in book.json()["actions"] if a["func"] == "alert"]


@pytest.mark.parametrize("button,steps", [
    ("validate", ["validate"]), ("reconcile", ["reconcile"]), ("aging", ["reconcile", "aging"]),
    ("tiers", ["reconcile", "tiers"]), ("reminders", ["reconcile", "reminders"]),
    ("statements", ["reconcile", "statements"])])
def test_buttons_run_the_cli_steps(ledger, monkeypatch, button, steps):
    spy = Spy()
    monkeypatch.setattr(ops, "run", spy)
    book = remote_book(ledger)
    book.set_mock_caller()
    assert getattr(xl, button)() is not None          # no argument: xw.Book.caller()
    assert spy.calls[0][0] == steps
    assert _alerts(book) == [msg("xl_done", "zh", button=msg(f"xl_button_{button}", "zh"))]


def test_close_runs_every_registered_step_but_card(ledger, monkeypatch):
    spy = Spy()
    monkeypatch.setattr(ops, "run", spy)
    xl.close(remote_book(ledger))
    steps, options = spy.calls[0]
    assert steps == [s for s in ops.STEP_ORDER if s in ops.STEPS and s != "card"]
    assert options["month"] == "2026-10"                  # Settings as_of
    assert options.get("as_sheets") is True               # a book without a file path


def test_month_from_named_cell(ledger, tmp_path, monkeypatch):
    wb = openpyxl.load_workbook(ledger)
    wb["首页"]["D2"] = "2026-09"
    wb.defined_names["StatementMonth"] = openpyxl.workbook.defined_name.DefinedName(
        "StatementMonth", attr_text="'首页'!$D$2")
    path = tmp_path / "named.xlsx"
    wb.save(path)
    spy = Spy()
    monkeypatch.setattr(ops, "run", spy)
    xl.statements(remote_book(path))
    assert spy.calls[0][1]["month"] == "2026-09"
    book = remote_book(path)
    xl.statements(book, month="2026-13")
    assert _alerts(book) == [msg("bad_option", "zh", option="StatementMonth", value="2026-13")]


def test_card_takes_the_selected_customer(ledger, monkeypatch):
    spy = Spy()
    monkeypatch.setattr(ops, "run", spy)
    xl.card(remote_book(ledger, selection="C3", active=1))          # row 3 of 客户档案 = C2
    assert spy.calls[-1][0] == ["reconcile", "card"] and spy.calls[-1][1]["customer_id"] == "C2"
    xl.card(remote_book(ledger, selection="C4", active=2))          # a cell holding an id elsewhere
    assert spy.calls[-1][1]["customer_id"] == "C2"
    book = remote_book(ledger, selection="B2", active=0)            # nothing useful selected
    assert xl.card(book) is None and len(spy.calls) == 2
    assert _alerts(book) == [msg("xl_select_customer", "zh", sheet="客户档案")]
    assert [a["func"] for a in book.json()["actions"]] == ["alert"]  # nothing written


def test_failures_are_one_line_not_a_traceback(ledger, tmp_path, monkeypatch):
    wb = openpyxl.load_workbook(ledger)
    del wb["客户档案"]
    broken = tmp_path / "broken.xlsx"
    wb.save(broken)
    book = remote_book(broken)
    assert xl.validate(book) is None
    (text,) = _alerts(book)
    assert "客户档案" in text and "Traceback" not in text and "\n" not in text

    def boom(*a, **k):
        raise ValueError("something odd\nsecond line")

    monkeypatch.setattr(ops, "run", boom)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    book = remote_book(ledger)
    assert xl.reconcile(book) is None
    (text,) = _alerts(book)
    assert "程序内部出错(ValueError)" in text and "something odd" not in text and "\n" not in text
    logged = (tmp_path / xl.LOG_NAME).read_text(encoding="utf-8")
    assert "Traceback" in logged and "something odd" in logged and str(tmp_path / xl.LOG_NAME) in text


def test_validate_button_equals_cli(ledger, tmp_path):
    cli = tmp_path / "cli.xlsx"
    shutil.copyfile(ledger, cli)
    want = ops.run(LoglessFileBook(cli), ["validate"])
    book = remote_book(ledger, "Office.js")
    report = xl.validate(book)
    assert report.summary == want.summary and report.summary["errors"] >= 2
    out = tmp_path / "xl.xlsx"
    info = apply_actions(book.json()["actions"], ledger, out, "Office.js")
    assert "个错误" in info.alerts[0][0]
    a, b = openpyxl.load_workbook(cli), openpyxl.load_workbook(out)
    assert displayed(a["校验结果"]) == displayed(b["校验结果"])
    assert link_targets(a["校验结果"]) == link_targets(b["校验结果"])


@pytest.mark.parametrize("step", [s for s in ("reconcile", "aging", "tiers", "reminders") if s in ops.STEPS])
def test_registered_steps_equal_cli(ledger, tmp_path, step):
    """Every step that has landed writes through xl what the CLI writes through FileBook."""
    steps = xl.COMMANDS[step]
    cli = tmp_path / "cli.xlsx"
    shutil.copyfile(ledger, cli)
    ops.run(LoglessFileBook(cli), steps)
    book = remote_book(ledger, "VBA")
    assert getattr(xl, step)(book) is not None
    out = tmp_path / "xl.xlsx"
    apply_actions(book.json()["actions"], ledger, out, "VBA")
    a, b = openpyxl.load_workbook(cli), openpyxl.load_workbook(out)
    generated = [n for n in a.sheetnames if n not in openpyxl.load_workbook(ledger).sheetnames]
    assert generated and sorted(generated) == sorted(n for n in b.sheetnames if n in generated)
    for n in generated:
        assert displayed(a[n]) == displayed(b[n]), n


def test_install_without_excel_says_what_to_do(ledger):
    from custledger.xl_install import install

    text = install(ledger, lang="en")
    assert "custledger_en.xlsm" in text and "custledger validate" in text and "xlwings Lite" in text
    assert str(ledger) in text
    with pytest.raises(Exception) as err:
        install(ledger.with_name("missing.xlsx"))
    assert "missing.xlsx" in err.value.message("en")
