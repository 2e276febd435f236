"""The `custledger` command line: a thin way in over ops.run.

Exit codes (DESIGN.md): 0 done, 1 done but the ledger has errors, 2 could not run. Every
failure is one clear line; set CUSTLEDGER_DEBUG=1 to see a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

from .cli_decl import Argument, Commands, Exit, Option, echo
from .core.errors import LedgerError, file_cause
from .report_text import plain_summary

commands = Commands(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                   help="custledger: customer ledger bookkeeping on an Excel workbook (客户台账).")

AsOf = Option(None, "--as-of", help="Compute as of this date (YYYY-MM-DD); overrides Settings.")
Out = Option(None, "--out", help="Write results to this copy instead of in place.")
Json = Option(False, "--json", help="Print a machine-readable summary on stdout.")
Force = Option(False, "--force", help="Write even if Excel holds the file (lock file present).")


def _lang() -> str:
    return os.environ.get("CUSTLEDGER_LANG", "zh")


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise LedgerError("bad_option", option="--as-of", value=text) from None


def _steps(name: str) -> list:
    """The steps of operation ``name``: operations.OPERATIONS, the one command -> steps map
    (imported when a command runs: the run loads ops anyway)."""
    from .operations import steps_of

    return steps_of(name)


def _fail(exc: BaseException) -> None:
    if os.environ.get("CUSTLEDGER_DEBUG"):  # the cause too: a LedgerError chains it (save_failed from ...)
        import traceback

        traceback.print_exception(exc)
    if isinstance(exc, LedgerError):
        # the language asked for (CUSTLEDGER_LANG), else the workbook's once the run knew it
        echo(exc.message(os.environ.get("CUSTLEDGER_LANG") or exc.lang or _lang()), err=True)
    elif isinstance(exc, OSError):   # a file or the network: the system's reason, worded
        echo(f"custledger: {file_cause(exc).message(_lang())}", err=True)
    else:
        first = str(exc).splitlines()[0] if str(exc) else ""
        echo(f"custledger: {type(exc).__name__}: {first}", err=True)
    raise Exit(2)


def _print_report(report, as_json: bool, lang: str = "zh") -> None:
    if as_json:
        echo(json.dumps({"exit_code": report.exit_code, "summary": report.summary, "notes": report.notes,
                         "files": [str(f) for f in report.files], "target": report.target,
                         "backup": report.backup}, ensure_ascii=False, default=str))
        return
    from .schema import outputs

    labels = outputs().get("summary", {})
    lang = report.summary.get("language", lang)
    rows = [(labels.get(k, {}).get(lang, k), str(v)) for k, v in report.summary.items() if k not in ("language", "blocked")]
    lines = [*report.notes, *([f"→ {report.target}"] if report.target else [])]
    # rich's characters without rich's import, when rich would print nothing else (report_text.py)
    plain = plain_summary(rows, lines) if all(isinstance(n, str) for n in lines) else None
    if plain is not None:
        sys.stdout.write(plain)
        sys.stdout.flush()
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(show_header=False, box=None)
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)
    for line in lines:
        console.print(line)


def _run(path: Path, steps, as_of, out, force, as_json, *, demo: bool = False, **options) -> None:
    from . import ops
    from .io.filebook import FileBook

    try:
        book = FileBook(path, out=out, force=force)
        with _sigterm_as_interrupt(), _progress(as_json, total=len(set(steps) | {"validate"}) + 2) as tick:
            report = ops.run(book, steps, as_of=_date(as_of), progress=tick, **options)
    except KeyboardInterrupt:  # Ctrl+C or SIGTERM: the run cleaned up after itself (ops/staging.py)
        from .schema import msg

        echo(msg("run_interrupted", _lang()), err=True)
        raise Exit(2) from None
    except Exception as exc:  # noqa: BLE001 - one line for the user, never a traceback
        _fail(exc)
        return
    code = report.exit_code
    if demo and code == 1:
        # the demo ledger carries planted errors: finding them is the demo succeeding (exit 0,
        # so README's first command passes under `set -e`)
        from .schema import msg

        report.notes.append(msg("demo_errors_found", report.summary.get("language", _lang()),
                                errors=report.summary.get("errors", "")))
        code = 0
    _print_report(report, as_json)
    raise Exit(code)


class _sigterm_as_interrupt:
    """SIGTERM (a service stopping, ``kill``) stops a run like Ctrl+C: a KeyboardInterrupt that
    unwinds it, so its temp file and staged statements are removed (the default action would end
    the process on the spot and leave them). A run that ended without an exception is saved and
    in place: stops are then held for the rest of the process (_hold_stops)."""

    def __enter__(self):
        import signal

        self.old = None
        if hasattr(signal, "SIGTERM"):
            try:
                self.old = signal.signal(signal.SIGTERM, _interrupt)
            except ValueError:  # not the main thread: leave the default
                self.old = None
        return self

    def __exit__(self, exc_type, *exc):
        import signal

        if exc_type is None and _hold_stops():
            return False
        if self.old is not None:
            signal.signal(signal.SIGTERM, self.old)
        return False


def _interrupt(signum, frame):
    raise KeyboardInterrupt


# Set by main(): this interpreter is the command's own process and ends with the run.
_OWN_PROCESS = False


def _hold_stops() -> bool:
    """Once a run has saved and put its files in place, Ctrl+C and SIGTERM are ignored for what
    is left: printing the report and exiting with the run's code. Without this, a stop in that
    last instant — or during the interpreter's shutdown, when Python has put back the default
    actions — ends the process *by the signal*, as if the run had failed, although the ledger
    and every statement are saved. Ignored, not blocked: a block holds for one thread only, and
    the libraries' own threads (Arrow's pool) would take the signal with its default action;
    SIG_IGN is the process's and Python's shutdown leaves it in place. Only in the command's own
    process (main()); in-process callers (tests, a host program) keep their signals. True when
    the stops are now ignored."""
    import signal
    import threading

    if not _OWN_PROCESS or threading.current_thread() is not threading.main_thread():
        return False
    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    return True


class _progress:
    """A rich progress bar over the run's stages (read, each step, write); silent with --json or
    when stderr is not a terminal."""

    def __init__(self, quiet: bool, total: int = 0):
        self.quiet = quiet or not sys.stderr.isatty()
        self.total = total
        self.progress = None

    def __enter__(self):
        if self.quiet:
            return lambda name: None
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("custledger {task.description:<12}"), BarColumn(),
                                 TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True)
        self.progress.__enter__()
        task = self.progress.add_task("", total=self.total or None)
        state = {"first": True}

        def tick(name):
            if not state["first"]:
                self.progress.advance(task)
            state["first"] = False
            self.progress.update(task, description=name)
        return tick

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.__exit__(*exc)
        return False


@commands.command()
def new(path: Path, lang: str = Option("zh", "--lang", help="zh or en"), force: bool = Force) -> None:
    """Write an empty ledger workbook (客户台账模板)."""
    from .io.template import build_ledger

    try:
        if lang not in ("zh", "en"):
            raise LedgerError("bad_option", option="--lang", value=lang)
        if path.exists() and not force:
            raise LedgerError("file_exists", path=str(path))
        if path.suffix.lower() not in (".xlsx", ".xlsm"):
            raise LedgerError("file_not_xlsx", path=str(path))
        build_ledger(path, lang)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    echo(str(path))


@commands.command()
def demo(directory: Path = Argument(Path("demo"), help="Folder for the demo ledger"),
         lang: str = Option("zh", "--lang"), as_json: bool = Json) -> None:
    """Build a realistic demo ledger and run the monthly close on it."""
    from .demo import write_demo

    try:
        ledger, bank, month = write_demo(directory, lang)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    from .operations import STEP_ORDER

    steps = list(STEP_ORDER)   # the close, plus a card for one customer
    _run(ledger, steps, None, None, False, as_json, demo=True, month=month, bank=bank, customer_id="C0001",
         allow_errors=True)


@commands.command("validate")
def validate_cmd(path: Path, as_of: str | None = AsOf, out: Path | None = Out, as_json: bool = Json,
                 force: bool = Force) -> None:
    """Check every entry; write the Problems sheet and mark the cells at fault."""
    _run(path, _steps("validate"), as_of, out, force, as_json)


Month = Option(None, "--month", help="Statement month, YYYY-MM.")
Bank = Option(None, "--bank", help="Bank statement export to import (CSV or XLSX).")
Pdf = Option(False, "--pdf", help="Also convert statements to PDF (LibreOffice headless).")


def _month(text: str | None, required: bool = True) -> str | None:
    if text is None:
        if required:
            raise LedgerError("bad_option", option="--month", value="")
        return None
    from .core.parse import parse_month  # here: pandas is not loaded for --help

    try:
        return parse_month(text)
    except ValueError:
        raise LedgerError("bad_option", option="--month", value=text) from None


def _guard(fn):
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001
        _fail(exc)


@commands.command()
def reconcile(path: Path, bank: Path | None = Bank, as_of: str | None = AsOf, out: Path | None = Out,
              as_json: bool = Json, force: bool = Force) -> None:
    """Apply receipts and credit notes to invoices (核销); Allocations and Balances sheets."""
    _run(path, _steps("reconcile"), as_of, out, force, as_json, bank=bank)


@commands.command()
def aging(path: Path, as_of: str | None = AsOf, out: Path | None = Out, as_json: bool = Json,
          force: bool = Force) -> None:
    """Aging and Overdue sheets (账龄、逾期); letters: `custledger letters`."""
    _run(path, _steps("aging"), as_of, out, force, as_json)


@commands.command()
def letters(path: Path, pdf: bool = Option(False, "--pdf", help="Also convert the letters to PDF (LibreOffice headless)."),
            as_of: str | None = AsOf, out: Path | None = Out, as_json: bool = Json, force: bool = Force) -> None:
    """Dunning letters (催款函) for every customer at dunning level 1 or more; Overdue links to them."""
    _run(path, ["reconcile", "aging", "letters"], as_of, out, force, as_json, pdf=pdf)


@commands.command()
def tiers(path: Path, as_of: str | None = AsOf, out: Path | None = Out, as_json: bool = Json,
          force: bool = Force) -> None:
    """ABC, RFM, credit grades, core customers, lifecycle (客户分级)."""
    _run(path, _steps("tiers"), as_of, out, force, as_json)


@commands.command()
def reminders(path: Path, ics: Path | None = Option(None, "--ics", help="Also write an iCalendar file."),
              as_of: str | None = AsOf, out: Path | None = Out, as_json: bool = Json,
              force: bool = Force) -> None:
    """Due payments, contracts, birthdays, follow-ups (提醒事项)."""
    _run(path, _steps("reminders"), as_of, out, force, as_json, ics=ics)


@commands.command()
def card(path: Path, customer_id: str, as_of: str | None = AsOf, out: Path | None = Out,
         as_json: bool = Json, force: bool = Force) -> None:
    """The one-page customer card (客户卡) of CUSTOMER_ID."""
    _run(path, _steps("card"), as_of, out, force, as_json, customer_id=customer_id)


@commands.command()
def statements(path: Path, month: str | None = Month, pdf: bool = Pdf,
               directory: Path | None = Option(None, "--dir", help="Folder for the statement files."),
               allow_errors: bool = Option(False, "--allow-errors", help="Issue statements despite validation errors."),
               as_of: str | None = AsOf, out: Path | None = Out, as_json: bool = Json,
               force: bool = Force) -> None:
    """One statement (对账单) per customer for the month."""
    m = _guard(lambda: _month(month))
    _run(path, _steps("statements"), as_of, out, force, as_json, month=m, pdf=pdf, dir=directory,
         allow_errors=allow_errors)


@commands.command("import-invoices")
def import_invoices(path: Path, file: Path, as_of: str | None = AsOf, out: Path | None = Out,
                    as_json: bool = Json, force: bool = Force) -> None:
    """Append invoices from the tax platform's export (数电票 全量发票查询导出, xlsx/csv) to Invoices."""
    _run(path, ["import_invoices", "reconcile"], as_of, out, force, as_json, invoices=file)


