"""Field-level change log of the Customers sheet (变更记录), between two runs.

Each run that writes keeps a snapshot of every customer's values (as canonical text) and
compares the current Customers sheet with the previous run's snapshot:

- a customer present in both whose field text differs gives one row per field
  (customer_id, field key, old text, new text);
- a customer only in the current sheet gives one row with field ``_added`` (new = its name);
- a customer only in the snapshot gives one row with field ``_removed`` (old = its name).

Customers are matched by customer_id (trimmed; blank ids are ignored; of duplicated ids the
first row counts — validation reports the duplicate). Values are compared as canonical text,
so a cell retyped with the same value (2026-1-5 vs 2026-01-05, 10000 vs 10,000.00) is not a
change. Rows come out by customer_id, then the schema's field order (added/removed first).
``when`` and ``who`` are given by the caller: the run detects the change, it cannot know the
moment of the edit between two runs.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from .money import format_cents_series

CHANGE_COLUMNS = ["when", "who", "customer_id", "field", "old", "new"]
ADDED, REMOVED = "_added", "_removed"


def _day_text(values: np.ndarray) -> np.ndarray:
    """Naive datetime64 values -> "YYYY-MM-DD" (objects), "" where NaT: the day's text in one call."""
    day = values.astype("datetime64[D]")
    text = np.datetime_as_string(day, unit="D").astype(object)
    text[np.isnat(day)] = ""
    return text


def _text(series: pd.Series, kind: str) -> pd.Series:
    """Canonical text of a typed column (blank = "")."""
    if kind == "date":
        s = pd.to_datetime(series, errors="coerce")
        if isinstance(s.dtype, np.dtype):   # naive datetime64 (what load gives)
            return pd.Series(_day_text(s.to_numpy()), index=series.index, dtype=object)
        return pd.Series(np.where(s.isna(), "", s.dt.strftime("%Y-%m-%d")), index=series.index, dtype=object)
    if kind in ("money", "price"):  # integer cents -> units with two decimals, never via float
        return format_cents_series(series)
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=False) == "string":
        return series.str.strip()   # text throughout, no blank cell (as load gives text fields): one pass
    s = series.astype(object)
    blank = s.isna()
    out = s.where(blank, s.astype(str).str.strip())
    return out.where(~blank, "").astype(object)


def customer_text(customers: pd.DataFrame, kinds: dict) -> pd.DataFrame:
    """Typed Customers frame -> text frame indexed by customer_id, one column per field in
    ``kinds`` (field key -> schema kind), in that order.

    Each column's text is ``_text``'s; the columns load gives (text that is ``str`` throughout,
    naive datetime64 dates) are converted together, one strip and one date conversion for all of
    them (a pandas call costs ~0.1 ms whatever its length: per column that was most of the step)."""
    n = len(customers)
    ids = _text(customers["customer_id"], "id") if "customer_id" in customers else pd.Series(dtype=object)
    fields = [k for k in kinds if k != "customer_id"]
    out = np.empty((len(fields), n), dtype=object)
    texts, dates = [], []   # (row of out, values) converted together below
    for j, k in enumerate(fields):
        kind = kinds[k]
        if k not in customers:
            out[j] = ""
            continue
        s = customers[k]
        if kind == "date" and isinstance(s.dtype, np.dtype) and s.dtype.kind == "M":
            dates.append((j, s.to_numpy()))
        elif kind not in ("date", "money", "price") and s.dtype == object and n \
                and pd.api.types.infer_dtype(s.to_numpy(), skipna=False) == "string":
            texts.append((j, s.to_numpy()))
        else:
            out[j] = _text(s, kind).to_numpy(dtype=object)
    if texts:   # _text's str.strip, over every such column at once
        stripped = pd.Series(np.concatenate([v for _, v in texts]), dtype=object).str.strip().to_numpy(dtype=object)
        for i, (j, _) in enumerate(texts):
            out[j] = stripped[i * n:(i + 1) * n]
    if dates:   # _text's day text, over every such column at once
        text = _day_text(np.concatenate([v for _, v in dates]))
        for i, (j, _) in enumerate(dates):
            out[j] = text[i * n:(i + 1) * n]
    id_arr = ids.to_numpy(dtype=object)
    keep = (id_arr != "") & ~pd.Index(id_arr).duplicated(keep="first")   # blank ids ignored, first row counts
    return pd.DataFrame(out.T[keep], index=pd.Index(id_arr, name="customer_id")[keep],
                        columns=fields, dtype=object)


