"""Tiers 客户分级: ABC, RFM scores and segments, classes, credit grade and suggested limit,
core customers and lifecycle (rules in core/tiers.py and core/credit.py)."""

from __future__ import annotations

from ..render.sheets import sheet_out
from .needs import need
from .pipeline import Run, step


@step("tiers")
def tiers_step(run: Run) -> None:
    t = need(run, "tiers")
    run.add(sheet_out("tiers", t, run.lang, note=run.note()))
    counts = t["abc"].value_counts()
    run.summary.update(tiers=" / ".join(f"{k} {int(counts.get(k, 0))}" for k in ("A", "B", "C")),
                       core_customers=int(t["core"].fillna(False).astype(bool).sum()))
