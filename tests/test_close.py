"""The monthly close as an accountant runs it: one command on the demo ledger.

Checks what DESIGN.md and issue 6 promise of the close: every generated sheet, statements whose
closing equals the Balances sheet, no statements from a ledger with errors unless asked, and the
same content when the close runs twice.
"""

import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from custledger import ops
from custledger.demo import write_demo
from custledger.io.filebook import FileBook

SHEETS = ["校验结果", "核销明细", "对账余额", "账龄分析", "逾期清单", "客户分级", "提醒事项", "对账单汇总", "看板"]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    ledger, bank, month = write_demo(folder, "zh")
    return ledger, bank, month


def table(path: Path, name: str) -> pd.DataFrame:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()
    return pd.DataFrame(rows[1:], columns=rows[0])


def close(ledger: Path, month: str, **options):
    steps = [s for s in ops.STEP_ORDER if s in ops.STEPS and s != "card"]
    return ops.run(FileBook(ledger), steps, month=month, processes=1, **options)


def test_errors_withhold_statements_then_allow_errors_issues_them(demo_dir, tmp_path):
    src, _, month = demo_dir
    ledger = tmp_path / src.name
    shutil.copy(src, ledger)
    report = close(ledger, month)
    assert report.exit_code == 1                      # the demo carries planted mistakes
    assert report.summary["statements"] == 0
    assert any("对账单" in n for n in report.notes)
    names = CalamineWorkbook.from_path(str(ledger)).sheet_names
    for s in SHEETS[:-2]:
        assert s in names, s
    report = close(ledger, month, allow_errors=True)
    assert report.exit_code == 1
    assert report.summary["statements"] > 100


def test_statement_closing_equals_balances_sheet(demo_dir, tmp_path):
    src, _, month = demo_dir
    ledger = tmp_path / src.name
    shutil.copy(src, ledger)
    close(ledger, month, allow_errors=True)           # as_of of the demo is the month's last day
    st = table(ledger, "对账单汇总")
    bal = table(ledger, "对账余额").set_index("客户编号")
    assert len(st) > 100
    for _, r in st.iterrows():
        opening, closing = Decimal(str(r["期初余额"])), Decimal(str(r["期末余额"]))
        moved = Decimal(str(r["本期销售"])) - Decimal(str(r["本期红字"])) - Decimal(str(r["本期回款"]))
        assert opening + moved == closing, r["客户编号"]
        assert closing == Decimal(str(bal.loc[r["客户编号"], "应收余额"])), r["客户编号"]
        assert (ledger.parent / f"{ledger.stem}_statements" / month / r["文件"]).exists()


def generated_parts(path: Path) -> dict:
    """Values of every generated sheet (cell comments hold the run time: left out)."""
    wb = CalamineWorkbook.from_path(str(path))
    return {n: wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names if n in SHEETS + ["客户卡"]}


def test_running_the_close_twice_gives_the_same_content(demo_dir, tmp_path):
    src, _, month = demo_dir
    ledger = tmp_path / src.name
    shutil.copy(src, ledger)
    close(ledger, month, allow_errors=True)
    first = generated_parts(ledger)
    with zipfile.ZipFile(ledger) as zf:
        size1 = len(zf.namelist())
    close(ledger, month, allow_errors=True)
    assert generated_parts(ledger) == first
    with zipfile.ZipFile(ledger) as zf:
        assert len(zf.namelist()) == size1           # sheets replaced, not added again


def test_statements_as_sheets_for_xlwings_lite(demo_dir, tmp_path):
    """No file system in xlwings Lite: the statements become sheets (summary + lines)."""
    src, _, month = demo_dir
    ledger = tmp_path / src.name
    shutil.copy(src, ledger)
    ops.run(FileBook(ledger), ["statements"], month=month, as_sheets=True, allow_errors=True)
    assert not (tmp_path / f"{ledger.stem}_statements").exists()
    summary = table(ledger, "对账单汇总").set_index("客户编号")
    lines = table(ledger, "对账单明细")
    for cid, rows in lines.groupby("客户编号", sort=False):
        kinds = rows["类型"].tolist()
        assert kinds[0] == "期初余额" and kinds[-1] == "期末余额"
        assert Decimal(str(rows["余额"].iloc[-1])) == Decimal(str(summary.loc[cid, "期末余额"]))
        assert Decimal(str(rows["余额"].iloc[0])) == Decimal(str(summary.loc[cid, "期初余额"]))
