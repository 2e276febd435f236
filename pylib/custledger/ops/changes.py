"""Changes 变更记录: every run that writes logs what changed in Customers since the last run.

The previous run's values live in the very hidden sheet ``_snapshot`` (one row per customer:
customer_id and a JSON of its fields as text); this step compares Customers with it
(core/changes.py), appends the new rows below the Changes rows read back from the workbook,
and rewrites ``_snapshot`` with the current values. The first run only takes the snapshot.
When the snapshot read back is exactly the one this run would write, no customer changed and
neither sheet is rewritten (the workbook already holds both as they should be).

``when`` is the run's time (the run notices the change; the edit happened since the previous
run). ``who`` is the workbook's last author as its document properties tell
(docProps/core.xml ``lastModifiedBy``, else ``creator``: the person who last saved it in
Excel — custledger's own saves leave those properties alone), else the OS user.

Nothing is lost: the step runs only with a book adapter that says it reads both sheets back
(``reads_change_log``: io/filebook.FileBook does; the xlwings adapter does not yet), and even
then, when the book in hand did not read a Changes or ``_snapshot`` sheet the workbook has,
neither is rewritten. Neither sheet
is ever part of an export (ops/export.py copies input sheets only).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zipfile
from pathlib import Path

import pandas as pd

from ..core.changes import ADDED, CHANGE_COLUMNS, REMOVED, compare, customer_text, decode_snapshot, encode_snapshot
from ..core.load import generated_frame
from ..render.sheets import sheet_out
from ..schema import msg, norm_header, output_enum_label, output_sheet_name, sheet
from .pipeline import Run, step


def workbook_author(path) -> str:
    """lastModifiedBy (else creator) from the package's docProps/core.xml; "" if unknown."""
    if not path:
        return ""
    try:
        from defusedxml import ElementTree as ET

        with zipfile.ZipFile(Path(path)) as zf:
            info = zf.getinfo("docProps/core.xml")
            if info.file_size > 1 << 20:
                return ""
            root = ET.fromstring(zf.read(info))
    except Exception:  # no properties part, damaged, or refused by defusedxml: unknown
        return ""
    found = {}
    for el in root:
        found[el.tag.rsplit("}", 1)[-1]] = (el.text or "").strip()
    return found.get("lastModifiedBy") or found.get("creator") or ""


def who_ran(run: Run) -> str:
    author = workbook_author(getattr(run.book, "path", None))
    if author:
        return author
    import getpass  # only a run that records a change asks (getpass brings termios)

    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment (some services)
        return ""


def sheet_present(raw, key: str) -> tuple[bool, bool]:
    """(the workbook has the generated sheet, the book read it)."""
    names = {norm_header(output_sheet_name(key, lang)) for lang in ("zh", "en")}
    has = any(norm_header(n) in names for n in getattr(raw, "sheet_names", ()))
    read = any(norm_header(n) in names for n in getattr(raw, "sheets", {}))
    return has, read


@step("changes")
def changes_step(run: Run) -> None:
    assert run.book is not None  # ops.run always sets the book
    if not run.book.reads_change_log:
        return  # an adapter that does not read Changes/_snapshot back would lose the log
    loaded = run.validation.loaded
    raw = loaded.raw
    changes_sheet = sheet_present(raw, "changes")   # (the workbook has it, the book read it)
    if any(has and not read for has, read in (changes_sheet, sheet_present(raw, "snapshot"))):
        return  # this book did not hand us the log: never rewrite what we could not read
    spec = sheet("customers")
    kinds = {f.key: f.kind for f in spec.fields}
    current = customer_text(loaded.sheets["customers"].frame, kinds)
    fields = [k for k in kinds if k != "customer_id"]
    snapshot = encode_snapshot(current)

    prev_snap = generated_frame(raw, "snapshot")
    if prev_snap is not None and changes_sheet[1] and same_snapshot(prev_snap, snapshot):
        # no customer changed since the last run (the usual day: invoices and receipts typed):
        # the log and the snapshot in the workbook are already what this run would write
        run.summary["changes"] = 0
        return
    new = pd.DataFrame({c: pd.Series(dtype=object) for c in CHANGE_COLUMNS})
    if prev_snap is not None:
        previous = decode_snapshot(prev_snap, fields)
        new = compare(previous, current, dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"), who_ran(run))
        labels = {f.key: f.label(run.lang) for f in spec.fields}
        labels.update({ADDED: output_enum_label("change", "added", run.lang),
                       REMOVED: output_enum_label("change", "removed", run.lang)})
        new["field"] = new["field"].map(lambda k: labels.get(k, k))

    before = generated_frame(raw, "changes")
    if before is not None:
        before = before.reindex(columns=CHANGE_COLUMNS).astype(object).where(before.notna(), "")
        log = pd.concat([before, new], ignore_index=True) if len(new) else before
    else:
        log = new
    run.add(sheet_out("changes", log, run.lang, note=run.note()))
    # very hidden; a tabular sheet like the others, so that its rows are written column-wise
    run.add(dataclasses.replace(sheet_out("snapshot", snapshot, run.lang, table=""), hidden=True))
    run.summary["changes"] = len(new)
    if len(new):
        run.notes.append(msg("changes_recorded", run.lang, count=len(new)))


def same_snapshot(previous: pd.DataFrame, snapshot: pd.DataFrame) -> bool:
    """The snapshot read back holds exactly the rows ``snapshot`` would write (same customers in
    the same order, the same JSON text): then nothing changed and neither sheet is rewritten.
    Any difference, even one that compares as no change (an order, an older encoding), is
    written out as before."""
    if len(previous) != len(snapshot) or not {"customer_id", "fields"} <= set(previous.columns):
        return False
    return (previous["customer_id"].tolist() == snapshot["customer_id"].tolist()
            and previous["fields"].tolist() == snapshot["fields"].tolist())
