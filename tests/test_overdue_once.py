"""The Overdue sheet is built once a run: by the aging step, or — when the letters step runs in
the same run — by the letters step alone, linked to its letters."""

import pytest

from custledger import ops
from custledger.io.filebook import FileBook
from custledger.ops import aging as aging_ops
from test_letters_step import ledger  # noqa: F401  (the fixture: C1 with two overdue invoices, C2 not yet due)


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
