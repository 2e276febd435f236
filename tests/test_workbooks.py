"""The shipped workbooks in workbook/ are what the generator builds today (not stale)."""

import zipfile
from pathlib import Path

import pytest

from custledger.build_workbooks import build_all

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "workbook"


def parts(path: Path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wb")
    return {p.relative_to(folder): p for p in build_all(folder)}


def test_shipped_workbooks_are_not_stale(fresh):
    for rel, path in fresh.items():
        shipped = SHIPPED / rel
        assert shipped.exists(), f"{rel} missing: run python -m custledger.build_workbooks"
        if path.suffix == ".xlsx":
            a, b = parts(path), parts(shipped)
            stale = sorted(n for n in a.keys() | b.keys() if a.get(n) != b.get(n))
            assert not stale, f"{rel} is stale ({stale[:3]}): run python -m custledger.build_workbooks"
        else:
            assert path.read_bytes() == shipped.read_bytes(), f"{rel} is stale"


def test_template_has_tables_validations_and_input_messages(fresh):
    import openpyxl

    path = next(p for r, p in fresh.items() if r.name == "客户台账模板.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["首页", "客户档案", "销售单据", "回款记录", "跟进记录", "参数"]
    inv = wb["销售单据"]
    assert "tblInvoices" in inv.tables
    assert inv.freeze_panes == "A2"
    headers = [c.value for c in inv[1]]
    assert headers[:4] == ["单据编号", "日期", "客户编号", "类型"]
    dvs = {str(dv.sqref).split(":")[0]: dv for dv in inv.data_validations.dataValidation}
    assert dvs["D2"].type == "list" and dvs["D2"].formula1 == '"销售,红字"'
    assert dvs["C2"].formula1 == "CustomerIDs"
    assert dvs["A2"].promptTitle == "单据编号" and "唯一编号" in dvs["A2"].prompt
    assert inv.column_dimensions["H"].width > 10
    assert "CustomerIDs" in wb.defined_names
    settings = wb["参数"]
    rows = {r[0]: r[2] for r in settings.iter_rows(min_row=2, values_only=True)}
    assert rows["aging_buckets"] == "30,60,90,180" and rows["language"] == "zh" and rows["default_terms"] == "30"


def test_english_template_has_english_labels(fresh):
    import openpyxl

    path = next(p for r, p in fresh.items() if r.name == "ledger_template_en.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Home", "Customers", "Invoices", "Receipts", "Interactions", "Settings"]
    assert [c.value for c in wb["Receipts"][1]][:3] == ["Receipt No", "Date", "Customer ID"]
