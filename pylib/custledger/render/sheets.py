"""Generated frames -> sheets ready to write: labelled headers, display values, formats.

One intermediate form (SheetOut) serves every writer: the file writer (xlsxwriter, transplanted
into the ledger by io/xlsxpatch.py) and the xlwings adapter. Labels come from
schema/outputs.json in the workbook's language; money goes from integer cents to units only
here, for display; enum keys become labels.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import pandas as pd

from ..contract import FORMATS, SheetOut  # noqa: F401  (the contract type, re-exported for old imports)
from ..schema import msg, output_columns, output_enum_label, output_sheet_name


def _display(series: pd.Series, fmt: str, column: str, lang: str) -> pd.Series:
    """The display values of one column (object dtype, None for a blank): money cents -> units,
    dates -> datetime, enum keys -> labels, text -> str. Whole columns at a time; a column of a
    dtype without a fast path goes value by value by the same rules (_display_values)."""
    if (fmt not in _NOT_TEXT and not fmt.startswith("enum") and len(series)
            and isinstance(series.dtype, pd.StringDtype) and series.dtype == _text_dtype() and not series.hasnans):
        # text already in the dtype the lines below give it, no blank: the same column, not rebuilt
        return pd.Series(series.array, index=series.index, name=series.name, copy=True)
    fast = _display_fast(series, fmt, column, lang)
    if fast is None:
        return _display_values(series, fmt, column, lang)
    if isinstance(fast, np.ndarray) and fast.dtype == object:
        # the value rule's result type, as Series.map infers it: all text is "str" (built
        # directly, 3x faster than the inference), anything else as map infers it
        if len(fast) and pd.api.types.infer_dtype(fast, skipna=False) == "string":
            return pd.Series(fast, index=series.index, name=series.name, dtype=_text_dtype())
        return pd.Series(fast, index=series.index, name=series.name, dtype=object).map(_same)
    return pd.Series(fast, index=series.index, name=series.name)


_NOT_TEXT = ("money", "date", "int", "pct", "float", "bool")


def _same(v):
    return v


@cache
def _text_dtype():
    """The dtype Series.map gives a column of text ("str" in pandas 3, object before)."""
    return pd.Series(["a"], dtype=object).map(_same).dtype


_BIG = 2 ** 53  # integers above this are not exact as float64: the value-by-value rule then


def _typed(values: np.ndarray, blank: np.ndarray) -> np.ndarray:
    """Numbers or dates with their blanks, in the dtype Series.map gives the value rule's result:
    NaN / NaT for a blank, ints as float64 when there are blanks; all blank (or none): None."""
    if not len(values) or blank.all():
        return np.full(len(values), None, dtype=object)
    if blank.any() and values.dtype.kind == "i":
        values = values.astype("float64")
    if blank.any():
        values = values.copy()
        values[blank] = np.datetime64("NaT") if values.dtype.kind == "M" else np.nan
    return values


def _display_fast(series: pd.Series, fmt: str, column: str, lang: str) -> np.ndarray | None:
    """The display values as an array (object: values whose dtype Series.map then infers), or
    None where the column needs _display_values."""
    dtype = series.dtype
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if fmt in ("money", "int", "pct", "float") and numeric:
        blank = series.isna().to_numpy()
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        if fmt in ("money", "int"):
            if pd.api.types.is_float_dtype(dtype):
                values = np.trunc(values)   # int(v) of a float: toward zero
            if np.isinf(values).any() or (np.abs(values[~blank]) >= _BIG).any():
                return None
        if fmt == "money":
            return _typed(values / 100, blank)   # exact: int(c) / 100 == float(c) / 100 below 2**53
        if fmt == "int":
            return _typed(np.where(blank, 0, values).astype(np.int64), blank)
        return _typed(values, blank)
    if fmt == "date" and pd.api.types.is_datetime64_dtype(dtype) and getattr(dtype, "tz", None) is None:
        # datetime64 -> microseconds (as Timestamp.to_pydatetime), NaT for a blank
        return _typed(series.to_numpy().astype("datetime64[us]"), series.isna().to_numpy())
    if fmt == "bool" and pd.api.types.is_bool_dtype(dtype) and not series.isna().any():
        yes, no = output_enum_label("bool", "true", lang), output_enum_label("bool", "false", lang)
        return np.where(series.to_numpy(dtype=bool), yes, no).astype(object)
    if fmt not in _NOT_TEXT:
        values = series.to_numpy(dtype=object)
        if fmt == "enum" or fmt.startswith("enum:"):
            enum = fmt[5:] or column
            blank = pd.isna(values)
            if pd.api.types.infer_dtype(values, skipna=True) != "string" or \
                    not all(v is None or isinstance(v, float) for v in values[blank].tolist()):
                return None   # keys that are not text, or pd.NA / NaT: value by value
            # each distinct key labelled once; a blank (None, NaN) shows as ""
            codes, keys = pd.factorize(values)
            labels = np.array([output_enum_label(enum, k, lang) for k in keys.tolist()] + [""], dtype=object)
            return labels[codes]
        if pd.api.types.infer_dtype(values, skipna=False) == "string":
            return values   # every value already text
    return None


def _display_values(series: pd.Series, fmt: str, column: str, lang: str) -> pd.Series:
    """_display value by value: the rule for every dtype (object columns of mixed values)."""
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
    idx = frame.index
    # the rows numbered 0..n-1, unnamed (what reset_index gives) unless they are so already
    renumber = not (isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1 and idx.name is None)
    for i, (ckey, label, fmt) in enumerate(cols):
        src = frame[ckey] if ckey in frame.columns else pd.Series([None] * len(frame), index=idx)
        data[i] = _display(src, fmt, ckey, lang)
        if renumber:
            data[i] = data[i].reset_index(drop=True)
        headers.append(label)
        formats.append(fmt.split(":")[0])
        widths.append(_width(label, fmt, data[i]))
    link_pos = {}
    for ckey, targets in (links or {}).items():
        for i, (k, _, _) in enumerate(cols):
            if k == ckey:
                link_pos[i] = list(targets)
    return SheetOut(key=key, name=output_sheet_name(key, lang), headers=headers, formats=formats,
                    # the index given: the columns are the rows already (no alignment of each)
                    data=pd.DataFrame(data, index=pd.RangeIndex(len(frame)) if renumber else idx) if data
                    else pd.DataFrame(data), links=link_pos,
                    table=table if table is not None else "tbl" + key.title().replace("_", ""),
                    widths=widths, note=note)


_FIRST_WIDE = "\u2e81"   # from here on (CJK, full-width) a character counts double


def _text_width(text: str) -> int:
    """Display width in Excel character units: CJK and full-width characters count double.
    (Counted by comparison: a regex class up to U+10FFFF took 3 ms to compile on every run.)"""
    return len(text) + sum(ch >= _FIRST_WIDE for ch in text)


def widest_text(texts: list) -> int:
    """max(_text_width(t) for t in texts), 0 for none: every character's width at once (a
    column's sample can be 500 long texts; the JSON of the change-log snapshot is)."""
    if not texts:
        return 0
    points = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype="<u4")
    total = np.concatenate(([0], np.cumsum(1 + (points >= ord(_FIRST_WIDE)))))
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
