"""Column helpers shared by the core rules: a ledger frame's text, ids and amounts, whole columns
at a time. Public so that every rule module (and render/) imports them from here, not from
another rule's private names."""

from __future__ import annotations

import numpy as np
import pandas as pd


def column_text(frame: pd.DataFrame, column: str) -> pd.Series:
    """A text column as a str Series, blanks as "" (a number typed as digits: "1001"); a missing
    column reads as all blanks."""
    if column not in frame.columns:
        return pd.Series([""] * len(frame), index=frame.index, dtype="str")
    s = frame[column]
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        return s.astype("str").fillna("")   # the usual text column: one conversion (half the time)
    if s.dtype != "str":
        s = s.astype(object).where(s.notna(), "")
        if pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
            s = s.map(cell_text)
        s = s.astype("str")
    return s.fillna("")


def cell_text(value) -> str:
    """A cell value as text; a whole number typed as digits reads "1001", never "1001.0"."""
    if isinstance(value, str):
        return value
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def column_ids(frame: pd.DataFrame, column: str) -> pd.Series:
    """An identifier column (customer_id, doc_no, ...) as trimmed text."""
    return column_text(frame, column).str.strip()


def amount_cents(frame: pd.DataFrame) -> np.ndarray:
    """The ``amount`` column as positive int64 cents (a credit note's credit is the absolute value)."""
    if frame.empty:
        return np.zeros(0, dtype="int64")
    return np.abs(pd.to_numeric(frame["amount"]).fillna(0).to_numpy(dtype="int64"))
