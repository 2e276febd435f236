"""Statements (对账单) as xlsx files: core/statements.MonthStatements filled into a template.

One file per statement, named ``对账单_<customer_id>_<name>_<YYYY-MM>.xlsx`` (``Statement_…``
in English), made safe and unique by custledger/filenames.py. Contents, all from the template's names
(render/build_templates.py lists them): company header, customer block (phone masked when
Settings mask_exports), period, issue date, currency, opening / invoiced / credited /
received / closing / unapplied, the ``lines`` table (an opening-balance row, every document
of the month with its running balance, a closing-balance row), the ``aging`` table at month
end (not yet due, each bucket, total open), payment instructions from Settings and the
confirmation block (客户确认: 相符/不符, signature, date) that the template carries.

Speed: the template is read once per process (template_fill.read_layout), its xlsx parts made
once (render/template_parts.py) and each file written from them (only the sheet's cells and
strings are made per file); with ``processes=2`` and enough statements they are split into
chunks rendered by a pool of 2 worker processes (both cores), each reading the template once.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.balances import columns_of
from ..core.mask import maybe_mask
from ..core.statements import MonthStatements
from ..filenames import unique_names
from ..schema import documents
from .build_templates import shipped
from .layout_cache import cached_layout
from .template_fill import Money
from .template_parts import write_filled

REGIONS = ("lines", "aging")
CHUNK = 250           # statements per worker task
PARALLEL_FROM = 400   # below this many files, one process is faster than starting a pool


@dataclass(frozen=True)
class DocumentJob:
    """What every document of a run (statements, letters) shares: its template and the
    company's particulars."""

    template: str
    lang: str
    company: str
    currency: str
    payment_instructions: str
    issued: dt.date


@dataclass(frozen=True)
class Job(DocumentJob):
    """What every statement of a run shares (sent once per chunk to the workers)."""

    period: str
    buckets: tuple
    mask: bool
    names: bool = False   # define the template's names in each file too (slower; for reading back)


def statement_headers() -> dict:
    """Header texts (zh, en, keys) that identify the table columns when a template lacks the
    per-column names."""
    doc = documents()["statement"]
    return {"lines": {c["key"]: [c["zh"], c["en"]] for c in doc["columns"]},
            "aging": {c["key"]: [c["zh"], c["en"]] for c in doc["aging_columns"]}}


_LAYOUTS: dict = {}


def layout_for(template: str, regions=REGIONS, headers: dict | None = None):
    """The template's layout, read once per process (and again if the file changed), from the
    layout cache of earlier runs when it holds this template (render/layout_cache.py)."""
    path = Path(template)
    key = (str(path), path.stat().st_mtime_ns, tuple(regions))
    if key not in _LAYOUTS:
        _LAYOUTS[key] = cached_layout(path, regions=regions, headers=headers)
    return _LAYOUTS[key]


def file_names(summary: pd.DataFrame, lang: str, month: str) -> list[str]:
    """Safe, unique file names, one per statement row."""
    prefix = documents()["statement"]["file_prefix"][lang]
    stems = [f"{prefix}_{cid}_{name}_{month}" if name else f"{prefix}_{cid}_{month}"
             for cid, name in zip(summary["customer_id"].tolist(), summary["name"].tolist())]
    return unique_names(stems, ".xlsx")


def pydates(values) -> list:
    """datetime64 values -> datetime.datetime (None for NaT)."""
    return np.asarray(values, dtype="datetime64[ns]").astype("datetime64[us]").tolist()


def customer_info(customers: pd.DataFrame, ids: list, column: str) -> list:
    """Column ``column`` of Customers for each id in ``ids`` (the first row of a repeated id; "" when absent)."""
    return customers_info(customers, ids, (column,))[column]


def customers_info(customers: pd.DataFrame, ids: list, columns) -> dict:
    """{column: customer_info(customers, ids, column)} for each of ``columns``, the ids looked
    up once for all of them (core.balances.columns_of, as lists)."""
    got = columns_of(customers, tuple(columns), np.asarray(ids, dtype=object))
    return {c: got[c].tolist() for c in columns}


def prepare(ms: MonthStatements, customers: pd.DataFrame, mask: bool) -> list[dict]:
    """One plain record per statement: the summary row, customer details and its lines."""
    s = ms.summary
    ids = s["customer_id"].tolist()
    records = s.to_dict("records")
    info = customers_info(customers, ids, ("contact", "phone", "address"))
    lines = ms.lines
    cols = {c: lines[c].tolist() for c in ("kind", "doc_no", "debit", "credit", "balance", "memo")}
    cols["date"] = pydates(lines["date"])
    cols["due_date"] = pydates(lines["due_date"])
    lc = lines["customer_id"].to_numpy(object)
    bounds = {}
    if len(lc):
        starts = np.flatnonzero(np.r_[True, lc[1:] != lc[:-1]])
        ends = np.r_[starts[1:], len(lc)]
        bounds = {lc[a]: (int(a), int(b)) for a, b in zip(starts, ends)}
    # every line as a tuple at once; each statement takes its slice
    rows = list(zip(*(cols[c] for c in ("date", "doc_no", "kind", "due_date", "debit", "credit", "balance", "memo"))))
    for i, rec in enumerate(records):
        rec["contact"] = info["contact"][i]
        rec["phone"] = maybe_mask(info["phone"][i], "phone", mask)
        rec["address"] = info["address"][i]
        a, b = bounds.get(rec["customer_id"], (0, 0))
        rec["_lines"] = rows[a:b]
    return records


