"""`aging` writes Aging and Overdue and no letter files; `custledger letters` (and the close)
write the letters and link each Overdue row to its customer's letter (DESIGN.md, command line)."""

import os
import subprocess
import sys

import openpyxl
import pandas as pd
import pytest

from custledger import ops
from custledger.io.template import build_ledger


def cli(*args):
    env = {**os.environ, "CUSTLEDGER_LANG": "zh"}
    return subprocess.run([sys.executable, "-m", "custledger.cli", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=120)


@pytest.fixture
def ledger(tmp_path):
    p = tmp_path / "台账.xlsx"
    build_ledger(p, "zh", data={
        "customers": pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["甲公司", "乙公司"]}),
        "invoices": pd.DataFrame({"doc_no": ["I1", "I2", "I3"], "date": ["2026-06-01", "2026-09-01", "2026-10-30"],
                                  "customer_id": ["C1", "C1", "C2"], "amount": [100.0, 250.0, 80.0],
                                  "due_date": ["2026-07-01", "2026-10-01", "2026-11-30"]})},
                 settings={"as_of": "2026-10-31"})
    return p


def _overdue(path):
    ws = openpyxl.load_workbook(path)["逾期清单"]
    rows = list(ws.iter_rows())
    head = [c.value for c in rows[0]]
    col = head.index("催款函")
    body = [r for r in rows[1:] if r[0].value]
    return [(r[0].value, r[col].value, r[col].hyperlink.target if r[col].hyperlink else None) for r in body]


def test_aging_writes_no_letter_files(ledger):
    res = cli("aging", ledger, "--json")
    assert res.returncode == 0, res.stderr
    assert not (ledger.parent / "台账_letters").exists()
    rows = _overdue(ledger)
    assert sorted(r[0] for r in rows) == ["I1", "I2"]
    assert all(not name and link is None for _, name, link in rows)


def test_letters_command_writes_letters_and_links_overdue(ledger):
    res = cli("letters", ledger, "--json")
    assert res.returncode == 0, res.stderr
    folder = ledger.parent / "台账_letters" / "2026-10-31"
    files = sorted(folder.glob("*.xlsx"))
    assert len(files) == 1 and "C1" in files[0].name           # C2 is not yet due: no letter
    rows = _overdue(ledger)
    assert sorted(r[0] for r in rows) == ["I1", "I2"]
    for _, name, link in rows:
        assert name == files[0].stem
        assert link and link.replace("\\", "/").endswith(f"台账_letters/2026-10-31/{files[0].name}")
    assert "账龄分析" in openpyxl.load_workbook(ledger).sheetnames


def test_the_close_writes_letters():
    assert "letters" in ops.STEPS
    close = [s for s in ops.STEP_ORDER if s in ops.STEPS and s != "card"]
    assert close.index("aging") < close.index("letters")