@commands.command()
def close(path: Path, month: str | None = Month, bank: Path | None = Bank, pdf: bool = Pdf,
          directory: Path | None = Option(None, "--dir", help="Folder for the statement files."),
          allow_errors: bool = Option(False, "--allow-errors", help="Issue statements despite validation errors."),
          as_of: str | None = AsOf, out: Path | None = Out, as_json: bool = Json, force: bool = Force) -> None:
    """The monthly close (月结): validate, reconcile, aging, tiers, reminders, statements, dashboard."""
    m = _guard(lambda: _month(month))
    _run(path, _steps("close"), as_of, out, force, as_json, month=m, bank=bank, pdf=pdf, dir=directory,
         allow_errors=allow_errors)


xl_commands = Commands(add_completion=False, no_args_is_help=True, help="Excel buttons (xlwings).")
commands.add_typer(xl_commands, name="xl")


@xl_commands.command("install")
def xl_install(path: Path, lang: str | None = Option(None, "--lang", help="zh or en (default: the workbook's)")) -> None:
    """Import the VBA buttons module into PATH with Excel and save it as .xlsm (Windows/macOS)."""
    from .xl_install import install

    echo(_guard(lambda: install(path, lang=lang)))


@commands.command()
def export(path: Path, out: Path | None = Out, encrypt: bool = Option(False, "--encrypt", help="Password-protect the copy."),
           password_file: Path | None = Option(None, "--password-file",
                                               help="Read the password from this file (or CUSTLEDGER_EXPORT_PASSWORD, or a prompt)."),
           by_owner: Path | None = Option(None, "--by-owner",
                                          help="Instead: one workbook per owner (负责人) with only their customers, into this folder."),
           as_of: str | None = AsOf, as_json: bool = Json) -> None:
    """A copy of the input sheets for sending out: personal data masked, optionally encrypted."""
    from .ops.export import export_cli

    if by_owner is not None:
        _export_owners(path, by_owner, encrypt, password_file, as_of, as_json)
        return
    result = _guard(lambda: export_cli(path, out=out, encrypt=encrypt, password_file=password_file))
    if as_json:
        echo(json.dumps({"file": str(result.path)}, ensure_ascii=False))
    else:
        echo(result.message(_lang()))


