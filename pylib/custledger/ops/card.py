"""Card 客户卡: the one-page card of the customer named by option ``customer_id`` (from the command
line, or the customer selected in Excel, passed by the xlwings adapter)."""

from __future__ import annotations

from ..core.card import card, known
from ..core.errors import LedgerError
from ..render.card import card_sheet
from .needs import need
from .pipeline import Run, step


@step("card")
def card_step(run: Run) -> None:
    cid = str(run.options.get("customer_id") or "").strip()
    if not cid:
        raise LedgerError("card_customer_missing")
    if not known(run.ledger, cid):
        raise LedgerError("card_customer_unknown", customer_id=cid)
    c = card(run.ledger, cid, run.as_of, need(run, "balances"), need(run, "aging"), need(run, "tiers"),
             need(run, "open_items"), need(run, "unapplied"), buckets=run.settings.aging_buckets)
    run.frames["card"] = c
    run.add(card_sheet(c, run.lang, note=run.note()))
    run.summary["card"] = cid
