"""The RunPython way in: one function per button of the ledger workbook.

The workbook's VBA (macros/custledger.bas) calls e.g. ``RunPython "import custledger.xl;
custledger.xl.reconcile()"``; each function attaches to the calling workbook with
``xw.Book.caller()`` (xlwings Lite and the tests pass the book instead), runs the same
operation as the command line through ``ops.run`` with the xlwings adapter, shows progress in
the status bar and the outcome in a message box. Nothing escapes as a Python traceback: every
failure becomes one line (a LedgerError in the workbook's language), the details go to a log
file in the temp folder.

Steps per button, and what each needs, come from operations.OPERATIONS (the command line
reads the same map). card() takes the customer from its argument, else the Home sheet's customer
cell (the workbook name ``CardCustomer``, a dropdown of the Customers' IDs), else the selected row
on the Customers sheet (or a selected cell holding a customer id); statements() and close() take
the month from the workbook name ``StatementMonth`` (a cell holding YYYY-MM or a date) or else
from the month of Settings ``as_of``.

What the client can do is decided from the payload it sent (io/xlbook.caps_of): where a message
box would fail (Office Scripts implements alert by throwing) the closing message goes to a
sheet instead; where the workbook has no folder (xlwings Lite, a book never saved, a remote
payload) files (letters, statements) become sheets and the message says so. A failed run takes
back the actions it had queued, so a remote client applies nothing half-done.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import traceback
from pathlib import Path

from .core.errors import LedgerError, file_cause
from .operations import OPERATIONS
from .schema import msg, norm_header, sheet

MONTH_NAME = "StatementMonth"
CUSTOMER_NAME = "CardCustomer"
LOG_NAME = "custledger-xl.log"

COMMANDS = {name: list(op.steps) for name, op in OPERATIONS.items()}   # button -> steps (the CLI's)


def validate(book=None):
    """校验: Problems sheet, cells at fault marked."""
    return run_button("validate", book)


def reconcile(book=None):
    """核销: Allocations and Balances."""
    return run_button("reconcile", book)


def aging(book=None):
    """账龄: Aging and Overdue."""
    return run_button("aging", book)


def tiers(book=None):
    """分级: Tiers."""
    return run_button("tiers", book)


def reminders(book=None):
    """提醒: Reminders."""
    return run_button("reminders", book)


def card(book=None, customer_id: str | None = None):
    """客户卡 of the customer selected on the Customers sheet (or ``customer_id``)."""
    return run_button("card", book, customer_id=customer_id)


def statements(book=None, month: str | None = None):
    """对账单 for the month (``StatementMonth`` cell, else the month of Settings as_of)."""
    return run_button("statements", book, month=month)


def import_invoices(book=None, file=None):
    """发票导入: the tax platform's export ``file`` appended to Invoices. From the desktop button
    Excel's own file dialog asks for the file (a cancelled dialog does nothing); clients without
    a file system (xlwings Lite, remote clients) are told that the import needs a file."""
    if file is None:
        file = _pick_file(book)
        if file is False:
            return None
    return run_button("import_invoices", book, invoices=file)


def _pick_file(book):
    """Excel's Open dialog on desktop Excel (COM): a path, False when cancelled, None where the
    client has no dialog (remote, Lite) — then the run says a file is needed."""
    try:
        if book is None:
            import xlwings as xw

            book = xw.Book.caller()
        if isinstance(getattr(book, "api", None), dict):
            return None
        picked = book.app.api.GetOpenFilename("Excel, CSV (*.xlsx;*.csv),*.xlsx;*.csv")
    except Exception:  # noqa: BLE001 - no dialog on this client: the run says what is needed
        return None
    return picked if isinstance(picked, str) and picked else False


def send(book=None, month: str | None = None):
    """发送: the month's statements as .eml files in the outbox beside the workbook (never SMTP
    from a button: a server and a password are the command line's, ``custledger send --smtp``)."""
    return run_button("send", book, month=month)


def close(book=None, month: str | None = None):
    """月结: everything but the card, one read and one write."""
    return run_button("close", book, month=month)


def close_steps() -> list[str]:
    return list(OPERATIONS["close"].steps)


def __getattr__(name: str):
    """A button for every declared operation (``custledger.xl.<name>()``), also one added to
    OPERATIONS after this module was written."""
    if name in OPERATIONS:
        return lambda book=None, **given: run_button(name, book, **given)
    raise AttributeError(name)


