"""A writer failure becomes one line (save_failed, the ledger untouched) and keeps its cause:
chained, and shown with CUSTLEDGER_DEBUG=1."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from custledger import ops
from custledger.core.errors import LedgerError
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger


@pytest.fixture
def ledger(tmp_path):
    p = tmp_path / "台账.xlsx"
    build_ledger(p, "zh", data={"customers": pd.DataFrame({"customer_id": ["C1"], "name": ["甲公司"]})},
                 settings={"as_of": "2026-10-31"})
    return p


def _boom(*args, **kwargs):
    raise RuntimeError("disk on fire")


def test_a_writer_failure_is_save_failed_with_its_cause(ledger, monkeypatch):
    from custledger.io import xlsxpatch
    monkeypatch.setattr(xlsxpatch, "patch_workbook", _boom)
    before = ledger.read_bytes()
    with pytest.raises(LedgerError) as info:
        ops.run(FileBook(ledger), ["validate"])
    assert info.value.code == "save_failed"
    assert isinstance(info.value.__cause__, RuntimeError) and "disk on fire" in str(info.value.__cause__)
    assert ledger.read_bytes() == before


@pytest.mark.parametrize("debug", [False, True])
def test_cli_shows_the_cause_only_with_debug(ledger, monkeypatch, debug):
    from custledger import cli
    from custledger.io import xlsxpatch
    monkeypatch.setattr(xlsxpatch, "patch_workbook", _boom)
    monkeypatch.setenv("CUSTLEDGER_LANG", "zh")
    if debug:
        monkeypatch.setenv("CUSTLEDGER_DEBUG", "1")
    else:
        monkeypatch.delenv("CUSTLEDGER_DEBUG", raising=False)
    res = CliRunner().invoke(cli.app, ["validate", str(ledger)])
    assert res.exit_code == 2
    err = res.stderr if hasattr(res, "stderr") else res.output
    assert ("disk on fire" in err and "Traceback" in err) is debug
    assert err.strip().splitlines()[-1].startswith("保存失败,原文件未改动")


@pytest.mark.parametrize("debug", [False, True])
def test_excel_route_logs_the_cause_only_with_debug(tmp_path, monkeypatch, debug):
    from custledger import xl
    monkeypatch.setattr(xl.tempfile, "gettempdir", lambda: str(tmp_path))
    if debug:
        monkeypatch.setenv("CUSTLEDGER_DEBUG", "1")
    else:
        monkeypatch.delenv("CUSTLEDGER_DEBUG", raising=False)
    try:
        try:
            raise RuntimeError("disk on fire")
        except RuntimeError as cause:
            raise LedgerError("save_failed", detail="RuntimeError: disk on fire") from cause
    except LedgerError as exc:
        text = xl.failure_text(exc, "zh")
    assert text.startswith("保存失败,原文件未改动") and "\n" not in text
    log = tmp_path / xl.LOG_NAME
    assert log.exists() is debug
    if debug:
        assert "RuntimeError: disk on fire" in log.read_text(encoding="utf-8")


def test_an_unexpected_error_in_an_excel_button_is_worded_and_logged(tmp_path, monkeypatch):
    """A bug reaching an Excel button: the message box says so in the workbook's language, with
    the exception's class and the log's path; the exception's (English) text is in the log."""
    from custledger import xl
    monkeypatch.setattr(xl.tempfile, "gettempdir", lambda: str(tmp_path))
    try:
        {}["amount"]
    except KeyError as exc:
        text = xl.failure_text(exc, "zh")
    log = tmp_path / xl.LOG_NAME
    assert text.startswith("custledger 未能完成:程序内部出错(KeyError)") and str(log) in text, text
    assert "'amount'" in log.read_text(encoding="utf-8") and "'amount'" not in text
    try:
        raise PermissionError(13, "Permission denied", "x.xlsx")
    except PermissionError as exc:
        text = xl.failure_text(exc, "zh")
    assert "Permission denied" not in text and "custledger 未能完成" in text, text
