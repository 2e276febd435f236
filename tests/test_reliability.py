"""Reliability: killed runs, concurrent runs, full disks, stale temps, backup rotation.

The kills are real: ``python -m custledger.cli`` in a subprocess, SIGKILLed at random moments
of its run and right inside its save (timed by watching for the save's temp file, no hooks).
After every kill the ledger must be the previous version or a complete new one that opens.
"""

from __future__ import annotations

import errno
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from custledger import ops
from custledger.core.errors import LedgerError
from custledger.demo import write_demo
from custledger.io import safe
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and flock: POSIX")
ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "pylib"), "CUSTLEDGER_LANG": "zh"}


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def opens(p: Path) -> None:
    """A whole workbook: every sheet reads with calamine, and openpyxl loads it."""
    book = CalamineWorkbook.from_path(str(p))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python()
    openpyxl.load_workbook(p, read_only=True).close()


def temps(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".custledger-" in p.name]


def start(args, cwd) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "custledger.cli", *map(str, args)], cwd=cwd, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    ledger, bank, month = write_demo(folder, "zh")
    return ledger, bank, month


@pytest.fixture
def ledger(demo, tmp_path):
    p = tmp_path / "台账.xlsx"
    shutil.copy2(demo[0], p)
    return p


def test_sigkill_at_random_points_and_inside_the_save(ledger):
    rng = random.Random(8)
    good = {digest(ledger)}
    opens(ledger)
    kills = [("random", rng.uniform(0.2, 2.5)) for _ in range(6)] + [("save", rng.uniform(0, 0.03)) for _ in range(4)]
    in_save = 0
    for how, delay in kills:
        proc = start(["validate", ledger.name], ledger.parent)
        if how == "random":
            time.sleep(delay)
        else:  # wait for the save's temp file to appear, then kill a few ms into the save
            deadline = time.monotonic() + 20
            while not any(p.name.startswith(f".{ledger.stem}.custledger-") for p in ledger.parent.iterdir()):
                if proc.poll() is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.001)
            else:
                in_save += 1
            time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = digest(ledger)
        if now not in good:  # the run finished its rename before the kill: a whole new version
            opens(ledger)
            good.add(now)
    assert in_save >= 3, "the kills inside the save did not happen"
    assert temps(ledger.parent), "a kill inside the save leaves its temp file (the ledger untouched)"
    # the next run cleans the temps of the killed runs and completes
    done = start(["validate", ledger.name, "--json"], ledger.parent)
    _, err = done.communicate(timeout=60)
    assert done.returncode == 1, err.decode()  # the demo ledger has planted errors
    opens(ledger)
    assert temps(ledger.parent) == []
    for backup in safe.backup_dir(ledger).iterdir():
        opens(backup)


def test_two_runs_at_once_never_interleave(ledger):
    original = digest(ledger)
    a = start(["validate", ledger.name], ledger.parent)
    b = start(["validate", ledger.name], ledger.parent)
    for p in (a, b):
        _, err = p.communicate(timeout=90)
        assert p.returncode == 1, err.decode()
    backups = sorted(safe.backup_dir(ledger).iterdir())
    assert len(backups) == 2
    # the first run backed up the original; the second backed up the first run's whole result
    assert digest(backups[0]) == original
    assert digest(backups[1]) != original
    opens(backups[1])
    assert "_snapshot" in CalamineWorkbook.from_path(str(backups[1])).sheet_names
    opens(ledger)


def test_second_run_waits_then_refuses_after_a_short_wait(ledger):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys,time; from pathlib import Path; from custledger.io.safe import run_lock\n"
         "with run_lock(Path(sys.argv[1])):\n print('locked', flush=True); time.sleep(2.5)", str(ledger)],
        env=ENV, stdout=subprocess.PIPE)
    assert holder.stdout.readline().strip() == b"locked"
    before = digest(ledger)
    t0 = time.monotonic()
    with pytest.raises(LedgerError) as err:
        ops.run(FileBook(ledger, wait=0.3), ["validate"])
    assert err.value.code == "ledger_busy" and time.monotonic() - t0 < 2
    assert "另一个 custledger" in err.value.message("zh")
    assert digest(ledger) == before
    report = ops.run(FileBook(ledger, wait=20), ["validate"])  # waits for the holder, then runs
    assert time.monotonic() - t0 >= 2.0 and report.exit_code == 1
    holder.wait()


