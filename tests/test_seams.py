"""Issue 13's leftovers: one header rule for Settings, bank-file problems as records with no
system prose, Payers rows naming no customer reported, a step registry that survives a removed step."""

from __future__ import annotations

import re

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from custledger import ops
from custledger.core import parse
from custledger.core.problems import Problem
from custledger.core.settings import read_settings
from custledger.io.bankfile import read_bank_file
from custledger.io.filebook import FileBook
from custledger.io.reader import RawSheet
from custledger.io.template import build_ledger

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_PROSE = re.compile(r"[A-Za-z]{2,}[ ,;:'.]+[A-Za-z]{2,}")


# ---- 1. Settings find their header by core/parse.find_header -------------------------------------

def test_settings_header_is_found_by_the_one_header_rule(monkeypatch):
    # a unit or note in brackets after a header is the header rule's (parse.header_field)
    frame = pd.DataFrame([["参数设置", None], ["参数【必填】", "值（元）"], ["default_terms", "45"]], dtype=object)
    settings, problems = read_settings(RawSheet("参数", frame))
    assert problems == [] and settings.default_terms == 45
    import custledger.core.settings as settings_module

    seen = []
    monkeypatch.setattr(settings_module, "find_header", lambda *a: seen.append(a) or parse.find_header(*a))
    read_settings(RawSheet("参数", frame))
    assert len(seen) == 1                             # the one rule, called once


def test_settings_header_is_looked_for_in_the_first_ten_rows_only():
    # a key/value header below row 10 is not one: the sheet is read as key in A, value in B
    frame = pd.DataFrame([[f"note {i}", None, None] for i in range(10)] + [[None, "值", "参数"], [None, "45", "default_terms"]],
                         dtype=object)
    settings, _ = read_settings(RawSheet("参数", frame))
    assert settings.default_terms != 45
    settings, _ = read_settings(RawSheet("参数", frame.iloc[1:].reset_index(drop=True)))
    assert settings.default_terms == 45


# ---- 2. bank files: Problem records, no system prose -------------------------------------------------

def test_bank_problems_are_records_and_the_dicts_are_made_from_them(tmp_path):
    bank = tmp_path / "b.csv"
    bank.write_text("交易日期,对方户名,收入金额\n2026-10-05,甲,abc\n2026-13-45,甲,1.00\n", encoding="utf-8")
    read = read_bank_file(bank)
    assert all(isinstance(p, Problem) for p in read.found) and read.records() == list(read.found)
    assert [p["problem"] for p in read.problems] == [p.text("en") for p in read.found]
    assert [(p["row"], p["code"]) for p in read.problems] == [(2, "bank_line_not_amount"), (3, "bank_line_not_date")]


@pytest.mark.parametrize("case", ["missing", "folder", "csv_field", "csv_cr", "workbook"])
def test_system_error_text_never_reaches_a_chinese_text(tmp_path, case):
    p = tmp_path / "bank.csv"
    if case == "folder":
        p.mkdir()
    elif case == "csv_field":
        p.write_bytes("交易日期,对方户名,收入金额\n".encode() + b'2026-10-01,"' + b"x" * 200_000 + b"\n")
    elif case == "csv_cr":
        p.write_bytes("交易日期,对方户名,收入金额\n".encode() + b"2026-10-01,a\rb,1\n")
    elif case == "workbook":
        p = tmp_path / "bank.xlsx"
        p.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    read = read_bank_file(p)
    (err,) = read.records()
    assert err.severity == "error" and not read.ok and read.lines.empty
    zh = err.text("zh")
    assert CJK.search(zh) and not ENGLISH_PROSE.search(zh.replace(str(p), "")), zh
    en = err.text("en")
    assert not CJK.search(en.replace("交易日期", "")), en
    assert read.cause is not None                     # the system's own words: kept for the debug chain
    for word in ("No such file", "Is a directory", "field larger", "new-line", "Errno"):
        assert word not in zh and word not in en


