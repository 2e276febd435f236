"""import-invoices whose results are not saved in the ledger itself: with --out the invoices go
to the copy and the note says the ledger is unchanged; when the ledger cannot be rewritten and
the results go to a workbook of their own, the note says the invoices were not added."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import openpyxl
import pandas as pd

from custledger import ops
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from custledger.schema import msg
from invoice_export import write_xlsx

GOOD_TAX = "91110108MA01C4XN4E"


def _ledger(path, lang="zh"):
    build_ledger(path, lang, data={
        "customers": pd.DataFrame({"customer_id": ["C1"], "name": ["北京甲科技有限公司"], "tax_id": [GOOD_TAX],
                                   "payment_terms": [30]}),
        "invoices": pd.DataFrame({"doc_no": ["T-1"], "date": ["2026-09-01"], "customer_id": ["C1"],
                                  "amount": [500.0]})}, settings={"as_of": "2026-10-31"})
    return path


def _export(tmp_path):
    return write_xlsx(tmp_path / "export.xlsx", [
        {"数电票号码": "26330000000000000101", "购方识别号": GOOD_TAX, "购买方名称": "北京甲科技有限公司",
         "开票日期": "2026-10-05", "价税合计": 1130, "发票状态": "正常", "是否正数发票": "是"},
        {"数电票号码": "26330000000000000102", "购方识别号": GOOD_TAX, "购买方名称": "北京甲科技有限公司",
         "开票日期": "2026-10-06", "价税合计": 226, "发票状态": "正常", "是否正数发票": "是"}])


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _doc_nos(path, sheet):
    ws = openpyxl.load_workbook(path)[sheet]
    return [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)]


def test_with_out_the_invoices_are_in_the_copy_and_the_note_says_the_ledger_is_unchanged(tmp_path):
    path, export = _ledger(tmp_path / "台账.xlsx"), _export(tmp_path)
    before = _digest(path)
    copy = tmp_path / "副本.xlsx"
    done = subprocess.run([sys.executable, "-m", "custledger.cli", "import-invoices", str(path), str(export),
                           "--out", str(copy)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _digest(path) == before
    assert _doc_nos(copy, "销售单据") == ["T-1", "26330000000000000101", "26330000000000000102"]
    note = msg("invoice_import_in_copy", "zh", imported=2, out="副本.xlsx", path="台账.xlsx")
    assert note.split("(")[0] in done.stdout.replace("\n", "")

    # in place: no such note
    report = ops.run(FileBook(path), ["import_invoices"], invoices=export)
    assert report.summary["invoices_imported"] == 2
    assert not [n for n in report.notes if "副本" in n or "未能保存" in n]


def test_results_saved_elsewhere_say_the_invoices_were_not_added(tmp_path, monkeypatch):
    from custledger.io import xlsxpatch

    def cannot_keep(*a, **k):
        raise xlsxpatch.XlsxPatchError("a structure this writer cannot keep")

    for lang, sheet in (("zh", "销售单据"), ("en", "Invoices")):
        path, export = _ledger(tmp_path / f"{lang}.xlsx", lang), _export(tmp_path)
        before = _digest(path)
        with monkeypatch.context() as m:
            m.setattr(xlsxpatch, "patch_workbook", cannot_keep)
            report = ops.run(FileBook(path), ["import_invoices"], invoices=export)
        assert report.target.endswith("custledger-results.xlsx")
        assert _digest(path) == before and _doc_nos(path, sheet) == ["T-1"]
        want = msg("invoice_import_not_saved", lang, imported=2, out=f"{lang}.custledger-results.xlsx")
        assert want in report.notes, report.notes


def test_nothing_imported_says_nothing_more(tmp_path):
    path, export = _ledger(tmp_path / "台账.xlsx"), _export(tmp_path)
    ops.run(FileBook(path), ["import_invoices"], invoices=export)
    again = ops.run(FileBook(path, out=tmp_path / "c.xlsx"), ["import_invoices"], invoices=export)
    assert again.summary["invoices_imported"] == 0
    assert not [n for n in again.notes if "c.xlsx" in n]
