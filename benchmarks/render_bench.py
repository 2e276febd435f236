"""Benchmark: one statement file, filled from the template, against the floor of writing it.

    python benchmarks/render_bench.py [--customers 240 --invoices 3000 --receipts 2400]

Generates a ledger (generate.py), computes the month's statements, then times per file:
``fill``  render/template_fill.fill with the template's Layout read once (render/statement
          layout_for: the template is parsed once per process, never per customer);
``floor`` xlsxwriter writing the same cells (values, a money/date/text format, one sheet) with no
          template logic: what writing that file costs at the least with this library.
Prints ms per file, the ratio and the machine's load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402


def floor_file(path: Path, values: dict, tables: dict) -> None:
    import xlsxwriter

    from custledger.render.template_fill import WORKBOOK_OPTIONS

    wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    ws = wb.add_worksheet("statement")
    money = wb.add_format({"num_format": "#,##0.00", "border": 1})
    date = wb.add_format({"num_format": "yyyy-mm-dd", "border": 1})
    text = wb.add_format({"border": 1})

    def put(r, c, x):
        if x is None or x == "":
            return
        if isinstance(x, float):
            ws.write_number(r, c, x, money)
        elif isinstance(x, (dt.date, dt.datetime)):
            ws.write_datetime(r, c, x, date)
        else:
            ws.write_string(r, c, str(x), text)
    r = 0
    for k, x in values.items():
        put(r, 0, k)
        put(r, 1, x)
        r += 1
    for rows in tables.values():
        for row in rows:
            for c, x in enumerate(row.values()):
                put(r, c, x)
            r += 1
    wb.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=240)
    ap.add_argument("--invoices", type=int, default=3000)
    ap.add_argument("--receipts", type=int, default=2400)
    ap.add_argument("--month", default="2026-10")
    a = ap.parse_args(argv)
    from custledger.core.statements import month_statements
    from custledger.io.filebook import FileBook
    from custledger.ops.pipeline import prepare
    from custledger.render import statement as S
    from custledger.render.template_fill import fill

    with tempfile.TemporaryDirectory(prefix="custledger-bench-") as tmp:
        out = Path(tmp)
        ledger = out / "ledger.xlsx"
        generate.write_xlsx(ledger, generate.build(a.customers, a.invoices, a.receipts), dt.date(2026, 10, 31))
        led = prepare(FileBook(ledger)).ledger
        s = led.settings
        ms = month_statements(led.customers, led.invoices, led.receipts, a.month, buckets=s.aging_buckets,
                              basis=s.aging_basis, auto_fifo=s.auto_fifo)
        job = S.Job(template=str(S.shipped("statement", s.language)), lang=s.language, company=s.company_name,
                    currency=s.currency, payment_instructions=s.payment_instructions, issued=dt.date(2026, 10, 31),
                    period=a.month, buckets=tuple(ms.buckets), mask=True, names=False)
        contents = [S.statement_content(r, job) for r in S.prepare(ms, led.customers, True)]
        load = os.getloadavg()[0]
        t = time.perf_counter()
        layout = S.layout_for(job.template)
        t_layout = time.perf_counter() - t
        t = time.perf_counter()
        for i, (values, tables, defaults) in enumerate(contents):
            fill(layout, out / f"fill{i}.xlsx", values, tables, defaults)
        t_fill = time.perf_counter() - t
        t = time.perf_counter()
        for i, (values, tables, _) in enumerate(contents):
            floor_file(out / f"floor{i}.xlsx", values, tables)
        t_floor = time.perf_counter() - t
    n = max(len(contents), 1)
    print(f"{len(contents)} statements; load {load:.1f} -> {os.getloadavg()[0]:.1f}; template read once: "
          f"{t_layout * 1000:.0f} ms")
    print(f"  fill  {t_fill / n * 1000:6.1f} ms/file   floor {t_floor / n * 1000:6.1f} ms/file   "
          f"{t_fill / t_floor:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
