"""Reminders 提醒事项: what the team should do about which customer, and when.

``reminders(ledger, open_items, as_of, settings)`` lists eight kinds of reminder, one row each
(columns REMINDER_COLUMNS). N below is the Settings value named; "days" is a whole number of
days; nothing dated after as_of is seen (invoices come from ``open_items`` of the same as_of,
interactions dated after as_of are dropped).

=============== ============================================================ ============= =========================
kind            selected when                                                date          days
=============== ============================================================ ============= =========================
due_soon        an open invoice (open > 0) with 0 ≤ due_date − as_of ≤       due_date      due_date − as_of (0..N)
即将到期        remind_due_days (due today counts: it is not overdue yet)
newly_overdue   an open invoice with 1 ≤ as_of − due_date ≤ remind_due_days,  due_date      as_of − due_date (1..N)
新逾期          i.e. it fell overdue within the last N days (day 1 = the day
                after the due date; older overdue invoices are the Overdue
                sheet's business, not a reminder)
contract_end    an active customer with 0 ≤ contract_end − as_of ≤           contract_end  contract_end − as_of
合同到期        remind_contract_days
birthday        an active customer whose next birthday anniversary A (on or   A             A − as_of (0..N)
生日关怀        after as_of; 29 Feb falls on 28 Feb in common years) has
                A − as_of ≤ remind_birthday_days
follow_up       the customer's latest interaction (by date, then sheet row)   next_date     next_date − as_of
跟进到期        has a next_date ≤ as_of + remind_due_days; a later interaction               (negative = late)
                without a next_date means the follow-up was done. A missed
                follow-up stays listed until one is logged
no_contact      an active customer whose last interaction (else its created   as_of         as_of − last contact
长期未联系      date) is more than remind_no_contact_days before as_of; one                  (blank: never, no date)
                with neither is listed too (never contacted, days blank)
stale_profile   an active customer whose profile (updated, else created) is   as_of         as_of − updated
档案过期        more than stale_profile_days old (the rule of validation)
open_complaint  an interaction of kind complaint whose status is not closed   as_of         as_of − complaint date
未结投诉
open_dispute    a Confirmations row ``disputed`` not yet followed by a        its date      as_of − its date
对账异议        confirmation (core/confirmations.open_disputes); amount =     (as_of when
                the balance the customer states                               blank)
=============== ============================================================ ============= =========================

The three *state* reminders (no_contact, stale_profile, open_complaint) are dated as_of: they
are due now. Payment reminders always look at due_date, whatever aging_basis says (a payment
falls due on its due date). Active = status not ``inactive`` (停用): an inactive customer gets
no relationship reminders, but money it owes and complaints it raised are still listed.

owner = the interaction's owner for follow_up / open_complaint when given, else the
customer's; amount = the open amount (int64 cents) for the two payment kinds, else blank.
subject and action are texts in the workbook's language (schema/messages.json
``remind_subject_*`` / ``remind_action_*``). Rows are sorted by date, then kind (in the order
of KINDS), then customer_id, then subject (text by code point).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import msg, sheet
from .allocate import as_of_ts, upto
from .frames import column_ids as _ids
from .frames import column_text as _text
from .model import Ledger, Settings

REMINDER_COLUMNS = ["date", "kind", "customer_id", "name", "owner", "subject", "amount", "action", "days"]
KINDS = ("due_soon", "newly_overdue", "contract_end", "birthday", "follow_up", "no_contact",
         "stale_profile", "open_complaint", "open_dispute")
_DAY = pd.Timedelta(days=1)


def next_anniversary(dates: pd.Series, as_of) -> pd.Series:
    """The first anniversary of each date on or after as_of (NaT stays NaT).

    29 February falls on 28 February in common years (legal practice in China and most
    places: the birthday is reached at the end of February).
    """
    as_of = as_of_ts(as_of)
    d = pd.to_datetime(pd.Series(dates)).astype("datetime64[ns]")
    out = pd.Series(pd.NaT, index=d.index, dtype="datetime64[ns]")
    ok = d.notna().to_numpy()
    if not ok.any():
        return out
    month = d[ok].dt.month.to_numpy().astype("int64")
    day = d[ok].dt.day.to_numpy().astype("int64")

    def on(year: np.ndarray) -> np.ndarray:
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        dd = np.where((month == 2) & (day == 29) & ~leap, 28, day)
        # the day as numpy date arithmetic: its month, then its day in it (a valid day: 29
        # February moved above), not pd.to_datetime of a year/month/day frame (~3 ms)
        months = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
        return (months.astype("datetime64[D]") + (dd - 1).astype("timedelta64[D]")).astype("datetime64[ns]")

    year = np.full(len(month), as_of.year)
    this = on(year)
    later = on(year + 1)
    out[ok] = np.where(this < as_of, later, this)
    return out


def _days(dates, ref) -> np.ndarray:
    """Whole days dates − ref as floats (NaN where a date is blank, so comparisons are False)."""
    d = pd.to_datetime(pd.Series(np.asarray(dates, dtype="datetime64[ns]")))
    return ((d - pd.Timestamp(ref)) / _DAY).to_numpy(dtype="float64", na_value=np.nan)


def _dates(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    return pd.to_datetime(frame[column]).astype("datetime64[ns]")


def _fmt(d) -> str:
    return "" if pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m-%d")


_PART_COLUMNS = ("date", "kind", "customer_id", "subject", "amount", "days", "owner_hint")


def _part(kind: str, date, customer_id, subject, days, amount=None, owner=None) -> dict:
    """One kind's reminders as plain columns (made into one frame by _frame, all kinds at once)."""
    n = len(customer_id)
    dates = pd.Series(np.asarray(date), dtype="datetime64[ns]").to_numpy() if n else np.zeros(0, "datetime64[ns]")
    return {
        "date": dates,
        "kind": [kind] * n,
        "customer_id": list(np.asarray(customer_id, dtype=object)),
        "subject": list(subject),
        "amount": list(np.asarray(amount, dtype="int64").tolist()) if amount is not None else [None] * n,
        "days": [None if d is None or pd.isna(d) else int(d) for d in days],
        "owner_hint": list(owner) if owner is not None else [""] * n,
    }


