"""Dunning letters (催款函) as xlsx files, one per customer at dunning level ≥ 1.

The tone follows the customer's highest dunning level among its overdue items (as in OCA
credit control's "apply max policy level", docs/ar-anchors.md O5): level 1 a friendly
reminder (付款提醒函), 2 firm (催款通知函), 3 and above final (最后催款函). Wording per level and
language is in schema/documents.json ("letter"); the layout is the user-editable
templates/dunning_letter[_en].xlsx (names listed in render/build_templates.py). The letter
lists every overdue item of the customer (oldest due date first) and the total outstanding;
the contact's phone is masked when Settings mask_exports.

File names: ``催款函_<customer_id>_<name>_<YYYY-MM-DD>.xlsx`` (``Payment reminder_…``), safe and
unique (custledger/filenames.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.mask import maybe_mask
from ..core.money import format_cents
from ..filenames import unique_names
from ..schema import documents, msg
from .build_templates import shipped
from .statement import DocumentJob, customers_info, pydates, render_all
from .template_fill import Money

REGIONS = ("items",)


@dataclass(frozen=True)
class LetterJob(DocumentJob):
    """What every dunning letter of a run shares."""

    mask: bool
    names: bool = False


def letter_headers() -> dict:
    doc = documents()["letter"]
    return {"items": {c["key"]: [c["zh"], c["en"]] for c in doc["columns"]}}


def tone_level(level: int) -> str:
    """The documents.json level key for a dunning level (≥ 1): '1', '2', or '3' for 3 and up."""
    levels = sorted(int(k) for k in documents()["letter"]["levels"])
    return str(min(max(int(level), levels[0]), levels[-1]))


def letter_content(rec: dict, job: LetterJob) -> tuple[dict, dict, dict]:
    """(values, tables, defaults) of one letter for template_fill.fill."""
    lang = job.lang
    doc = documents()["letter"]
    words = doc["levels"][tone_level(rec["level"])]
    total = format_cents(rec["total"])
    total_text = f"¥{total}" if lang == "zh" and job.currency == "CNY" else f"{job.currency} {total}"
    contact = rec["contact"] or rec["name"] or rec["customer_id"]
    fields = {"customer": rec["name"] or rec["customer_id"], "contact": contact, "count": len(rec["items"]),
              "total": total_text, "as_of": job.issued, "company": job.company}
    caption = (msg("caption_contact", lang), msg("caption_phone", lang))
    values = {
        "company_name": job.company, "title": words["title"][lang], "letter_date": job.issued,
        "salutation": words["salutation"][lang].format(**fields),
        "customer_contact": caption[0] + rec["contact"] if rec["contact"] else "",
        "customer_phone": caption[1] + rec["phone"] if rec["phone"] else "",
        "body": words["body"][lang].format(**fields), "total": Money(rec["total"] / 100),
        "payment_instructions": job.payment_instructions, "closing": words["closing"][lang],
        "signature": job.company,
    }
    items = [{"doc_no": d, "date": a, "due_date": b, "amount": Money(m / 100), "outstanding": Money(o / 100),
              "days_overdue": int(n)} for d, a, b, m, o, n in rec["items"]]
    return values, {"items": items}, {}


def letter_records(overdue: pd.DataFrame, customers: pd.DataFrame, mask: bool) -> list[dict]:
    """One record per customer with an overdue item at dunning level ≥ 1, by customer_id."""
    od = overdue[overdue["dunning_level"].to_numpy() >= 1]
    if od.empty:
        return []
    od = od.assign(_due=pd.to_datetime(od["due_date"])).sort_values(["customer_id", "_due", "doc_no"], kind="stable")
    ids = od["customer_id"].astype(str).to_numpy(object)
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    cust = [ids[a] for a in starts]
    info = customers_info(customers, cust, ("name", "contact", "phone"))
    cols = [od["doc_no"].astype(str).tolist(), pydates(od["date"]), pydates(od["due_date"]),
            od["amount"].astype("int64").tolist(), od["outstanding"].astype("int64").tolist(),
            od["days_overdue"].astype("int64").tolist()]
    level = od["dunning_level"].astype("int64").to_numpy()
    out = []
    for k, (a, b) in enumerate(zip(starts.tolist(), ends.tolist())):
        out.append({
            "customer_id": cust[k], "name": info["name"][k] or str(od["name"].iloc[a] or ""),
            "contact": info["contact"][k], "phone": maybe_mask(info["phone"][k], "phone", mask),
            "level": int(level[a:b].max()), "total": int(sum(cols[4][a:b])),
            "items": list(zip(*(c[a:b] for c in cols))),
        })
    return out


def render_letters(overdue: pd.DataFrame, customers: pd.DataFrame, settings, out_dir: Path, *,
                   lang: str | None = None, template: Path | None = None, issued: dt.date | None = None,
                   processes: int = 2, names: bool = False) -> dict:
    """Write one letter per customer at dunning level ≥ 1 into ``out_dir``: {customer_id: path}."""
    lang = lang or settings.language
    issued = issued or settings.as_of_date()
    recs = letter_records(overdue, customers, bool(settings.mask_exports))
    if not recs:
        return {}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    template = Path(template) if template else shipped("letter", lang)
    job = LetterJob(template=str(template), lang=lang, company=settings.company_name, currency=settings.currency,
                    payment_instructions=settings.payment_instructions, issued=issued,
                    mask=bool(settings.mask_exports), names=names)
    prefix = documents()["letter"]["file_prefix"][lang]
    files = unique_names([f"{prefix}_{r['customer_id']}_{r['name']}_{issued:%Y-%m-%d}" for r in recs], ".xlsx")
    paths = [out_dir / n for n in files]
    render_all(job, [(str(p), r) for p, r in zip(paths, recs)], processes, content=letter_content,
               regions=REGIONS, headers=letter_headers)
    return {r["customer_id"]: p for r, p in zip(recs, paths)}
