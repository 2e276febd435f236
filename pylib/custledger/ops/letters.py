"""Dunning letters 催款函: the letters step (``custledger letters``, the Letters button, ``close``).

The aging step writes no letter files (DESIGN.md, command line): an accountant presses Aging
often and sends letters when they decide to. The letters step takes the Overdue frame
(core/aging.overdue, with the over-limit flags of the aging step), and ``write_letters`` gives
every customer with an item at dunning level ≥ 1 one letter (render/letter.py: tone by its highest level), written
to option ``letters_dir``, default ``<ledger stem>_letters/YYYY-MM-DD/`` (as_of) beside the
ledger; with option ``pdf`` the letters are converted too (one LibreOffice batch). The files
are added to ``run.files``; the returned {customer_id: path} is what the Overdue sheet links
to. Option ``letters=False`` turns letters off.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..core.errors import LedgerError
from ..schema import msg
from . import staging
from .pipeline import Run, step
from .statements import find_template, has_folder, ledger_path


@step("letters")
def letters_step(run: Run) -> None:
    """Write the letters and the Overdue sheet, each row linked to its customer's letter."""
    from .aging import add_overdue_sheet, overdue_with_limits

    od = overdue_with_limits(run)
    letters = write_letters(run, od)
    add_overdue_sheet(run, od, letters)
    run.summary["letters"] = len(letters)


@staging.destination("letters")
def letters_folder(run: Run) -> Path | None:
    """Where the letters go: option ``letters_dir``, else ``<ledger stem>_letters/YYYY-MM-DD/``
    (the run's as_of) beside the ledger; None when they become a sheet (no folder) or the run
    writes none (option ``letters`` False)."""
    if run.options.get("letters") is False or (not has_folder(run) and not run.options.get("letters_dir")):
        return None
    ledger = ledger_path(run)
    return Path(run.options.get("letters_dir") or ledger.parent / f"{ledger.stem}_letters" / f"{run.as_of:%Y-%m-%d}")


def write_letters(run: Run, overdue_df: pd.DataFrame) -> dict:
    """Write the dunning letters of ``overdue_df``; {customer_id: Path of its xlsx letter}."""
    if run.options.get("letters") is False or overdue_df is None or overdue_df.empty:
        return {}
    folder = letters_folder(run)
    if folder is None:
        return letters_sheet(run, overdue_df)
    from ..render.letter import render_letters

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


def letter_name(rec: dict, prefix: str, issued) -> str:
    """A letter's name (its file name without the extension): the text the Overdue sheet shows."""
    return f"{prefix}_{rec['customer_id']}_{rec['name']}_{issued:%Y-%m-%d}"


def letters_sheet(run: Run, overdue_df: pd.DataFrame) -> dict:
    """Where the workbook has no folder (xlwings Lite, a book never saved): the letters as one
    sheet, a row per letter with its full wording; {customer_id: 'internal:' link to its row}."""
    from ..io.names import unique_names
    from ..render.letter import LetterJob, letter_content, letter_records
    from ..render.sheets import sheet_out
    from ..schema import documents, output_sheet_name

    s = run.settings
    recs = letter_records(overdue_df, run.ledger.customers, bool(s.mask_exports))
    if not recs:
        return {}
    issued = run.as_of.date()
    job = LetterJob(template="", lang=run.lang, company=s.company_name, currency=s.currency,
                    payment_instructions=s.payment_instructions, issued=issued, mask=bool(s.mask_exports))
    prefix = documents()["letter"]["file_prefix"][run.lang]
    names = [n[:-5] for n in unique_names([letter_name(r, prefix, issued) for r in recs], ".xlsx")]
    rows = []
    for name, rec in zip(names, recs):
        values = letter_content(rec, job)[0]
        rows.append({"letter": name, "customer_id": rec["customer_id"], "name": rec["name"],
                     "contact": rec["contact"], "phone": rec["phone"], "level": rec["level"],
                     "title": values["title"], "total": rec["total"], "items": len(rec["items"]),
                     "body": "\n".join(str(values[k]) for k in ("salutation", "body", "closing") if values[k])})
    sheet = output_sheet_name("letters", run.lang).replace("'", "''")
    run.add(sheet_out("letters", pd.DataFrame(rows), run.lang, note=run.note()))
    run.summary["letters"] = len(rows)
    run.notes.append(msg("files_as_sheets", run.lang, what=msg("files_letters", run.lang)))
    return {r["customer_id"]: (f"internal:'{sheet}'!A{i + 2}", n) for i, (r, n) in enumerate(zip(recs, names))}