def _enospc(*_a, **_k):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_full_disk_while_writing_the_temp_file(ledger, monkeypatch):
    from custledger.io import xlsxpatch_zip

    before = digest(ledger)
    monkeypatch.setattr(xlsxpatch_zip.RawZipWriter, "write_stream", _enospc)
    with pytest.raises(LedgerError) as err:
        ops.run(FileBook(ledger), ["validate"])
    text = err.value.message("zh")
    assert err.value.code == "save_failed" and "原文件未改动" in text and "\n" not in text
    # the reason in the workbook's language, not the system's English; that stays chained
    assert "磁盘空间已满" in text and os.strerror(errno.ENOSPC) not in text
    assert "the disk is full" in err.value.message("en")
    assert isinstance(err.value.__cause__, OSError) and err.value.__cause__.errno == errno.ENOSPC
    assert digest(ledger) == before and temps(ledger.parent) == []


def test_full_disk_while_taking_the_backup(ledger, monkeypatch):
    before = digest(ledger)
    monkeypatch.setattr(safe.shutil, "copy2", lambda src, dst: (Path(dst).write_bytes(b"PK\x03\x04 partial"), _enospc()))
    with pytest.raises(LedgerError) as err:
        ops.run(FileBook(ledger), ["validate"])
    assert err.value.code == "save_failed"
    assert digest(ledger) == before and temps(ledger.parent) == []
    assert list(safe.backup_dir(ledger).glob("*")) == []  # no partial copy posing as a backup


def test_full_disk_on_a_real_tiny_filesystem(ledger, tmp_path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    size = ledger.stat().st_size + 64 * 1024  # room for the ledger, not for the new copy
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root): covered by the monkeypatched tests")
    try:
        p = mnt / ledger.name
        shutil.copy2(ledger, p)
        before = digest(p)
        res = subprocess.run([sys.executable, "-m", "custledger.cli", "validate", str(p)], env=ENV,
                             capture_output=True, timeout=90)
        err = res.stderr.decode().strip()
        assert res.returncode == 2
        assert len(err.splitlines()) == 1 and "原文件未改动" in err, err
        assert digest(p) == before
        opens(p)
        assert temps(mnt) == []
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def small_ledger(path: Path, keep: int = 10) -> Path:
    build_ledger(path, "zh", data={
        "customers": pd.DataFrame({"customer_id": ["C1"], "name": ["甲公司"]}),
        "invoices": pd.DataFrame({"doc_no": ["I1"], "date": ["2026-10-01"], "customer_id": ["C1"], "amount": [100.0]})},
        settings={"as_of": "2026-10-31", "backup_keep": str(keep)})
    return path


def test_stale_temps_of_dead_runs_are_removed_live_ones_kept(tmp_path):
    p = small_ledger(tmp_path / "a.xlsx")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        stale = tmp_path / f".a.custledger-{dead.pid}-1.xlsx"
        other = tmp_path / f".a.custledger-{live.pid}-1.xlsx"
        safe.backup_dir(p).mkdir()
        partial = safe.backup_dir(p) / f".a.20260101-000000-000000.xlsx.custledger-{dead.pid}-partial"
        for f in (stale, other, partial):
            f.write_bytes(b"half a zip")
        assert ops.run(FileBook(p), ["validate"]).exit_code == 0
        assert not stale.exists() and not partial.exists()
        assert other.exists(), "a temp of a running process is never touched"
    finally:
        live.kill()
        live.wait()


def test_backups_rotate_keeping_the_last_n_from_settings(tmp_path):
    p = small_ledger(tmp_path / "a.xlsx", keep=3)
    seen = []
    for _ in range(5):
        seen.append(digest(p))
        ops.run(FileBook(p), ["validate"])
    backups = sorted(safe.backup_dir(p).iterdir())
    assert len(backups) == 3
    assert [digest(b) for b in backups] == seen[-3:]


def test_reliability_doc_names_only_tests_that_exist():
    """docs/reliability.md stays current: every test its table names is defined in tests/."""
    import re

    doc = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("| ") and "`test_" in line]
    named = {n for line in rows for n in re.findall(r"`(test_\w+)`", line.split(" | ")[1])}
    assert len(named) >= 25
    defined = set()
    for f in (ROOT / "tests").glob("test_*.py"):
        defined |= set(re.findall(r"^def (test_\w+)\(", f.read_text(encoding="utf-8"), re.M))
    assert named - defined == set(), "docs/reliability.md names tests that do not exist"
    for line in rows:
        assert line.rstrip(" |").endswith("none"), f"data lost must be none: {line}"
