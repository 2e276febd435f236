"""The Problem record (core/problems.py) and bank-file problems in the Problems sheet (issue 11
item 6, issue 13's first bullet): every line a bank file leaves out is a row, in the workbook's
language; a bank file that cannot be used stops the run in one line."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import openpyxl
import pytest

from custledger import ops
from custledger.core.problems import PROBLEM_COLUMNS, Problem, problem_rows
from custledger.core.validate import PROBLEM_COLUMNS as VALIDATE_COLUMNS
from custledger.io.bankfile import read_bank_file
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from custledger.schema import messages
from test_security import ENV, ROOT, small_ledger

BAD_LINES = ["交易日期,对方户名,对方账号,收入金额,摘要,交易流水号",
             "2026-10-05,甲公司,6222021234561234,100.00,货款,B1",
             "2026-13-45,甲公司,6222021234561234,200.00,货款,B2",      # not a date
             "2026-10-06,甲公司,6222021234561234,abc,货款,B3",         # not an amount
             "2026-10-07,甲公司,6222021234561234,1O0.00,货款,B4"]      # not an amount (letter O)


def test_problem_is_frozen_and_checks_its_severity():
    p = Problem("S", 3, "金额", "x", "bank_line_not_amount", "warning")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.code = "other"
    with pytest.raises(TypeError):
        p.params["x"] = 1
    with pytest.raises(ValueError):
        Problem("S", 3, "金额", "x", "bank_line_not_amount", "fatal")


def test_problem_rows_are_the_frame_validate_produces():
    assert PROBLEM_COLUMNS == VALIDATE_COLUMNS
    rows = problem_rows([Problem("f.csv", 4, "收入金额", "abc", "bank_line_not_amount", "warning"),
                         Problem("f.csv", None, "", "", "bank_empty")], "en")
    assert list(rows.columns) == PROBLEM_COLUMNS and str(rows["row"].dtype) == "int64"
    assert rows["row"].tolist() == [4, 0]
    assert rows["problem"].iat[0] == "收入金额 is not an amount: abc; line left out"
    zh = problem_rows([Problem("f.csv", 4, "收入金额", "abc", "bank_line_not_amount", "warning")], "zh")
    assert zh["problem"].iat[0].startswith("「收入金额」不是金额")


def test_every_bank_problem_code_has_zh_and_en_text(tmp_path):
    import re

    src = (ROOT / "pylib/custledger/io/bankfile.py").read_text(encoding="utf-8")
    codes = set(re.findall(r'code="(bank_\w+)"', src)) | {"bank_file_problem"}
    assert len(codes) >= 14
    for code in codes:
        assert messages()[code]["zh"] and messages()[code]["en"], code


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_line_left_out_is_a_problems_row_in_the_workbooks_language(tmp_path, lang):
    ledger = small_ledger(tmp_path / "l.xlsx") if lang == "zh" else tmp_path / "l.xlsx"
    if lang == "en":
        import pandas as pd

        build_ledger(ledger, "en", data={
            "customers": pd.DataFrame({"customer_id": ["C1"], "name": ["甲公司"]}),
            "invoices": pd.DataFrame({"doc_no": ["I1"], "date": ["2026-10-01"], "customer_id": ["C1"],
                                      "amount": [1000.0]})}, settings={"as_of": "2026-10-31", "language": "en"})
    bank = tmp_path / "工行流水.csv"
    bank.write_text("\n".join(BAD_LINES) + "\n", encoding="utf-8")
    assert len(read_bank_file(bank).problems) == 3
    report = ops.run(FileBook(ledger), ["reconcile"], bank=bank)
    assert report.summary["bank_lines"] == 1
    ws = openpyxl.load_workbook(ledger)["校验结果" if lang == "zh" else "Problems"]
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "工行流水.csv"]
    assert sorted(r[1] for r in rows) == [3, 4, 5]
    texts = " ".join(str(v) for r in rows for v in r if v is not None)
    if lang == "zh":
        assert "不是日期" in texts and "不是金额" in texts and "left out" not in texts
    else:
        assert "not a date" in texts and "not an amount" in texts and "未导入" not in texts
    assert report.summary["warnings"] >= 3


def test_an_unusable_bank_file_stops_in_one_line_in_the_users_language(tmp_path):
    ledger = small_ledger(tmp_path / "l.xlsx")
    bank = tmp_path / "b.csv"
    bank.write_bytes(b"\xff\xfe\x00\xd8" * 50 + b"\x81")
    for lang, words in (("zh", "银行流水文件无法使用"), ("en", "cannot decode")):
        res = subprocess.run([sys.executable, "-m", "custledger.cli", "reconcile", str(ledger), "--bank", str(bank)],
                             env={**ENV, "CUSTLEDGER_LANG": lang}, capture_output=True, text=True, timeout=120)
        err = res.stderr.strip()
        assert res.returncode == 2 and len(err.splitlines()) == 1 and words in err, err
