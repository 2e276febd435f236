"""Benchmark: one statement file, filled from the template, against the floor of writing it.

    python benchmarks/render_bench.py [--customers 240 --invoices 3000 --receipts 2400]

Generates a ledger (generate.py), computes the month's statements, then times per file:
``parts`` what statements and letters use: render/template_parts.write_filled, the template's
          xlsx parts made once (styles, theme, workbook, page setup) and only the sheet's cells
          and strings made per file;
``fill``  the reference route, render/template_fill.fill: xlsxwriter with the template's Layout
          read once (render/statement.layout_for), every part made per file;
``floor`` xlsxwriter writing the same cells (values, a money/date/text format, one sheet) with no
          template logic: what writing that file costs at the least with this library.
``content`` the per-statement records turned into cell values (render/statement.statement_content),
          timed apart. The three writers run interleaved in rounds (the machine is shared).
Prints ms per file, the ratios to the floor and the machine's load.

    python benchmarks/render_bench.py --display 900000

times instead render/sheets._display (whole columns) against the value-by-value rule it
replaced (_display_values) on generated columns of that many rows, one per display format.
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


def display_bench(n: int) -> int:
    import numpy as np
    import pandas as pd

    from custledger.render.sheets import _display, _display_values

    i = np.arange(n)
    columns = [("money", "int64 cents", pd.Series(i * 101)),
               ("money", "Int64 cents with blanks", pd.Series(pd.array(np.where(i % 3 == 0, None, i), dtype="Int64"))),
               ("date", "datetime64 with NaT", pd.Series(pd.to_datetime(np.where(i % 5 == 0, None, "2026-10-31")))),
               ("int", "int64", pd.Series(i)),
               ("enum", "object keys", pd.Series(np.where(i % 2, "invoice", "credit_note"), dtype=object)),
               ("text", "object text", pd.Series([f"XS-{k}" for k in range(n)], dtype=object))]
    print(f"_display on {n:,} rows; load {os.getloadavg()[0]:.1f}")
    for fmt, what, col in columns:
        t = time.perf_counter()
        fast = _display(col, fmt, "kind", "zh")
        t_fast = time.perf_counter() - t
        t = time.perf_counter()
        rule = _display_values(col, fmt, "kind", "zh")
        t_rule = time.perf_counter() - t
        assert fast.equals(rule) and fast.dtype == rule.dtype, (fmt, what)
        print(f"  {fmt:6} {what:26} whole column {t_fast:7.3f} s   value by value {t_rule:7.3f} s")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=240)
    ap.add_argument("--invoices", type=int, default=3000)
    ap.add_argument("--receipts", type=int, default=2400)
    ap.add_argument("--month", default="2026-10")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of (parts, fill, floor), best of each")
    ap.add_argument("--display", type=int, default=0, help="time render/sheets._display on columns of N rows")
    a = ap.parse_args(argv)
    if a.display:
        return display_bench(a.display)
    from custledger.core.statements import month_statements
    from custledger.io.filebook import FileBook
    from custledger.ops.pipeline import prepare
    from custledger.render import statement as S
    from custledger.render.template_fill import fill
    from custledger.render.template_parts import write_filled

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
        records = S.prepare(ms, led.customers, True)
        t = time.perf_counter()
        contents = [S.statement_content(r, job) for r in records]
        t_content = time.perf_counter() - t
        load = os.getloadavg()[0]
        t = time.perf_counter()
        layout = S.layout_for(job.template)
        t_layout = time.perf_counter() - t
        props = {"title": "statement", "author": s.company_name, "created": dt.datetime(2026, 10, 31)}
        t = time.perf_counter()
        write_filled(layout, out / "first.xlsx", *contents[0], properties=props)
        t_parts_once = time.perf_counter() - t

        def parts():
            for i, (values, tables, defaults) in enumerate(contents):
                write_filled(layout, out / f"parts{i}.xlsx", values, tables, defaults, properties=props)

        def reference():
            for i, (values, tables, defaults) in enumerate(contents):
                fill(layout, out / f"fill{i}.xlsx", values, tables, defaults, properties=props)

        def floor():
            for i, (values, tables, _) in enumerate(contents):
                floor_file(out / f"floor{i}.xlsx", values, tables)
        best = {"parts": [], "fill": [], "floor": []}
        for _ in range(a.rounds):
            for name, fn in (("parts", parts), ("fill", reference), ("floor", floor)):
                t = time.perf_counter()
                fn()
                best[name].append(time.perf_counter() - t)
    n = max(len(contents), 1)
    t_parts, t_fill, t_floor = (min(best[k]) for k in ("parts", "fill", "floor"))
    print(f"{len(contents)} statements; load {load:.1f} -> {os.getloadavg()[0]:.1f}; template read once: "
          f"{t_layout * 1000:.0f} ms, its parts made once: {t_parts_once * 1000:.0f} ms; "
          f"content {t_content / n * 1000:.2f} ms/file")
    print(f"  parts {t_parts / n * 1000:6.2f} ms/file   fill {t_fill / n * 1000:6.2f} ms/file   "
          f"floor {t_floor / n * 1000:6.2f} ms/file   (best of {a.rounds})")
    print(f"  parts / floor {t_parts / t_floor:.2f}x   fill / floor {t_fill / t_floor:.2f}x   "
          f"parts / fill {t_parts / t_fill:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
