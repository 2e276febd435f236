"""import-invoices (DESIGN.md "Getting data in"): the tax platform's export appended to Invoices."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from custledger import ops
from custledger.core.errors import LedgerError
from custledger.core.invoice_import import map_invoices, valid_tax_id
from custledger.core.model import INVOICE_COLUMNS
from custledger.demo_data import make_demo
from custledger.io.filebook import FileBook
from custledger.io.invoicefile import read_invoice_file
from custledger.io.template import build_ledger
from invoice_export import export_rows, write_csv, write_old_xlsx, write_xlsx
from xlremote import xl_license  # noqa: F401  (fixture: the remote engine's key, tests only)

AS_OF = "2026-10-31"
GOOD_TAX = "91110108MA01C4XN4E"   # a valid unified social credit code (check digit E)


@pytest.fixture(scope="module")
def demo():
    return make_demo(customers=40, invoices=300, receipts=200)


def _ledger(path, data, invoices=True, settings=None):
    frames = {"customers": data.customers, "receipts": data.receipts, "interactions": data.interactions,
              "invoices": data.invoices if invoices else data.invoices.iloc[0:0]}
    build_ledger(path, "zh", data=frames, settings={**{k: str(v) for k, v in data.settings.items()},
                                                    **(settings or {})})
    return path


def _balances(path) -> pd.DataFrame:
    return pd.DataFrame(CalamineWorkbook.from_path(str(path)).get_sheet_by_name("对账余额").to_python()[1:])


def _sheet(path, name) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def _clean(path):
    """The ledger's clean frames (rows with errors left out), as the engine sees them."""
    return ops.pipeline.prepare(FileBook(path)).ledger


def test_round_trip_gives_the_same_balances_and_a_second_import_adds_nothing(tmp_path, demo):
    full = _ledger(tmp_path / "full.xlsx", demo)
    ops.run(FileBook(full), ["reconcile"])
    led = _clean(full)
    rows = export_rows(led.invoices, led.customers, void=3)
    export = write_xlsx(tmp_path / "全量发票查询导出.xlsx", rows, detail_first=True)
    assert any(r["是否正数发票"] == "否" for r in rows) and any(r["发票状态"] == "已红冲" for r in rows)

    empty = _ledger(tmp_path / "empty.xlsx", demo, invoices=False)
    report = ops.run(FileBook(empty), ["import_invoices", "reconcile"], invoices=export)
    assert report.summary["invoices_imported"] == len(led.invoices)
    # Balances of the same run and of a fresh run agree with the ledger that had them typed in
    want = _balances(full)
    pd.testing.assert_frame_equal(_balances(empty), want)
    ops.run(FileBook(empty), ["reconcile"])
    pd.testing.assert_frame_equal(_balances(empty), want)

    sheet = _sheet(empty, "发票导入")
    assert sheet[0] == ["单据编号", "开票日期", "购买方名称", "购买方税号", "价税合计", "客户编号", "状态", "说明"]
    status = [r[6] for r in sheet[1:]]
    assert len(sheet) - 1 == len(rows) and status.count("已导入") == len(led.invoices) and status.count("作废") == 3

    # appended below the typed rows, inside the sheet's table, kinds as a person types them
    wb = openpyxl.load_workbook(empty)
    ws = wb["销售单据"]
    table = next(iter(ws.tables.values()))
    assert table.ref.endswith(str(ws.max_row))
    kinds = {ws.cell(r, 4).value for r in range(2, ws.max_row + 1)}
    assert kinds == {"销售", "红字"} or kinds <= {"销售", "红字", None}

    before = ws.max_row
    again = ops.run(FileBook(empty), ["import_invoices", "reconcile"], invoices=export)
    assert again.summary["invoices_imported"] == 0
    assert openpyxl.load_workbook(empty)["销售单据"].max_row == before
    assert {r[6] for r in _sheet(empty, "发票导入")[1:]} == {"重复", "作废"}
    pd.testing.assert_frame_equal(_balances(empty), want)


