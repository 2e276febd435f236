"""Header, date, amount and month rules have one home, core/parse.py: the ledger, bank files and
invoice exports read with the same functions, and the scalar month is the column rule (issue 13)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custledger.core import parse
from custledger.io import bankfile, invoicefile

DATE_TEXTS = ["2026-10-05", "2026/10/5", "20261005", "2026年10月5日", "2026-10-05 23:59:59",
              "2026-10-05T08:00:00", "2026-10-05T23:30:00+08:00", "20261005 101010", "46300",
              "2026.10.05", "2026-02-30", "bad", "3000-01-01", "202610", "45000.5", "61", "60"]


def test_bank_files_use_the_ledgers_header_rule():
    assert bankfile.header_key is parse.header_key
    assert invoicefile.header_key is parse.header_key
    # a unit in any kind of bracket after the header, punctuation inside it
    for text in ("收入金额(元)", "收入金额【元】", "收入金额 [CNY]", "收入金额（贷）"):
        assert bankfile.field_of(text) == "credit"
    assert bankfile.field_of("收(付)方名称") == bankfile.field_of("收/付方名称") == "payer"
    # the ledger's headers: the same unit rule
    index = {parse.header_key("金额"): "amount"}
    assert parse.header_field("金额【元】", index) == parse.header_field(" 金额 (元) ", index) == "amount"
    assert parse.header_field(None, index) is None and parse.header_field(float("nan"), index) is None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("客户编号 AbcZ_-.·:：*()（）[]【】/\\、ＡＢ１\t"), max_size=12))
def test_the_header_key_is_the_name_key_with_brackets_and_slashes_dropped(text):
    from custledger.schema import norm_header

    assert parse.header_key(text) == re.sub(r"[()（）\[\]【】/\\、]+", "", norm_header(text))
    assert parse.header_key(parse.header_key(text)) == parse.header_key(text)


def test_the_header_scanner_ranks_rows_and_takes_the_upper_one_on_a_tie():
    index = {"a": "a", "b": "b", "c": "c"}
    rows = [["title"], ["a", "b"], ["b", "a"], ["a", "b", "c", "a"], ["c", "b", "a"]]
    found = parse.find_header(rows, index, lambda fields: (len(fields),) if "a" in fields else None)
    assert (found.index, found.fields, found.duplicates) == (3, {"a": 0, "b": 1, "c": 2}, ((3, "a"),))
    assert parse.find_header(rows, index, lambda fields: None) is None
    # only the first HEADER_SCAN_ROWS rows are looked at
    late = [["x"]] * parse.HEADER_SCAN_ROWS + [["a", "b"]]
    assert parse.find_header(late, index, lambda f: (len(f),) if f else None) is None


def test_bank_dates_are_the_ledgers_dates(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("交易日期,收入金额,对方户名\n" + "".join(f"{d},1,甲{i}\n" for i, d in enumerate(DATE_TEXTS)),
                 encoding="utf-8")
    read = bankfile.read_bank_file(f)
    dates, bad = parse.parse_date(pd.Series(DATE_TEXTS, dtype=object))
    assert read.lines["date"].tolist() == dates[~bad].tolist()
    assert sorted(p["row"] for p in read.problems) == [i + 2 for i in range(len(DATE_TEXTS)) if bad[i]]
    assert {p["code"] for p in read.problems} == {"bank_line_not_date"}


def test_dates_a_date_column_cannot_hold_are_not_dates_and_never_a_traceback():
    d, bad = parse.parse_date(pd.Series(["3000-01-01", "3000-01-01 00:00:00", "202610", "999999",
                                         "1677-09-21", "2262-04-11", "2026-10-05T08:00:00Z"], dtype=object))
    assert bad.tolist() == [True] * 5 + [False, False]
    assert d.dtype == "datetime64[ns]" and d.iloc[5] == pd.Timestamp("2262-04-11")


def test_bank_amounts_are_the_ledgers_amounts(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("交易日期,收入金额,支出金额\n2026-10-05,\"1,234.50\",--\n2026-10-05,—,2.675\n"
                 "2026-10-06,100000000000000000000,\n2026-10-07,abc,\n", encoding="utf-8")
    read = bankfile.read_bank_file(f)
    assert read.lines["amount"].tolist() == [123450, -268]
    # more than ten trillion yuan: not an amount (the ledger's limit), a warning, not a crash
    assert [(p["row"], p["code"]) for p in read.problems] == [(4, "bank_line_not_amount"), (5, "bank_line_not_amount")]


# ---- months -----------------------------------------------------------------------------

months = st.tuples(st.integers(1, 9999), st.integers(0, 14))
month_texts = months.flatmap(lambda ym: st.sampled_from([
    f"{ym[0]}-{ym[1]}", f"{ym[0]:04d}-{ym[1]:02d}", f"{ym[0]:04d}/{ym[1]}", f"{ym[0]:04d}年{ym[1]}月",
    f"{ym[0]:04d}.{ym[1]:02d}", f" {ym[0]:04d}-{ym[1]:02d} ", f"{ym[0]:04d}{ym[1]:02d}",
    f"{ym[0]:04d}-{ym[1]:02d}-15", f"{ym[0]:04d}-{ym[1]:02d}-15 00:00:00", f"{ym[0]:04d}{ym[1]:02d}28"]))
day_values = st.dates(dt.date(1700, 1, 1), dt.date(2250, 12, 31)).flatmap(lambda d: st.sampled_from([
    d, pd.Timestamp(d), pd.Period(d, freq="M"), pd.Period(d, freq="D"), d.isoformat(), d.strftime("%Y/%m/%d"),
    dt.datetime(d.year, d.month, d.day, 13, 5)]))
serials = st.one_of(st.integers(0, 200_000), st.integers(0, 200_000).map(str), st.floats(0, 200_000).map(str))
junk = st.one_of(st.text(max_size=12), st.sampled_from(["", "  ", None, "abc", "十月", "10/2026", "2026",
                                                        "2026-13", "2026-00", "2026-10-99", float("nan")]))
any_month = st.one_of(month_texts, day_values, serials, junk)


def _scalar(value):
    try:
        return parse.parse_month(value)
    except ValueError:
        return None


def _iso_written(value) -> bool:
    """What a command takes: a date/Timestamp/Period object, or text 2026-10 / 2026-10-15[ time]."""
    if not isinstance(value, str):
        return hasattr(value, "year") and hasattr(value, "month")
    return re.fullmatch(r"\s*\d{4}-\d{1,2}(-\d{1,2}([\sT].*)?)?\s*", unicodedata.normalize("NFKC", value)) is not None


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(any_month, min_size=1, max_size=20))
def test_the_scalar_month_and_the_month_column_agree(values):
    """One rule: where the scalar accepts a value, the column reads the same month; the column
    alone accepts only what is not written the ISO way (2026/10, 2026年10月, 202610)."""
    out, bad = parse.parse_months(pd.Series(values, dtype=object))
    iso_out, iso_bad = parse.parse_months(pd.Series(values, dtype=object), iso=True)
    for value, text, is_bad, iso_text, iso_is_bad in zip(values, out, bad, iso_out, iso_bad):
        got = _scalar(value)
        assert (got or "") == iso_text, value
        if got is not None:
            assert (text, bool(is_bad), bool(iso_is_bad)) == (got, False, False), value
        elif text:
            assert not _iso_written(value), value
        else:
            assert iso_text == "", value


@settings(max_examples=150, deadline=None)
@given(months, st.sampled_from(["{y}-{m}", "{y:04d}-{m:02d}", "{y:04d}/{m}", "{y:04d}年{m}月", "{y:04d}{m:02d}",
                                "{y:04d}-{m:02d}-01"]))
def test_a_month_is_its_year_and_month(ym, form):
    y, m = ym
    expected = f"{y:04d}-{m:02d}" if 1 <= m <= 12 and 1678 <= y <= 2261 else None
    text = form.format(y=y, m=m)
    column, _ = parse.parse_months(pd.Series([text], dtype=object))
    assert (column.iat[0] or None) == expected, text
    assert _scalar(text) == (expected if form.startswith("{y:04d}-") or form == "{y}-{m}" else None), text


@pytest.mark.parametrize("value, month, command", [
    ("2026-10", "2026-10", True), ("２０２６-１０", "2026-10", True), ("202610", "2026-10", False),
    ("2026年1月", "2026-01", False), ("2026/10", "2026-10", False), ("20261015", "2026-10", False),
    (pd.Period("2026Q4"), "2026-12", True), (dt.datetime(2026, 10, 3, 9), "2026-10", True),
    ("2026", None, False), ("46300", None, False), (46300, None, False), ("2026-10-99", None, False),
    ("0001-10", None, False)])
def test_month_forms(value, month, command):
    out, bad = parse.parse_months(pd.Series([value], dtype=object))
    assert (out.iat[0] or None, bool(bad.iat[0])) == (month, month is None)
    assert _scalar(value) == (month if command else None)


def test_a_far_date_in_the_ledger_is_a_problem_not_a_stopped_run(tmp_path):
    from custledger.core.load import load
    from custledger.core.validate import validate
    from custledger.io.reader import read_book
    from custledger.io.template import build_ledger

    path = tmp_path / "l.xlsx"
    build_ledger(path, "zh", data={
        "customers": pd.DataFrame({"customer_id": ["C1"], "name": ["甲"]}),
        "invoices": pd.DataFrame({"doc_no": ["I1", "I2"], "date": ["3000-01-01", "2026-10-01"],
                                  "customer_id": ["C1", "C1"], "amount": [1.0, 2.0]})},
        settings={"as_of": "2026-10-31"})
    v = validate(load(read_book(path)))
    assert v.problems.loc[v.problems["code"] == "bad_date", "value"].tolist() == ["3000-01-01"]
    assert v.ledger.invoices["doc_no"].tolist() == ["I2"]
