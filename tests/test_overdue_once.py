"""The Overdue sheet is built once a run: by the aging step, or — when the letters step runs in
the same run — by the letters step alone, linked to its letters."""

import pandas as pd
import pytest

from custledger import ops
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from custledger.ops import aging as aging_ops


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


@pytest.fixture
def built(monkeypatch):
    calls = []
    real = aging_ops.add_overdue_sheet
    monkeypatch.setattr(aging_ops, "add_overdue_sheet", lambda run, od, letters: (calls.append(dict(letters)),
                                                                                  real(run, od, letters)))
    return calls


def test_aging_alone_builds_overdue_once(ledger, built):
    ops.run(FileBook(ledger), ["reconcile", "aging"])
    assert built == [{}]


def test_with_letters_overdue_is_built_once_with_its_links(ledger, built):
    report = ops.run(FileBook(ledger), ["reconcile", "aging", "letters"])
    assert len(built) == 1 and set(built[0]) == {"C1"}
    assert report.summary["letters"] == 1


def test_letters_turned_off_still_write_overdue(ledger, built):
    ops.run(FileBook(ledger), ["reconcile", "aging", "letters"], letters=False)
    assert built == [{}]