def _export_owners(path, folder, encrypt, password_file, as_of, as_json) -> None:
    from .ops.export import export_owners_cli
    from .schema import msg

    packs, masked, encrypted = _guard(lambda: export_owners_cli(path, folder, encrypt=encrypt,
                                                                password_file=password_file, as_of=_date(as_of)))
    if as_json:
        echo(json.dumps({"files": [str(p.path) for p in packs],
                         "owners": {p.owner: p.customers for p in packs}}, ensure_ascii=False))
        return
    lang = _lang()
    echo(msg("export_by_owner_written", lang, count=len(packs), dir=str(folder),
             masked=msg("export_masked" if masked else "export_unmasked", lang),
             encrypted=msg("export_encrypted", lang) if encrypted else ""))


@commands.command()
def send(path: Path, month: str | None = Month,
         letters: bool = Option(False, "--letters", help="Also send the dunning letters of the month."),
         owners: bool = Option(False, "--owners", help="Also mail each owner (负责人) their customers' workbook."),
         outbox: Path | None = Option(None, "--outbox", help="Folder for the .eml files (without --smtp)."),
         smtp: str | None = Option(None, "--smtp", help="Send through this server, HOST:PORT."),
         use_ssl: bool = Option(False, "--ssl", help="Implicit TLS (port 465)."),
         starttls: bool = Option(False, "--starttls", help="STARTTLS (port 587)."),
         user: str | None = Option(None, "--user", help="SMTP login (usually the mailbox address)."),
         password_file: Path | None = Option(None, "--password-file",
                                             help="Read the SMTP password (authorisation code) from this file (or CUSTLEDGER_SMTP_PASSWORD, or a prompt)."),
         sender: str | None = Option(None, "--from", help="Sender address (default: --user)."),
         directory: Path | None = Option(None, "--dir", help="Folder of the statement files."),
         as_of: str | None = AsOf, out: Path | None = Out, as_json: bool = Json, force: bool = Force) -> None:
    """Email each customer its statement of the month (and letters); without --smtp, .eml files to an outbox."""
    from .ops.send import send_cli, send_ledger

    m = _guard(lambda: _month(month))
    try:
        book, options = send_cli(path, out=out, force=force, month=m, letters=letters, owners=owners, outbox=outbox,
                                 smtp=smtp, use_ssl=use_ssl, starttls=starttls, user=user,
                                 password_file=password_file, sender=sender, directory=directory)
        with _Bar(as_json) as each:  # one live display at a time: the messages' bar, not the stages'
            report = send_ledger(book, as_of=_date(as_of), progress_each=each, **options)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    _print_report(report, as_json)
    raise Exit(report.exit_code)


