"""Generated frames -> sheets ready to write: labelled headers, display values, formats.

One intermediate form (SheetOut) serves every writer: the file writer (xlsxwriter, transplanted
into the ledger by io/xlsxpatch.py) and the xlwings adapter. Labels come from
schema/outputs.json in the workbook's language; money goes from integer cents to units only
here, for display; enum keys become labels.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..contract import FORMATS, SheetOut  # noqa: F401  (the contract type, re-exported for old imports)
from ..schema import msg, output_columns, output_enum_label, output_sheet_name


def _plain_blanks(obj: np.ndarray) -> np.ndarray | None:
    """Where the values are blank, when every blank is None or a float NaN (the frames' blanks);
    None when some other missing value (pd.NA, NaT) is there (then the value-by-value rule)."""
    na = np.asarray(pd.isna(obj), dtype=bool)
    others = obj[na & ~np.asarray(obj == None, dtype=bool)]  # noqa: E711  (element-wise)
    if len(others) and pd.api.types.infer_dtype(others, skipna=False) != "floating":
        return None
    return na


def _display_columnwise(series: pd.Series, fmt: str, column: str, lang: str) -> pd.Series | None:
    """_display over the whole column for the usual frames (int cents, naive datetime64, str or
    enum keys with None blanks); None where the value-by-value rule is needed. Same values and
    the same dtype as the value-by-value rule gives (Series.map infers it from the values)."""
    if not len(series) or series.isna().all():
        return None
    if fmt == "money" and pd.api.types.is_integer_dtype(series.dtype):
        cents = series.to_numpy(dtype="float64", na_value=np.nan)
        if np.nanmax(np.abs(cents)) >= 2**53:  # beyond exact floats: int(c) / 100 one by one
            return None
        return pd.Series(cents / 100, index=series.index)
    if fmt == "date" and pd.api.types.is_datetime64_dtype(series.dtype):
        ns = series.to_numpy("datetime64[ns]")
        if (ns[~np.isnat(ns)].astype(np.int64) % 1000).any():  # nanoseconds: to_pydatetime drops them
            return None
        return pd.Series(ns.astype("datetime64[us]"), index=series.index)
    if fmt in ("text", "link", "enum") or fmt.startswith("enum:"):
        obj = series.to_numpy(dtype=object)
        na = _plain_blanks(obj)
        if na is None:
            return None
        vals = obj[~na]
        if pd.api.types.infer_dtype(vals, skipna=False) not in ("string", "empty"):
            return None  # str() of other values, and factorize would take 1, 1.0 and True for one
        out = np.full(len(obj), "", dtype=object)
        if fmt in ("text", "link"):
            out[~na] = vals
        else:
            enum = fmt[5:] or column
            codes, uniq = pd.factorize(vals)
            out[~na] = np.array([output_enum_label(enum, v, lang) for v in uniq] + [None], dtype=object)[:-1][codes]
        return pd.Series(out, index=series.index).infer_objects()
    return None


def _display(series: pd.Series, fmt: str, column: str, lang: str) -> pd.Series:
    fast = _display_columnwise(series, fmt, column, lang)
    if fast is not None:
        return fast
    series = series.astype(object)  # so a blank stays None, not pd.NA
    if fmt == "money":
        return series.map(lambda c: None if pd.isna(c) else int(c) / 100)
    if fmt == "date":
        s = pd.to_datetime(series, errors="coerce")
        return s.map(lambda t: None if pd.isna(t) else t.to_pydatetime())
    if fmt == "int":
        return series.map(lambda v: None if pd.isna(v) else int(v))
    if fmt in ("pct", "float"):
        return series.map(lambda v: None if v is None or pd.isna(v) else float(v))
    if fmt == "bool":
        return series.map(lambda v: output_enum_label("bool", "true" if bool(v) and not pd.isna(v) else "false", lang))
    if fmt == "enum" or fmt.startswith("enum:"):  # "enum:NAME" names the enum when the column key does not
        enum = fmt[5:] or column
        return series.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                          else output_enum_label(enum, v, lang))
    return series.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v))


def sheet_out(key: str, frame: pd.DataFrame, lang: str, buckets: list | None = None,
              links: dict | None = None, note: str = "", table: str | None = None) -> SheetOut:
    """Label and format a generated frame per schema/outputs.json (columns it lacks stay blank)."""
    cols = output_columns(key, lang, buckets)
    data, headers, formats, widths = {}, [], [], []
    for i, (ckey, label, fmt) in enumerate(cols):
        src = frame[ckey] if ckey in frame.columns else pd.Series([None] * len(frame), index=frame.index)
        data[i] = _display(src, fmt, ckey, lang).reset_index(drop=True)
        headers.append(label)
        formats.append(fmt.split(":")[0])
        widths.append(_width(label, fmt, data[i]))
    link_pos = {}
    for ckey, targets in (links or {}).items():
        for i, (k, _, _) in enumerate(cols):
            if k == ckey:
                link_pos[i] = list(targets)
    return SheetOut(key=key, name=output_sheet_name(key, lang), headers=headers, formats=formats,
                    data=pd.DataFrame(data), links=link_pos,
                    table=table if table is not None else "tbl" + key.title().replace("_", ""),
                    widths=widths, note=note)


def _text_width(text: str) -> int:
    """Display width in Excel character units: CJK and full-width characters count double."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def widest_text(texts: list) -> int:
    """max(_text_width(t) for t in texts), 0 for none: every character's width at once (a
    column's sample can be 500 long texts; the JSON of the change-log snapshot is)."""
    if not texts:
        return 0
    points = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype="<u4")
    total = np.concatenate(([0], np.cumsum(1 + (points > 0x2E80))))
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    ends = np.cumsum(lens)
    return int((total[ends] - total[ends - lens]).max())


def _width(label: str, fmt: str, values: pd.Series | None = None, sample: int = 500) -> float:
    """Column width from the header and the first values (money and dates by their format)."""
    base = {"money": 14, "date": 11, "link": 10, "pct": 8, "int": 6}.get(fmt, 8)
    widest = _text_width(label)
    if values is not None and fmt in ("text", "enum", "link") and len(values):
        widest = max(widest, widest_text([str(v) for v in values.iloc[:sample].tolist() if v is not None]))
    cap = 28 if fmt == "link" else 60   # file names are long; the link still opens them
    return float(min(max(base, widest + 2), cap))


def run_note(lang: str, as_of: dt.date, extra: str = "") -> str:
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    text = msg("run_note", lang, stamp=stamp, as_of=f"{as_of:%Y-%m-%d}")
    return f"{text} {extra}".strip()
