"""Dunning letters 催款函 for the aging step: ``write_letters(run, overdue_df)``.

The aging step calls it with its Overdue frame (core/aging.overdue); every customer with an
item at dunning level ≥ 1 gets one letter (render/letter.py: tone by its highest level), written
to option ``letters_dir``, default ``<ledger stem>_letters/YYYY-MM-DD/`` (as_of) beside the
ledger; with option ``pdf`` the letters are converted too (one LibreOffice batch). The files
are added to ``run.files``; the returned {customer_id: path} is what the Overdue sheet links
to. Option ``letters=False`` turns letters off.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..core.errors import LedgerError
from ..render.letter import render_letters
from ..schema import msg
from . import staging
from .pipeline import Run
from .statements import find_template, ledger_path


def write_letters(run: Run, overdue_df: pd.DataFrame) -> dict:
    """Write the dunning letters of ``overdue_df``; {customer_id: Path of its xlsx letter}."""
    if run.options.get("letters") is False or overdue_df is None or overdue_df.empty:
        return {}
    ledger = ledger_path(run)
    folder = Path(run.options.get("letters_dir")
                  or ledger.parent / f"{ledger.stem}_letters" / f"{run.as_of:%Y-%m-%d}")
    # staged like the statements: in place only once the ledger save commits (ops/staging.py)
    temp = staging.stage(run, folder)
    staged = render_letters(overdue_df, run.ledger.customers, run.settings, temp,
                            template=find_template(run, "letter"), issued=run.as_of.date(),
                            processes=int(run.options.get("processes") or 2))
    paths = dict(zip(staged, staging.final(staged.values(), temp, folder)))
    run.files.extend(paths.values())
    if run.options.get("pdf") and paths:
        from ..io.pdf import convert

        try:
            run.files.extend(staging.final(convert(list(staged.values()), temp, "pdf",
                                                   processes=int(run.options.get("processes") or 2)), temp, folder))
        except LedgerError as exc:
            run.notes.append(exc.message(run.lang))
    run.summary["letters"] = len(paths)
    if paths:
        run.notes.append(msg("letters_written", run.lang, count=len(paths), dir=str(folder)))
    return paths