def _frame(parts: list[dict]) -> pd.DataFrame:
    """The parts as one frame: date datetime64[ns], amount and days Int64, the rest object."""
    col = {k: [v for p in parts for v in p[k]] for k in _PART_COLUMNS if k != "date"}
    dates = np.concatenate([p["date"] for p in parts]) if parts else np.zeros(0, "datetime64[ns]")
    return pd.DataFrame({
        "date": pd.Series(dates.astype("datetime64[ns]"), dtype="datetime64[ns]"),
        "kind": pd.Series(col["kind"], dtype=object),
        "customer_id": pd.Series(col["customer_id"], dtype=object),
        "subject": pd.Series(col["subject"], dtype=object),
        "amount": pd.array([pd.NA if a is None else a for a in col["amount"]], dtype="Int64"),
        "days": pd.array([pd.NA if d is None else d for d in col["days"]], dtype="Int64"),
        "owner_hint": pd.Series(col["owner_hint"], dtype=object),
    })


def _payments(open_items: pd.DataFrame, as_of: pd.Timestamp, n_days: int, lang: str) -> list[dict]:
    items = upto(open_items, as_of)
    items = items[items["open"].to_numpy() > 0] if len(items) else items
    due = _dates(items, "due_date")
    due = due.fillna(_dates(items, "date"))
    ahead = _days(due, as_of) if len(items) else np.zeros(0, dtype="int64")
    tpl = msg("remind_subject_invoice", lang, doc_no="{0}", due="{1}")
    parts = []
    for kind, mask, days in (("due_soon", (ahead >= 0) & (ahead <= n_days), ahead),
                             ("newly_overdue", (ahead <= -1) & (ahead >= -n_days), -ahead)):
        sel = items[mask]
        subj = [tpl.format(doc, _fmt(d)) for doc, d in zip(_ids(sel, "doc_no"), due[mask])]
        parts.append(_part(kind, due[mask], _ids(sel, "customer_id"), subj, days[mask],
                           amount=sel["open"].to_numpy(dtype="int64")))
    return parts


