"""Statements 对账单: one xlsx (and with ``pdf`` a PDF) per customer for a month, and the
Statements sheet listing them with a link to each file.

Options of the step (from ``run(book, steps, **options)``):

month        "YYYY-MM", required;
pdf          also convert every statement to PDF, in one LibreOffice batch per core
             (io/pdf.py); a missing LibreOffice is a note, the xlsx files are still written;
dir          folder for the files; default ``<ledger stem>_statements/YYYY-MM/`` beside the
             ledger (the ledger's path comes from option ``ledger_path``);
template     a restyled statement template to use instead of the one found by
             ``statement_template`` (a ``templates/statement[_en].xlsx`` beside the ledger,
             else the shipped one);
processes    worker processes for rendering (default 2: both cores of the reference machine);
as_sheets    reserved for xlwings Lite (no file system): not written yet, the design keeps
             ``dir=None`` open for it.

The figures come from core/statements.py with the allocation run as of the month's last day
(reused from the run when its as_of is that day).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from ..core.errors import LedgerError
from ..core.statements import month_bounds, month_statements, month_text
from ..render.build_templates import FILES, shipped
from ..render.sheets import sheet_out
from ..render.statement import render_statements
from ..schema import msg
from . import staging
from .pipeline import Run, step


def ledger_path(run: Run) -> Path:
    """The ledger file of the run: option ``ledger_path``, else the book's path (a file book's
    ``path``, an xlwings book's ``fullname``); without one (a workbook never saved, xlwings
    Lite) a placeholder in the temp folder, so that files never land in the working folder."""
    book = getattr(run, "book", None)
    # the workbook being written (--out copy or the ledger): links from it are relative to it
    file_target = getattr(book, "target", None) if hasattr(book, "path") else None  # a file book only
    for cand in (run.options.get("ledger_path"), file_target, getattr(book, "path", None)):
        if cand:
            return Path(cand).absolute()
    fullname = getattr(getattr(book, "book", None), "fullname", None)  # xlwings: "Book1" until saved
    if fullname and Path(str(fullname)).is_absolute():
        return Path(str(fullname))
    return Path(tempfile.gettempdir()) / "custledger" / "ledger.xlsx"


def has_folder(run: Run) -> bool:
    """Whether files can be written beside the ledger: not when the run writes results as sheets
    (xlwings Lite, a book never saved) nor when no real path is known (never a temp folder the
    person cannot find)."""
    if run.options.get("as_sheets"):
        return False
    return ledger_path(run).parent != Path(tempfile.gettempdir()) / "custledger"


def find_template(run: Run, kind: str) -> Path:
    """The template of ``kind`` (statement | letter) in the run's language: option
    ``template`` (statements) / ``letter_template``, else ``templates/<file>`` beside the
    ledger (a copy the user restyled), else the shipped one."""
    explicit = run.options.get("template" if kind == "statement" else "letter_template")
    if explicit:
        return Path(explicit)
    lang = run.lang if run.lang in ("zh", "en") else "zh"
    beside = ledger_path(run).parent / "templates" / FILES[(kind, lang)]
    return beside if beside.exists() else shipped(kind, lang)


def _relative(path: Path, base: Path) -> str:
    try:
        return os.path.relpath(path, base)
    except ValueError:  # another drive on Windows: absolute
        return str(path)


def _relative_all(paths: list[Path], base: Path) -> list[str]:
    """``_relative`` of each path; files of one folder share its relative path, made once."""
    folders = {p.parent for p in paths}
    if len(folders) != 1:
        return [_relative(p, base) for p in paths]
    rel = _relative(folders.pop(), base)
    return [p.name if rel == os.curdir else os.path.join(rel, p.name) for p in paths]


@staging.destination("statements")
def statements_folder(run: Run) -> Path | None:
    """Where the month's statement files go: option ``dir``, else
    ``<ledger stem>_statements/YYYY-MM/`` beside the ledger; None when they become sheets (no
    folder) or the month does not read (the step says so)."""
    if not has_folder(run) and not run.options.get("dir"):
        return None
    try:
        month = month_text(run.options.get("month"))
    except (TypeError, ValueError):
        return None
    ledger = ledger_path(run)
    return Path(run.options.get("dir") or ledger.parent / f"{ledger.stem}_statements" / month)


@step("statements")
def statements_step(run: Run) -> None:
    month = run.options.get("month")
    if not month:
        raise LedgerError("bad_option", option="--month", value="")
    try:
        start, end = month_bounds(month)
    except ValueError:
        raise LedgerError("bad_option", option="--month", value=str(month)) from None
    led, s = run.ledger, run.settings
    alloc = oi = un = ag = None
    if run.as_of == end:  # the run's frames are the month-end ones: reused, not recomputed
        from .needs import need

        alloc, oi, un, ag = (need(run, k) for k in ("allocations", "open_items", "unapplied", "aging"))
    ms = month_statements(led.customers, led.invoices, led.receipts, month, buckets=s.aging_buckets,
                          basis=s.aging_basis, auto_fifo=s.auto_fifo, allocations=alloc,
                          write_off_tolerance=s.write_off_tolerance, confirmations=led.confirmations,
                          open_items_df=oi, unapplied=un, aging_df=ag)
    run.frames["statements"] = ms

    folder = statements_folder(run)
    if folder is None:  # no folder: the statements become sheets
        _as_sheets(run, ms)
        return
    ledger = ledger_path(run)
    issued = run.as_of.date()  # the run's reference day: the same run gives the same files
    # rendered into a staging folder, put in place once the ledger save commits (ops/staging.py)
    temp = staging.stage(run, folder)
    staged = render_statements(ms, led.customers, s, temp, template=find_template(run, "statement"),
                               issued=issued, processes=int(run.options.get("processes") or 2))
    paths = staging.final(staged, temp, folder)
    run.files.extend(paths)
    pdfs = []
    if run.options.get("pdf") and paths:
        from ..io.pdf import convert

        try:
            pdfs = staging.final(convert(staged, temp, "pdf", processes=int(run.options.get("processes") or 2)),
                                 temp, folder)
            run.files.extend(pdfs)
        except LedgerError as exc:
            run.notes.append(exc.message(run.lang))

    frame = ms.summary.assign(file=[p.name for p in paths])
    links = [f"external:{rel}" for rel in _relative_all(paths, ledger.parent)]
    run.add(sheet_out("statements", frame, run.lang, links={"file": links}, note=run.note()))
    run.summary.update(statements=len(paths), statements_dir=str(folder), statement_pdfs=len(pdfs))
    if run.as_of < end:
        run.notes.append(msg("statement_month_open", run.lang, month=ms.month, as_of=f"{run.as_of:%Y-%m-%d}"))


def statement_lines(ms) -> pd.DataFrame:
    """Every customer's statement as rows: an opening row, the month's documents with the
    running balance, a closing row — what a person filters by customer and prints."""
    summary = ms.summary
    names = dict(zip(summary["customer_id"], summary["name"]))
    end = pd.Timestamp(month_bounds(ms.month)[1])
    start = pd.Timestamp(month_bounds(ms.month)[0])
    opening = summary.assign(date=start, kind="opening", doc_no="", due_date=pd.NaT, debit=pd.NA, credit=pd.NA,
                             balance=summary["opening"], memo="", _o=0)
    closing = summary.assign(date=end, kind="closing", doc_no="", due_date=pd.NaT, debit=pd.NA, credit=pd.NA,
                             balance=summary["closing"], memo="", _o=2)
    body = ms.lines.assign(_o=1)
    cols = ["customer_id", "date", "kind", "doc_no", "due_date", "debit", "credit", "balance", "memo", "_o"]
    out = pd.concat([opening[cols], body[cols], closing[cols]], ignore_index=True)
    out["_n"] = range(len(out))
    out = out.sort_values(["customer_id", "_o", "_n"], kind="stable").drop(columns=["_o", "_n"])
    return out.assign(name=out["customer_id"].map(names), period=ms.month).reset_index(drop=True)


def _as_sheets(run: Run, ms) -> None:
    run.add(sheet_out("statements", ms.summary, run.lang, note=run.note()))
    run.add(sheet_out("statement_lines", statement_lines(ms), run.lang, note=run.note()))
    run.summary.update(statements=len(ms.summary))
    if len(ms.summary):
        run.notes.append(msg("files_as_sheets", run.lang, what=msg("files_statements", run.lang)))
