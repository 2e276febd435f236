"""The mapping of an export (core/invoice_import.map_invoices) works on whole columns: Arrow-backed
text as io/invoicefile reads it, object columns, and without pyarrow (Pyodide) — same result."""

from __future__ import annotations

import pandas as pd

from custledger.core import invoice_import
from custledger.core.invoice_import import map_invoices

GOOD_TAX = "91110108MA01C4XN4E"


def _rows() -> pd.DataFrame:
    base = {"einvoice_no": "", "invoice_code": "", "invoice_no": "", "date": "2026-10-05 10:00:00",
            "buyer_tax_id": "", "buyer_name": "", "total": "100", "status": "正常", "positive": "是", "remark": ""}
    rows = [
        {"einvoice_no": " 26330000000000000001 ", "buyer_tax_id": GOOD_TAX.lower(), "buyer_name": "北京甲科技有限公司"},
        {"einvoice_no": "26330000000000000002", "buyer_name": "ＡＢＣ　贸易", "total": "-50", "positive": "否",
         "remark": "被红冲蓝字数电票号码：26330000000000000001"},
        {"einvoice_no": "26330000000000000003", "buyer_name": "无此客户"},
        {"einvoice_no": "26330000000000000004", "buyer_tax_id": GOOD_TAX[:-1] + "C", "buyer_name": "北京甲科技有限公司"},
        {"einvoice_no": "26330000000000000005", "buyer_name": "abc贸易", "status": "作废"},
        {"einvoice_no": "26330000000000000001", "buyer_tax_id": GOOD_TAX, "buyer_name": "北京甲科技有限公司"},
        {"invoice_code": "3300191130", "invoice_no": "01234567", "buyer_name": "ABC 贸易", "total": "1,130.00",
         "positive": "是"},
        {"total": "合计", "date": ""},
    ]
    frame = pd.DataFrame([{**base, **r} for r in rows])
    frame["_row"] = range(3, 3 + len(frame))
    return frame


def _customers() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["北京甲科技有限公司", "ABC 贸易"],
                         "aliases": ["", "abc贸易"], "tax_id": [GOOD_TAX, ""]})


def _map(rows):
    return map_invoices(rows, _customers(), ["X-1"], "e.xlsx", "zh", {"buyer_tax_id": "购方识别号"})


def test_same_result_for_arrow_text_object_text_and_without_pyarrow(monkeypatch):
    rows = _rows()
    want = _map(rows.astype({c: object for c in rows.columns if c != "_row"}))
    assert want.report["status"].tolist() == ["imported", "imported", "unmatched", "error", "void", "duplicate",
                                              "imported"]
    assert want.invoices["customer_id"].tolist() == ["C1", "C2", "C2"]
    assert want.invoices["kind"].tolist() == ["invoice", "credit_note", "invoice"]
    assert want.invoices["ref_doc"].tolist() == ["", "26330000000000000001", ""]
    assert want.report["buyer"].tolist()[1] == "ABC 贸易"          # NFKC: full-width letters and space
    arrow = _map(rows.astype({c: "str" for c in rows.columns if c != "_row"}))
    with monkeypatch.context() as m:
        m.setattr(invoice_import, "arrow", lambda: (None, None))   # as on Pyodide
        plain = _map(rows.astype({c: object for c in rows.columns if c != "_row"}))
    for got in (arrow, plain):
        pd.testing.assert_frame_equal(got.report, want.report)
        pd.testing.assert_frame_equal(got.invoices, want.invoices)
        assert got.problems == want.problems and got.unreadable == want.unreadable