def test_an_unreadable_bank_file_chains_its_cause_when_the_run_stops(tmp_path):
    from custledger.core.problems import ProblemError

    ledger = build_ledger(tmp_path / "l.xlsx", "zh", settings={"as_of": "2026-10-31"})
    with pytest.raises(ProblemError) as err:
        ops.run(FileBook(ledger), ["reconcile"], bank=tmp_path / "nope.csv")
    assert isinstance(err.value.__cause__, FileNotFoundError)
    assert "文件不存在" in err.value.message("zh") and "No such file" not in err.value.message("zh")


# ---- 3. Payers rows naming no customer ----------------------------------------------------------

def _ledger_with_payers(path, lang):
    build_ledger(path, lang, data={
        "customers": pd.DataFrame({"customer_id": ["C1"], "name": ["甲公司"]}),
        "invoices": pd.DataFrame({"doc_no": ["I1"], "date": ["2026-10-01"], "customer_id": ["C1"],
                                  "amount": [1000.0]})}, settings={"as_of": "2026-10-31", "language": lang})
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("付款方对照" if lang == "zh" else "Payers")
    ws.append(["付款方", "对方账号", "客户编号"] if lang == "zh" else ["Payer", "Payer Account", "Customer ID"])
    ws.append(["张三", "6222000011112222", "C1"])
    ws.append(["李四", "6222000033334444", "C99"])     # no such customer
    wb.save(path)
    return path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_payers_row_naming_no_customer_is_a_warning_and_teaches_nothing(tmp_path, lang):
    ledger = _ledger_with_payers(tmp_path / "l.xlsx", lang)
    bank = tmp_path / "bank.csv"
    bank.write_text("交易日期,对方户名,对方账号,收入金额,交易流水号\n2026-10-05,张三,6222000011112222,100.00,B1\n"
                    "2026-10-06,李四,6222000033334444,200.00,B2\n", encoding="utf-8")
    report = ops.run(FileBook(ledger), ["reconcile"], bank=bank)
    assert report.summary["errors"] == 0 and report.summary["warnings"] >= 1
    book = CalamineWorkbook.from_path(str(ledger))
    payers_sheet = "付款方对照" if lang == "zh" else "Payers"
    problems = book.get_sheet_by_name("校验结果" if lang == "zh" else "Problems").to_python()
    mine = [r for r in problems[1:] if r[0] == payers_sheet]
    assert len(mine) == 1 and int(mine[0][1]) == 3 and "C99" in " ".join(map(str, mine[0]))
    text = " ".join(map(str, mine[0]))
    assert ("客户档案中不存在" in text) if lang == "zh" else ("not in Customers" in text and not CJK.search(
        text.replace(payers_sheet, "").replace("C99", "")))
    bank_rows = book.get_sheet_by_name("银行流水匹配" if lang == "zh" else "Bank").to_python()
    assert "C99" not in str(bank_rows)                # ignored for matching
    assert "C1" in str([r for r in bank_rows if "张三" in r])


# ---- 4. the step registry survives a step removed from it ------------------------------------------

def test_a_removed_step_is_registered_again_from_its_module(monkeypatch):
    from custledger.ops import pipeline

    fn = pipeline.STEPS["tiers"]                        # its module imported
    monkeypatch.delitem(pipeline.STEPS, "tiers")
    with pytest.raises(RuntimeError, match="tiers"):    # the registry as it is: the step is missing
        pipeline.check_registry()
    assert pipeline.STEPS["tiers"] is fn                # a look-up repairs it from the module's declaration
    assert "tiers" in pipeline.STEPS and pipeline.STEPS.get("tiers") is fn
    pipeline.check_registry()


def test_a_new_registry_finds_the_step_of_an_already_imported_module():
    from custledger.ops import pipeline, tiers  # noqa: F401  (imported: importing again runs nothing)
    from custledger.ops.registry import StepRegistry

    assert StepRegistry(["tiers"])["tiers"] is pipeline.STEPS["tiers"]
