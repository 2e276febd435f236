"""Export: input sheets only, personal numbers masked per mask_exports, optional encryption."""

from __future__ import annotations

import io
from pathlib import Path

import msoffcrypto
import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from custledger import ops
from custledger.core.errors import LedgerError
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from custledger.ops.export import PASSWORD_ENV, default_out, export_cli, export_ledger, export_password


def make_ledger(path: Path, mask: str = "yes") -> Path:
    build_ledger(path, "zh", data={
        "customers": pd.DataFrame({
            "customer_id": ["C1", "C2"], "name": ["甲公司", "=HYPERLINK(\"http://x\")"],
            "phone": ["13812345678", "0571-88886666"], "tax_id": ["11010519900307123X", ""],
            "bank_account": ["6222 0212 3456 1234", "12345"], "birthday": ["1990-03-07", ""],
            "email": ["zhang@example.com", ""], "credit_limit": ["10000", ""]}),
        "invoices": pd.DataFrame({"doc_no": ["I1"], "date": ["2026-10-01"], "customer_id": ["C1"],
                                  "amount": [1234.5]})},
        settings={"as_of": "2026-10-31", "mask_exports": mask})
    return path


def rows_of(path: Path, name: str) -> list:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def test_masked_copy_of_input_sheets_only(tmp_path):
    ledger = make_ledger(tmp_path / "台账.xlsx")
    ops.run(FileBook(ledger), ["validate"])  # the ledger now also has Problems, Changes, _snapshot
    res = export_ledger(ledger, tmp_path / "out.xlsx")
    book = CalamineWorkbook.from_path(str(res.path))
    assert book.sheet_names == ["客户档案", "销售单据", "回款记录", "跟进记录", "参数"]
    header, c1, c2 = rows_of(res.path, "客户档案")[:3]
    row = dict(zip(header, c1))
    assert row["电话"] == "138****5678"
    assert row["统一社会信用代码"] == "110***********123X"
    assert row["银行账号"] == "6222 **** **** 1234"
    assert row["生日"] == "****-**-**"
    assert row["信用额度"] == 10000
    assert dict(zip(header, c2))["电话"] == "057*-****6666"
    assert rows_of(res.path, "销售单据")[1][:3][0] == "I1" and 1234.5 in rows_of(res.path, "销售单据")[1]
    # text from the ledger that looks like a formula stays text
    ws = openpyxl.load_workbook(res.path)["客户档案"]
    cell = ws.cell(3, header.index("客户名称") + 1)
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"
    # no personal number of the ledger appears anywhere in the export's XML
    import zipfile

    with zipfile.ZipFile(res.path) as zf:
        blob = b"".join(zf.read(n) for n in zf.namelist())
    for secret in ("13812345678", "11010519900307123X", "6222 0212 3456 1234", "1990-03-07"):
        assert secret.encode() not in blob
    assert res.masked and not res.encrypted and "已遮蔽" in res.message("zh")


def test_mask_exports_no_keeps_values(tmp_path):
    ledger = make_ledger(tmp_path / "台账.xlsx", mask="no")
    res = export_ledger(ledger, tmp_path / "out.xlsx")
    header, c1 = rows_of(res.path, "客户档案")[:2]
    assert dict(zip(header, c1))["电话"] == "13812345678"
    assert not res.masked and "mask_exports" in res.message("en")


def test_encrypted_export_opens_only_with_the_password(tmp_path):
    ledger = make_ledger(tmp_path / "台账.xlsx")
    res = export_ledger(ledger, tmp_path / "secret.xlsx", password="密码 pass 1")
    assert res.encrypted
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["secret.xlsx", "台账.xlsx"]
    with open(res.path, "rb") as fh:
        office = msoffcrypto.OfficeFile(fh)
        assert office.is_encrypted()
        office.load_key(password="密码 pass 1")
        plain = io.BytesIO()
        office.decrypt(plain)
    plain.seek(0)
    wb = openpyxl.load_workbook(plain)
    assert "138****5678" in [c.value for c in wb["客户档案"][2]]
    with open(res.path, "rb") as fh:
        office = msoffcrypto.OfficeFile(fh)
        with pytest.raises(Exception):
            office.load_key(password="wrong")
            office.decrypt(io.BytesIO())
    # the ledger reader recognises it as encrypted, not as a damaged file
    with pytest.raises(LedgerError) as err:
        FileBook(res.path).read()
    assert err.value.code == "file_encrypted"


def test_password_sources(tmp_path):
    pw = tmp_path / "pw.txt"
    pw.write_text("from-file\nignored\n", encoding="utf-8")
    assert export_password(pw, environ={PASSWORD_ENV: "env"}) == "from-file"
    assert export_password(None, environ={PASSWORD_ENV: "env"}, interactive=False) == "env"
    answers = iter(["typed", "typed"])
    assert export_password(None, environ={}, interactive=True, prompt=lambda _: next(answers)) == "typed"
    answers = iter(["typed", "other"])
    with pytest.raises(LedgerError) as err:
        export_password(None, environ={}, interactive=True, prompt=lambda _: next(answers))
    assert err.value.code == "export_password_mismatch"
    with pytest.raises(LedgerError) as err:
        export_password(None, environ={}, interactive=False)
    assert err.value.code == "export_no_password" and "--password-file" in err.value.message("en")
    with pytest.raises(LedgerError) as err:
        export_password(tmp_path / "missing.txt", environ={})
    assert err.value.code == "export_password_file"
    (tmp_path / "empty.txt").write_text("\n", encoding="utf-8")
    with pytest.raises(LedgerError):
        export_password(tmp_path / "empty.txt", environ={})


def test_cli_function_refuses_without_password_and_never_overwrites_the_ledger(tmp_path, monkeypatch):
    ledger = make_ledger(tmp_path / "台账.xlsx")
    before = ledger.read_bytes()
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO())  # not a terminal
    with pytest.raises(LedgerError) as err:
        export_cli(ledger, tmp_path / "x.xlsx", encrypt=True)
    assert err.value.code == "export_no_password" and not (tmp_path / "x.xlsx").exists()
    with pytest.raises(LedgerError) as err:
        export_cli(ledger, ledger)
    assert err.value.code == "export_same_file"
    assert ledger.read_bytes() == before
    monkeypatch.setenv(PASSWORD_ENV, "pw")
    res = export_cli(ledger, None, encrypt=True)
    assert res.path == default_out(ledger) and res.encrypted and res.path.exists()
