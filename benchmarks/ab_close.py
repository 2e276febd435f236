"""A/B of one command on two source trees, interleaved, wall and CPU seconds of each run.

    python benchmarks/ab_close.py benchmarks/data/issue12-small.xlsx --a /work/main/pylib --b pylib
    python benchmarks/ab_close.py LEDGER --rounds 5 -- close --month 2026-10 --allow-errors

Each round runs ``python -m custledger.cli <command> <fresh copy of LEDGER> --json`` with
PYTHONPATH set to tree A, then to tree B. On a shared machine the wall time of the same command
moves with the other jobs; the CPU time of the child (user + system, from
``resource.getrusage(RUSAGE_CHILDREN)``) moves much less, so both are printed, with medians.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ledger", type=Path)
    ap.add_argument("--a", default="/work/main/pylib", help="PYTHONPATH of tree A")
    ap.add_argument("--b", default=str(Path(__file__).resolve().parents[1] / "pylib"), help="PYTHONPATH of tree B")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("command", nargs="*", default=["close", "--month", "2026-10", "--allow-errors"])
    a = ap.parse_args(argv)
    op, *extra = a.command
    trees = {"A": a.a, "B": a.b}
    wall: dict = {k: [] for k in trees}
    cpu: dict = {k: [] for k in trees}
    print(f"A = {a.a}\nB = {a.b}\n{op} {' '.join(extra)} on {a.ledger.name}, {a.rounds} rounds")
    for i in range(a.rounds):
        for k, tree in trees.items():
            with tempfile.TemporaryDirectory(prefix="custledger-ab-") as d:
                path = Path(d) / a.ledger.name
                shutil.copy(a.ledger, path)
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t = time.perf_counter()
                res = subprocess.run([sys.executable, "-m", "custledger.cli", op, str(path), "--json", *extra],
                                     env={**os.environ, "PYTHONPATH": tree}, capture_output=True, text=True)
                wall[k].append(time.perf_counter() - t)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[k].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
                if res.returncode not in (0, 1):
                    print(res.stderr[-2000:])
                    return 2
        print(f"  round {i + 1}: " + "   ".join(f"{k} wall {wall[k][-1]:5.2f} s cpu {cpu[k][-1]:5.2f} s"
                                                for k in trees) + f"   load {os.getloadavg()[0]:.1f}", flush=True)
    for name, runs in (("wall", wall), ("cpu", cpu)):
        print(f"{name:4} median " + "   ".join(f"{k} {statistics.median(v):5.2f} s (min {min(v):.2f})"
                                             for k, v in runs.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
