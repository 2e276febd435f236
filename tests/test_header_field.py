"""core/parse.header_field's quick path (one NFKC, the unit rule only for a text ending in a
bracket) names the same field as the rule written out in full, for header-like and data cells."""

import random
import unicodedata

from custledger.core.parse import _UNIT, header_field, header_key
from custledger.schema import sheet


def _by_the_rule(cell, index):
    if cell is None or (isinstance(cell, float) and cell != cell):
        return None
    text = unicodedata.normalize("NFKC", str(cell)).strip()
    if not text:
        return None
    found = index.get(header_key(text))
    if found is None:
        stripped = _UNIT.sub("", text)
        if stripped and stripped != text:
            found = index.get(header_key(stripped))
    return found


def test_header_field_agrees_with_the_rule():
    rng = random.Random(4)
    index = {}
    labels = []
    for key in ("customers", "invoices", "receipts", "payers"):
        for f in sheet(key).fields:
            for k in f.header_keys():
                index.setdefault(header_key(k), f.key)
                labels.append(k)
    units = ["(元)", "（元）", "[CNY]", "【手机】", " (天) ", "（件", "元)", ")", "（）", "(a)(b)"]
    cells = [None, float("nan"), "", "  ", 12.5, 3, "2026-10-31", "１２３", "合计", "ＡＭＯＵＮＴ"]
    for _ in range(3000):
        base = rng.choice(labels + ["杭州启明工贸有限公司", "13800138000", "XS-2026-001", "Acme Trading"])
        cell = base
        if rng.random() < 0.4:
            cell = cell + rng.choice(units)
        if rng.random() < 0.3:
            cell = rng.choice([" ", "\u3000", "_", "*"]) + cell + rng.choice(["", " ", "\u3000", "\n"])
        if rng.random() < 0.2:
            cell = unicodedata.normalize("NFKD", cell).upper()
        cells.append(cell)
    for cell in cells:
        assert header_field(cell, index) == _by_the_rule(cell, index), repr(cell)
    assert sum(header_field(c, index) is not None for c in cells) > 1000   # headers were among them


def test_an_absent_sheet_is_the_empty_frame_parse_would_give():
    """core/parse.empty_frame (an absent optional sheet) has the columns and dtypes that
    empty_typed gives each field, and _row."""
    import pandas as pd

    from custledger.core.parse import empty_frame, empty_typed

    for key in ("interactions", "payers", "confirmations", "customers", "invoices", "receipts"):
        spec = sheet(key)
        want = pd.DataFrame({f.key: empty_typed(f, 0, pd.RangeIndex(0)) for f in spec.fields})
        want["_row"] = pd.Series(dtype="int64")
        got = empty_frame(spec)
        pd.testing.assert_frame_equal(got, want)
        assert list(got.dtypes) == list(want.dtypes) and got.index.equals(want.index)
