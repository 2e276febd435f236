"""Benchmark: bank matching (core/bank.match_bank) on a large generated ledger with traps.

    python benchmarks/bank_bench.py                          # 20,000 customers, 1,000 lines
    python benchmarks/bank_bench.py --customers 2000 --lines 300 --pure

The ledger and bank lines come from tests/bank_gen.py (shared brands across cities, branches,
one-character typos, aliases, accounts, people, strangers); the brand pool is widened so that
20,000 customers have distinct names. Times the whole match (customer look-ups, levels,
candidates) twice (the second run has warm name caches) and prints the quality figures too:
auto precision, recall on certain lines, true customer offered on uncertain lines. ``--pure``
blocks rapidfuzz, timing core/fuzzy.py's pure-Python scorers (the xlwings Lite route).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import bank_gen  # noqa: E402  (tests/bank_gen.py)
import pandas as pd  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--lines", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pure", action="store_true", help="match without rapidfuzz")
    a = ap.parse_args(argv)
    from custledger.core import bank, fuzzy

    if a.pure:
        fuzzy.rapidfuzz_modules = lambda: None
    bank_gen._BRAND_CHARS += "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥春夏秋冬梅兰竹菊松柏"
    t = time.perf_counter()
    case = bank_gen.make_case(a.seed, n_customers=a.customers, n_lines=a.lines)
    print(f"generated {len(case.customers)} customers, {len(case.lines)} lines in {time.perf_counter() - t:.1f} s")
    receipts = pd.DataFrame(columns=["receipt_no", "date", "customer_id", "payer", "amount", "bank_ref"])
    for run in ("cold", "warm"):
        t = time.perf_counter()
        out = bank.match_bank(case.lines, case.customers, receipts)
        print(f"match_bank ({run}{', pure Python' if a.pure else ''}): {time.perf_counter() - t:.2f} s")
    m = bank_gen.measure(case, out)
    print(f"auto {m['auto']}, precision {m['precision']:.3f}; recall on {m['certain']} certain lines "
          f"{m['recall_certain']:.3f}; true customer offered on {m['uncertain']} uncertain {m['offered_uncertain']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
