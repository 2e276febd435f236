"""The table of issue 12, every row in one command, each against a floor measured in the same run.

    python benchmarks/run.py --suite issue12 [--rows 1,2,3,4,5] [--repeat 3] [--no-compile]

| row | ledger | measure | floor |
|---|---|---|---|
| 1 | 240 customers, 3,000 invoices, 2,400 receipts | `custledger validate` wall | fresh Python importing pandas + fastexcel reading every sheet |
| 2 | same | `custledger close --month 2026-10 --allow-errors` (no PDF: statements + letters) wall | same |
| 3 | 2,000 customers, 10,000 invoices, 8,000 receipts with SUMIF/SUMIFS columns (generate.py --formulas) | `custledger aging` (reconcile + aging, one run) wall; also `reconcile` then `aging` | LibreOffice headless loading, recalculating (OOXMLRecalcMode always) and saving that workbook |
| 4 | 15,000 customers, 189,000 invoices, 178,000 receipts | `custledger close --month 2026-10` | fastexcel (calamine) read of every sheet + xlsxwriter (constant_memory) write of the input rows |
| 5 | 20,000 customers, 1,000,000 invoices, 800,000 receipts | same | same |

Each command is a fresh process timed from outside (interpreter start and imports included: what
a person waits for); the small rows take the median of ``--repeat`` runs, floor and command
interleaved, so that the machine's load hits both alike. Ledgers are generated with
benchmarks/generate.py (seed 1, as_of 2026-10-31) into benchmarks/data/ once and reused. The
load average (``os.getloadavg``) is printed before and after each row: on a shared machine
compare the ratios, and re-run a row whose load was high.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
PY = sys.executable
MONTH = "2026-10"
LEDGERS = {   # name: (customers, invoices, receipts, formulas)
    "small": (240, 3_000, 2_400, False),
    "formulas": (2_000, 10_000, 8_000, True),
    "mid": (15_000, 189_000, 178_000, False),
    "large": (20_000, 1_000_000, 800_000, False),
}
GOALS = {1: 1.5, 2: 3.0, 3: 0.25, 4: 1.5, 5: 1.0}

FLOOR_SMALL = """
import sys
import pandas, fastexcel
r = fastexcel.read_excel(sys.argv[1])
for name in r.sheet_names:
    r.load_sheet(name, header_row=None, dtypes="string").to_pandas()
