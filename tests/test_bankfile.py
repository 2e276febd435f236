"""Reading bank-statement exports: encodings, title/footer rows, header aliases, amounts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from custledger.io.bankfile import LINE_COLUMNS, read_bank_file

DATA = Path(__file__).parent / "data" / "bank"


def _errors(read):
    return [p for p in read.problems if p["severity"] == "error"]


def _check_frame(lines: pd.DataFrame):
    assert list(lines.columns) == LINE_COLUMNS
    assert lines["amount"].dtype == "int64"
    assert lines["date"].dtype == "datetime64[ns]"
    assert (lines["date"] == lines["date"].dt.normalize()).all()
    assert set(lines["direction"]) <= {"credit", "debit"}
    assert ((lines["amount"] > 0) == (lines["direction"] == "credit")).all()
    for col in ("bank_ref", "payer", "payer_account", "memo"):
        assert all(isinstance(v, str) for v in lines[col])


def test_fixtures_are_small():
    for f in DATA.iterdir():
        assert f.stat().st_size < 20_000, f


def test_icbc_gbk_title_rows_income_expense_columns_and_footer():
    read = read_bank_file(DATA / "icbc_gbk.csv")
    assert read.problems == []
    lines = read.lines
    _check_frame(lines)
    # 5 transactions; 合计 and 共5笔 are not lines
    assert len(lines) == 5
    assert lines["bank_ref"].tolist() == [f"ICBC2026100{d}00{k}" for k, d in enumerate(range(5, 10), 1)]
    assert lines["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2026-10-05", "2026-10-06", "2026-10-07", "2026-10-08", "2026-10-09"]
    # "12,345.60", "￥8000.00", debit "1,234.56", 500, full-width "１，０００．００"
    assert lines["amount"].tolist() == [1234560, 800000, -123456, 50000, 100000]
    assert lines["direction"].tolist() == ["credit", "credit", "debit", "credit", "credit"]
    assert lines.loc[0, "payer"] == "杭州恒昌机电有限公司"
    # ="0622..." (Excel keep-as-text idiom) unwrapped, nothing evaluated
    assert lines.loc[0, "payer_account"] == "6222020200112233445"
    assert lines.loc[0, "memo"] == "货款 XS-1001"
    assert lines.loc[4, "memo"] == "个人转账"  # trailing spaces trimmed
    # formula-looking text stays exactly as written
    assert lines.loc[3, "payer"] == '=HYPERLINK("http://x")'
    assert lines.loc[3, "memo"] == "+attack"
    assert lines["_row"].tolist() == [5, 6, 7, 8, 9]


def test_ccb_debit_credit_columns_with_units_in_brackets():
    read = read_bank_file(DATA / "ccb_gb18030.csv")
    assert read.problems == []
    lines = read.lines
    _check_frame(lines)
    assert lines["bank_ref"].tolist() == ["CCB0001", "CCB0002", "CCB0003"]
    assert lines["amount"].tolist() == [300000, -150000, 20050]
    # 记账日期 is the date; 交易时间 (with the time) is not used when a date column exists
    assert lines["date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-10-05", "2026-10-05", "2026-10-06"]
    assert lines.loc[0, "payer_account"] == "0012345678901"  # leading ' removed, zeros kept
    # 摘要 and 备注 both go into the memo
    assert lines.loc[0, "memo"] == "转账存入 / INV XS-1002"
    assert lines.loc[2, "payer"] == "宁波海天塑机股份有限公司杭州分公司"


def test_signed_amount_with_direction_flag_utf8_bom():
    read = read_bank_file(DATA / "signed_bom.csv")
    assert read.problems == []
    lines = read.lines
    _check_frame(lines)
    assert lines["bank_ref"].tolist() == ["S001", "S002", "S003", "S004", "S005"]
    # 贷 / C / 收 = credit, 借 / D = debit, whatever the sign
    assert lines["direction"].tolist() == ["credit", "debit", "credit", "debit", "credit"]
    assert lines["amount"].tolist() == [100000, -8800, 25000, -30000, 200000]
    assert lines.loc[0, "payer_account"] == "1100 2233 4455 6677"


def test_signed_amount_without_direction_column_tsv(tmp_path):
    text = ("交易日期\t对方户名\t金额\t用途\n"
            "2026-10-05 10:22:33\t甲公司\t1,000.00\t货款\n"
            "2026-10-06\t乙公司\t-20.00\t手续费\n")
    f = tmp_path / "generic.txt"
    f.write_text(text, encoding="utf-8")
    read = read_bank_file(f)
    assert read.problems == []
    assert read.lines["amount"].tolist() == [100000, -2000]
    assert read.lines["direction"].tolist() == ["credit", "debit"]
    assert read.lines["date"].tolist() == [pd.Timestamp("2026-10-05"), pd.Timestamp("2026-10-06")]
    assert read.lines["bank_ref"].tolist() == ["", ""]


def test_xlsx_export_with_title_rows_serial_dates_and_text_amounts(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "明细"
    ws.append(["招商银行 账务明细"])
    ws.merge_cells("A1:G1")
    ws.append([])
    ws.append(["交易日", "交易时间", "收/付方名称", "收/付方账号", "借方金额", "贷方金额", "摘要", "流水号"])
    ws.append([dt.datetime(2026, 10, 5, 9, 30), "09:30:00", "上海宝山钢铁股份有限公司",
               "31001234567890", None, 1234.5, "货款", "CMB001"])
    ws.append([46301, "10:00:00", "顺丰速运有限公司", 755000111222, 88, None, "运费", "CMB002"])
    ws.append(["2026-10-07", "11:00:00", "@SUM(A1)", "", None, "１，２００．００", "-1+1", 20261007003])
    ws.append(["合计", None, None, None, 88, 2434.5, None, None])
    f = tmp_path / "cmb.xlsx"
    wb.save(f)
    read = read_bank_file(f)
    assert read.problems == []
    lines = read.lines
    _check_frame(lines)
    assert lines["amount"].tolist() == [123450, -8800, 120000]
    assert lines["date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-10-05", "2026-10-06", "2026-10-07"]
    assert lines["payer_account"].tolist() == ["31001234567890", "755000111222", ""]
    assert lines["bank_ref"].tolist() == ["CMB001", "CMB002", "20261007003"]
    assert lines.loc[2, "payer"] == "@SUM(A1)"
    assert lines.loc[2, "memo"] == "-1+1"
    assert lines["_row"].tolist() == [4, 5, 6]


def test_repeated_header_blank_rows_zero_lines_and_bad_values_are_reported(tmp_path):
    text = ("记账日期,对方户名,收入金额,支出金额\n"
            "2026-10-05,甲,100.00,\n"
            ",,,\n"
            "记账日期,对方户名,收入金额,支出金额\n"
            "2026-10-06,乙,0.00,0.00\n"
            "2026-13-45,丙,5.00,\n"
            "2026-10-07,丁,abc,\n"
            "2026-10-08,戊,7.00,\n")
    f = tmp_path / "x.csv"
    f.write_text(text, encoding="utf-8")
    read = read_bank_file(f)
    assert read.lines["payer"].tolist() == ["甲", "戊"]
    assert read.ok  # warnings only
    warned = {(p["row"], p["column"]) for p in read.problems}
    assert warned == {(6, "记账日期"), (7, "收入金额")}
    assert all(p["severity"] == "warning" for p in read.problems)


def test_bad_encoding_is_a_problem_not_a_traceback(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_bytes(b"\x81\x30\xff\xff\x00\x01\x02" * 50)
    read = read_bank_file(f)
    assert read.lines.empty and list(read.lines.columns) == LINE_COLUMNS
    (err,) = _errors(read)
    assert "decode" in err["problem"] and err["sheet"] == "bad.csv"


def test_empty_file(tmp_path):
    f = tmp_path / "empty.csv"
    f.write_bytes(b"")
    read = read_bank_file(f)
    assert read.lines.empty
    assert "empty" in _errors(read)[0]["problem"]
    g = tmp_path / "blank.csv"
    g.write_text(",,\n\n", encoding="utf-8")
    assert "empty" in _errors(read_bank_file(g))[0]["problem"]


def test_no_recognisable_header(tmp_path):
    f = tmp_path / "other.csv"
    f.write_text("name,qty,price\nfoo,1,2\n", encoding="utf-8")
    read = read_bank_file(f)
    assert read.lines.empty
    (err,) = _errors(read)
    assert "no header row" in err["problem"]


def test_missing_file_html_disguised_xls_and_corrupt_xlsx(tmp_path):
    assert "cannot open" in _errors(read_bank_file(tmp_path / "nope.csv"))[0]["problem"]
    html = tmp_path / "export.xls"
    html.write_text("<html><table><tr><td>交易日期</td></tr></table></html>", encoding="utf-8")
    assert "web page" in _errors(read_bank_file(html))[0]["problem"]
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    assert "cannot read the workbook" in _errors(read_bank_file(broken))[0]["problem"]


def test_size_and_row_caps(tmp_path):
    f = tmp_path / "big.csv"
    f.write_text("交易日期,金额\n" + "2026-10-05,1.00\n" * 50, encoding="utf-8")
    read = read_bank_file(f, max_bytes=100)
    assert read.lines.empty and "limit" in _errors(read)[0]["problem"]
    read = read_bank_file(f, max_rows=10)
    assert read.lines.empty and "50 rows" in _errors(read)[0]["problem"]
    assert len(read_bank_file(f).lines) == 50


@pytest.mark.parametrize("raw, expected", [
    ("2026-10-05", "2026-10-05"), ("2026/10/5", "2026-10-05"), ("20261005", "2026-10-05"),
    ("2026年10月5日", "2026-10-05"), ("2026-10-05 23:59:59", "2026-10-05"),
    ("2026-10-05T08:00:00", "2026-10-05"), ("46300", "2026-10-05"), ("2026.10.05", "2026-10-05"),
])
def test_date_forms(tmp_path, raw, expected):
    f = tmp_path / "d.csv"
    f.write_text(f"交易日期,收入金额\n{raw},1\n", encoding="utf-8")
    read = read_bank_file(f)
    assert read.problems == []
    assert read.lines["date"].iloc[0] == pd.Timestamp(expected)


def test_gbk_and_utf16_tab_exports(tmp_path):
    text = "交易日期\t对方账户名称\t交易金额\t收支方向\n2026-10-05\t恒昌\t10.00\t收\n2026-10-05\t恒昌\t3.00\t支\n"
    for enc, bom in (("gb18030", b""), ("utf-16-le", b"\xff\xfe")):
        f = tmp_path / f"t-{enc}.txt"
        f.write_bytes(bom + text.encode(enc))
        read = read_bank_file(f)
        assert read.problems == []
        assert read.lines["amount"].tolist() == [1000, -300]
        assert read.lines["payer"].tolist() == ["恒昌", "恒昌"]
