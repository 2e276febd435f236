"""The Card shows what was written off (DESIGN.md "Write-off of small differences": Balances
written_off), in the workbook's language, next to what was invoiced, credited and received."""

from __future__ import annotations

import openpyxl
import pandas as pd

from custledger import ops
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from custledger.render.card import card_rows


def _ledger(path, lang: str, tolerance: str):
    build_ledger(path, lang, data={
        "customers": pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["甲公司", "乙公司"], "payment_terms": [30, 30]}),
        "invoices": pd.DataFrame({"doc_no": ["I1", "I2"], "date": ["2026-09-01", "2026-09-05"],
                                  "customer_id": ["C1", "C2"], "amount": [1130.0, 800.0]}),
        "receipts": pd.DataFrame({"receipt_no": ["R1", "R2"], "date": ["2026-10-10", "2026-10-12"],
                                  "customer_id": ["C1", "C2"], "amount": [1125.0, 700.0]}),
    }, settings={"as_of": "2026-10-31", "write_off_tolerance": tolerance})
    return path


def _fields(path, sheet: str) -> dict:
    ws = openpyxl.load_workbook(path)[sheet]
    return {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, ws.max_row + 1)}


def test_the_card_shows_the_amount_written_off_in_zh_and_en(tmp_path):
    zh = _ledger(tmp_path / "zh.xlsx", "zh", "5")
    report = ops.run(FileBook(zh), ["reconcile", "card"], customer_id="C1")
    assert report.summary["card"] == "C1"
    got = _fields(zh, "客户卡")
    # 1,130 invoiced − 1,125 received − 5 written off = 0
    assert got["尾差核销"] == 5 and got["应收余额"] == 0

    en = _ledger(tmp_path / "en.xlsx", "en", "5")
    ops.run(FileBook(en), ["reconcile", "card"], customer_id="C1")
    got = _fields(en, "Card")
    assert got["Written Off"] == 5 and got["Balance"] == 0


def test_beyond_the_tolerance_nothing_is_written_off_and_the_card_says_0(tmp_path):
    path = _ledger(tmp_path / "zh.xlsx", "zh", "5")
    ops.run(FileBook(path), ["reconcile", "card"], customer_id="C2")  # 100 short: beyond 5
    got = _fields(path, "客户卡")
    assert got["尾差核销"] == 0 and got["应收余额"] == 100


def test_card_rows_place_written_off_among_the_balance_fields():
    from custledger.core.card import Card

    c = Card(customer_id="C1", as_of=pd.Timestamp("2026-10-31"), customer={}, aging={}, tier={}, credit={},
             balance={"invoiced": 113_000, "received": 112_500, "written_off": 500, "balance": 0},
             monthly=pd.DataFrame(), documents=pd.DataFrame(), documents_total=0, interactions=pd.DataFrame())
    for lang, label, received in (("zh", "尾差核销", "回款金额"), ("en", "Written Off", "Received")):
        fields = [r for r in card_rows(c, lang) if r[0] == "field"]
        labels = [r[1] for r in fields]
        assert label in labels
        assert dict((r[1], r[2]) for r in fields)[label] == 5.0
        if received:
            assert labels.index(label) == labels.index(received) + 1