def _money(cents) -> Money:
    return Money(int(cents) / 100)


def statement_content(rec: dict, job: Job) -> tuple[dict, dict, dict]:
    """(values, tables, defaults) of one statement for template_fill.fill."""
    doc = documents()["statement"]
    lang = job.lang
    kinds = {k: v[lang] for k, v in doc["kinds"].items()}
    values = {
        "company_name": job.company, "customer_name": rec["name"], "customer_id": rec["customer_id"],
        "customer_contact": rec["contact"], "customer_phone": rec["phone"], "customer_address": rec["address"],
        "period": job.period, "statement_date": job.issued, "currency": job.currency,
        "payment_instructions": job.payment_instructions,
    }
    for key in ("opening", "invoiced", "credited", "received", "closing", "unapplied"):
        values[key] = _money(rec[key])
    lines = [{"kind": kinds["opening"], "balance": _money(rec["opening"])}]
    for date, doc_no, kind, due, debit, credit, balance, memo in rec["_lines"]:
        lines.append({"date": date, "doc_no": doc_no, "kind": kinds.get(kind, kind), "due_date": due,
                      "debit": _money(debit) if debit else None, "credit": _money(credit) if credit else None,
                      "balance": _money(balance), "memo": memo})
    lines.append({"kind": kinds["closing"], "debit": _money(rec["invoiced"]),
                  "credit": _money(rec["credited"] + rec["received"] + rec.get("written_off", 0)),
                  "balance": _money(rec["closing"])})
    rows = doc["aging_rows"]
    aging = [{"label": rows["not_due"][lang], "amount": _money(rec["not_due"])}]
    aging += [{"label": rows["bucket"][lang].format(label=b), "amount": _money(rec[b])} for b in job.buckets]
    aging.append({"label": rows["total"][lang], "amount": _money(rec["total"])})
    defaults = {"title": doc["title"][lang], "note": doc["captions"]["note"][lang],
                "confirm_block": doc["confirm_block"][lang]}
    return values, {"lines": lines, "aging": aging}, defaults


def _render_chunk(args) -> int:
    job, items, content, regions, headers = args
    layout = layout_for(job.template, regions, headers() if headers else None)
    props = {"title": Path(job.template).stem, "author": job.company or "custledger",
             "created": dt.datetime.combine(job.issued, dt.time())}
    for path, rec in items:
        values, tables, defaults = content(rec, job)
        write_filled(layout, path, values, tables, defaults, properties=props, names=job.names)
    return len(items)


def _context():
    import multiprocessing as mp  # here: a run below PARALLEL_FROM files starts no pool (~1 ms)

    if sys.platform != "win32" and "fork" in mp.get_all_start_methods():
        return mp.get_context("fork")
    return mp.get_context("spawn")


def _worker_signals() -> None:
    """Workers end on SIGTERM (the pool's terminate) and leave Ctrl+C to the parent run."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def render_all(job, items: list[tuple[str, dict]], processes: int = 2, content=statement_content,
               regions=REGIONS, headers=statement_headers) -> None:
    """Write each (path, record) with ``content(record, job)`` -> (values, tables, defaults)
    filled into ``job.template``, on ``processes`` worker processes (functions, not lambdas:
    they travel to the workers by name)."""
    chunks = [(job, items[i:i + CHUNK], content, regions, headers) for i in range(0, len(items), CHUNK)]
    processes = max(1, min(processes or 1, os.cpu_count() or 1, len(chunks)))
    if processes == 1 or len(items) < PARALLEL_FROM:
        for c in chunks:
            _render_chunk(c)
        return
    with _context().Pool(processes, initializer=_worker_signals) as pool:
        for _ in pool.imap_unordered(_render_chunk, chunks):
            pass


def render_statements(ms: MonthStatements, customers: pd.DataFrame, settings, out_dir: Path, *,
                      lang: str | None = None, template: Path | None = None, issued: dt.date | None = None,
                      processes: int = 2, names: bool = False) -> list[Path]:
    """Write one xlsx per statement row of ``ms`` into ``out_dir``; the paths, in summary order."""
    lang = lang or settings.language
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    template = Path(template) if template else shipped("statement", lang)
    fmt = documents()["statement"]["period"][lang]
    job = Job(template=str(template), lang=lang, company=settings.company_name, currency=settings.currency,
              payment_instructions=settings.payment_instructions, issued=issued or dt.date.today(),
              period=fmt.format(start=ms.start, end=ms.end), buckets=tuple(ms.buckets),
              mask=bool(settings.mask_exports), names=names)
    records = prepare(ms, customers, job.mask)
    paths = [out_dir / n for n in file_names(ms.summary, lang, ms.month)]
    render_all(job, [(str(p), r) for p, r in zip(paths, records)], processes)
    return paths