def _customer_dates(customers: pd.DataFrame, as_of: pd.Timestamp, s: Settings, lang: str,
                    last_contact: pd.Series) -> list[dict]:
    active = (_text(customers, "status") != "inactive").to_numpy()
    cust = customers[active]
    ids = _ids(cust, "customer_id")
    parts = []

    end = _dates(cust, "contract_end")
    ahead = _days(end, as_of)
    m = end.notna().to_numpy() & (ahead >= 0) & (ahead <= s.remind_contract_days)
    tpl = msg("remind_subject_contract", lang, date="{0}")
    parts.append(_part("contract_end", end[m], ids[m], [tpl.format(_fmt(d)) for d in end[m]], ahead[m]))

    nxt = next_anniversary(_dates(cust, "birthday"), as_of)
    ahead = _days(nxt, as_of)
    m = nxt.notna().to_numpy() & (ahead >= 0) & (ahead <= s.remind_birthday_days)
    who = _text(cust, "contact").str.strip()
    who = who.where(who != "", _text(cust, "name").str.strip())
    tpl = msg("remind_subject_birthday", lang, who="{0}", date="{1}")
    subj = [tpl.format(w, pd.Timestamp(d).strftime("%m-%d")) for w, d in zip(who[m], nxt[m])]
    parts.append(_part("birthday", nxt[m], ids[m], subj, ahead[m]))

    created = _dates(cust, "created")
    created = created.where(created <= as_of)
    base = last_contact.reindex(ids.to_numpy(object)).set_axis(cust.index)
    from_log = base.notna()
    base = base.fillna(created)
    since = _days(base, as_of)
    since = -since
    m = (base.isna() | (since > s.remind_no_contact_days)).to_numpy()
    seen = msg("remind_subject_no_contact", lang, date="{0}")
    new = msg("remind_subject_no_contact_created", lang, date="{0}")
    never = msg("remind_subject_never_contacted", lang)
    subj = [seen.format(_fmt(b)) if f else (new.format(_fmt(b)) if not pd.isna(b) else never)
            for b, f in zip(base[m], from_log[m])]
    days = [None if pd.isna(b) else d for b, d in zip(base[m], since[m])]
    parts.append(_part("no_contact", [as_of] * int(m.sum()), ids[m], subj, days))

    stamp = _dates(cust, "updated").fillna(created)
    age = -_days(stamp, as_of)
    m = stamp.notna().to_numpy() & (age > s.stale_profile_days)
    tpl = msg("remind_subject_stale", lang, date="{0}")
    subj = [tpl.format(_fmt(d)) for d in stamp[m]]
    parts.append(_part("stale_profile", [as_of] * int(m.sum()), ids[m], subj, age[m]))
    return parts


def _interactions(inter: pd.DataFrame, as_of: pd.Timestamp, s: Settings, lang: str) -> list[dict]:
    kinds = sheet("interactions").field("kind")
    kind = _text(inter, "kind")
    summary = _text(inter, "summary").str.strip()
    owner = _text(inter, "owner").str.strip()
    dates = _dates(inter, "date")
    parts = []

    rows = inter["_row"] if "_row" in inter.columns else pd.Series(np.arange(len(inter)), index=inter.index)
    order = pd.DataFrame({"c": _ids(inter, "customer_id"), "d": dates, "r": rows}).sort_values(
        ["c", "d", "r"], kind="stable")
    latest = order.drop_duplicates("c", keep="last").index
    nd = _dates(inter, "next_date")[latest]
    ahead = _days(nd, as_of)
    m = nd.notna().to_numpy() & (ahead <= s.remind_due_days)
    sel = latest[m]
    tpl = msg("remind_subject_follow_up", lang, date="{0}", kind="{1}", summary="{2}")
    subj = [tpl.format(_fmt(d), kinds.enum_label(k, lang) if k else "", t).rstrip(" :：")
            for d, k, t in zip(dates[sel], kind[sel], summary[sel])]
    parts.append(_part("follow_up", nd[m], _ids(inter.loc[sel], "customer_id"), subj, ahead[m], owner=owner[sel]))

    m = ((kind == "complaint") & (_text(inter, "status") != "closed")).to_numpy()
    tpl = msg("remind_subject_complaint", lang, date="{0}", summary="{1}")
    subj = [tpl.format(_fmt(d), t).rstrip(" :：") for d, t in zip(dates[m], summary[m])]
    parts.append(_part("open_complaint", [as_of] * int(m.sum()), _ids(inter[m], "customer_id"), subj,
                       -_days(dates[m], as_of), owner=owner[m]))
    return parts


