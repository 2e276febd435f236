"""Reconcile 核销: bank import (optional), allocation, balances — checked by the invariants.

With option ``bank`` (a bank export), its credit lines are matched to customers (core/bank.py);
``auto`` lines and lines a person confirmed in the Bank sheet become receipts (appended to the
Receipts sheet when the book is written — the only change ever made to a person's sheet) and
take part in the allocation at once. A line a person confirmed teaches its payer: name and
account are appended to the Payers 付款方对照 sheet (created, unprotected, on the first
confirmation when the workbook has none), which the next import reads as an exact level. The
money invariants (core/invariants.py) are checked on every run; a violation stops the run with a
message and nothing is written.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ..core.bank import collect_confirmations, learn_payers, match_bank, new_receipts
from ..core.invariants import invariant_problems
from ..core.load import generated_frame
from ..core.money import format_cents as _yuan
from ..core.problems import ProblemError
from ..render.sheets import SheetOut, sheet_out
from ..schema import msg, sheet
from .needs import need
from .pipeline import Run, step
from .validate import add_problems


def import_bank(run: Run, path) -> None:
    from ..io.bankfile import read_bank_file

    read = read_bank_file(path)
    records = read.records()
    errors = [p for p in records if p.severity == "error"]
    if errors:  # the file cannot be used at all: one line (every error), in the language it is printed in
        raise ProblemError("bank_file_bad", *errors) from read.cause  # the system's own words: debug only
    if records:  # lines left out: each one a row of Problems, never dropped without a trace
        add_problems(run, records)
    led = run.ledger
    prev = generated_frame(run.validation.loaded.raw, "bank")
    payers_ts = run.validation.loaded.sheets.get("payers")
    payers = payers_ts.frame if payers_ts is not None else None
    bank = match_bank(read.lines, led.customers, led.receipts, run.settings.match_threshold,
                      confirmed=collect_confirmations(prev) if prev is not None else None,
                      payers=payers, lang=run.lang)
    _learn(run, bank, payers_ts)
    new = new_receipts(bank, led.receipts)
    run.frames["bank"] = bank
    run.frames["new_receipts"] = new
    if len(new):
        receipts = pd.concat([led.receipts, new.assign(_row=0)], ignore_index=True)
        run.validation = run.validation.__class__(
            ledger=led.replace(receipts=receipts), problems=run.validation.problems, loaded=run.validation.loaded)
        run.appends.append(("receipts", new))
    counts = bank["status"].value_counts()
    run.summary["bank_lines"] = len(bank)
    run.summary["receipts_imported"] = len(new)
    run.notes.append(msg("bank_imported", run.lang, **{k: int(counts.get(k, 0)) for k in
                                                      ("auto", "suggested", "unmatched", "duplicate")}))
    run.add(sheet_out("bank", bank, run.lang, note=run.note()))


def _learn(run: Run, bank: pd.DataFrame, payers_ts) -> None:
    """Append the payers a person confirmed to Payers; create the sheet when there is none."""
    learnt = learn_payers(bank, payers_ts.frame if payers_ts is not None else None)
    if learnt.empty:
        return
    learnt["added"] = pd.Timestamp(dt.date.today())  # when it was learnt, for the audit trail
    if payers_ts is not None and payers_ts.name:
        run.appends.append(("payers", learnt))
    else:
        run.add(payers_sheet(learnt, run.lang))
    run.summary["payers_learnt"] = len(learnt)
    run.notes.append(msg("payers_learnt", run.lang, n=len(learnt)))


def payers_sheet(rows: pd.DataFrame, lang: str) -> SheetOut:
    """A new Payers 付款方对照 input sheet holding ``rows``: the schema's headers in ``lang``,
    as a table a person can edit (not protected, no note); read as input from then on."""
    spec = sheet("payers")
    fmt = {"date": "date"}
    data = {}
    for j, f in enumerate(spec.fields):
        col = rows[f.key] if f.key in rows else pd.Series([None] * len(rows), index=rows.index)
        if f.kind == "date":
            col = pd.to_datetime(col, errors="coerce").map(lambda t: None if pd.isna(t) else t.to_pydatetime())
        else:
            col = col.map(lambda v: None if v is None or v == "" or v != v else str(v))
        data[j] = col.reset_index(drop=True)
    return SheetOut(key="payers", name=spec.name(lang), headers=[f.label(lang) for f in spec.fields],
                    formats=[fmt.get(f.kind, "text") for f in spec.fields], data=pd.DataFrame(data),
                    table=spec.table, widths=[f.width for f in spec.fields], protect=False)


@step("reconcile")
def reconcile_step(run: Run) -> None:
    bank = run.options.get("bank")
    if bank:
        import_bank(run, bank)
    led = run.ledger
    alloc = need(run, "allocations")
    bal = need(run, "balances")
    problems = invariant_problems(led.invoices, led.receipts, alloc, bal, run.as_of,
                                  write_off_tolerance=run.settings.write_off_tolerance, cred=need(run, "credits"))
    if problems:  # figures that break the money rules are never written: one line, the first three
        raise ProblemError("invariant_violation", *problems[:3])
    run.add(sheet_out("allocations", alloc, run.lang, note=run.note()))
    run.add(sheet_out("balances", bal, run.lang, note=run.note()))
    run.summary.update(allocations=len(alloc), receivable=_yuan(int(bal["balance"].sum())),
                       unapplied=_yuan(int(bal["unapplied"].sum())))

