"""Benchmark: a generated sheet written cell by cell (xlsxwriter) and column-wise (io/columnar.py).

    python benchmarks/columnar_bench.py --rows 200000

Builds an Allocations-like SheetOut (ids, CJK names, dates, money, integers, enum labels), then
in fresh processes writes it into a new ledger (io/xlsxpatch.patch_workbook, the path every
run takes) both ways and reports seconds, the ratio columnar / xlsxwriter, and the machine's
load. Two figures: the whole save (structure, rows, zip, verification) and the sheet alone
(xlsxwriter: its cells + close; columnar: preparing and assembling the rows). Target (issue
12): columnar <= 0.3x xlsxwriter for the same cells.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap

CHILD = textwrap.dedent("""
    import datetime as dt, json, sys, time
    from pathlib import Path
    import numpy as np, pandas as pd
    from custledger.io.template import build_ledger
    from custledger.io.xlsxpatch import patch_workbook
    from custledger.io.xlsxsheets import Formats, write_sheet_out
    from custledger.render.sheets import sheet_out

    n, mode, tmp = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    rng = np.random.default_rng(1)
    cust = rng.integers(1, 20000, n)
    frame = pd.DataFrame({
        "receipt_no": [f"SK{i:07d}" for i in range(n)], "doc_no": [f"XS{i:08d}" for i in rng.integers(0, 10**6, n)],
        "customer_id": [f"C{c:05d}" for c in cust], "name": [f"杭州恒昌机电设备有限公司{c}" for c in cust],
        "date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 600, n), unit="D"),
        "amount": rng.integers(100, 10**8, n), "method": rng.choice(["memo", "fifo", "credit_note"], n),
        "days_to_pay": rng.integers(-30, 200, n)})
    src = tmp / "src.xlsx"
    if not src.exists():
        build_ledger(src, "zh")
    out = sheet_out("allocations", frame, "zh")
    bodies = {} if mode == "columnar" else None
    sheet = {}

    def build(wb):
        t = time.perf_counter()
        fmts = Formats(wb)
        write_sheet_out(wb, out, fmts, protect=True, bodies=bodies)
        sheet["cells"] = time.perf_counter() - t

    t = time.perf_counter()
    patch_workbook(src, tmp / f"{mode}.xlsx", build, [out.name], bodies=bodies, verify=True)
    total = time.perf_counter() - t
    if bodies:   # assembling the rows again, alone (it ran inside the save above too)
        body = next(iter(bodies.values()))
        t = time.perf_counter()
        size = sum(len(c) for c in body.chunks(lambda f: 1))
        sheet["cells"] += time.perf_counter() - t
    cells = int(out.data.notna().sum().sum())
    print(json.dumps({"total": round(total, 2), "sheet": round(sheet["cells"], 2), "cells": cells}))
""")


def run(rows: int, mode: str, tmp: str) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, str(rows), mode, tmp], capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(res.stderr[-2000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="custledger-bench-") as tmp:
        load0 = os.getloadavg()[0]
        x = run(a.rows, "xlsxwriter", tmp)
        c = run(a.rows, "columnar", tmp)
        load1 = os.getloadavg()[0]
    print(f"generated sheet: {a.rows:,} rows, {x['cells']:,} cells; load average {load0:.1f} -> {load1:.1f} "
          f"({os.cpu_count()} cores)")
    print(f"  sheet alone   xlsxwriter {x['sheet']:7.2f} s   columnar {c['sheet']:7.2f} s   "
          f"{c['sheet'] / x['sheet']:.2f}x   (target <= 0.3x)")
    print(f"  whole save    xlsxwriter {x['total']:7.2f} s   columnar {c['total']:7.2f} s   "
          f"{c['total'] / x['total']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
