"""Masking of personal numbers in exports (Settings ``mask_exports``; DESIGN.md "Settings").

What leaves the workbook (statements, dunning letters, exports) shows only enough of a phone,
ID or bank number to recognise it. Digits are counted and masked with ``*``; anything else in
the value (spaces, dashes, brackets, a leading ``+``) stays where it was, so the shape people
know is kept. The rules, by kind:

phone     first 3 and last 4 digits kept: 13812345678 -> 138****5678,
          0571-88886666 -> 057*-****6666.
id        (身份证 and other personal ID numbers; letters count like digits) first 3 and last 4
          kept: 11010519900307123X -> 110***********123X.
bank      (bank account / card numbers) last 4 digits kept, and the first 4 as well when there
          are at least 12 digits: 6222 0212 3456 1234 -> 6222 **** **** 1234.
email     first character of the local part kept: z***@example.com.

A value too short to keep both ends (fewer than head + tail + 1 digits) keeps only its last
half, at most the tail: 1234567 as a phone -> ****567. Blank values stay blank. A company's own numbers (Settings ``payment_instructions``) are not
masked: they are printed so that customers can pay.
"""

from __future__ import annotations

import pandas as pd

KINDS = ("phone", "id", "bank", "email")


def _mask_positions(value: str, is_unit, keep_head: int, keep_tail: int) -> str:
    units = [i for i, ch in enumerate(value) if is_unit(ch)]
    n = len(units)
    if n == 0:
        return value
    if n < keep_head + keep_tail + 1:
        # Too short to keep both ends: keep the last half (at most keep_tail) only.
        keep_head, keep_tail = 0, min(keep_tail, n // 2)
    hidden = set(units[keep_head:n - keep_tail])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(value))


def mask(value, kind: str) -> str:
    """The masked text of one value (see the module docstring for the rule of each kind)."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    if kind == "phone":
        return _mask_positions(text, str.isdigit, 3, 4)
    if kind == "id":
        return _mask_positions(text, str.isalnum, 3, 4)
    if kind == "bank":
        digits = sum(ch.isdigit() for ch in text)
        return _mask_positions(text, str.isdigit, 4 if digits >= 12 else 0, 4)
    if kind == "email":
        local, at, domain = text.partition("@")
        if not at:
            return _mask_positions(text, str.isalnum, 1, 0)
        return (local[:1] + "***" if local else "") + "@" + domain
    raise ValueError(f"unknown mask kind {kind!r}; one of {KINDS}")


def mask_series(series: pd.Series, kind: str) -> pd.Series:
    """``mask`` over a column (object dtype out; blanks become "")."""
    return pd.Series([mask(v, kind) for v in series.tolist()], index=series.index, dtype=object)


def maybe_mask(value, kind: str, enabled: bool) -> str:
    """``mask(value, kind)`` when masking is on (Settings mask_exports), else the value as text."""
    if enabled:
        return mask(value, kind)
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return str(value).strip()