def _customers():
    return pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4"],
                         "name": ["北京甲科技有限公司", "上海乙贸易有限公司", "同名公司", "同名公司"],
                         "aliases": ["", "乙贸易;乙公司", "", ""],
                         "tax_id": [GOOD_TAX, "", "", ""]})


def _rows(*rows):
    frame = pd.DataFrame([{**{"einvoice_no": "", "invoice_code": "", "invoice_no": "", "date": "2026-10-05 10:00:00",
                              "buyer_tax_id": "", "buyer_name": "", "total": "100", "status": "正常",
                              "positive": "是", "remark": ""}, **r} for r in rows])
    frame["_row"] = range(4, 4 + len(frame))
    return frame


def test_red_void_duplicate_unmatched_and_bad_tax_id_follow_the_contract():
    bad_tax = GOOD_TAX[:-1] + "C"
    res = map_invoices(_rows(
        {"einvoice_no": "26330000000000000001", "buyer_tax_id": GOOD_TAX, "buyer_name": "改过名的客户", "total": "1130"},
        {"einvoice_no": "26330000000000000002", "buyer_name": "乙公司", "total": "-113", "positive": "否",
         "remark": "被红冲蓝字数电票号码：26330000000000000001 原因:退货"},
        {"einvoice_no": "26330000000000000003", "buyer_name": "北京甲科技有限公司", "status": "作废"},
        {"einvoice_no": "OLD-1", "buyer_name": "北京甲科技有限公司"},
        {"einvoice_no": "26330000000000000001", "buyer_name": "北京甲科技有限公司"},
        {"einvoice_no": "26330000000000000005", "buyer_name": "同名公司"},
        {"einvoice_no": "26330000000000000006", "buyer_name": "不认识的公司"},
        {"einvoice_no": "26330000000000000007", "buyer_tax_id": bad_tax, "buyer_name": "北京甲科技有限公司"},
        {"einvoice_no": "26330000000000000008", "buyer_name": "上海乙贸易有限公司", "status": "已红冲"},
        {"einvoice_no": "26330000000000000009", "buyer_name": "乙贸易", "total": "50", "positive": "否"},
        {"invoice_code": "044001900111", "invoice_no": "00012345", "buyer_name": "乙贸易", "total": "-20",
         "remark": "对应正数发票代码:044001900111号码:00012000"},
        {"buyer_name": "合计", "total": "99999", "date": ""},
    ), _customers(), ["OLD-1"], "export.xlsx", "zh", {"buyer_tax_id": "购方识别号"})
    r = res.report
    assert r["status"].tolist() == ["imported", "imported", "void", "duplicate", "duplicate", "unmatched",
                                    "unmatched", "error", "imported", "imported", "imported"]
    assert r["customer_id"].tolist()[:2] == ["C1", "C2"]  # by tax id even though the name changed
    assert "C3" in r["note"][5] and "C4" in r["note"][5]
    new = res.invoices.set_index("doc_no")
    assert new.loc["26330000000000000002", ["kind", "amount", "ref_doc"]].tolist() == \
        ["credit_note", 11300, "26330000000000000001"]
    assert new.loc["26330000000000000009", ["kind", "amount", "ref_doc"]].tolist() == ["credit_note", 5000, ""]
    assert new.loc["04400190011100012345", ["kind", "amount", "ref_doc"]].tolist() == \
        ["credit_note", 2000, "04400190011100012000"]
    assert new.loc["26330000000000000008", "kind"] == "invoice"        # 已红冲 blue: imported as issued
    assert new.loc["26330000000000000001", "date"] == pd.Timestamp("2026-10-05")
    assert res.problems and res.problems[0]["row"] == 11 and res.problems[0]["column"] == "购方识别号"
    assert res.unreadable is None
    assert list(res.invoices.columns) == [c for c in ["doc_no", "date", "customer_id", "kind", "amount", "ref_doc",
                                                      "notes"] if c in INVOICE_COLUMNS]


def test_tax_id_check_digit():
    assert valid_tax_id(GOOD_TAX) and not valid_tax_id(GOOD_TAX[:-1] + "C")
    assert valid_tax_id("110108123456789")  # an old 15-digit number: nothing to check


