"""Aging 账龄: the Aging and Overdue sheets, dunning letters for level >= 1.

Overdue lists every open invoice past due, most urgent first, with its customer's contact and
the over-limit flag (balance above credit_limit); each row links to its customer's letter.
"""

from __future__ import annotations

from pathlib import Path

from ..core.aging import bucket_labels
from ..render.sheets import sheet_out
from .letters import write_letters
from .statements import ledger_path
from .needs import need
from .pipeline import Run, step
from ..core.money import format_cents as _yuan


@step("aging")
def aging_step(run: Run) -> None:
    s = run.settings
    labels = bucket_labels(s.aging_buckets)
    ag = need(run, "aging")
    od = need(run, "overdue")
    bal = need(run, "balances")
    over = dict(zip(bal["customer_id"], bal["over_limit"])) if "over_limit" in bal else {}
    od = od.assign(over_limit=od["customer_id"].map(over).fillna(False).astype(bool))
    letters = write_letters(run, od)   # {customer: file} or, without a folder, {customer: (link, name)}
    base = ledger_path(run)
    cells = {c: v if isinstance(v, tuple) else (_relative(v, base), v.stem) for c, v in letters.items()}
    found = od["customer_id"].map(lambda c: cells.get(c))
    names = found.map(lambda t: t[1] if t else "")   # the letter's name: the same whichever way in
    links = found.map(lambda t: t[0] if t else None).tolist()
    run.add(sheet_out("aging", ag, run.lang, buckets=labels, note=run.note()))
    run.add(sheet_out("overdue", od.assign(letter=names), run.lang, buckets=labels, links={"letter": links},
                      note=run.note()))
    run.summary.update(overdue=_yuan(int(ag["overdue"].sum())), overdue_invoices=len(od), letters=len(letters))


def _relative(path: Path, base: Path) -> str:
    """External link from the ledger to a letter, relative so the folder can be moved."""
    import os

    try:
        return "external:" + os.path.relpath(path, base.parent).replace(os.sep, "/")
    except ValueError:
        return "external:" + str(path)
