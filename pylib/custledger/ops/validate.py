"""Validate 校验: the Problems sheet, with a link to each cell at fault (marks are written by run)."""

from __future__ import annotations

from ..render.sheets import sheet_out
from .pipeline import Run, step


@step("validate")
def validate_step(run: Run) -> None:
    p = run.validation.problems
    links = [f"internal:'{s}'!{c}" if c else None for s, c in zip(p["sheet"], p["cell"])]
    run.add(sheet_out("problems", p.assign(link=p["cell"]), run.lang, links={"link": links}, note=run.note()))
    run.summary.update(language=run.lang, errors=run.validation.errors, warnings=run.validation.warnings,
                       customers=len(run.ledger.customers), invoices=len(run.ledger.invoices),
                       receipts=len(run.ledger.receipts))
