"""custledger in xlwings Lite: paste this file into the main.py tab of xlwings Lite.

Open workbook/custledger.xlsm (or custledger_en.xlsm: set HOME = "Home" below), start xlwings
Lite, paste this file into main.py and lite/requirements.txt into requirements.txt. The blue
"· Lite" buttons on the Home sheet then run these scripts (each button is a shape named
xlwings_button_<op> linked to the cell behind it, the Lite convention); in App Mode the same
scripts show as buttons with form fields (card: customer ID; statements/close: month).

Which buttons exist, their cells and their steps come from custledger/operations.py
(OPERATIONS, the map the desktop buttons and the command line read). Each is written out below,
not generated in a loop: this file is what a person pastes and reads in the Lite editor, whose
script list, F5 and App Mode (each script's docstring, its form fields) work on the functions of
main.py — the add-in's side of that is closed code no test here can run. The wrappers hold no
rule: tests/test_lite.py checks that every operation has one, bound to its button, with the
form fields the operation needs.

Everything runs in the browser (Pyodide): no local Python, no files. Results are written as
sheets of the workbook, as with the desktop buttons; statements, which the desktop writes as
files, are written as sheets here.
"""

import xlwings as xw
from xlwings import script

from custledger import xl
from custledger.operations import OPERATIONS, button_cell

HOME = "首页"   # the Home sheet's name: "Home" in the English workbook


def button(op: str) -> str:
    """The Lite binding of the Home sheet's button for ``op`` (an operation of OPERATIONS, the
    map the desktop buttons and the command line read): [shape name]sheet!cell."""
    return f"[xlwings_button_{OPERATIONS[op].name}]{HOME}!{button_cell(op)}"


@script(button=button("validate"), show_taskpane=True)
def validate(book: xw.Book):
    """校验 Validate: the Problems sheet; the cells at fault get a colour and a note."""
    xl.run_button("validate", book, lite=True)


@script(button=button("reconcile"), show_taskpane=True)
def reconcile(book: xw.Book):
    """核销 Reconcile: Allocations and Balances."""
    xl.run_button("reconcile", book, lite=True)


@script(button=button("aging"), show_taskpane=True)
def aging(book: xw.Book):
    """账龄 Aging: Aging and Overdue."""
    xl.run_button("aging", book, lite=True)


@script(button=button("letters"), show_taskpane=True)
def letters(book: xw.Book):
    """催款函 Letters: a dunning letter for every customer at dunning level 1 or more (as sheets here)."""
    xl.run_button("letters", book, lite=True)


@script(button=button("tiers"), show_taskpane=True)
def tiers(book: xw.Book):
    """分级 Tiers: ABC, RFM, credit grades."""
    xl.run_button("tiers", book, lite=True)


@script(button=button("reminders"), show_taskpane=True)
def reminders(book: xw.Book):
    """提醒 Reminders: due payments, contracts, birthdays, follow-ups."""
    xl.run_button("reminders", book, lite=True)


@script(button=button("card"), show_taskpane=True)
def card(book: xw.Book, customer_id: str = ""):
    """客户卡 Card of a customer: the customer ID typed in App Mode, else the one chosen in the
    Home sheet's customer cell (a dropdown of the Customers' IDs)."""
    xl.run_button("card", book, lite=True, customer_id=customer_id.strip() or None)


@script(button=button("statements"), show_taskpane=True)
def statements(book: xw.Book, month: str = ""):
    """对账单 Statements for the month (YYYY-MM; blank: the StatementMonth cell or Settings as_of)."""
    xl.run_button("statements", book, lite=True, month=month.strip() or None)


@script(button=button("import_invoices"), show_taskpane=True)
def import_invoices(book: xw.Book):
    """发票导入 Import invoices: needs the export file on this computer, which xlwings Lite cannot
    open; the run says so (use the desktop button or `custledger import-invoices`)."""
    xl.run_button("import_invoices", book, lite=True)


@script(button=button("close"), show_taskpane=True)
def close(book: xw.Book, month: str = ""):
    """月结 Close: everything but the card, one read and one write."""
    xl.run_button("close", book, lite=True, month=month.strip() or None)


@script(button=button("send"), show_taskpane=True)
def send(book: xw.Book, month: str = ""):
    """发送 Send: statements by email are the desktop's and the command line's (files beside the
    workbook); xlwings Lite has no folder, the run says so."""
    xl.run_button("send", book, lite=True, month=month.strip() or None)
