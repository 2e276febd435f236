"""An interrupted close leaves no statement or letter the ledger does not back (issue 11, item 4).

Real subprocesses of ``custledger close --bank`` (the bank import adds receipts that the
statements list), stopped with a real SIGINT or SIGTERM at random moments after the statements
started (timed by watching for their staging folder), and with SIGKILL. After a stop the ledger
is the old one and no statement or letter is in place, or the save committed and the files are
there; never a staging folder or temp file left behind (a killed run's is removed by the next).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from custledger.demo import write_demo

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "pylib"), "CUSTLEDGER_LANG": "en"}
STAGING = ".custledger-staging-"


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return write_demo(tmp_path_factory.mktemp("demo"), "zh")


def fresh(demo, folder: Path) -> tuple[Path, Path, str]:
    src, bank, month = demo
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    ledger = folder / src.name
    shutil.copy2(src, ledger)
    shutil.copy2(bank, folder / bank.name)
    return ledger, folder / bank.name, month


def start(ledger: Path, bank: Path, month: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "custledger.cli", "close", ledger.name, "--month", month,
                             "--bank", bank.name, "--allow-errors"], cwd=ledger.parent, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if STAGING in p.name or ".custledger-" in p.name and p.suffix == ".xlsx"
            and not p.name.endswith("custledger-results.xlsx")]


def outputs(ledger: Path) -> list[Path]:
    """Statements and letters (xlsx, pdf) in their final folders."""
    out = []
    for sub in (f"{ledger.stem}_statements", f"{ledger.stem}_letters"):
        d = ledger.parent / sub
        if d.is_dir():
            out += [p for p in d.rglob("*") if p.is_file() and STAGING not in str(p)]
    return out


def wait_for_statements_staging(proc, ledger: Path, month: str, timeout: float = 60) -> bool:
    parent = ledger.parent / f"{ledger.stem}_statements"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if parent.is_dir() and any(p.name.startswith(f".{month}{STAGING}") for p in parent.iterdir()):
            return True
        time.sleep(0.002)
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_close_puts_no_statement_in_place_unless_the_save_committed(demo, tmp_path, sig):
    rng = random.Random(11 + int(sig))
    stopped_before_save = 0
    for trial in range(4):
        ledger, bank, month = fresh(demo, tmp_path / f"t{trial}")
        before = digest(ledger)
        proc = start(ledger, bank, month)
        assert wait_for_statements_staging(proc, ledger, month), proc.communicate()[1].decode()
        time.sleep(rng.uniform(0, 0.6))
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        err = err.decode().strip()
        assert "Traceback" not in err, err
        assert leftovers(ledger.parent) == [], leftovers(ledger.parent)
        if digest(ledger) == before:   # stopped before the save: nothing went out
            stopped_before_save += 1
            assert proc.returncode == 2 and len(err.splitlines()) == 1 and "Interrupted" in err, err
            assert outputs(ledger) == []
        else:  # the save committed first: the files went in place (a stop in the instant between
            # the save and the move leaves none: the ledger holds every receipt either way)
            assert proc.returncode in (1, 2), err
            assert proc.returncode == 2 or any(p.suffix == ".xlsx" for p in outputs(ledger))
    assert stopped_before_save >= 2, "the signals all came too late to test anything"


def test_a_killed_close_leaves_a_staging_folder_the_next_run_removes(demo, tmp_path):
    ledger, bank, month = fresh(demo, tmp_path / "k")
    before = digest(ledger)
    proc = start(ledger, bank, month)
    assert wait_for_statements_staging(proc, ledger, month)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert digest(ledger) == before and outputs(ledger) == []
    assert any(STAGING in p.name for p in ledger.parent.rglob("*"))  # SIGKILL cannot clean up
    done = start(ledger, bank, month)
    _, err = done.communicate(timeout=120)
    assert done.returncode == 1, err.decode()  # the demo ledger's planted errors
    assert leftovers(ledger.parent) == []
    assert digest(ledger) != before and any(p.suffix == ".xlsx" for p in outputs(ledger))


def test_a_failed_save_puts_no_statement_in_place(demo, tmp_path, monkeypatch):
    """The save fails (here: the disk fills while writing): exit 2, statements never in place."""
    from custledger import ops
    from custledger.core.errors import LedgerError
    from custledger.io import safe
    from custledger.io.filebook import FileBook

    ledger, bank, month = fresh(demo, tmp_path / "f")
    before = digest(ledger)

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safe, "commit", full)
    with pytest.raises(LedgerError):
        ops.run(FileBook(ledger), ["reconcile", "aging", "statements"], month=month, bank=bank, allow_errors=True)
    assert digest(ledger) == before
    assert outputs(ledger) == [] and leftovers(ledger.parent) == []


def test_results_saved_elsewhere_put_no_statement_listing_an_imported_receipt_in_place(demo, tmp_path,
                                                                                        monkeypatch):
    """The writer cannot keep the ledger's structure: the results go to a workbook of their own,
    the ledger lacks the receipts imported from the bank file, so no statement or letter goes out
    (with a note); without a bank import the statements match the ledger and are put in place."""
    from custledger import ops
    from custledger.io import xlsxpatch
    from custledger.io.filebook import FileBook

    def cannot_keep(*a, **k):
        raise xlsxpatch.XlsxPatchError("a structure this writer cannot keep")

    monkeypatch.setattr(xlsxpatch, "patch_workbook", cannot_keep)
    ledger, bank, month = fresh(demo, tmp_path / "e")
    before = digest(ledger)
    report = ops.run(FileBook(ledger), ["reconcile", "aging", "statements"], month=month, bank=bank,
                     allow_errors=True)
    assert digest(ledger) == before and report.target.endswith("custledger-results.xlsx")
    assert outputs(ledger) == [] and leftovers(ledger.parent) == []
    assert not [f for f in report.files if "_statements" in str(f) or "_letters" in str(f)]
    assert any("no statements or letters" in n or "对账单和催款函因此未生成" in n for n in report.notes)
    report = ops.run(FileBook(ledger), ["reconcile", "statements"], month=month, allow_errors=True)
    assert any(p.suffix == ".xlsx" for p in outputs(ledger)) and leftovers(ledger.parent) == []
