"""Reminders 提醒事项: the Reminders sheet, and with option ``ics`` (a path) an iCalendar file."""

from __future__ import annotations

from pathlib import Path

from ..core.reminders import reminders
from ..io.ics import write_ics
from ..render.sheets import sheet_out
from .needs import need
from .pipeline import Run, step


@step("reminders")
def reminders_step(run: Run) -> None:
    frame = reminders(run.ledger, need(run, "open_items"), run.as_of, run.settings)
    run.frames["reminders"] = frame
    run.add(sheet_out("reminders", frame, run.lang, note=run.note()))
    run.summary["reminders"] = len(frame)
    ics = run.options.get("ics")
    if ics:
        name = run.settings.company_name or ""
        run.files.append(write_ics(Path(ics), frame, run.lang, calendar_name=name))