def test_an_amount_that_is_not_money_names_row_and_column():
    res = map_invoices(_rows({"einvoice_no": "1", "buyer_name": "同名公司"},
                             {"einvoice_no": "2", "buyer_name": "同名公司", "total": "12元5"}),
                       _customers(), [], "x.csv", "zh", {"total": "价税合计"})
    assert res.unreadable["row"] == 5 and res.unreadable["column"] == "价税合计"


def _small_ledger(tmp_path, **settings):
    customers = pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["北京甲科技有限公司", "上海乙贸易有限公司"],
                              "tax_id": [GOOD_TAX, ""], "payment_terms": [30, 30]})
    invoices = pd.DataFrame({"doc_no": ["T-1"], "date": ["2026-09-01"], "customer_id": ["C2"], "kind": ["销售"],
                             "amount": [500.0]})
    receipts = pd.DataFrame({"receipt_no": ["R1"], "date": ["2026-10-20"], "customer_id": ["C1"],
                             "amount": [1125.0], "method": ["转账"]})
    path = tmp_path / "ledger.xlsx"
    build_ledger(path, "zh", data={"customers": customers, "invoices": invoices, "receipts": receipts},
                 settings={"as_of": AS_OF, **settings})
    return path


def _rows_file(tmp_path, name="export.xlsx", **over):
    rows = [{"数电票号码": "26330000000000000101", "购方识别号": GOOD_TAX, "购买方名称": "北京甲科技有限公司",
             "开票日期": "2026-10-05 10:00:00", "金额": 1000, "税额": 130, "价税合计": 1130, "发票状态": "正常",
             "是否正数发票": "是", "备注": "=HYPERLINK(\"http://x\")"}]
    rows[0].update(over)
    return write_xlsx(tmp_path / name, rows)