def run_button(name: str, book=None, lite: bool = False, **given):
    """Run button ``name`` on ``book`` (default: the calling workbook); returns the ops Report,
    or None when it could not run (the reason was shown in Excel)."""
    from .io.xlcaps import caps_of  # light: read before the engine is imported

    if book is None:
        import xlwings as xw

        book = xw.Book.caller()
    lang = _guess_lang(book)
    status = _Status(book)
    queued = _queued(book)
    start = len(queued) if queued is not None else 0
    try:
        caps = caps_of(book)
    except Exception:  # noqa: BLE001 - an odd book: a message box, as before
        caps = None
    try:
        from . import ops  # inside the handler: a missing package is one line
        from .io.xlbook import XlBook

        xb = XlBook(book, caps=caps, progress=lambda what: status.show(msg("xl_running", lang, step=what)))
        status.show(msg("xl_running", lang, step=msg(f"xl_button_{name}", lang)))
        raw = xb.read()                      # the one read: ops.run gets it from XlBook's cache
        lang = _book_lang(raw) or lang
        steps = COMMANDS[name]
        options = _options(name, book, raw, lite, given, lang)
        report = ops.run(xb, steps, progress=lambda step: status.show(
            msg("xl_running", lang, step=_step_label(step, lang))), **options)
    except Exception as exc:  # noqa: BLE001 - one line in Excel, never a traceback dialog
        status.clear()
        if queued is not None:
            del queued[start:]               # nothing half-done reaches the client
        _tell(book, caps, failure_text(exc, lang), lang)
        return None
    status.clear()
    _tell(book, caps, done_text(name, report, lang), lang)
    return report


# -- options from the workbook -------------------------------------------------------------------
def _options(name: str, book, raw, lite: bool, given: dict, lang: str) -> dict:
    """The run options of button ``name`` from what its operation needs (OPERATIONS)."""
    op = OPERATIONS[name]
    options: dict = {}
    if "month" in op.needs:
        options["month"] = _check_month(given.get("month")) or named_month(book) or settings_month(raw)
    if op.files:
        path = None if lite else _book_path(book)    # no file system in xlwings Lite
        if path is not None:
            options["ledger_path"] = path
        else:
            options["as_sheets"] = True
    if "invoices" in op.needs:
        if not given.get("invoices"):   # Lite has no files of this computer to open
            raise LedgerError("xl_import_not_in_lite" if lite else "invoice_file_needed")
        options["invoices"] = given["invoices"]
    if "customer" in op.needs:
        cid = given.get("customer_id") or named_customer(book) or selected_customer(book, raw)
        if not cid:
            raise LedgerError("xl_select_customer", sheet=sheet("customers").name(lang))
        options["customer_id"] = cid
    return options


def _check_month(text) -> str | None:
    if text is None or text == "":
        return None
    text = str(text).strip()
    from .core.parse import parse_month  # here: importing xl loads no pandas

    try:
        return parse_month(text)
    except ValueError:
        raise LedgerError("bad_option", option=MONTH_NAME, value=text) from None


def _named_value(book, name: str):
    """The value of the one-cell range named ``name`` (None when absent, blank or not a range)."""
    try:
        if name not in [n.name for n in book.names]:
            return None
        value = book.names[name].refers_to_range.value
    except Exception:  # noqa: BLE001 - a name that is not a range: treat as absent
        return None
    return None if value == "" else value


def named_customer(book) -> str | None:
    """The customer chosen in the Home sheet's customer cell (the name CardCustomer)."""
    from .io.xlbook import cell_text

    value = cell_text(_named_value(book, CUSTOMER_NAME))
    return value.strip() or None if isinstance(value, str) else None


def named_month(book) -> str | None:
    """The month in the cell named StatementMonth: a date, or text YYYY-MM (None when absent/blank)."""
    value = _named_value(book, MONTH_NAME)
    if isinstance(value, (dt.date, dt.datetime)):
        return f"{value:%Y-%m}"
    return _check_month(value)


def settings_month(raw) -> str:
    from .core.load import load

    return f"{load(raw).settings.as_of_date():%Y-%m}"


def selected_customer(book, raw) -> str | None:
    """customer_id of the selected row on the Customers sheet, or the selected cell's value
    when it is a customer id (on any sheet)."""
    from .core.load import assign_sheets
    from .core.parse import locate_header

    try:
        sel = book.selection
    except Exception:  # noqa: BLE001 - no selection (a shape, a chart)
        return None
    if sel is None:
        return None
    found, _ = assign_sheets(raw.sheet_names)
    cust_name = found.get("customers")
    rs = raw.sheets.get(cust_name) if cust_name else None
    if rs is None or rs.frame.empty:
        return None
    spec = sheet("customers")
    assert cust_name is not None  # rs is None otherwise
    layout = locate_header(rs.frame, spec, cust_name)
    if layout is None:
        return None
    pos = next((p for p, k in layout.columns.items() if k == "customer_id"), None)
    if pos is None:
        return None
    body = rs.frame.iloc[layout.header_index + 1:, pos]
    ids = {str(v).strip() for v in body.dropna()}
    i = sel.row - rs.row0
    if sel.sheet.name == cust_name and layout.header_index < i < len(rs.frame):
        value = rs.frame.iat[i, pos]
        if isinstance(value, str) and value.strip():
            return value.strip()
    sheet_raw = raw.sheets.get(sel.sheet.name)
    if sheet_raw is not None:
        r, c = sel.row - sheet_raw.row0, sel.column - 1 - sheet_raw.col0
        if 0 <= r < sheet_raw.frame.shape[0] and 0 <= c < sheet_raw.frame.shape[1]:
            value = sheet_raw.frame.iat[r, c]
            if isinstance(value, str) and value.strip() in ids:
                return value.strip()
    return None


