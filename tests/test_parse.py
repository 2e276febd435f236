"""Reading values as people type them: dates, amounts, enums, headers."""


import pandas as pd
import pytest

from custledger.core import money
from custledger.core.parse import locate_header, parse_date, parse_enum, parse_int, parse_money
from custledger.schema import norm_header, sheet


def s(*vals):
    return pd.Series(list(vals), dtype=object)


def test_money_half_up_on_the_decimal_as_written():
    assert money.to_cents(2.675) == 268
    assert money.to_cents("-2.675") == -268
    assert money.to_cents("2.665") == 267
    assert money.to_cents(1.005) == 101          # repr(1.005) == '1.005', not 1.00499999...
    assert money.to_cents("¥1,234.50") == 123450
    assert money.to_cents("１２３．４５") == 12345
    assert money.to_cents("(1,000.00)") == -100000
    assert money.to_cents("  ") is None
    with pytest.raises(money.MoneyError):
        money.to_cents("abc")


def test_parse_money_vectorized_agrees_with_decimal_rule():
    vals = ["2.675", "-2.675", "0.30000000000000004", "1234.5", "¥1,234.50", "12", "", None, "x", "1e3", "1,000.005"]
    cents, bad = parse_money(s(*vals))
    assert cents.tolist()[:6] == [268, -268, 30, 123450, 123450, 1200]
    assert pd.isna(cents[6]) and pd.isna(cents[7]) and not bad[6] and not bad[7]
    assert bad[8] and pd.isna(cents[8])
    assert cents[9] == 100000
    assert cents[10] == 100001
    for v, c in zip(vals, cents):
        if not pd.isna(c):
            assert c == money.to_cents(v)


@pytest.mark.parametrize("text", ["2026-11-05", "2026/11/5", "2026年11月5日", "20261105", "2026.11.05",
                                  "2026-11-05 00:00:00", "46331", "２０２６年１１月５日", "2026-11-05 13:45"])
def test_dates_in_every_common_form(text):
    d, bad = parse_date(s(text))
    assert not bad[0]
    assert d[0] == pd.Timestamp("2026-11-05")


def test_bad_and_blank_dates():
    d, bad = parse_date(s("2026-13-01", "yesterday", "", None, "2026-02-30"))
    assert bad.tolist() == [True, True, False, False, True]
    assert d.isna().all()


def test_enum_accepts_labels_keys_and_aliases():
    f = sheet("invoices").field("kind")
    out, bad = parse_enum(s("销售", "红字", "credit_note", "Credit Note", "退货", "", "赠品"), f)
    assert out.tolist() == ["invoice", "credit_note", "credit_note", "credit_note", "credit_note", "invoice", ""]
    assert bad.tolist() == [False] * 6 + [True]


def test_int_must_be_whole():
    out, bad = parse_int(s("30", "30.0", "30.5", "abc", ""))
    assert out.tolist()[:2] == [30, 30]
    assert bad.tolist() == [False, False, True, True, False]


def test_header_matching_ignores_case_spaces_width_and_finds_row_under_title():
    assert norm_header("Customer_ID") == norm_header("customer id") == norm_header("ＣＵＳＴＯＭＥＲ ＩＤ")
    assert norm_header("账期（天）") == norm_header("账期(天)")
    frame = pd.DataFrame([["2026年客户台账", None, None, None],
                          [None, None, None, None],
                          ["客户 名称", "CUSTOMER_ID", "自定义列", "账期（天）"],
                          ["甲公司", "C1", "x", "30"]])
    lay = locate_header(frame, sheet("customers"), "客户档案")
    assert lay.header_index == 2
    assert lay.columns == {0: "name", 1: "customer_id", 3: "payment_terms"}


def test_int_beyond_int64_is_a_problem_not_a_crash():
    # 1e20 typed in 账期 once stopped the run with a TypeError (cannot cast to Int64)
    out, bad = parse_int(s("1e20", "-1e19", "9e18", "30"))
    assert bad.tolist() == [True, True, False, False]
    assert out.isna().tolist() == [True, True, False, False]
    assert out.iloc[3] == 30 and str(out.dtype) == "Int64"
