"""ops/staging.reserve: the folders a run will put statements and letters in are prepared before
any step runs — one that cannot be written stops the run first, with the ledger untouched — and
a reserved folder no step used leaves nothing behind (no empty folder, no staging)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from custledger import ops
from custledger.core.errors import LedgerError
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from custledger.operations import steps_of
from custledger.ops import staging


def _ledger(tmp_path: Path, invoices: bool) -> Path:
    p = tmp_path / "台账.xlsx"
    data = {"customers": pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["甲公司", "乙公司"]})}
    if invoices:
        data["invoices"] = pd.DataFrame({"doc_no": ["F1", "F2"], "customer_id": ["C1", "C2"],
                                         "date": ["2026-08-01", "2026-10-05"], "due_date": ["2026-08-31", "2026-11-04"],
                                         "amount": ["1000", "250.5"]})
    build_ledger(p, "zh", data=data, settings={"as_of": "2026-10-31"})
    return p


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _staging_left(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if staging.MARK in p.name]


def test_an_unwritable_statements_folder_stops_the_run_before_its_steps(tmp_path, monkeypatch):
    ledger = _ledger(tmp_path, invoices=True)
    before = _digest(ledger)
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder", encoding="utf-8")
    ran: list = []
    real = ops.STEPS["reconcile"]
    monkeypatch.setitem(ops.STEPS, "reconcile", lambda run: (ran.append("reconcile"), real(run)))
    with pytest.raises(LedgerError) as err:
        ops.run(FileBook(ledger), steps_of("close"), month="2026-10", dir=blocker / "statements", allow_errors=True)
    assert err.value.code == "dir_unwritable"
    assert ran == []                      # refused before the first step, not after the work
    assert _digest(ledger) == before
    assert _staging_left(tmp_path) == []


def test_a_reserved_folder_no_step_used_leaves_nothing(tmp_path):
    """No invoice overdue: no letter is written, so the letters folder reserved for them (and
    its parent, made for it) is gone after the run; the statements are in place."""
    ledger = _ledger(tmp_path, invoices=False)
    report = ops.run(FileBook(ledger), steps_of("close"), month="2026-10", allow_errors=True)
    assert report.summary.get("letters", 0) == 0
    assert not (tmp_path / "台账_letters").exists()
    assert _staging_left(tmp_path) == []
    assert (tmp_path / "台账_statements" / "2026-10").is_dir()


def test_reserved_folders_are_the_ones_the_steps_use(tmp_path, monkeypatch):
    """The statements and letters rendered into the folders made before the steps: one staging
    folder each, then the files in place."""
    ledger = _ledger(tmp_path, invoices=True)
    made: list = []
    real = staging._make

    def spy(folder):
        made.append(Path(folder))
        return real(folder)

    monkeypatch.setattr(staging, "_make", spy)
    report = ops.run(FileBook(ledger), steps_of("close"), month="2026-10", allow_errors=True)
    assert sorted(made) == sorted({tmp_path / "台账_statements" / "2026-10", tmp_path / "台账_letters" / "2026-10-31"})
    assert report.summary["letters"] >= 1 and report.summary["statements"] >= 1
    assert any((tmp_path / "台账_letters" / "2026-10-31").iterdir())
    assert _staging_left(tmp_path) == []
