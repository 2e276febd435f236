"""Benchmark runner: custledger operations next to the I/O floor measured in the same run.

    python benchmarks/run.py benchmarks/data/large.xlsx [--ops validate,reconcile,aging,tiers,close]
    python benchmarks/run.py --suite issue12 [--rows 1,2,3] [--repeat 3]   # the table of issue 12

For each measurement a fresh Python process runs the work, so peak memory (max RSS) is that of
the work alone. Figures:

  floor_read    fastexcel reads every input sheet as text (what our reader does)
  floor_write   xlsxwriter (constant_memory) writes the same sheets' cells to a new file
  floor         floor_read + floor_write: the I/O floor of DESIGN/issue targets
  <op>          the custledger command on a copy of the ledger (read, compute, write in place)
  compute       the pure core stages timed inside one process (no I/O): validate, allocate, ...

Ratios are op / floor. Targets (issues 3, 4, 6): validate <= 1.5x, reconcile+aging <= 1.5x,
close <= 2x; allocation compute < 10 s; tiers compute < 5 s; peak memory < 4 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

PY = sys.executable


def child(code: str, *args: str) -> dict:
    """Run code in a fresh interpreter; it prints one JSON line; add wall seconds and max RSS."""
    wrapper = textwrap.dedent("""
        import json, resource, sys, time
        t0 = time.perf_counter()
        result = {}
        exec(compile(sys.argv[1], "<bench>", "exec"), {"result": result, "argv": sys.argv[2:]})
        result["seconds"] = round(time.perf_counter() - t0, 2)
        result["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(json.dumps(result))
    """)
    out = subprocess.run([PY, "-c", wrapper, code, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


FLOOR_READ = """
import fastexcel
r = fastexcel.read_excel(argv[0])
rows = 0
for name in r.sheet_names:
    rows += len(r.load_sheet(name, header_row=None, dtypes="string").to_pandas())
result["rows"] = rows
"""

FLOOR_WRITE = """
import fastexcel, xlsxwriter
r = fastexcel.read_excel(argv[0])
frames = {n: r.load_sheet(n, header_row=None).to_pandas() for n in r.sheet_names}
import time
t = time.perf_counter()
wb = xlsxwriter.Workbook(argv[1], {"constant_memory": True})
for n, f in frames.items():
    ws = wb.add_worksheet(n)
    cols = [f[c].tolist() for c in f.columns]
    for i in range(len(f)):
        for j, col in enumerate(cols):
            v = col[i]
            if v is None or v != v:
                continue
            ws.write(i, j, v)
wb.close()
result["write_seconds"] = round(time.perf_counter() - t, 2)
"""

OP = """
import subprocess, sys
from custledger.cli import app
args = argv
try:
    app(args, standalone_mode=False)
except SystemExit:
    pass
"""

COMPUTE = """
import time
from pathlib import Path
from custledger.io.reader import read_book
from custledger.core.load import load
from custledger.core.validate import validate
from custledger.core.allocate import allocate, open_items, unapplied_credits
from custledger.core.balances import balances
from custledger.core.aging import aging, overdue
t = time.perf_counter(); raw = read_book(Path(argv[0])); result["read"] = round(time.perf_counter() - t, 2)
t = time.perf_counter(); loaded = load(raw); result["parse"] = round(time.perf_counter() - t, 2)
t = time.perf_counter(); v = validate(loaded); result["validate"] = round(time.perf_counter() - t, 2)
L = v.ledger; s = L.settings; as_of = s.as_of_ts()
t = time.perf_counter(); al = allocate(L.invoices, L.receipts, as_of, s.auto_fifo); result["allocate"] = round(time.perf_counter() - t, 2)
t = time.perf_counter()
oi = open_items(L.invoices, al, as_of); un = unapplied_credits(L.invoices, L.receipts, al, as_of)
b = balances(L.customers, L.invoices, L.receipts, al, as_of)
ag = aging(oi, un, L.customers, as_of, s.aging_buckets, s.aging_basis)
od = overdue(oi, L.customers, as_of, s.aging_buckets, s.dunning_levels, s.aging_basis)
result["balances_aging"] = round(time.perf_counter() - t, 2)
try:
    from custledger.core.tiers import tiers, TierParams
    t = time.perf_counter(); tiers(L.customers, L.invoices, al, oi, as_of, TierParams.from_settings(s), balances=b)
    result["tiers"] = round(time.perf_counter() - t, 2)
except ImportError:
    pass
result["invoices"] = len(L.invoices); result["receipts"] = len(L.receipts); result["allocations"] = len(al)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ledger", type=Path, nargs="?")
    ap.add_argument("--ops", default="validate,reconcile,aging,close")
    ap.add_argument("--month", default=None)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--suite", choices=["issue12"], help="run a table of measurements (suite_issue12.py)")
    ap.add_argument("--rows", default="1,2,3,4,5", help="with --suite: which rows of the table")
    ap.add_argument("--repeat", type=int, default=3, help="with --suite: runs per small measurement (median)")
    ap.add_argument("--no-compile", action="store_true",
                    help="with --suite: do not byte-compile custledger first (see suite_issue12.bytecode)")
    a = ap.parse_args()
    if a.suite:
        from suite_issue12 import run_suite

        run_suite([int(r) for r in a.rows.split(",") if r], a.repeat, compile_first=not a.no_compile)
        return
    if a.ledger is None:
        ap.error("a ledger path, or --suite")
    tmp = Path(tempfile.mkdtemp(prefix="custledger-bench-"))
    try:
        fig = {}
        r = child(FLOOR_READ, str(a.ledger))
        fig["floor_read"] = r["seconds"]
        fig["rows"] = r["rows"]
        fig["floor_read_peak_mb"] = r["peak_mb"]
        w = child(FLOOR_WRITE, str(a.ledger), str(tmp / "floor.xlsx"))
        fig["floor_write"] = w["write_seconds"]
        fig["floor"] = round(fig["floor_read"] + fig["floor_write"], 2)
        c = child(COMPUTE, str(a.ledger))
        fig["compute"] = c
        month = a.month
        for op in [o for o in a.ops.split(",") if o]:
            copy = tmp / f"{op}.xlsx"
            shutil.copy(a.ledger, copy)
            args = [op, str(copy)]
            if op in ("close", "statements"):
                args += ["--month", month or _month_of(c)]
            res = child(OP, *args)
            fig[op] = {"seconds": res["seconds"], "peak_mb": res["peak_mb"],
                       "x_floor": round(res["seconds"] / fig["floor"], 2)}
        if a.json:
            print(json.dumps(fig, indent=1))
        else:
            _print(fig)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _month_of(compute: dict) -> str:
    import datetime as dt
    return dt.date.today().strftime("%Y-%m")


def _print(fig: dict) -> None:
    print(f"rows read              {fig['rows']:>12,}")
    print(f"I/O floor: read        {fig['floor_read']:>10.2f} s   (peak {fig['floor_read_peak_mb']} MB)")
    print(f"I/O floor: write       {fig['floor_write']:>10.2f} s")
    print(f"I/O floor: total       {fig['floor']:>10.2f} s")
    for k, v in fig["compute"].items():
        if k not in ("seconds", "peak_mb"):
            print(f"compute {k:<14} {v:>10}")
    for k, v in fig.items():
        if isinstance(v, dict) and "x_floor" in v:
            print(f"{k:<22} {v['seconds']:>10.2f} s   {v['x_floor']:>5.2f}x floor   peak {v['peak_mb']} MB")


if __name__ == "__main__":
    main()