# A cell holds at most 32,767 characters (UTF-16 units: a character outside the BMP counts
# twice), and a writer cuts a longer text short. A customer's JSON longer than one cell (a
# 32,767-character name alone is) continues on the next rows, same customer_id.
SNAPSHOT_CHUNK = 16_000
# json.dumps(..., ensure_ascii=False, sort_keys=True), its encoder made once (dumps makes one per call)
_SNAPSHOT_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def encode_snapshot(text: pd.DataFrame) -> pd.DataFrame:
    """Text frame -> the snapshot sheet's rows: customer_id, fields (JSON of the non-blank
    fields). One cell per customer keeps the sheet small and survives new schema fields; a JSON
    longer than SNAPSHOT_CHUNK characters is split over consecutive rows of the same id."""
    keys = list(text.columns)
    columns = [text[k].tolist() for k in keys]   # one list per field: no dict per row from pandas
    ids, fields = [], []
    for cid, values in zip(text.index, zip(*columns) if columns else ((),) * len(text)):
        blob = _SNAPSHOT_JSON.encode({k: v for k, v in zip(keys, values) if v != ""})
        for at in range(0, max(len(blob), 1), SNAPSHOT_CHUNK):
            ids.append(cid)
            fields.append(blob[at:at + SNAPSHOT_CHUNK])
    return pd.DataFrame({"customer_id": ids, "fields": fields})


def decode_snapshot(snap: pd.DataFrame, columns) -> pd.DataFrame:
    """The snapshot sheet read back -> text frame like ``customer_text`` (unreadable JSON:
    that customer's fields read as blank, so its values show as changes rather than vanish)."""
    rows = []
    ids = []
    blobs: list = []   # (customer_id, JSON text): consecutive rows of one id are one JSON
    for cid, blob in zip(snap.get("customer_id", []), snap.get("fields", [])):
        if not isinstance(cid, str) or not cid.strip():
            continue
        blob = blob if isinstance(blob, str) else ""
        if blobs and blobs[-1][0] == cid.strip():
            blobs[-1] = (blobs[-1][0], blobs[-1][1] + blob)
        else:
            blobs.append((cid.strip(), blob))
    for cid, blob in blobs:
        try:
            values = json.loads(blob) if blob else {}
        except ValueError:
            values = {}
        if not isinstance(values, dict):
            values = {}
        ids.append(cid)
        rows.append({k: str(values.get(k, "")) for k in columns})
    frame = pd.DataFrame(rows, columns=list(columns), index=pd.Index(ids, name="customer_id"), dtype=object)
    return frame[~frame.index.duplicated(keep="first")]


def compare(previous: pd.DataFrame, current: pd.DataFrame, when: str, who: str) -> pd.DataFrame:
    """Changes rows (CHANGE_COLUMNS) from the previous text frame to the current one."""
    fields = [c for c in current.columns]
    prev = previous.reindex(columns=fields).fillna("").astype(object)
    both = current.index.intersection(prev.index, sort=False)
    parts = []
    added = current.index.difference(prev.index, sort=False)
    removed = prev.index.difference(current.index, sort=False)
    name_now = current["name"] if "name" in current else pd.Series("", index=current.index)
    name_before = prev["name"] if "name" in prev else pd.Series("", index=prev.index)
    if len(added):
        parts.append(pd.DataFrame({"customer_id": added, "field": ADDED, "old": "",
                                   "new": name_now.reindex(added).to_numpy(), "_order": -1}))
    if len(removed):
        parts.append(pd.DataFrame({"customer_id": removed, "field": REMOVED,
                                   "old": name_before.reindex(removed).to_numpy(), "new": "", "_order": -1}))
    if len(both):
        cur, old = current.loc[both], prev.loc[both]
        for order, f in enumerate(fields):  # a loop over fields, each one vectorized over customers
            diff = cur[f].to_numpy() != old[f].to_numpy()
            if diff.any():
                parts.append(pd.DataFrame({"customer_id": both[diff], "field": f, "old": old[f].to_numpy()[diff],
                                           "new": cur[f].to_numpy()[diff], "_order": order}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CHANGE_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    out["customer_id"] = out["customer_id"].astype(object)
    out = out.sort_values(["customer_id", "_order"], kind="stable").drop(columns="_order")
    out.insert(0, "who", who)
    out.insert(0, "when", when)
    return out[CHANGE_COLUMNS].reset_index(drop=True).astype(object)
