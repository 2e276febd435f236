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


def _display(series: pd.Series, fmt: str, column: str, lang: str) -> pd.Series:
    quick = _display_quick(series, fmt)
    if quick is not None:
        return quick
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


def _display_quick(series: pd.Series, fmt: str) -> pd.Series | None:
    """_display's result for the two commonest columns, whole-column: text that is text
    throughout (as is), integer cents below 2**53 (exact in a float: int(c) / 100 without a
    Python call per value); None for anything else (then the per-value forms)."""
    if fmt in ("text", "link") and series.dtype == object and pd.api.types.infer_dtype(series, skipna=False) == "string":
        return series.map(str) if any(type(v) is not str for v in series) else series.copy()
    if fmt == "money" and pd.api.types.is_integer_dtype(series.dtype):
        blank = series.isna().to_numpy(bool)
        cents = series.to_numpy(dtype="int64", na_value=0)
        if not len(cents) or blank.all() or int(np.abs(cents).max()) >= 2**53:
            return None
        units = cents / 100           # float64, as the per-value map makes it (NaN where blank)
        units[blank] = np.nan
        return pd.Series(units, index=series.index)
    return None


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
