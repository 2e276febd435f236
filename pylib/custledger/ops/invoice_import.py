"""Import invoices 发票导入: the tax platform's export appended to Invoices 销售单据.

Read (io/invoicefile.py) → map (core/invoice_import.py) → the new rows are appended to the
Invoices sheet when the book is written (the RowAppend mechanism of bank receipts: styled like
the rows above, inside the sheet's table and filter) and join this run's ledger at once (due
date from the customer's terms, as validation fills it), so a reconcile in the same run counts
them. The Invoice Import sheet lists every row read with its status; rows in error are also
Problems rows naming the file, row and column.

All or nothing: a file that cannot be read, a value that is not a date or an amount, or an
Invoices sheet without the columns the rows need stops the run (LedgerError, exit 2) before
anything is written.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..core.errors import LedgerError
from ..core.invoice_import import map_invoices
from ..core.validate import fill_due_dates as fill_due_dates  # the rule validation applies
from ..render.sheets import sheet_out
from ..schema import msg, sheet
from .pipeline import Run, step
from .validate import add_problems, validate_step


def _check_columns(run: Run, new: pd.DataFrame) -> None:
    """The Invoices sheet must have a column for every value the new rows need."""
    ts = run.validation.loaded.sheets.get("invoices")
    letters = ts.letters if ts is not None else {}
    spec = sheet("invoices")
    needed = ["amount"]
    if (new["kind"] == "credit_note").any():
        needed.append("kind")
    for key in needed:
        if key not in letters:
            raise LedgerError("invoice_sheet_no_column", column=spec.field(key).label(run.lang))


def import_invoices(run: Run, path) -> None:
    from ..io.invoicefile import read_invoice_file

    read = read_invoice_file(Path(path))
    led = run.ledger
    ts = run.validation.loaded.sheets.get("invoices")
    existing = ts.frame["doc_no"] if ts is not None and "doc_no" in ts.frame else led.invoices["doc_no"]
    result = map_invoices(read.rows, led.customers, existing, read.name, run.lang, read.labels)
    if result.unreadable:
        u = result.unreadable
        raise LedgerError("invoice_file_bad_value", path=read.name, row=u["row"], column=u["column"],
                          value=u["value"] or '""', what=u["what"])
    new = result.invoices
    if len(new):
        _check_columns(run, new)
        typed = fill_due_dates(new.assign(due_date=pd.Series(pd.NaT, index=new.index, dtype="datetime64[ns]"),
                                          product="", contract_no="", _row=0),
                               led.customers, run.settings.default_terms)
        invoices = pd.concat([led.invoices, typed], ignore_index=True)
        run.validation = run.validation.__class__(
            ledger=led.replace(invoices=invoices), problems=run.validation.problems, loaded=run.validation.loaded)
        run.appends.append(("invoices", new))
    if result.records:
        add_problems(run, result.records)  # Problems again, with the import's rows and the new invoice count
    else:
        validate_step(run)  # Problems again, with the new invoice count
    counts = result.counts()
    run.frames["invoice_import"] = result.report
    run.summary["invoices_imported"] = counts["imported"]
    run.notes.append(msg("invoice_import_done", run.lang, **counts))
    run.add(sheet_out("invoice_import", result.report, run.lang, note=run.note()))
    if counts["imported"]:
        run.on_saved.append(_where_saved)


def _where_saved(run: Run, target: str) -> None:
    """Say where the appended invoices are when that is not the ledger itself: with ``--out``
    in the copy (the ledger unchanged: DESIGN "--out FILE: write results to a copy"); when the
    ledger could not be rewritten and the results went to a workbook of their own, nowhere
    (DESIGN Reliability: results elsewhere, saying so)."""
    book, n = run.book, run.summary.get("invoices_imported", 0)
    path, copy = getattr(book, "path", None), getattr(book, "target", None)
    if not target or path is None or copy is None:
        return  # the Excel route writes into the open workbook itself
    if Path(target) != Path(copy):
        run.notes.append(msg("invoice_import_not_saved", run.lang, imported=n, out=Path(target).name))
    elif Path(target) != Path(path):
        run.notes.append(msg("invoice_import_in_copy", run.lang, imported=n, out=Path(target).name,
                             path=Path(path).name))


@step("import_invoices")
def import_invoices_step(run: Run) -> None:
    path = run.options.get("invoices")
    if path:  # a run without an export (the close, a button) has nothing to import
        import_invoices(run, path)
