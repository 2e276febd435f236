"""Validate 校验: the Problems sheet, with a link to each cell at fault (marks are written by run).

Every problem of a run reaches this sheet: validation's, and those a later step meets (a bank
file's lines left out) added with ``add_problems``, which writes the sheet again with them."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ..core.problems import Problem, problem_rows
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


def add_problems(run: Run, problems: Iterable[Problem]) -> None:
    """Add Problem records (core/problems.py) to the run's Problems sheet, worded in the
    workbook's language, and write the sheet again with them."""
    rows = problem_rows(problems, run.lang)
    if not len(rows):
        return
    v = run.validation
    run.validation = v.__class__(ledger=v.ledger, problems=pd.concat([v.problems, rows], ignore_index=True),
                                 loaded=v.loaded)
    validate_step(run)
