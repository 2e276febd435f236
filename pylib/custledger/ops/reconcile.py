"""Reconcile 核销: bank import (optional), allocation, balances — checked by the invariants.

With option ``bank`` (a bank export), its credit lines are matched to customers (core/bank.py);
``auto`` lines and lines a person confirmed in the Bank sheet become receipts (appended to the
Receipts sheet when the book is written — the only change ever made to a person's sheet) and
take part in the allocation at once. The money invariants (core/invariants.py) are checked on
every run; a violation stops the run with a message and nothing is written.
"""

from __future__ import annotations

import pandas as pd

from ..core.bank import collect_confirmations, match_bank, new_receipts
from ..core.errors import LedgerError
from ..core.invariants import check_invariants
from ..core.load import generated_frame
from ..core.money import format_cents as _yuan
from ..render.sheets import sheet_out
from ..schema import msg
from .needs import need
from .pipeline import Run, step


def import_bank(run: Run, path) -> None:
    from ..io.bankfile import read_bank_file

    read = read_bank_file(path)
    errors = [p for p in read.problems if p.get("severity") == "error"]
    if errors:
        raise LedgerError("bank_file_bad", detail=errors[0].get("problem", ""))
    led = run.ledger
    prev = generated_frame(run.validation.loaded.raw, "bank")
    bank = match_bank(read.lines, led.customers, led.receipts, run.settings.match_threshold,
                      confirmed=collect_confirmations(prev) if prev is not None else None)
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


@step("reconcile")
def reconcile_step(run: Run) -> None:
    bank = run.options.get("bank")
    if bank:
        import_bank(run, bank)
    led = run.ledger
    alloc = need(run, "allocations")
    bal = need(run, "balances")
    problems = check_invariants(led.invoices, led.receipts, alloc, bal, run.as_of,
                                write_off_tolerance=run.settings.write_off_tolerance)
    if problems:
        raise LedgerError("invariant_violation", detail="; ".join(problems[:3]))
    run.add(sheet_out("allocations", alloc, run.lang, note=run.note()))
    run.add(sheet_out("balances", bal, run.lang, note=run.note()))
    run.summary.update(allocations=len(alloc), receivable=_yuan(int(bal["balance"].sum())),
                       unapplied=_yuan(int(bal["unapplied"].sum())))