def test_short_payment_within_tolerance_is_written_off_through_the_command_line(tmp_path):
    path = _small_ledger(tmp_path, write_off_tolerance="5")
    export = _rows_file(tmp_path)
    done = subprocess.run([sys.executable, "-m", "custledger.cli", "import-invoices", str(path), str(export),
                           "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    bal = {r[0]: r for r in _balances(path).itertuples(index=False)}
    assert bal["C1"][8] == 0 and bal["C1"][12] == 5.0            # 1,130 − 1,125 received − 5 written off
    alloc = _sheet(path, "核销明细")
    assert ["", "尾差核销", "26330000000000000101", "C1", 5.0, "尾差核销"] in [r[:6] for r in alloc]
    # beyond the tolerance: nothing written off
    path2 = _small_ledger(tmp_path, write_off_tolerance="4.99")
    ops.run(FileBook(path2), ["import_invoices", "reconcile"], invoices=export)
    bal2 = {r[0]: r for r in _balances(path2).itertuples(index=False)}
    assert bal2["C1"][8] == 5.0 and bal2["C1"][12] == 0
    # the remark starting with = is text in the workbook, never a formula
    ws = openpyxl.load_workbook(path)["销售单据"]
    assert all(not (isinstance(c.value, str) and c.data_type == "f") for row in ws.iter_rows() for c in row)


def test_csv_in_gbk_and_utf8_and_the_older_export(tmp_path):
    rows = [{"数电票号码": "26330000000000000201", "购方识别号": "", "购买方名称": "上海乙贸易有限公司",
             "开票日期": "2026-10-06 09:00:00", "价税合计": "2,260.00", "发票状态": "正常", "是否正数发票": "是"}]
    for enc in ("gbk", "utf-8-sig"):
        got = read_invoice_file(write_csv(tmp_path / f"e_{enc}.csv", rows, enc))
        assert got.rows["buyer_name"].tolist() == ["上海乙贸易有限公司"] and got.rows["_row"].tolist() == [3]
    old = write_old_xlsx(tmp_path / "old.xlsx", [
        {"发票代码": "3300191130", "发票号码": "01234567", "购方税号": GOOD_TAX, "购方名称": "北京甲科技有限公司",
         "开票日期": "2026-10-07", "价税合计": 565.0, "发票状态": "正常"}])
    path = _small_ledger(tmp_path)
    ops.run(FileBook(path), ["import_invoices"], invoices=old)
    ws = openpyxl.load_workbook(path)["销售单据"]
    assert [c.value for c in ws[3]][:3] == ["330019113001234567", ws.cell(3, 2).value, "C1"]


def test_bad_inputs_stop_before_anything_is_written(tmp_path):
    path = _small_ledger(tmp_path)
    before = path.read_bytes()
    not_export = tmp_path / "bank.csv"
    not_export.write_text("交易日期,收入金额\n2026-10-01,100\n", encoding="utf-8")
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(_rows_file(tmp_path, "ok.xlsx").read_bytes()[:1500])
    bad_amount = _rows_file(tmp_path, "bad_amount.xlsx", 价税合计="一千")
    bad_date = _rows_file(tmp_path, "bad_date.xlsx", 开票日期="昨天")
    for f, words in ((not_export, ["bank.csv", "开票日期"]), (damaged, ["damaged.xlsx"]),
                     (bad_amount, ["bad_amount.xlsx", "第 4 行", "价税合计", "一千"]),
                     (bad_date, ["bad_date.xlsx", "第 4 行", "开票日期"]),
                     (tmp_path / "missing.xlsx", ["missing.xlsx"])):
        done = subprocess.run([sys.executable, "-m", "custledger.cli", "import-invoices", str(path), str(f)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 2, (f, done.stderr)
        line = done.stderr.strip()
        assert len(line.splitlines()) == 1 and "Traceback" not in line and all(w in line for w in words), line
        assert path.read_bytes() == before
    with pytest.raises(LedgerError):
        read_invoice_file(damaged)
    assert zipfile.is_zipfile(_rows_file(tmp_path, "fine.xlsx"))


def test_a_bad_tax_id_is_a_problems_row_and_the_rest_is_imported(tmp_path):
    path = _small_ledger(tmp_path)
    rows = [{"数电票号码": "26330000000000000301", "购方识别号": GOOD_TAX[:-1] + "C", "购买方名称": "北京甲科技有限公司",
             "开票日期": "2026-10-05", "价税合计": 100, "发票状态": "正常", "是否正数发票": "是"},
            {"数电票号码": "26330000000000000302", "购方识别号": "", "购买方名称": "上海乙贸易有限公司",
             "开票日期": "2026-10-05", "价税合计": 200, "发票状态": "正常", "是否正数发票": "是"}]
    export = write_xlsx(tmp_path / "e.xlsx", rows)
    report = ops.run(FileBook(path), ["import_invoices"], invoices=export)
    assert report.summary["invoices_imported"] == 1
    problems = _sheet(path, "校验结果")
    hit = [r for r in problems if r[0] == "e.xlsx"]
    assert hit and hit[0][1] == 4 and hit[0][2] == "购方识别号" and "校验位" in hit[0][4]


def test_import_button_through_xlwings_appends_like_the_cli(tmp_path, xl_license):
    import shutil

    from custledger import xl
    from custledger.schema import msg
    from xlremote import LoglessFileBook, apply_actions, remote_book

    path = _small_ledger(tmp_path)
    export = _rows_file(tmp_path)
    book = remote_book(path, "VBA")
    assert xl.import_invoices(book) is None                                  # no file: says so, no traceback
    alerts = [a["args"][0] for a in book.json()["actions"] if a["func"] == "alert"]
    assert alerts == [msg("invoice_file_needed", "zh")]
    cli = tmp_path / "cli.xlsx"
    shutil.copyfile(path, cli)
    ops.run(LoglessFileBook(cli), ["import_invoices", "reconcile"], invoices=export)
    book = remote_book(path, "VBA")
    report = xl.import_invoices(book, file=str(export))
    assert report is not None and report.summary["invoices_imported"] == 1
    out = tmp_path / "xl.xlsx"
    apply_actions(book.json()["actions"], path, out, "VBA")
    a, b = openpyxl.load_workbook(cli)["销售单据"], openpyxl.load_workbook(out)["销售单据"]
    assert [[c.value for c in r] for r in a.iter_rows()] == [[c.value for c in r] for r in b.iter_rows()]
    assert "26330000000000000101" in [c.value for r in b.iter_rows() for c in r]
