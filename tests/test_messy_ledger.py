"""An accountant's own workbook, as messy as they come: a merged title above the header, units
in the headers, a 序号 column and other columns of their own, blank rows, a total row, sheet
names of their own, dates and amounts typed every which way. The close runs on it and the
money comes out right, computed by hand here."""

import datetime as dt

import openpyxl
from openpyxl.styles import Font, PatternFill
from python_calamine import CalamineWorkbook

from custledger import ops
from custledger.io.filebook import FileBook


def build(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户台账"
    ws.append(["2026年 客户管理卡"])
    ws.merge_cells("A1:F1")
    ws["A1"].font = Font(bold=True, size=16)
    ws.append([])
    ws.append(["序号", "客户名称", "客户编号", "联系人", "手机", "账期（天）", "信用额度(元)", "我的备注"])
    ws.append([1, "杭州恒昌机电设备有限公司", "HC01", "王伟", "13812345678", 30, "50,000", "老客户"])
    ws.append([2, "宁波海达贸易有限公司", "HD02", "李娜", "139 0574 1234", None, None, ""])
    ws.append([])
    ws.append([3, "温州个体户张三", "ZS03", "张三", "", "15", "", "个人"])
    for c in ws[3]:
        c.fill = PatternFill("solid", fgColor="FFFF00")

    ws = wb.create_sheet("销售明细")
    ws.append(["销售明细表(单位:元)"])
    ws.append(["序号", "开票日期", "发票号", "客户编号", "品名", "数量（件）", "单价(元)", "价税合计(元)", "单据类型"])
    ws.append([1, dt.date(2026, 8, 1), "FP-001", "HC01", "电机", 10, 1200, 12000, "销售"])
    ws.append([2, "2026/8/15", "FP-002", "HC01", "电机", 5, 1200, None, "销售"])          # amount from q × p
    ws.append([3, "2026年9月1日", "FP-003", "HD02", "配件", None, None, "¥8,500.50", ""])   # blank kind = invoice
    ws.append([4, "20260920", "FP-004", "ZS03", "维修", None, None, "３００.００", "销售"])  # full-width digits
    ws.append([5, "2026-09-25", "HZ-001", "HC01", "退货", None, None, -2000, "红字"])       # credit note, negative
    ws.append([])
    ws.append(["合计", None, None, None, None, None, None, 24800.5, None])

    ws = wb.create_sheet("收款明细")
    ws.append(["收款日期", "收款单号", "付款单位", "客户编号", "收款金额（元）", "摘要", "银行流水号"])
    ws.append(["2026-08-20", "SK-1", "杭州恒昌机电设备有限公司", "HC01", "12,000.00", "货款 FP-001", "B001"])
    ws.append(["2026-09-10", "SK-2", "海达贸易", "", 5000, "", ""])                       # payer only: alias? no
    ws.append(["2026-09-12", "SK-3", "宁波海达贸易有限公司", "", "3,500.50", "FP-003尾款", ""])

    ws = wb.create_sheet("参数设置")
    ws.append(["项目", "取值"])
    ws.append(["基准日", "2026-10-31"])
    ws.append(["公司名称", "杭州启明工贸有限公司"])
    wb.save(path)


def test_close_on_an_accountants_messy_workbook(tmp_path):
    path = tmp_path / "我的台账.xlsx"
    build(path)
    steps = [s for s in ops.STEP_ORDER if s in ops.STEPS and s != "card"]
    report = ops.run(FileBook(path), steps, month="2026-09", processes=1)
    wb = CalamineWorkbook.from_path(str(path))
    problems = wb.get_sheet_by_name("校验结果").to_python()
    # SK-2's payer "海达贸易" names no customer exactly or by normalized name: the one error
    assert report.exit_code == 1
    errors = [r for r in problems[1:] if r[5] == "错误"]
    assert len(errors) == 1 and errors[0][0] == "收款明细" and errors[0][1] == 3, errors
    assert report.summary["invoices"] == 5 and report.summary["receipts"] == 2 and report.summary["customers"] == 3

    bal = {r[0]: r for r in wb.get_sheet_by_name("对账余额").to_python()[1:]}
    # HC01: 12,000 + 6,000 (5 × 1,200) − 2,000 credit − 12,000 received = 4,000
    assert bal["HC01"][8] == 4000.0
    # HD02: 8,500.50 − 3,500.50 (SK-3 matched by its payer's full name) = 5,000 (SK-2 left out)
    assert bal["HD02"][8] == 5000.0
    # ZS03: 300.00 typed in full-width digits
    assert bal["ZS03"][8] == 300.0
    overdue = {r[0]: r for r in wb.get_sheet_by_name("逾期清单").to_python()[1:]}
    # FP-002 (2026-08-15, 30 days → due 09-14) is 47 days overdue at 10-31: 6,000 − the 2,000 credit
    assert "FP-002" in overdue and overdue["FP-002"][7] == 47
    # the person's sheets: their own columns, fill and merged title untouched
    wb2 = openpyxl.load_workbook(path)
    assert wb2["客户台账"]["H4"].value == "老客户" and wb2["客户台账"]["A3"].fill.fgColor.rgb.endswith("FFFF00")
    assert "A1:F1" in [str(r) for r in wb2["客户台账"].merged_cells.ranges]
    assert report.summary["statements"] == 0          # an error in the ledger: no statements go out
    report = ops.run(FileBook(path), ["statements"], month="2026-09", processes=1, allow_errors=True)
    st = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("对账单汇总").to_python()
    assert len(st) == 1 + 3   # every customer with activity in September or a balance