def _book_path(book) -> Path | None:
    try:
        full = book.fullname
    except Exception:  # noqa: BLE001
        return None
    p = Path(str(full))
    return p if p.is_absolute() and p.parent.exists() else None


# -- language and messages -----------------------------------------------------------------------
def _guess_lang(book) -> str:
    try:
        names = {norm_header(s.name) for s in book.sheets}
    except Exception:  # noqa: BLE001
        return os.environ.get("CUSTLEDGER_LANG", "zh")
    en = {norm_header(sheet(k).name("en")) for k in ("customers", "invoices")}
    return "en" if names & en else "zh"


def _book_lang(raw) -> str | None:
    try:
        from .core.load import assign_sheets
        from .core.settings import parse_settings

        found, _ = assign_sheets(raw.sheet_names)
        settings, _ = parse_settings(raw.sheets.get(found.get("settings")), "zh")
        return settings.language
    except Exception:  # noqa: BLE001 - the run itself will say what is wrong
        return None


def _step_label(step: str, lang: str) -> str:
    for code in (f"xl_step_{step}", f"xl_button_{step}"):
        try:
            return msg(code, lang)
        except KeyError:
            continue
    return step


def done_text(name: str, report, lang: str) -> str:
    s = report.summary
    head = msg("xl_done", lang, button=msg(f"xl_button_{name}", lang))
    lines = [head]
    if s.get("errors") or s.get("warnings"):
        lines.append(msg("xl_problems", lang, errors=s.get("errors", 0), warnings=s.get("warnings", 0)))
    lines.extend(str(n) for n in report.notes)
    return "\n".join(lines)


def _log(exc: BaseException) -> Path | None:
    """The traceback, causes included, appended to the log file (None when it cannot be written)."""
    log = Path(tempfile.gettempdir()) / LOG_NAME
    try:
        with log.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {dt.datetime.now():%Y-%m-%d %H:%M:%S}\n{''.join(traceback.format_exception(exc))}\n")
    except OSError:
        return None
    return log


def failure_text(exc: BaseException, lang: str) -> str:
    if isinstance(exc, LedgerError):
        if os.environ.get("CUSTLEDGER_DEBUG"):  # e.g. save_failed: its cause goes to the log
            _log(exc)
        return exc.message(lang)
    if isinstance(exc, NotImplementedError):
        return msg("xl_step_missing", lang, step=str(exc))
    if isinstance(exc, ImportError):
        return msg("xl_missing_module", lang, module=exc.name or str(exc))
    log = _log(exc)
    if isinstance(exc, OSError):   # a file or the network: the system's reason, in this language
        detail = file_cause(exc).message(lang)
    elif log is not None:   # a bug: said as one, by the exception's class; its text is in the log
        detail = msg("xl_internal_error", lang, kind=type(exc).__name__)
    else:   # no log could be written: the exception's own first line is all that is left of it
        first = str(exc).splitlines()[0][:200] if str(exc) else ""
        detail = f"{type(exc).__name__}: {first}"
    return msg("xl_failed", lang, detail=detail, log=str(log or ""))


def _queued(book):
    """The remote client's queue of actions (None on desktop Excel, which acts at once)."""
    try:
        queued = book.json()["actions"]
    except Exception:  # noqa: BLE001 - desktop Excel has no action queue
        return None
    return queued if isinstance(queued, list) else None


def _tell(book, caps, text: str, lang: str) -> None:
    """The closing message: a message box where the client has a safe one, else a sheet."""
    if caps is None or caps.alert:
        _alert(book, text, lang)
    else:
        try:
            message_sheet(book, text, lang)
        except Exception:  # noqa: BLE001 - nothing more can be done; never a traceback
            pass


def message_sheet(book, text: str, lang: str) -> None:
    """Write ``text`` (one line per row, under a title) on the message sheet and show it: the
    closing message on clients whose message box would be a script error."""
    from .io.xlbook import excel_text

    name = msg("xl_message_sheet", lang)
    sheet = next((s for s in book.sheets if s.name == name), None)
    if sheet is None:
        sheet = book.sheets.add(name, after=book.sheets[len(book.sheets) - 1])
    else:
        sheet.clear_contents()
    rows = [[msg("xl_title", lang)]] + [[excel_text(line)] for line in text.splitlines() if line]
    sheet.range("A1").value = rows
    sheet.activate()


def _alert(book, text: str, lang: str) -> None:
    try:
        book.app.alert(text, title=msg("xl_title", lang))
    except Exception:  # noqa: BLE001 - a client without message boxes: the status bar has it
        _Status(book).show(text.splitlines()[0])


class _Status:
    """The Excel status bar where the client has one (desktop Excel); silent elsewhere."""

    def __init__(self, book):
        self.book = book
        self.ok = not isinstance(getattr(book, "api", None), dict)   # remote/Lite books have none

    def show(self, text: str) -> None:
        if self.ok:
            try:
                self.book.app.status_bar = text
            except Exception:  # noqa: BLE001
                self.ok = False

    def clear(self) -> None:
        if self.ok:
            try:
                self.book.app.status_bar = False
            except Exception:  # noqa: BLE001
                pass
