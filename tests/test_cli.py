"""The command line as a person uses it: exit codes, one-line messages, files left untouched."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from custledger.io.template import build_ledger


def cli(*args, cwd=None):
    env = {**os.environ, "CUSTLEDGER_LANG": "zh"}
    env.pop("CUSTLEDGER_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "custledger.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def assert_refused(res, *words):
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    err = res.stderr.strip()
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    assert len(err.splitlines()) == 1, err
    for w in words:
        assert w in err, err


@pytest.fixture
def ledger(tmp_path):
    p = tmp_path / "台账.xlsx"
    build_ledger(p, "zh", data={
        "customers": __import__("pandas").DataFrame({"customer_id": ["C1"], "name": ["甲公司"]}),
        "invoices": __import__("pandas").DataFrame({"doc_no": ["I1"], "date": ["2026-10-01"], "customer_id": ["C1"],
                                                    "amount": [100.0]})},
                 settings={"as_of": "2026-10-31"})
    return p


def test_new_writes_templates_and_refuses_to_overwrite(tmp_path):
    p = tmp_path / "new.xlsx"
    assert cli("new", p, "--lang", "en").returncode == 0
    assert openpyxl.load_workbook(p).sheetnames[1] == "Customers"
    assert_refused(cli("new", p), "已存在")
    assert cli("new", p, "--force").returncode == 0


def test_validate_clean_ledger_exit_0_and_problems_sheet(ledger):
    res = cli("validate", ledger)
    assert res.returncode == 0, res.stderr
    wb = openpyxl.load_workbook(ledger)
    assert "校验结果" in wb.sheetnames
    assert [c.value for c in wb["校验结果"][1]][:6] == ["工作表", "行", "列", "值", "问题", "级别"]
    assert list(ledger.parent.glob("*.backups/*.xlsx")), "a backup is taken before writing"


def test_validate_errors_exit_1_marks_cells_and_clears_them_when_fixed(ledger):
    wb = openpyxl.load_workbook(ledger)
    wb["销售单据"]["C2"] = "C404"
    wb.save(ledger)
    res = cli("validate", ledger, "--json")
    assert res.returncode == 1
    assert '"errors": 1' in res.stdout
    wb = openpyxl.load_workbook(ledger)
    assert wb["销售单据"]["C2"].comment is not None and "C404" in wb["销售单据"]["C2"].comment.text
    wb["销售单据"]["C2"] = "C1"
    wb.save(ledger)
    assert cli("validate", ledger).returncode == 0
    wb = openpyxl.load_workbook(ledger)
    assert wb["销售单据"]["C2"].comment is None
    assert wb["校验结果"].max_row <= 2


def test_out_writes_a_copy_and_leaves_the_ledger_untouched(ledger, tmp_path):
    before = digest(ledger)
    out = tmp_path / "copy.xlsx"
    assert cli("validate", ledger, "--out", out).returncode == 0
    assert digest(ledger) == before
    assert "校验结果" in openpyxl.load_workbook(out).sheetnames


def test_excel_lock_file_refuses_unless_forced(ledger):
    lock = ledger.with_name("~$" + ledger.name)
    lock.write_bytes(b"owner")
    before = digest(ledger)
    assert_refused(cli("validate", ledger), "Excel", "--force")
    assert digest(ledger) == before
    assert cli("validate", ledger, "--force").returncode == 0


def test_read_only_file_refused(ledger):
    os.chmod(ledger, 0o444)
    try:
        if os.access(ledger, os.W_OK):
            pytest.skip("running as a user who can write read-only files (root)")
        before = digest(ledger)
        assert_refused(cli("validate", ledger), "只读")
        assert digest(ledger) == before
    finally:
        os.chmod(ledger, 0o644)


def test_missing_sheet_and_missing_column(tmp_path):
    p = tmp_path / "a.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "客户档案"
    wb.active.append(["客户编号", "客户名称"])
    wb.active.append(["C1", "甲"])
    wb.save(p)
    before = digest(p)
    assert_refused(cli("validate", p), "销售单据")
    assert digest(p) == before
    ws = wb.create_sheet("销售单据")
    ws.append(["单据编号", "客户编号", "金额"])
    ws.append(["I1", "C1", 5])
    wb.save(p)
    assert_refused(cli("validate", p), "销售单据", "日期")


def test_bad_files(tmp_path):
    csv = tmp_path / "a.csv"
    csv.write_text("客户编号,客户名称\nC1,甲\n", encoding="utf-8")
    assert_refused(cli("validate", csv), "CSV")
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert_refused(cli("validate", xls), ".xls")
    corrupt = tmp_path / "bad.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 this is not really a zip")
    assert_refused(cli("validate", corrupt), "损坏")
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    assert_refused(cli("validate", empty), "空文件")
    assert_refused(cli("validate", tmp_path / "nope.xlsx"), "找不到")
    blank = tmp_path / "blank.xlsx"
    openpyxl.Workbook().save(blank)
    assert_refused(cli("validate", blank))


def test_encrypted_workbook_refused(ledger, tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    enc = tmp_path / "enc.xlsx"
    with open(ledger, "rb") as src, open(enc, "wb") as dst:
        f = OOXMLFile(src)
        f.encrypt("secret", dst)
    before = digest(enc)
    assert_refused(cli("validate", enc), "密码")
    assert digest(enc) == before


def test_bad_as_of_option(ledger):
    assert_refused(cli("validate", ledger, "--as-of", "2026-02-30"), "--as-of")


def test_a_part_the_writer_cannot_replace_sends_results_elsewhere(ledger):
    """A chartsheet named like a generated sheet cannot be replaced: the ledger stays as it is,
    the results go to a workbook of their own, and the user is told (DESIGN.md, Reliability)."""
    wb = openpyxl.load_workbook(ledger)
    wb.create_chartsheet("校验结果")
    wb.save(ledger)
    before = digest(ledger)
    res = cli("validate", ledger)
    assert res.returncode == 0, res.stderr
    assert digest(ledger) == before
    alt = ledger.with_name(f"{ledger.stem}.custledger-results.xlsx")
    assert "校验结果" in openpyxl.load_workbook(alt).sheetnames
    assert alt.name in res.stdout and "无法保留" in res.stdout
    # why, in the workbook's language (the writer's English reason is not quoted)
    said = "".join(res.stdout.split())   # the summary wraps long lines
    assert "工作表“校验结果”不是普通工作表" in said and "worksheet" not in said, res.stdout


def test_read_only_ledger_refused_even_for_root(ledger, monkeypatch):
    """chmod does not stop root (CI): the check itself is exercised by making os.access say no."""
    from typer.testing import CliRunner

    from custledger import cli as cli_mod

    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if (mode == os.W_OK and str(p) == str(ledger))
                        else real(p, mode))
    before = digest(ledger)
    res = CliRunner().invoke(cli_mod.app, ["validate", str(ledger)])
    assert res.exit_code == 2
    assert "只读" in res.output and "Traceback" not in res.output
    assert digest(ledger) == before
