"""Aging 账龄: the Aging and Overdue sheets (no letter files: those are the letters step's).

Overdue lists every open invoice past due, most urgent first, with its customer's contact and
the over-limit flag (balance above credit_limit). Its letter column is empty here; when the
letters step (ops/letters.py) runs in the same run, the Overdue sheet is left to it (built once,
each row linked to its customer's letter).
"""

from __future__ import annotations

from pathlib import Path

from ..core.aging import bucket_labels
from ..core.money import format_cents as _yuan
from ..render.sheets import sheet_out
from .needs import need
from .pipeline import Run, step


@step("aging")
def aging_step(run: Run) -> None:
    s = run.settings
    labels = bucket_labels(s.aging_buckets)
    ag = need(run, "aging")
    od = overdue_with_limits(run)
    run.add(sheet_out("aging", ag, run.lang, buckets=labels, note=run.note()))
    if not run.will_run("letters"):  # else the letters step writes Overdue, linked to its letters
        add_overdue_sheet(run, od, {})
    run.summary.update(overdue=_yuan(int(ag["overdue"].sum())), overdue_invoices=len(od))


def overdue_with_limits(run: Run):
    """The Overdue frame with each row's over-limit flag (its customer's balance above credit_limit)."""
    if "overdue_sheet" in run.frames:
        return run.frames["overdue_sheet"]
    od = need(run, "overdue")
    bal = need(run, "balances")
    over = dict(zip(bal["customer_id"], bal["over_limit"])) if "over_limit" in bal else {}
    od = od.assign(over_limit=od["customer_id"].map(over).fillna(False).astype(bool))
    run.frames["overdue_sheet"] = od
    return od


def add_overdue_sheet(run: Run, od, letters: dict) -> None:
    """The Overdue sheet; ``letters`` {customer_id: letter file, or (link, name) where the letters
    are not files} fills the letter column: the letter's name, linked to it."""
    links, names = [None] * len(od), ""
    if letters:
        from .statements import ledger_path

        base = ledger_path(run)
        cells = {c: v if isinstance(v, tuple) else (_relative(v, base), v.stem) for c, v in letters.items()}
        found = od["customer_id"].map(lambda c: cells.get(c))
        names = found.map(lambda t: t[1] if t else "")   # the letter's name: the same whichever way in
        links = found.map(lambda t: t[0] if t else None).tolist()
    run.add(sheet_out("overdue", od.assign(letter=names), run.lang, buckets=bucket_labels(run.settings.aging_buckets),
                      links={"letter": links}, note=run.note()))


def _relative(path: Path, base: Path) -> str:
    """External link from the ledger to a letter, relative so the folder can be moved."""
    import os

    try:
        return "external:" + os.path.relpath(path, base.parent).replace(os.sep, "/")
    except ValueError:
        return "external:" + str(path)
