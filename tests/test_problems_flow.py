"""Every producer of problems speaks Problem (core/problems.py) and reaches the Problems sheet
(issue 13, first item): reading values (core/parse.py), Settings, header duplicates (core/load.py),
the validation rules, bank files; the money invariants as Problem records that stop the run in
the user's language. Text comes from messages.json in the workbook's language: no English prose
in a Chinese workbook."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from custledger import ops
from custledger.core.errors import LedgerError
from custledger.core.invariants import check_invariants, invariant_problems
from custledger.core.load import load
from custledger.core.problems import (
    PROBLEM_COLUMNS,
    OutputLabel,
    Problem,
    ProblemError,
    problem_rows,
    problems_frame,
)
from custledger.core.settings import parse_settings, read_settings
from custledger.io.filebook import FileBook
from custledger.io.reader import RawSheet, read_book
from custledger.operations import steps_of
from custledger.schema import messages

ROOT = Path(__file__).resolve().parents[1]
# two English words in a row: prose (a label, a key or an id is one word at most)
ENGLISH_PROSE = re.compile(r"[A-Za-z]{2,}[ ,;:'.]+[A-Za-z]{2,}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def template_pattern(code: str, lang: str) -> re.Pattern:
    """The message of ``code`` in ``lang`` with every {placeholder} free: a text made from it matches."""
    parts = re.split(r"\{[a-z_]+\}", messages()[code][lang])
    return re.compile(".*?".join(re.escape(p) for p in parts), re.S)


def made_from(text: str, code: str, lang: str) -> bool:
    return template_pattern(code, lang).fullmatch(text) is not None


# ---- the record and its one frame helper ----------------------------------------------------------

def test_problems_frame_and_problem_rows_give_the_same_rows():
    recs = [Problem("销售单据", 3, "客户编号", "C9", "unknown_customer", cell="C3", field="customer_id"),
            Problem("参数", 4, "默认账期", "abc", "setting_bad", "warning", {"default": 30}, cell="B4"),
            Problem("b.csv", None, "", "", "bank_empty")]
    for lang in ("zh", "en"):
        one_by_one = problem_rows(recs, lang)
        columns = problems_frame(sheet=[p.sheet for p in recs], row=[p.row for p in recs],
                                 column=[p.column for p in recs], value=[p.value for p in recs],
                                 code=[p.code for p in recs], severity=[p.severity for p in recs],
                                 params=[dict(p.params) for p in recs], cell=[p.cell for p in recs],
                                 field=[p.field for p in recs], lang=lang)
        pd.testing.assert_frame_equal(one_by_one, columns)
        assert one_by_one["problem"].tolist() == [p.text(lang) for p in recs]
        assert one_by_one["row"].tolist() == [3, 4, 0]
    assert problem_rows(recs, "zh")["problem"].iat[1] == "参数「默认账期」的值无效:abc,使用默认值 30"


def test_problems_frame_takes_columns_and_scalars_and_words_nested_messages():
    f = problems_frame(sheet="回款记录", row=pd.Series([5, 7]).to_numpy(), column="客户编号", value=["X1", "X2"],
                       code="unknown_customer", severity="error", cell=["C5", "C7"], field="customer_id", lang="en")
    assert list(f.columns) == PROBLEM_COLUMNS and str(f["row"].dtype) == "int64"
    assert f["problem"].tolist() == ["Customer ID X1 is not in Customers", "Customer ID X2 is not in Customers"]
    assert f["sheet"].tolist() == ["回款记录", "回款记录"]
    # per-problem parameters as columns; a parameter that is a message is worded in the text's language
    g = problems_frame(sheet="S", row=[2, 3], column="C", value="v", code="bank_file_bad",
                       params={"detail": [LedgerError("workbook_empty"), OutputLabel("balances", "balance")]},
                       lang="zh")
    assert "应收余额" in g["problem"].iat[1] and not ENGLISH_PROSE.search(g["problem"].iat[0])
    with pytest.raises(ValueError):
        problems_frame(sheet="S", row=[1, 2], column="C", value=["only one"], code="required", lang="en")
    with pytest.raises(TypeError):
        problem_rows([{"sheet": "S", "code": "required"}], "en")
    empty = problems_frame(sheet="S", row=[], column="", value="", code="required", lang="zh")
    assert empty.empty and list(empty.columns) == PROBLEM_COLUMNS


def test_problem_error_words_every_problem_in_the_language_it_is_printed_in():
    a = Problem("b.csv", None, "", "", "bank_empty")
    b = Problem("b.csv", None, "", "", "bank_undecodable")
    e = ProblemError("bank_file_bad", a, b)
    assert e.problem is a and e.problems == (a, b)
    zh, en = e.message("zh"), e.message("en")
    assert a.text("zh") in zh and b.text("zh") in zh and len(zh.splitlines()) == 1
    assert a.text("en") in en and b.text("en") in en and not CJK.search(en)


# ---- readers return Problem records ---------------------------------------------------------------

def _settings_sheet(rows):
    return RawSheet("参数", pd.DataFrame([["参数", "值"], *rows], dtype=object))


def test_settings_give_problem_records_and_the_old_rows_from_them():
    rows = [["default_terms", "abc"], ["no_such_setting", "1"], ["language", "en"]]
    settings, problems = read_settings(_settings_sheet(rows))
    assert all(isinstance(p, Problem) for p in problems)
    assert [(p.code, p.severity, p.row, p.cell) for p in problems] == [
        ("setting_bad", "warning", 2, "B2"), ("setting_unknown", "warning", 3, "A3")]
    _, dicts = parse_settings(_settings_sheet(rows))
    assert dicts == [p.as_row(settings.language) for p in problems]
    assert dicts[0]["problem"] == problems[0].text("en") and "the default 30 is used" in dicts[0]["problem"]


def _ledger(path: Path, lang: str) -> Path:
    """A ledger with one problem of each producer: a Settings value not understood, a header
    given twice, a total row, a value that is not a date, a customer id that does not exist."""
    zh = lang == "zh"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户档案" if zh else "Customers"
    ws.append(["客户编号", "客户名称", "开户账号"] if zh else ["Customer ID", "Name", "Bank Account"])
    ws.append(["C1", "甲公司", "6222021234561234"])
    ws = wb.create_sheet("销售单据" if zh else "Invoices")
    ws.append(["单据编号", "日期", "客户编号", "金额", "金额"] if zh else ["Doc No", "Date", "Customer ID", "Amount",
                                                                   "Amount"])
    ws.append(["I1", "2026-10-01", "C1", 1000, 5])
    ws.append(["I2", "2026-13-45", "C1", 200, None])          # row 3: not a date
    ws.append(["I3", "2026-10-02", "C9", 300, None])          # row 4: no such customer
    ws.append(["合计" if zh else "Total", None, None, 1500, None])   # row 5: a total row
    ws = wb.create_sheet("参数" if zh else "Settings")
    ws.append(["参数", "值"] if zh else ["Key", "Value"])
    ws.append(["as_of", "2026-10-31"])
    ws.append(["default_terms", "abc"])                      # row 3: not a number of days
    if not zh:
        ws.append(["language", "en"])
    wb.save(path)
    return path


BAD_BANK = ["交易日期,对方户名,对方账号,收入金额,摘要,交易流水号",
            "2026-10-05,甲公司,6222021234561234,100.00,货款,B1",
            "2026-10-06,甲公司,6222021234561234,abc,货款,B2"]       # line 3: not an amount


def test_load_gives_problem_records_only(tmp_path):
    loaded = load(read_book(_ledger(tmp_path / "l.xlsx", "zh")))
    assert loaded.problems and all(isinstance(p, Problem) for p in loaded.problems)
    assert {p.code for p in loaded.problems} >= {"setting_bad", "header_duplicate", "bad_date", "total_row_skipped"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_producer_reaches_the_problems_sheet_in_the_workbooks_language(tmp_path, lang):
    ledger = _ledger(tmp_path / "l.xlsx", lang)
    bank = tmp_path / "流水.csv"
    bank.write_text("\n".join(BAD_BANK) + "\n", encoding="utf-8")
    report = ops.run(FileBook(ledger), steps_of("reconcile"), bank=bank)
    assert report.exit_code == 1  # the unknown customer and the unreadable date are errors
    zh = lang == "zh"
    ws = openpyxl.load_workbook(ledger)["校验结果" if zh else "Problems"]
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0]]
    inv, settings = ("销售单据", "参数") if zh else ("Invoices", "Settings")
    expected = {  # (sheet, row) -> the message it must be made from
        (settings, 3): "setting_bad",            # core/settings.py
        (inv, 1): "header_duplicate",            # core/load.py
        (inv, 3): "bad_date",                    # core/parse.py
        (inv, 5): "total_row_skipped",           # core/parse.py
        (inv, 4): "unknown_customer",            # core/validate.py
        ("流水.csv", 3): "bank_line_not_amount",  # io/bankfile.py, added by reconcile
    }
    for (sheet, row), code in expected.items():
        texts = [r[4] for r in rows if r[0] == sheet and r[1] == row]
        assert any(made_from(t, code, lang) for t in texts), (sheet, row, code, texts)
    # the words of the message itself: the column and value a person (or a bank) wrote taken out
    own_words = [str(r[4]).replace(str(r[2] or ""), "").replace(str(r[3] or ""), "") for r in rows]
    if zh:
        assert not [t for t in own_words if ENGLISH_PROSE.search(t)]
        assert {r[5] for r in rows} <= {"错误", "警告"}
    else:
        assert not [t for t in own_words if CJK.search(t)]
        assert {r[5] for r in rows} <= {"error", "warning", "Error", "Warning"}


def test_an_invoice_import_gives_problem_records_that_reach_the_problems_sheet_in_english(tmp_path):
    from custledger.io.template import build_ledger
    from invoice_export import write_xlsx

    ledger = tmp_path / "l.xlsx"
    build_ledger(ledger, "en", data={"customers": pd.DataFrame({"customer_id": ["C1"], "name": ["北京甲科技有限公司"],
                                                                "tax_id": ["91110108MA01C4XN4E"]})},
                 settings={"as_of": "2026-10-31", "language": "en"})
    export = write_xlsx(tmp_path / "e.xlsx", [{"数电票号码": "26330000000000000301", "购方识别号": "91110108MA01C4XN4C",
                                              "购买方名称": "北京甲科技有限公司", "开票日期": "2026-10-05", "价税合计": 100,
                                              "发票状态": "正常", "是否正数发票": "是"}])
    ops.run(FileBook(ledger), ["import_invoices"], invoices=export)
    rows = [r for r in openpyxl.load_workbook(ledger)["Problems"].iter_rows(min_row=2, values_only=True)
            if r[0] == "e.xlsx"]
    assert len(rows) == 1 and made_from(rows[0][4], "invoice_note_tax_id_bad", "en"), rows
    assert not CJK.search(rows[0][4])


# ---- the money invariants --------------------------------------------------------------------------

def _broken_books():
    from custledger.core.allocate import allocate
    from custledger.core.balances import balances
    from engine_helpers import cust, customers, inv, invoices, rc, receipts

    I = invoices(inv("A1", "2024-01-01", 100, "C1"), inv("A2", "2024-01-10", 200, "C1"),
                 inv("B1", "2024-01-05", 300, "C2"))
    R = receipts(rc("R1", "2024-01-15", 150, "C1"), rc("R2", "2024-01-20", 400, "C2"))
    C = customers(cust("C1"), cust("C2"))
    a = allocate(I, R, None)
    b = balances(C, I, R, a)
    bad = a.copy()
    bad.loc[0, "amount"] = -1
    bad.loc[1, "customer_id"] = "C2"
    wrong = b.copy()
    wrong.loc[wrong["customer_id"] == "C1", "balance"] += 1
    return I, R, a, b, bad, wrong


def test_invariant_failures_are_problem_records_worded_in_either_language():
    I, R, a, b, bad, wrong = _broken_books()
    assert invariant_problems(I, R, a, b) == [] and check_invariants(I, R, a, b) == []
    found = invariant_problems(I, R, bad, wrong, pd.Timestamp("2024-01-16"))
    assert found and all(isinstance(p, Problem) and p.severity == "error" for p in found)
    codes = {p.code for p in found}
    assert {"invariant_amount_not_positive", "invariant_doc_other_customer", "invariant_balances_differ",
            "invariant_after_as_of"} <= codes
    assert [p.text("en") for p in found] == check_invariants(I, R, bad, wrong, pd.Timestamp("2024-01-16"))
    first = next(p for p in found if p.code == "invariant_amount_not_positive")
    assert (first.sheet, first.row, first.column) == ("allocations", 1, "amount")
    for p in found:
        zh = p.text("zh")
        assert CJK.search(zh) and not ENGLISH_PROSE.search(zh), zh
    differ = next(p for p in found if p.code == "invariant_balances_differ" and p.column == "balance")
    assert "应收余额" in differ.text("zh") and differ.text("en").startswith("customer C1: Balances balance")


def test_many_invariant_failures_of_a_kind_end_with_a_count():
    I, R, a, _, _, _ = _broken_books()
    many = pd.concat([a.assign(amount=-1)] * 30, ignore_index=True)
    found = [p for p in invariant_problems(I, R, many, None)]
    kind = [p for p in found if p.code == "invariant_amount_not_positive"]
    more = [p for p in found if p.code == "invariant_more"]
    assert len(kind) == 20 and more and more[0].params["n"] == len(many) - 20
    assert more[0].text("zh") == f"……另有 {len(many) - 20} 条同类问题"


def test_an_invariant_violation_stops_the_run_in_the_users_language(tmp_path, monkeypatch):
    from custledger.io.template import build_ledger
    from custledger.ops import reconcile

    ledger = tmp_path / "l.xlsx"
    build_ledger(ledger, "zh", data={
        "customers": pd.DataFrame({"customer_id": ["C1"], "name": ["甲公司"]}),
        "invoices": pd.DataFrame({"doc_no": ["I1"], "date": ["2026-10-01"], "customer_id": ["C1"], "amount": [1000.0]}),
        "receipts": pd.DataFrame({"receipt_no": ["R1"], "date": ["2026-10-05"], "customer_id": ["C1"],
                                  "amount": [400.0]})}, settings={"as_of": "2026-10-31"})
    before = ledger.read_bytes()
    real = reconcile.need

    def broken(run, key):  # an engine fault: an allocation of a negative amount
        out = real(run, key)
        return out.assign(amount=-out["amount"]) if key == "allocations" else out

    monkeypatch.setattr(reconcile, "need", broken)
    with pytest.raises(ProblemError) as caught:
        ops.run(FileBook(ledger), steps_of("reconcile"))
    zh, en = caught.value.message("zh"), caught.value.message("en")
    assert zh.startswith("核销结果未通过一致性检查") and "不是正数" in zh and not ENGLISH_PROSE.search(zh), zh
    assert "is not positive" in en and not CJK.search(en) and len(en.splitlines()) == 1
    assert ledger.read_bytes() == before  # nothing written


# ---- every code a producer names has both languages -------------------------------------------------

@pytest.mark.parametrize("path,pattern", [
    ("pylib/custledger/core/invariants.py", r'"(invariant_\w+)"'),
    ("pylib/custledger/core/bank.py", r'"(bank_note_\w+)"'),
    ("pylib/custledger/core/settings.py", r'"(setting_\w+)"'),
])
def test_every_code_a_producer_names_has_zh_and_en_and_the_zh_has_no_english_prose(path, pattern):
    codes = set(re.findall(pattern, (ROOT / path).read_text(encoding="utf-8")))
    assert len(codes) >= 2, path
    for code in codes:
        entry = messages()[code]
        assert entry["zh"] and entry["en"], code
        words = re.sub(r"\{[a-z_]+\}", "", entry["zh"])
        assert not ENGLISH_PROSE.search(words), (code, entry["zh"])
