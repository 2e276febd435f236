"""A realistic e-invoice platform export (全量发票查询导出) written from a ledger's Invoices, for tests
and benchmarks.

Layout as the platform writes it: sheet 信息汇总表 (one row per invoice) with a title row and an
export-time row above the header, then 发票明细 (item lines, an invoice repeated on each line);
numbers and tax ids as text, 开票日期 as text with a time, amounts as numbers. Credit notes
become red invoices (是否正数发票 否, negative 价税合计, 备注 被红冲蓝字数电票号码：N) and the blue
invoices they name are marked 已红冲; ``void`` extra invoices are added with status 作废.
The same rows can be written as a GBK / UTF-8 CSV, and as the older 增值税发票 export
(发票代码 + 发票号码, red invoices' 备注 对应正数发票代码:C号码:N).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

SUMMARY_HEADER = ["序号", "发票代码", "发票号码", "数电票号码", "销方识别号", "销方名称", "购方识别号", "购买方名称",
                  "开票日期", "金额", "税额", "价税合计", "发票来源", "发票票种", "发票状态", "是否正数发票",
                  "发票风险等级", "开票人", "备注"]
DETAIL_HEADER = ["序号", "数电票号码", "销方识别号", "购方识别号", "购买方名称", "开票日期", "税收分类编码",
                 "货物或应税劳务名称", "数量", "单价", "金额", "税率", "税额", "价税合计"]
SELLER_ID = "91330106MA2KXXXX0Q"
SELLER = "杭州演示贸易有限公司"


def _valid(tax_id: str) -> bool:
    from stdnum.cn import uscc

    return bool(tax_id) and uscc.is_valid(tax_id)


def export_rows(invoices: pd.DataFrame, customers: pd.DataFrame, void: int = 2) -> list[dict]:
    """One dict per invoice row of the export (SUMMARY_HEADER keys), from clean ledger frames
    (amount int cents; kind invoice | credit_note). The buyer's tax id is the customer's when
    it is a valid code (the platform holds no invalid ones), else blank."""
    cust = customers.drop_duplicates("customer_id").set_index("customer_id")
    reversed_docs = set(invoices.loc[invoices["kind"] == "credit_note", "ref_doc"].fillna("").astype(str))
    out = []
    records = invoices.to_dict("records")
    for k, r in enumerate(records):
        c = cust.loc[r["customer_id"]] if r["customer_id"] in cust.index else None
        tax = str(c["tax_id"]) if c is not None and isinstance(c["tax_id"], str) and _valid(c["tax_id"]) else ""
        name = str(c["name"]) if c is not None else ""
        red = r["kind"] == "credit_note"
        total = -abs(int(r["amount"])) if red else int(r["amount"])
        net = round(total / 1.13)
        ref = str(r.get("ref_doc") or "")
        out.append({
            "序号": k + 1, "发票代码": "", "发票号码": "", "数电票号码": str(r["doc_no"]), "销方识别号": SELLER_ID,
            "销方名称": SELLER, "购方识别号": tax, "购买方名称": name,
            "开票日期": f"{pd.Timestamp(r['date']):%Y-%m-%d} {9 + k % 9:02d}:{k % 60:02d}:{(7 * k) % 60:02d}",
            "金额": net / 100, "税额": (total - net) / 100, "价税合计": total / 100, "发票来源": "电子发票服务平台",
            "发票票种": "数电发票(增值税专用发票)" if k % 3 else "数电发票(普通发票)",
            "发票状态": "已红冲" if str(r["doc_no"]) in reversed_docs else "正常", "是否正数发票": "否" if red else "是",
            "发票风险等级": "正常", "开票人": "王会计", "备注": f"被红冲蓝字数电票号码：{ref}" if red and ref else "",
        })
    base = records[0] if records else {"date": "2026-01-01", "customer_id": "", "amount": 100}
    for v in range(void):
        row = dict(out[v % len(out)]) if out else {h: "" for h in SUMMARY_HEADER}
        row.update({"序号": len(out) + 1, "数电票号码": f"2633200000099999{v:04d}", "发票状态": "作废",
                    "是否正数发票": "是", "价税合计": abs(float(row.get("价税合计") or base["amount"] / 100)),
                    "备注": ""})
        out.append(row)
    return out


def _part(total, share):
    return total * share if isinstance(total, (int, float)) else total


def write_xlsx(path: Path, rows: list[dict], detail_first: bool = False, title_rows: int = 2) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    bold = wb.add_format({"bold": True})

    def summary():
        ws = wb.add_worksheet("信息汇总表")
        r = 0
        if title_rows >= 1:
            ws.write_string(r, 0, "全量发票查询导出结果", bold)
            r += 1
        if title_rows >= 2:
            ws.write_string(r, 0, "导出时间：2026-11-01 09:12:30")
            r += 1
        for j, h in enumerate(SUMMARY_HEADER):
            ws.write_string(r, j, h, bold)
        for i, row in enumerate(rows, start=r + 1):
            for j, h in enumerate(SUMMARY_HEADER):
                v = row.get(h, "")
                if isinstance(v, (int, float)) and h not in ("数电票号码", "发票号码", "发票代码"):
                    ws.write_number(i, j, v)
                elif v != "":
                    ws.write_string(i, j, str(v))

    def detail():
        ws = wb.add_worksheet("发票明细")
        ws.write_string(0, 0, "发票明细", bold)
        for j, h in enumerate(DETAIL_HEADER):
            ws.write_string(1, j, h, bold)
        i = 2
        for row in rows:
            for part in (0.5, 0.5):  # two item lines per invoice: the same number twice
                values = [i - 1, row["数电票号码"], SELLER_ID, row["购方识别号"], row["购买方名称"], row["开票日期"],
                          "1090511", "*服务*技术服务", 1, 0, 0, "13%", 0, _part(row["价税合计"], part)]
                for j, v in enumerate(values):
                    ws.write(i, j, v)
                i += 1

    for make in ((detail, summary) if detail_first else (summary, detail)):
        make()
    wb.close()
    return path


def write_csv(path: Path, rows: list[dict], encoding: str = "gbk") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["全量发票查询导出结果"])
    w.writerow(SUMMARY_HEADER)
    for row in rows:
        w.writerow([row.get(h, "") for h in SUMMARY_HEADER])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


OLD_HEADER = ["发票代码", "发票号码", "购方税号", "购方名称", "开票日期", "金额", "税额", "价税合计", "发票状态", "备注"]


def write_old_xlsx(path: Path, rows: list[dict]) -> Path:
    """The older 增值税发票 export: 发票代码 + 发票号码; rows hold those two and the other keys."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("发票信息")
    ws.write_string(0, 0, "增值税发票开具情况")
    for j, h in enumerate(OLD_HEADER):
        ws.write_string(1, j, h)
    for i, row in enumerate(rows, start=2):
        for j, h in enumerate(OLD_HEADER):
            v = row.get(h, "")
            if isinstance(v, (int, float)):
                ws.write_number(i, j, v)
            elif v != "":
                ws.write_string(i, j, str(v))
    wb.close()
    return path
