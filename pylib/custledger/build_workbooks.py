"""Regenerate the shipped workbooks in workbook/ (the empty templates in zh and en, the demo).

    python -m custledger.build_workbooks [DIR]

tests/test_workbooks.py fails when the committed files are stale against this generator: the
workbooks are built deterministically (fixed document dates; xlsxwriter writes fixed zip times).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from .demo import write_demo
from .io.template import build_ledger
from .io.xlsm import build_shipped

TEMPLATES = {"zh": "客户台账模板.xlsx", "en": "ledger_template_en.xlsx"}
FIXED = dt.datetime(2026, 1, 1)


def build_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for lang, name in TEMPLATES.items():
        out.append(build_ledger(folder / name, lang))
    out += build_shipped(folder)        # the macro-enabled ledgers with the buttons (custledger*.xlsm)
    ledger, bank, _ = write_demo(folder / "demo", "zh")
    out += [ledger, bank]
    return out


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "workbook"
    for p in build_all(folder):
        print(p)


if __name__ == "__main__":
    main()
