"""The run machinery: read -> core -> write, shared by every operation.

The command line (cli.py), the RunPython buttons (xl.py) and xlwings Lite (lite/) all call
``run`` with a book adapter (io/filebook.FileBook or io/xlbook.XlBook); nothing here knows which
one it has. Every run reads once, validates, runs the requested steps over the clean ledger and
writes every generated sheet in one save.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from ..contract import Book, CellMark, RowAppend, SheetOut
from ..core.errors import LedgerError
from ..core.load import load
from ..core.validate import Validation, validate

# STEP_ORDER is re-exported: callers and tests import it from here
from ..operations import ALL_STEPS, RunOptions
from ..operations import STEP_ORDER as STEP_ORDER
from ..render.sheets import run_note
from ..schema import msg
from .registry import StepRegistry

WITHHELD_ON_ERRORS = ("statements",)


@dataclass
class Run:
    """What a run has computed so far (frames) and will write (sheets)."""

    validation: Validation
    options: RunOptions
    frames: dict = field(default_factory=dict)
    outs: list = field(default_factory=list)
    files: list = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    appends: list = field(default_factory=list)   # (input sheet key, frame of new rows): bank imports
    book: Book | None = None                      # the adapter (its .path, when it has one)
    staged: list = field(default_factory=list)    # files put in place after the save (ops/staging.py)
    reserved: dict = field(default_factory=dict)  # staging folders made before the steps (staging.reserve)
    steps: tuple = ()                             # the steps this run runs, in order (set by run)
    on_saved: list = field(default_factory=list)  # fn(run, target) after the write: notes on where it went

    @property
    def ledger(self):
        return self.validation.ledger

    @property
    def settings(self):
        return self.validation.ledger.settings

    @property
    def lang(self) -> str:
        return self.settings.language

    @property
    def as_of(self) -> pd.Timestamp:
        return self.settings.as_of_ts()

    def note(self) -> str:
        return run_note(self.lang, self.settings.as_of_date())

    def add(self, out: SheetOut) -> None:
        self.outs = [o for o in self.outs if o.key != out.key] + [out]

    def withheld(self, name: str) -> bool:
        """Step ``name`` is not run: it sends documents out and the ledger has errors (issue 6)."""
        return name in WITHHELD_ON_ERRORS and bool(self.validation.errors) and not self.options.allow_errors

    def will_run(self, name: str) -> bool:
        """Step ``name`` runs later in this run (an earlier step may leave it a sheet to write)."""
        return name in self.steps and not self.withheld(name)


@dataclass(frozen=True)
class Report:
    """What a run tells its caller: the exit code (0 done; 1 done, but the ledger has errors or
    a step was held back), the summary counts, notes in the workbook's language, files written,
    the saved target and its backup."""

    exit_code: int
    summary: dict
    notes: list
    files: list
    target: str = ""
    backup: str = ""


# ops/<name>.py, imported on first use; the steps whose module has another name:
STEP_MODULES = {"import_invoices": "invoice_import", "owner_packs": "export"}
STEPS: StepRegistry = StepRegistry(ALL_STEPS, STEP_MODULES)   # {step name: fn(run)}


def step(name: str):
    """Register ``fn`` as step ``name``; the name must be in STEP_ORDER (declared once, in
    operations.py), else the import fails instead of the step being silently skipped."""
    if name not in ALL_STEPS:
        raise RuntimeError(f"step {name!r} is not in STEP_ORDER or ALONE (operations.py)")

    def register(fn):
        return STEPS.register(name, fn)
    return register


def check_registry() -> None:
    """Every declared step has a module that registers it (a test calls this: importing every
    step module at start-up would undo the lazy registry)."""
    missing = []
    for s in ALL_STEPS:
        try:
            if not STEPS.registered(s):   # the registry as it is: a step deleted from it is missing
                missing.append(s)
        except (ImportError, LookupError):
            missing.append(s)
    if missing:
        raise RuntimeError(f"steps in STEP_ORDER without a registered module: {missing}")


def _marks(problems: pd.DataFrame):
    return [CellMark(sheet=s, cell=c, message=t, severity=v)
            for s, c, t, v in zip(problems["sheet"], problems["cell"], problems["problem"], problems["severity"]) if c]


def _appends(run: Run) -> list:
    """Rows to add at the end of input sheets (bank imports), as RowAppend records."""
    if not run.appends:
        return []
    from ..schema import sheet

    out = []
    for key, frame in run.appends:
        ts = run.validation.loaded.sheets.get(key)
        if ts is not None and ts.name and len(frame):
            spec = sheet(key)
            kinds = {f.key: f.kind for f in spec.fields}
            cols = [k for k in ts.letters if k in frame.columns]
            rows = frame[cols].copy()
            for k in cols:  # enum keys are written as the labels a person of that language types
                if kinds[k] == "enum":  # (once per distinct key)
                    f, col = spec.field(k), rows[k]
                    labels = {v: f.enum_label(v, run.lang) for v in pd.unique(col) if v}
                    rows[k] = col.astype(object).where(~col.isin(list(labels)), col.map(labels))
            out.append(RowAppend(sheet=ts.name, columns={k: ts.letters[k] for k in cols},
                                 kinds={k: kinds[k] for k in cols}, rows=rows, header_row=ts.header_row))
    return out


def prepare(book: Book, as_of: dt.date | None = None) -> Validation:
    loaded = load(book.read())
    if as_of is not None:
        loaded = dataclasses.replace(loaded, settings=loaded.settings.with_as_of(as_of))
    return validate(loaded)


def run(book: Book, steps: Sequence[str], *, as_of: dt.date | None = None, progress=None, write: bool = True,
        **options) -> Report:
    """Read the book once, run ``steps`` (validate always first), write once.

    The whole run holds the book's session (for a file: a per-ledger lock, so a second run on
    the same ledger waits, then refuses — two runs never interleave their writes).

    ``options`` become a frozen RunOptions; an unknown option or step is refused (ValueError)
    before anything is read."""
    steps = list(steps)
    unknown = [s for s in steps if s not in ALL_STEPS]
    if unknown:
        raise ValueError(f"unknown step(s) {', '.join(map(str, unknown))}; known: {', '.join(ALL_STEPS)}")
    run_options = RunOptions.of(options)
    with book.session():
        return _run(book, steps, as_of, progress, write, run_options)


def _run(book, steps, as_of, progress, write, options) -> Report:
    wanted = ["validate", *[s for s in ALL_STEPS if (s in steps or (write and s == "changes")) and s != "validate"]]
    tick = progress or (lambda name: None)
    tick("read")
    if write:
        book.check_writable()  # refuse early (Excel lock, read-only) before any work
    validation = prepare(book, as_of)
    r = Run(validation=validation, options=options, book=book, steps=tuple(wanted))
    from . import staging

    try:
        return _steps_and_write(r, book, wanted, tick, write)
    except LedgerError as exc:
        if exc.lang is None:
            exc.lang = r.lang  # a refusal met in the steps or the save is said in the workbook's language
        raise
    finally:
        staging.discard(r)  # a run stopped before its save: no statement or letter put in place


def _steps_and_write(r: Run, book, wanted, tick, write) -> Report:
    from . import staging

    validation = r.validation
    fns = {name: STEPS[name] for name in wanted}   # every step's module imported, its declarations read
    staging.reserve(r, [name for name in wanted if not r.withheld(name)])
    for name in wanted:
        fn = fns[name]
        tick(name)
        if r.withheld(name):
            # statements go to customers: not from a ledger with errors unless asked (issue 6);
            # the way to ask differs (a CLI flag; in Excel, none: fix the errors first)
            r.notes.append(msg(book.withheld_message, r.lang, errors=validation.errors))
            r.summary["statements"] = 0
            continue
        fn(r)
    target = backup = ""
    if write:
        tick("write")
        sheets = validation.loaded.sheets
        clear = [ts.name for ts in sheets.values() if ts.name]
        book.lang = r.lang
        appends = _appends(r)
        extra = {"appends": appends} if appends else {}  # adapters without bank import stay simple
        info = book.write(r.outs, _marks(validation.problems), clear, keep=r.settings.backup_keep, **extra)
        if getattr(info, "note", ""):
            r.notes.append(info.note)
        target = str(getattr(info, "target", "") or "")
        backup = str(getattr(info, "backup", "") or "")
        for fn in r.on_saved:
            fn(r, target)
        if appends and target and hasattr(book, "target") and target != str(book.target):
            # the results went to a workbook of their own: the ledger lacks the imported receipts
            # the statements and letters list, so none of them goes out
            if staging.withdraw(r):
                r.notes.append(msg("documents_withheld_not_saved", r.lang))
    staging.commit(r)  # the save committed: statements and letters go in place
    errors = validation.errors
    blocked = bool(r.summary.get("blocked"))
    code = 1 if errors or blocked else 0
    return Report(exit_code=code, summary=r.summary, notes=r.notes, files=r.files, target=target, backup=backup)
