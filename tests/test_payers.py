"""Payer → customer is one rule (core/payers.py) that validation and bank matching both use (issue 13)."""

from __future__ import annotations

import pandas as pd

from custledger.core import bank, payers, validate

CUSTOMERS = pd.DataFrame({
    "customer_id": ["C1", "C2", "C3", "C4", "C5"],
    "name": ["杭州恒昌机电有限公司", "恒昌机电股份有限公司", "Acme Trading Co., Ltd.", "甲公司", "乙公司"],
    "aliases": ["", "", "ACME；艾克米", "甲厂; 小甲", "甲厂"],
    "type": ["company"] * 5,
}, index=[10, 11, 12, 13, 14])  # a validated frame keeps the row labels of the sheet


def resolve(*names):
    return payers.resolve_payers(pd.Series(list(names), index=range(7, 7 + len(names))), CUSTOMERS).tolist()


def test_exact_then_normalized_and_only_one_customer():
    assert resolve("杭州恒昌机电有限公司", " ａｃｍｅ ", "艾克米", "小甲") == ["C1", "C3", "C3", "C4"]
    # normalized: legal form and punctuation dropped
    assert resolve("杭州恒昌机电", "Acme Trading") == ["C1", "C3"]
    # 恒昌机电 is C2's normalized name only
    assert resolve("恒昌机电有限公司") == ["C2"]
    # 甲厂 is an alias of two customers: not resolved, and never decided by a later level
    assert resolve("甲厂", "无名公司", "") == ["", "", ""]


def test_a_name_with_an_empty_key_names_nobody():
    """Punctuation alone normalizes to "": it is the same name only where it is the same exact key."""
    odd = pd.DataFrame({"customer_id": ["C1"], "name": ["（）"], "aliases": [""]})
    assert payers.resolve_payers(pd.Series(["-", "()"]), odd).tolist() == ["", "C1"]


def test_the_result_keeps_the_payers_index():
    got = payers.resolve_payers(pd.Series(["甲公司", "甲公司"], index=[5, 9]), CUSTOMERS)
    assert got.index.tolist() == [5, 9] and got.tolist() == ["C4", "C4"]
    empty = payers.resolve_payers(pd.Series(["甲公司"], index=[3]), CUSTOMERS.iloc[:0])
    assert empty.tolist() == [""] and empty.index.tolist() == [3]


def test_validation_uses_the_rule():
    receipts = pd.DataFrame({"customer_id": ["", "C5", "", ""], "payer": ["ACME", "甲公司", "", "甲厂"]})
    assert validate._resolve_payers(receipts, CUSTOMERS).tolist() == ["C3", "C5", "", ""]


def test_bank_matching_uses_the_same_tables():
    cust = bank._Customers(CUSTOMERS.reset_index(drop=True))
    keys = payers.name_keys(CUSTOMERS["customer_id"], CUSTOMERS["name"], CUSTOMERS["aliases"])
    assert cust.names == payers.NameTables.of(keys)
    lines = pd.DataFrame({"bank_ref": ["R1", "R2", "R3"], "date": pd.to_datetime(["2026-10-01"] * 3),
                          "payer": ["艾克米", "甲厂", "杭州恒昌机电"], "payer_account": ["", "", ""],
                          "amount": [100, 200, 300], "memo": ["", "", ""]})
    out = bank.match_bank(lines, CUSTOMERS.reset_index(drop=True), pd.DataFrame())
    assert out["match_by"].tolist() == ["alias", "alias", "normalized"]
    assert out["status"].tolist() == ["auto", "suggested", "auto"]
    # where bank matching is certain by a name level, validation resolves the same customer
    auto = out[out["status"] == "auto"]
    assert resolve(*auto["payer"]) == auto["customer_id"].tolist()
