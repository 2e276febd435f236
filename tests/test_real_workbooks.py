"""Ledgers made by other programs: a workbook saved by LibreOffice reads the same as ours and
takes our results (WPS and Excel write the same OOXML family; Excel-made parts are covered in
test_xlsxpatch.py)."""

import shutil
import subprocess

import pytest
from python_calamine import CalamineWorkbook

from custledger import ops
from custledger.core.load import load
from custledger.core.validate import validate
from custledger.demo import write_demo
from custledger.io.filebook import FileBook
from custledger.io.reader import read_book

soffice = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = [pytest.mark.libreoffice,
              pytest.mark.skipif(soffice is None, reason="LibreOffice headless not installed")]


@pytest.fixture(scope="module")
def lo_ledger(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lo")
    ledger, bank, month = write_demo(folder / "src", "zh")
    out = folder / "saved"
    out.mkdir()
    subprocess.run([soffice, f"-env:UserInstallation=file://{folder}/profile", "--headless", "--convert-to",
                    "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(ledger)],
                   check=True, capture_output=True, timeout=240)
    return ledger, out / ledger.name, bank, month


def test_libreoffice_saved_ledger_reads_the_same(lo_ledger):
    ours, theirs, _, _ = lo_ledger
    a, b = validate(load(read_book(ours))), validate(load(read_book(theirs)))
    for key in ("customers", "invoices", "receipts", "interactions"):
        fa, fb = getattr(a.ledger, key), getattr(b.ledger, key)
        assert len(fa) == len(fb), key
        assert fa.drop(columns="_row").astype(str).equals(fb.drop(columns="_row").astype(str)), key
    assert sorted(a.problems["code"]) == sorted(b.problems["code"])


def test_close_on_a_libreoffice_saved_ledger(lo_ledger, tmp_path):
    _, theirs, bank, month = lo_ledger
    ledger = tmp_path / theirs.name
    shutil.copy(theirs, ledger)
    steps = [s for s in ops.STEP_ORDER if s in ops.STEPS and s != "card"]
    report = ops.run(FileBook(ledger), steps, month=month, bank=bank, allow_errors=True, processes=1)
    assert report.summary["receipts_imported"] > 0
    names = CalamineWorkbook.from_path(str(ledger)).sheet_names
    assert "核销明细" in names and "对账单汇总" in names
    check = tmp_path / "check"
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to", "csv",
                    "--outdir", str(check), str(ledger)], check=True, capture_output=True, timeout=240)
    assert any(check.iterdir()), "LibreOffice opens the result"
