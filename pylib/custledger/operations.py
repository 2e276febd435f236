"""The operations a person can ask for, declared once: the command line (cli.py), the Excel
buttons (xl.py), the xlwings Lite scripts (lite/main.py) and the VBA module generator
(io/xlsm.py) all read ``OPERATIONS``; none of them keeps its own command -> steps map.

An operation is a name, the steps it runs (in ``STEP_ORDER``, whatever order they are listed
in), what it needs from the person (a month, a customer, a bank file) and the sheets it writes.
Adding an operation is one entry in ``OPERATIONS`` (and, for xlwings Lite, one literal
``@script`` wrapper in lite/main.py, the file a person pastes and reads; tests check both agree).

``RunOptions`` is every option ``ops.run`` understands; an unknown option or step is refused
(ValueError, one line to the user) instead of being silently ignored.

This module imports nothing of its own (the step modules import it, not the other way round).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

# The steps in the one order a run executes them; every step module registers itself under one
# of these names (ops/__init__.py checks at import that the two agree exactly).
STEP_ORDER = ("validate", "import_invoices", "changes", "reconcile", "aging", "letters", "tiers", "reminders", "card", "statements", "dashboard")
# Steps that run on their own, after any others, and never in a close: delivery and the owners'
# packs read the files a close wrote and send them out — a person decides when.
ALONE = ("send", "owner_packs")
ALL_STEPS = STEP_ORDER + ALONE


@dataclass(frozen=True)
class Operation:
    """One button / command: ``steps`` run (validate always first), ``needs`` what the person
    must give (``month``, ``customer``, ``bank`` — ``bank`` optional everywhere), ``writes`` the
    generated sheets (outputs.json keys) and ``files`` the kinds of files written beside the
    ledger (become sheets where the workbook has no folder)."""

    name: str
    steps: tuple
    needs: tuple = ()
    writes: tuple = ()
    files: tuple = ()

    def __post_init__(self):
        unknown = [s for s in self.steps if s not in ALL_STEPS]
        if unknown:
            raise ValueError(f"operation {self.name!r}: unknown steps {unknown}")
        object.__setattr__(self, "steps", tuple(s for s in ALL_STEPS if s in self.steps))


def _ops(*entries: Operation) -> dict:
    return {o.name: o for o in entries}


OPERATIONS: dict[str, Operation] = _ops(
    Operation("validate", ("validate",), writes=("problems",)),
    Operation("reconcile", ("reconcile",), needs=("bank",), writes=("allocations", "balances", "bank")),
    Operation("aging", ("reconcile", "aging"), writes=("aging", "overdue")),
    Operation("letters", ("reconcile", "aging", "letters"), writes=("aging", "overdue", "letters"),
              files=("letters",)),
    Operation("tiers", ("reconcile", "tiers"), writes=("tiers",)),
    Operation("reminders", ("reconcile", "reminders"), writes=("reminders",)),
    Operation("card", ("reconcile", "card"), needs=("customer",), writes=("card",)),
    Operation("statements", ("reconcile", "statements"), needs=("month",), writes=("statements",),
              files=("statements",)),
    Operation("import_invoices", ("import_invoices", "reconcile"), needs=("invoices",),
              writes=("invoice_import", "allocations", "balances")),
    Operation("close", tuple(s for s in STEP_ORDER if s != "card"), needs=("month", "bank"),
              writes=("problems", "allocations", "balances", "aging", "overdue", "tiers", "reminders",
                      "statements", "dashboard"), files=("letters", "statements")),
    Operation("send", ("send",), needs=("month",), writes=("sent",), files=("outbox",)),
)

BUTTONS = tuple(OPERATIONS)   # the Home sheet's buttons, in this order (desktop and Lite)
FIRST_BUTTON_ROW = 15         # 0-based row of the first button on Home (below the workflow text)


def steps_of(name: str) -> list:
    """The steps of operation ``name`` (ValueError for an unknown one)."""
    try:
        return list(OPERATIONS[name].steps)
    except KeyError:
        raise ValueError(f"unknown operation {name!r}; known: {', '.join(OPERATIONS)}") from None


def button_cell(name: str) -> str:
    """The Home cell beside the button of operation ``name`` (xlwings Lite binds to it)."""
    return f"B{FIRST_BUTTON_ROW + BUTTONS.index(name) + 1}"


@dataclass(frozen=True)
class RunOptions:
    """Everything ``ops.run(book, steps, **options)`` understands, typed (None = not given).

    month          statements / dashboard month "YYYY-MM"
    bank           bank statement export to import (reconcile)
    invoices       e-invoice platform export to import (import_invoices)
    ics            also write an iCalendar file of the reminders
    customer_id    the card's customer
    allow_errors   issue statements although the ledger has validation errors
    pdf            also convert statements and letters to PDF
    dir            folder for the statement files
    letters_dir    folder for the dunning letters
    letters        False: write no letters
    template       a restyled statement template
    letter_template a restyled letter template
    processes      worker processes for rendering
    as_sheets      the workbook has no folder (xlwings Lite, a book never saved): results that
                   are files elsewhere (statements, letters) are written as sheets
    ledger_path    the ledger's path when the adapter cannot say (an Excel book)
    outbox         send: folder of the .eml files (default <ledger>_outbox/YYYY-MM/)
    transport      send: the SMTP connection (io/mail.py); None = outbox only
    sender, sender_name   send: the From address and name
    owners         send: each owner's pack to that owner instead of statements to customers
    progress_each  send: callback(done, total) per message
    owner_dir      export --by-owner: the folder of the owners' packs
    password       export --by-owner --encrypt: the packs' password (never from argv)
    """

    month: str | None = None
    bank: Path | None = None
    invoices: Path | None = None
    ics: Path | None = None
    customer_id: str | None = None
    allow_errors: bool = False
    pdf: bool = False
    dir: Path | None = None
    letters_dir: Path | None = None
    letters: bool | None = None
    template: Path | None = None
    letter_template: Path | None = None
    processes: int | None = None
    as_sheets: bool = False
    ledger_path: Path | None = None
    outbox: Path | None = None
    transport: object | None = None
    sender: str | None = None
    sender_name: str | None = None
    owners: bool = False
    progress_each: object | None = None
    owner_dir: Path | None = None
    password: str | None = None

    @classmethod
    def of(cls, options: dict) -> RunOptions:
        """From keyword options; a name that is not an option is refused (ValueError)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**options)

    def get(self, name: str, default=None):
        """Read an option by name (the steps' ``run.options.get(...)``); a misspelt name is a
        programming error, not a silent None."""
        if name not in self.__dataclass_fields__:
            raise KeyError(f"no run option {name!r}")
        value = getattr(self, name)
        return default if value is None else value
