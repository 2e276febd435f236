"""Frames shared between steps, computed once per run: ``need(run, name)``.

A step that needs the allocation, balances, aging or tiers asks ``need(run, name)``: it returns
``run.frames[name]`` when an earlier step stored it (e.g. reconcile after a bank import) and
otherwise computes it from the run's clean ledger at the run's as_of with the engine functions,
stores it in ``run.frames`` and returns it. Dependencies are resolved the same way, so asking
for "tiers" first computes "allocations", "open_items" and "balances" if they are missing.

Names: credits, allocations, open_items, unapplied, balances, aging, overdue, tiers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pandas as pd

from ..core import aging as _aging
from ..core import allocate as _alloc
from ..core.balances import balances as _balances
from ..core.errors import LedgerError
from ..core.tiers import TierParams
from ..core.tiers import tiers as _tiers
from ..schema import msg


def _credits(run) -> pd.DataFrame:
    """core.allocate.credits as of the run's as_of: made once and shared read-only by the
    allocation, balances, unapplied credits and the invariant check."""
    led = run.ledger
    return _alloc.credits(led.invoices, led.receipts, run.as_of)


def _allocations(run) -> pd.DataFrame:
    led = run.ledger
    return _alloc.allocate(led.invoices, led.receipts, run.as_of, run.settings.auto_fifo,
                           run.settings.write_off_tolerance, cred=need(run, "credits"))


def _open_items(run) -> pd.DataFrame:
    return _alloc.open_items(run.ledger.invoices, need(run, "allocations"), run.as_of)


def _unapplied(run) -> pd.DataFrame:
    led = run.ledger
    return _alloc.unapplied_credits(led.invoices, led.receipts, need(run, "allocations"), run.as_of,
                                    cred=need(run, "credits"))


def _balances_frame(run) -> pd.DataFrame:
    led = run.ledger
    return _balances(led.customers, led.invoices, led.receipts, need(run, "allocations"), run.as_of,
                     cred=need(run, "credits"))


def _aging_frame(run) -> pd.DataFrame:
    s = run.settings
    return _aging.aging(need(run, "open_items"), need(run, "unapplied"), run.ledger.customers, run.as_of,
                        s.aging_buckets, s.aging_basis)


def _overdue(run) -> pd.DataFrame:
    s = run.settings
    return _aging.overdue(need(run, "open_items"), run.ledger.customers, run.as_of, s.aging_buckets,
                          s.dunning_levels, s.aging_basis)


def tier_params(run) -> TierParams:
    """The tier thresholds from Settings; each was checked on its own when read, and if together
    they still contradict each other (active_days ≥ lost_days, say) the defaults are used."""
    try:
        return TierParams.from_settings(run.settings)
    except ValueError as exc:
        # a TierParamsError carries a message code: the reason in the workbook's language
        detail = exc.message(run.lang) if isinstance(exc, LedgerError) else str(exc)
        run.notes.append(msg("tier_params_bad", run.lang, detail=detail))
        return TierParams.from_settings(dataclasses.replace(run.settings, extra={}))


def _tiers_frame(run) -> pd.DataFrame:
    led = run.ledger
    return _tiers(led.customers, led.invoices, need(run, "allocations"), need(run, "open_items"), run.as_of,
                  tier_params(run), balances=need(run, "balances"))


BUILDERS: dict[str, Callable] = {
    "credits": _credits,
    "allocations": _allocations,
    "open_items": _open_items,
    "unapplied": _unapplied,
    "balances": _balances_frame,
    "aging": _aging_frame,
    "overdue": _overdue,
    "tiers": _tiers_frame,
}


def need(run, name: str) -> pd.DataFrame:
    """The frame ``name`` of this run: the one a step stored, else computed now and stored."""
    if name not in run.frames:
        if name not in BUILDERS:
            raise KeyError(f"no builder for frame {name!r}; known: {', '.join(BUILDERS)}")
        run.frames[name] = BUILDERS[name](run)
    return run.frames[name]
