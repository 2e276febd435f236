"""The one line of a run that stops after reading the workbook is in the workbook's language,
unless the person asked for one (CUSTLEDGER_LANG): an English workbook is refused in English."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from custledger import ops
from custledger.core.errors import LedgerError
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from custledger.operations import steps_of

ROOT = Path(__file__).resolve().parents[1]


def _ledger(tmp_path: Path, lang: str) -> Path:
    p = tmp_path / "ledger.xlsx"
    build_ledger(p, lang, data={
        "customers": pd.DataFrame({"customer_id": ["C1"], "name": ["Acme" if lang == "en" else "甲公司"]}),
        "invoices": pd.DataFrame({"doc_no": ["F1"], "customer_id": ["C1"], "date": ["2026-10-05"],
                                  "amount": ["1000"]})}, settings={"as_of": "2026-10-31"})
    (tmp_path / "ledger_statements").write_text("a file where the statements folder would go", encoding="utf-8")
    return p


def _cli(path: Path, lang: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CUSTLEDGER_LANG"}
    env["PYTHONPATH"] = str(ROOT / "pylib")
    if lang:
        env["CUSTLEDGER_LANG"] = lang
    return subprocess.run([sys.executable, "-m", "custledger.cli", "statements", str(path), "--month", "2026-10",
                           "--allow-errors"], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("lang, words", [("en", "Cannot write to folder"), ("zh", "无法写入文件夹")])
def test_a_refusal_in_the_steps_is_said_in_the_workbooks_language(tmp_path, lang, words):
    res = _cli(_ledger(tmp_path, lang), None)
    err = res.stderr.strip()
    assert res.returncode == 2 and len(err.splitlines()) == 1, err
    assert words in err and "Traceback" not in err


def test_the_language_asked_for_wins(tmp_path):
    res = _cli(_ledger(tmp_path, "en"), "zh")
    assert res.returncode == 2 and "无法写入文件夹" in res.stderr, res.stderr


def test_the_run_gives_its_refusal_the_workbooks_language(tmp_path):
    with pytest.raises(LedgerError) as err:
        ops.run(FileBook(_ledger(tmp_path, "en")), steps_of("statements"), month="2026-10", allow_errors=True)
    assert err.value.code == "dir_unwritable" and err.value.lang == "en"