"""


def ledger(name: str) -> Path:
    path = DATA / f"issue12-{name}.xlsx"
    if not path.exists():
        sys.path.insert(0, str(HERE))
        import generate

        c, i, r, formulas = LEDGERS[name]
        t = time.perf_counter()
        generate.write_xlsx(path, generate.build(c, i, r), generate.dt.date(2026, 10, 31), formulas=formulas)
        print(f"  (generated {path.name}: {c:,} customers, {i:,} invoices, {r:,} receipts in "
              f"{time.perf_counter() - t:.0f} s)")
    return path


def wall(args: list[str], env: dict | None = None) -> float:
    t = time.perf_counter()
    res = subprocess.run(args, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t
    if res.returncode not in (0, 1):   # 1: done, the ledger has errors
        raise SystemExit(f"failed ({res.returncode}): {' '.join(args)}\\n{res.stderr[-2000:]}")
    return seconds


def cli(op: str, path: Path, *extra: str) -> list[str]:
    return [PY, "-m", "custledger.cli", op, str(path), "--json", *extra]


def on_copy(src: Path, tmp: Path, args_of) -> float:
    """Time a command on a fresh copy of the ledger (each run writes it)."""
    copy = tmp / src.name
    shutil.copy(src, copy)
    for side in tmp.glob(f"{copy.stem}_*"):
        shutil.rmtree(side, ignore_errors=True)
    return wall(args_of(copy))


def lo_recalc(src: Path, tmp: Path) -> float:
    """LibreOffice headless: open (recalculating every formula), save as xlsx."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("row 3 needs LibreOffice (soffice) for its floor")
    profile = tmp / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\\n<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" '
        'oor:op="fuse"><value>0</value></prop></item></oor:items>\\n', encoding="utf-8")
    wall([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", "--version"])  # cold start
    out = tmp / "lo-out"
    return wall([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                 "--convert-to", "xlsx", "--outdir", str(out), str(src)])


def io_floor(src: Path, tmp: Path) -> float:
    sys.path.insert(0, str(HERE))
    from run import FLOOR_READ, FLOOR_WRITE, child

    r = child(FLOOR_READ, str(src))
    w = child(FLOOR_WRITE, str(src), str(tmp / "floor.xlsx"))
    return r["seconds"] + w["write_seconds"]


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _row(n: int, what: str, seconds: float, floor: float, note: str = "", goal: bool = True) -> None:
    """One line of the table; ``goal=False``: a figure printed beside the row's measure, which
    the row's goal is not about (row 3's two separate runs)."""
    ratio = seconds / floor
    mark = ("✓" if ratio <= GOALS[n] else "✗") if goal else "(no goal: for comparison)"
    print(f"  row {n}  {what:<44} {seconds:8.2f} s   floor {floor:8.2f} s   {ratio:5.2f}x   "
          f"{'goal <= ' + str(GOALS[n]) + 'x ' if goal else ''}{mark}  {note}")


def median_pair(repeat: int, floor_fn, op_fn) -> tuple[float, float]:
    floors, ops = [], []
    for _ in range(repeat):
        floors.append(floor_fn())
        ops.append(op_fn())
    return statistics.median(ops), statistics.median(floors)


def bytecode() -> str:
    """Byte-compile the custledger package the commands import (its __pycache__, git-ignored), as
    an installed package is: pip compiles at install, and Python writes __pycache__ on a first
    run. Where PYTHONDONTWRITEBYTECODE is set (some sandboxes, CI) nothing is ever cached, and
    every timed run would compile ~40 custledger modules from source again (~0.1-0.2 s) — a cost
    no user pays after the first run, and that the floor (pandas, fastexcel: compiled at
    install) never pays. ``--no-compile`` leaves the package as it is (from source only if it has
no __pycache__ yet)."""
    where = subprocess.run([PY, "-c", "import custledger, os; print(os.path.dirname(custledger.__file__))"],
                           capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run([PY, "-m", "compileall", "-q", where], capture_output=True, check=True)
    return where


def run_suite(rows: list[int], repeat: int = 3, compile_first: bool = True) -> None:
    print(f"issue 12 benchmarks: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load {_load()}")
    if compile_first:
        print(f"  custledger byte-compiled as installed ({bytecode()}); --no-compile: left as it is")
    else:
        print(f"  custledger not byte-compiled here (PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r})")
    with tempfile.TemporaryDirectory(prefix="custledger-issue12-") as t:
        tmp = Path(t)
        if 1 in rows or 2 in rows:
            src = ledger("small")
            floor_fn = lambda: wall([PY, "-c", FLOOR_SMALL, str(src)])  # noqa: E731
            if 1 in rows:
                load = _load()
                op, floor = median_pair(repeat, floor_fn, lambda: on_copy(src, tmp, lambda p: cli("validate", p)))
                _row(1, "validate (240 / 3,000)", op, floor, f"load {load} -> {_load()}")
            if 2 in rows:
                load = _load()
                op, floor = median_pair(repeat, floor_fn, lambda: on_copy(
                    src, tmp, lambda p: cli("close", p, "--month", MONTH, "--allow-errors")))
                _row(2, "close, statements + letters (240 / 3,000)", op, floor, f"load {load} -> {_load()}")
        if 3 in rows:
            src = ledger("formulas")
            load = _load()
            floor = lo_recalc(src, tmp)
            one = on_copy(src, tmp, lambda p: cli("aging", p))
            copy = tmp / "two.xlsx"
            shutil.copy(src, copy)
            two = wall(cli("reconcile", copy)) + wall(cli("aging", copy))
            _row(3, "aging = reconcile + aging in one run (formulas)", one, floor, f"load {load} -> {_load()}")
            _row(3, "reconcile, then aging (two runs)", two, floor, goal=False)
        for n, name in ((4, "mid"), (5, "large")):
            if n in rows:
                src = ledger(name)
                load = _load()
                floor = io_floor(src, tmp)
                op = on_copy(src, tmp, lambda p: cli("close", p, "--month", MONTH))
                c, i, r, _ = LEDGERS[name]
                _row(n, f"close ({c:,} / {i:,} / {r:,})", op, floor, f"load {load} -> {_load()}")
