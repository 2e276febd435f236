"""Dashboard 看板: KPIs, data blocks and native Excel charts on one sheet (option ``month``)."""

from __future__ import annotations

from ..core.aging import bucket_labels
from ..core.dashboard import dashboard
from ..core.money import format_cents as _yuan
from ..render.dashboard import dashboard_sheet
from .needs import need
from .pipeline import Run, step


@step("dashboard")
def dashboard_step(run: Run) -> None:
    d = dashboard(run.ledger, need(run, "balances"), need(run, "aging"), need(run, "tiers"), run.as_of,
                  run.options.get("month"), run.settings.aging_buckets)
    run.frames["dashboard"] = d
    run.add(dashboard_sheet(d, run.lang, bucket_labels(run.settings.aging_buckets), note=run.note()))
    kpi = dict(zip(d.kpis["metric"], d.kpis["value"]))
    # the open-invoice total; "receivable" (the balance, net of unapplied credits) comes from reconcile
    run.summary.update(open_invoices=_yuan(int(kpi["total_receivable"])),
                       overdue_share="" if kpi["overdue_share"] != kpi["overdue_share"]
                       else f"{float(kpi['overdue_share']):.1%}")