class _Bar:
    """A rich progress bar over the messages of ``send`` (silent with --json or no terminal)."""

    def __init__(self, quiet: bool):
        self.quiet = quiet or not sys.stderr.isatty()
        self.progress = self.task = None

    def __enter__(self):
        if self.quiet:
            return lambda done, total: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn("custledger send"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self.progress.__enter__()

        def each(done, total):
            if self.task is None:
                self.task = self.progress.add_task("", total=total)
            self.progress.update(self.task, completed=done, total=total)
        return each

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.__exit__(*exc)
        return False


def __getattr__(name: str):
    """``cli.app`` / ``cli.xl_app``: the typer applications of the declarations above, built on
    first use (cli_decl.py), for help, errors and callers such as typer's CliRunner."""
    if name == "app":
        return commands.typer()
    if name == "xl_app":
        return xl_commands.typer()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:  # console script entry point
    global _OWN_PROCESS
    from .cli_fast import run

    _OWN_PROCESS = True

    if not run(commands, sys.argv[1:]):  # an ordinary invocation runs without typer (cli_fast.py)
        commands.typer()()


def console() -> None:
    """The `custledger` program (console script and ``python -m custledger.cli``): main(), then
    the process ends at once (_exit_now). main() itself ends with SystemExit, for callers that
    run it inside a process of their own.

    The cyclic garbage collector is off for the command: a run allocates millions of small
    objects (imports, pandas' per-call objects) and frees them by reference counting; the
    collector's passes over them cost ~30 ms of a small ledger's `validate` and find nothing
    worth it (peak memory of a 15,000-customer close: 1.04 GB with it and without, docs/decisions.md)."""
    import gc

    gc.disable()
    try:
        main()
    except SystemExit as exc:
        _exit_now(exc)
        raise


def _exit_now(exc: SystemExit) -> None:
    """End the command's own process at once with the code of ``exc``, skipping the interpreter's
    teardown: with pandas and pyarrow loaded, Python's module-by-module cleanup takes ~0.1 s after
    the run is over (a tenth of a small ledger's `validate`, issue 12), and it does nothing a run
    needs — the ledger is saved and closed, every file written is closed, the report is printed.

    What a normal exit does that matters is done here first: standard output and error are
    flushed, and the atexit handlers run (logging, multiprocessing, tempfile and weakref
    finalizers). Returns (the caller then exits the ordinary way) when that is not plain: a code
    that is not an int (Python prints it), another thread still running (Python would wait for
    it), or a stream that cannot be flushed (Python reports it and exits 120)."""
    import atexit
    import threading

    code = 0 if exc.code is None else exc.code
    if not isinstance(code, int) or threading.active_count() > 1:
        return
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return
    atexit._run_exitfuncs()
    os._exit(code & 0xFF)


if __name__ == "__main__":
    console()
