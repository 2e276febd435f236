"""Benchmark: `custledger import-invoices` of a large e-invoice export next to its I/O floor.

    python benchmarks/invoice_import_bench.py [--rows 100000] [--customers 2000] [--dir DIR]

Data: a ledger with ``--customers`` customers (valid tax ids, unique names) and no invoices, and
a realistic 全量发票查询导出 (tests/invoice_export.py: 信息汇总表 with title rows, then the 发票明细
item sheet) of ``--rows`` invoices over those customers — about 3 % red invoices naming their
blue one, 1 % void, a tenth of the buyers without a tax id (matched by name).

Measured, each in a fresh process on a fresh copy of the ledger (the machine is shared: compare
ratios of the same run, and note the load printed next to them):

  floor_read    fastexcel reads the 信息汇总表 sheet as text (the export's invoice rows)
  floor_write   the append write alone: the same number of rows appended to Invoices with
                io/xlsxpatch (RowAppend, the XML-level append of bank receipts), saved
  floor_lib     the library floor of writing them (docs/perf-floor.md): xlsxwriter, constant_memory,
                the same rows and cell types (text, date, money) to a new workbook
  floor         floor_read + floor_write; floor (library) = floor_read + floor_lib
  import        `custledger import-invoices LEDGER EXPORT` (read the ledger, read and map the
                export, append, Invoice Import sheet, reconcile, Problems, save)

floor_write is this project's own code, so it moves when the append gets faster; floor_lib does
not. Target (issue 14): import ≤ 1.5 × the time to read and write the rows with the library
floor; both ratios are printed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE.parent / "pylib"))
from run import child  # noqa: E402  (benchmarks/run.py: fresh process, wall time, max RSS)

FLOOR_READ = """
import fastexcel
r = fastexcel.read_excel(argv[0])
result["rows"] = len(r.load_sheet("信息汇总表", header_row=None, dtypes="string").to_pandas())
"""

# the rows both write floors write: what 100,000 imported invoices look like in Invoices
ROWS = """
import numpy as np, pandas as pd
n = int(argv[-1])
rows = pd.DataFrame({
    "doc_no": [f"2633200000{i:010d}" for i in range(n)],
    "date": np.full(n, np.datetime64("2026-10-05", "ns")),
    "customer_id": [f"C{i % 2000:05d}" for i in range(n)],
    "kind": ["销售"] * n, "amount": np.arange(n, dtype="int64") + 100,
    "ref_doc": [""] * n, "notes": ["导入自 export.xlsx"] * n})
"""

FLOOR_WRITE = ROWS + """
from pathlib import Path
from custledger.io.xlsxpatch import RowAppend, patch_workbook
cols = {"doc_no": "A", "date": "B", "customer_id": "C", "kind": "D", "amount": "H", "ref_doc": "J", "notes": "L"}
kinds = {"doc_no": "id", "date": "date", "customer_id": "ref", "kind": "enum", "amount": "money", "ref_doc": "ref",
         "notes": "text"}
ra = RowAppend(sheet="销售单据", columns=cols, kinds=kinds, rows=rows, header_row=1)
patch_workbook(Path(argv[0]), Path(argv[1]), lambda wb: None, [], appends=[ra])
"""

FLOOR_LIB = ROWS + """
import xlsxwriter
wb = xlsxwriter.Workbook(argv[0], {"constant_memory": True})
ws = wb.add_worksheet("销售单据")
date_fmt, money_fmt = wb.add_format({"num_format": "yyyy-mm-dd"}), wb.add_format({"num_format": "#,##0.00"})
ws.write_row(0, 0, ["单据编号", "日期", "客户编号", "类型", "", "", "", "金额", "", "", "", "备注"])
doc, cust, kind, notes = (rows[k].tolist() for k in ("doc_no", "customer_id", "kind", "notes"))
dates, amounts = rows["date"].dt.to_pydatetime(), (rows["amount"] / 100).tolist()
for i in range(n):  # the library's own way: one call per cell (ref_doc is blank: no cell)
    r = i + 1
    ws.write_string(r, 0, doc[i])
    ws.write_datetime(r, 1, dates[i], date_fmt)
    ws.write_string(r, 2, cust[i])
    ws.write_string(r, 3, kind[i])
    ws.write_number(r, 7, amounts[i], money_fmt)
    ws.write_string(r, 11, notes[i])