def _disputes(conf, as_of: pd.Timestamp, lang: str) -> list[dict]:
    from .confirmations import open_disputes

    d = open_disputes(conf, as_of)
    if d.empty:
        return []
    dates = pd.to_datetime(d["date"]).fillna(as_of)
    stated = pd.to_numeric(d["amount"], errors="coerce")
    tpl = msg("remind_subject_dispute", lang, period="{0}", stated="{1}", note="{2}")
    subj = [tpl.format(p, "" if pd.isna(a) else f"{int(a) / 100:,.2f}", str(n or "").strip()).rstrip(" :：")
            for p, a, n in zip(d["period"], stated, _text(d, "note"))]
    part = _part("open_dispute", dates, _ids(d, "customer_id"), subj, -_days(dates, as_of))
    part["amount"] = [None if pd.isna(a) else int(a) for a in stated]
    return [part]


def last_contacts(interactions: pd.DataFrame, as_of) -> pd.Series:
    """customer_id → date of its last interaction dated on or before as_of."""
    inter = upto(interactions, as_of)
    if inter.empty:
        return pd.Series(dtype="datetime64[ns]")
    return _dates(inter, "date").groupby(_ids(inter, "customer_id").to_numpy(object)).max()


def reminders(ledger: Ledger, open_items: pd.DataFrame, as_of=None, settings: Settings | None = None) -> pd.DataFrame:
    """The Reminders frame (REMINDER_COLUMNS) as of ``as_of`` (see the module docstring)."""
    s = settings or ledger.settings
    as_of = as_of_ts(as_of) if as_of is not None else s.as_of_ts()
    lang = s.language
    inter = upto(ledger.interactions, as_of)
    inter = inter[_dates(inter, "date").notna().to_numpy()] if len(inter) else inter
    parts = [
        *_payments(open_items, as_of, s.remind_due_days, lang),
        *_customer_dates(ledger.customers, as_of, s, lang, last_contacts(inter, as_of)),
        *_interactions(inter, as_of, s, lang),
        *_disputes(getattr(ledger, "confirmations", None), as_of, lang),
    ]
    out = _frame(parts)
    cust = ledger.customers.assign(customer_id=_ids(ledger.customers, "customer_id").to_numpy(object))
    cust = cust.drop_duplicates("customer_id").set_index("customer_id")
    ids = out["customer_id"].to_numpy(object)
    name = _text(cust, "name").reindex(ids).fillna("")
    owner = _text(cust, "owner").str.strip().reindex(ids).fillna("")
    hint = out["owner_hint"].fillna("").astype(str).to_numpy(object)
    out["name"] = pd.Series(name.to_numpy(object), dtype=object)
    out["owner"] = pd.Series(np.where(hint != "", hint, owner.to_numpy(object)), dtype=object)
    actions = {k: msg(f"remind_action_{k}", lang) for k in KINDS}
    out["action"] = out["kind"].map(actions).astype(object)
    rank = out["kind"].map({k: i for i, k in enumerate(KINDS)}).to_numpy(dtype="int64")
    order = np.lexsort((np.arange(len(out)),
                        out["subject"].astype("str").rank(method="dense").to_numpy() if len(out) else [],
                        out["customer_id"].astype("str").rank(method="dense").to_numpy() if len(out) else [],
                        rank, out["date"].to_numpy("datetime64[ns]").view("int64")))
    out = out.iloc[order].reset_index(drop=True)
    out["date"] = out["date"].astype("datetime64[ns]")
    return out[REMINDER_COLUMNS]
