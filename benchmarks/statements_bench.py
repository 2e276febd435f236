"""Benchmark: one month's statements (对账单) for every customer, as xlsx (and optionally PDF).

    python benchmarks/statements_bench.py                       # 20,000 customers, 2 processes
    python benchmarks/statements_bench.py --customers 2000 --processes 1 --pdf 40

Generates a ledger with benchmarks/generate.py (20,000 customers; --invoices/--receipts set
the volume), reads and validates it (not timed in the statements figure), then times:
compute (core/statements.month_statements, allocation as of month end), prepare (records per
statement) and render (render/statement.render_statements: template read once per process,
xlsxwriter per file, a pool of ``--processes`` workers). ``--pdf N`` also converts N of the
files in one LibreOffice batch and reports seconds per file. The target of issue 6: 20,000
statements in under 2 minutes on the 2-core reference machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402  (benchmarks/generate.py)

from custledger.core.statements import month_statements  # noqa: E402
from custledger.io.filebook import FileBook  # noqa: E402
from custledger.ops.pipeline import prepare  # noqa: E402
from custledger.render.statement import render_statements  # noqa: E402


def _cpu() -> float:
    """User + system CPU seconds of this process and its finished children (the workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--invoices", type=int, default=200_000)
    ap.add_argument("--receipts", type=int, default=160_000)
    ap.add_argument("--month", default="2026-10")
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--pdf", type=int, default=0, help="also convert this many statements to PDF")
    ap.add_argument("--keep", type=Path, default=None, help="write the statements here (default: a temp folder)")
    a = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="custledger-bench-") as tmp:
        ledger = Path(tmp) / "ledger.xlsx"
        t = time.perf_counter()
        generate.write_xlsx(ledger, generate.build(a.customers, a.invoices, a.receipts), generate.dt.date(2026, 10, 31))
        led = prepare(FileBook(ledger)).ledger
        print(f"ledger: {len(led.customers):,} customers, {len(led.invoices):,} invoices, "
              f"{len(led.receipts):,} receipts (generate + read {time.perf_counter() - t:.1f} s)")
        s = led.settings
        t0 = time.perf_counter()
        ms = month_statements(led.customers, led.invoices, led.receipts, a.month, buckets=s.aging_buckets,
                              basis=s.aging_basis, auto_fifo=s.auto_fifo)
        t1 = time.perf_counter()
        out = a.keep or Path(tmp) / "statements"
        cpu0 = _cpu()
        paths = render_statements(ms, led.customers, s, out, processes=a.processes)
        t2 = time.perf_counter()
        cpu = _cpu() - cpu0
        n = len(paths)
        print(f"statements: {n:,} files, {len(ms.lines):,} lines, processes {a.processes}")
        print(f"  compute {t1 - t0:.1f} s   render {t2 - t1:.1f} s ({(t2 - t1) / max(n, 1) * 1000:.1f} ms/file)   "
              f"total {t2 - t0:.1f} s   (target: 20,000 in < 120 s)")
        # The machine is shared: CPU seconds say what the work costs whatever else runs.
        per = cpu / max(n, 1)
        print(f"  render CPU {cpu:.1f} s ({per * 1000:.1f} ms/file); on {a.processes} idle core(s) 20,000 files "
              f"would take ~{t1 - t0 + 20_000 * per / a.processes:.0f} s with this compute")
        if a.pdf:
            from custledger.io.pdf import convert

            sample = paths[: a.pdf]
            t3 = time.perf_counter()
            convert(sample, Path(tmp) / "pdf", "pdf", processes=a.processes)
            t4 = time.perf_counter()
            print(f"  pdf: {len(sample)} files in {t4 - t3:.1f} s ({(t4 - t3) / len(sample):.2f} s/file, "
                  f"{a.processes} LibreOffice batch(es))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