wb.close()
"""

OP = """
from custledger.cli import app
try:
    app(["import-invoices", argv[0], argv[1]], standalone_mode=False)
except SystemExit:
    pass
"""


def make_data(folder: Path, rows: int, customers: int, seed: int = 14) -> tuple[Path, Path]:
    import pandas as pd
    from invoice_export import write_xlsx

    from custledger.demo_data import make_uscc
    from custledger.io.template import build_ledger

    r = random.Random(seed)
    ids = [f"C{i:05d}" for i in range(customers)]
    names = [f"演示客户{i:05d}科技有限公司" for i in range(customers)]
    taxes = [make_uscc("91", "330106", f"{10000000 + i * 7:08d}") for i in range(customers)]
    ledger = folder / "ledger.xlsx"
    build_ledger(ledger, "zh", data={"customers": pd.DataFrame({
        "customer_id": ids, "name": names, "tax_id": taxes, "payment_terms": [30] * customers})},
        settings={"as_of": "2026-10-31"})
    out = []
    for k in range(rows):
        c = r.randrange(customers)
        red = k > 10 and r.random() < 0.03
        total = r.randrange(10_000, 5_000_000)
        out.append({
            "序号": k + 1, "数电票号码": f"2633200000{k:010d}", "销方识别号": "91330106MA2KXXXX0Q",
            "销方名称": "杭州演示贸易有限公司", "购方识别号": "" if r.random() < 0.1 else taxes[c],
            "购买方名称": names[c], "开票日期": f"2026-{1 + k % 10:02d}-{1 + k % 28:02d} 10:{k % 60:02d}:00",
            "金额": round(total / 1.13) / 100, "税额": (total - round(total / 1.13)) / 100,
            "价税合计": (-total if red else total) / 100, "发票来源": "电子发票服务平台", "发票票种": "数电发票(普通发票)",
            "发票状态": "作废" if r.random() < 0.01 else "正常", "是否正数发票": "否" if red else "是",
            "发票风险等级": "正常", "开票人": "王会计",
            "备注": f"被红冲蓝字数电票号码：2633200000{r.randrange(k):010d}" if red else "",
        })
    export = write_xlsx(folder / "全量发票查询导出.xlsx", out)
    return ledger, export


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--reuse", action="store_true", help="keep the ledger and export already in --dir")
    a = ap.parse_args()
    folder = a.dir or Path(tempfile.mkdtemp(prefix="custledger-invoices-"))
    folder.mkdir(parents=True, exist_ok=True)
    ledger, export = folder / "ledger.xlsx", folder / "全量发票查询导出.xlsx"
    if not (a.reuse and ledger.exists() and export.exists()):
        ledger, export = make_data(folder, a.rows, a.customers)
    load = os.getloadavg()
    fig = {}
    fig["floor_read"] = child(FLOOR_READ, str(export))
    copy = folder / "floor_copy.xlsx"
    fig["floor_write"] = child(FLOOR_WRITE, str(ledger), str(copy), str(a.rows))
    fig["floor_lib"] = child(FLOOR_LIB, str(folder / "floor_lib.xlsx"), str(a.rows))
    work = folder / "work.xlsx"
    shutil.copy(ledger, work)
    fig["import"] = child(OP, str(work), str(export))
    floor = fig["floor_read"]["seconds"] + fig["floor_write"]["seconds"]
    floor_lib = fig["floor_read"]["seconds"] + fig["floor_lib"]["seconds"]
    load_after = os.getloadavg()
    print(f"export: {a.rows:,} invoice rows, {export.stat().st_size / 1e6:.1f} MB; ledger: {a.customers:,} customers")
    print(f"load average before {load[0]:.2f}, after {load_after[0]:.2f} (2 cores)")
    for k in ("floor_read", "floor_write", "floor_lib"):
        print(f"{k:<12} {fig[k]['seconds']:>8.2f} s   peak {fig[k]['peak_mb']} MB")
    print(f"{'floor':<12} {floor:>8.2f} s   (read + RowAppend write)")
    print(f"{'floor (lib)':<12} {floor_lib:>8.2f} s   (read + xlsxwriter write)")
    imp = fig["import"]
    print(f"{'import':<12} {imp['seconds']:>8.2f} s   {imp['seconds'] / floor:.2f}x floor, "
          f"{imp['seconds'] / floor_lib:.2f}x library floor   peak {imp['peak_mb']} MB   (target ≤ 1.5x)")


if __name__ == "__main__":
    main()
