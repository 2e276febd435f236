"""Reconcile with a bank export, end to end on the demo ledger: auto lines become receipts
appended to the Receipts sheet (and are allocated at once); a second run imports nothing new;
a suggested line confirmed by typing its customer_id into the Bank sheet is imported next run."""


import openpyxl
from python_calamine import CalamineWorkbook

from custledger import ops
from custledger.demo import write_demo
from custledger.io.filebook import FileBook


def rows(path, name):
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def test_bank_import_appends_receipts_once_and_takes_confirmations(tmp_path):
    ledger, bank, _ = write_demo(tmp_path, "zh")
    before = len(rows(ledger, "回款记录"))
    r1 = ops.run(FileBook(ledger), ["reconcile"], bank=bank)
    imported = r1.summary["receipts_imported"]
    assert imported > 50
    receipts = rows(ledger, "回款记录")
    assert len(receipts) == before + imported
    new_nos = {r[0] for r in receipts[before:]}
    alloc = rows(ledger, "核销明细")
    assert new_nos & {r[0] for r in alloc[1:]}, "imported receipts take part in the allocation at once"

    r2 = ops.run(FileBook(ledger), ["reconcile"], bank=bank)
    assert r2.summary["receipts_imported"] == 0
    assert len(rows(ledger, "回款记录")) == before + imported

    # confirm the first suggested line by typing a customer_id into the Bank sheet
    wb = openpyxl.load_workbook(ledger)
    ws = wb["银行流水匹配"]
    header = [c.value for c in ws[1]]
    status, confirm, cand = header.index("状态"), header.index("确认客户编号"), header.index("客户编号")
    target = next(r for r in ws.iter_rows(min_row=2) if r[status].value == "待确认")
    target[confirm].value = target[cand].value or "C0001"
    wb.save(ledger)
    r3 = ops.run(FileBook(ledger), ["reconcile"], bank=bank)
    assert r3.summary["receipts_imported"] == 1
    assert len(rows(ledger, "回款记录")) == before + imported + 1
