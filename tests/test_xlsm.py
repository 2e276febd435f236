"""The macro-enabled ledger (io/xlsm.py, workbook/*.xlsm), checked without Excel: the parts in
the zip, the VBA project as olevba and pyOpenVBA read it, the buttons' bindings, and that the
shipped files are what the builder makes today."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from custledger import xl
from custledger.io import xlsm
from custledger.io.template import HOME, build_ledger

ROOT = Path(__file__).resolve().parents[1]


def parts(path: Path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("xlsm")
    return {p.name: p for p in xlsm.build_shipped(folder)}


def test_shipped_xlsm_are_not_stale(fresh):
    for name, path in fresh.items():
        shipped = ROOT / "workbook" / name
        assert shipped.exists(), f"{name} missing: python -m custledger.io.xlsm workbook"
        a, b = parts(path), parts(shipped)
        stale = sorted(n for n in a.keys() | b.keys() if a.get(n) != b.get(n))
        assert not stale, f"workbook/{name} is stale ({stale[:3]}): python -m custledger.io.xlsm workbook"


def test_macros_file_is_generated_from_the_buttons():
    assert (ROOT / "macros" / "custledger.bas").read_text(encoding="utf-8") == xlsm.bas_text()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_package_parts(fresh, lang):
    p = parts(fresh[xlsm.SHIPPED[lang]])
    ct = p["[Content_Types].xml"].decode()
    assert 'PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"' in ct
    assert 'Extension="bin" ContentType="application/vnd.ms-office.vbaProject"' in ct
    assert "relationships/vbaProject" in p["xl/_rels/workbook.xml.rels"].decode()
    assert 'codeName="ThisWorkbook"' in p["xl/workbook.xml"].decode()
    # desktop buttons: one form control per Sub, on Home (sheet1)
    vml = p["xl/drawings/vmlDrawing1.vml"].decode()
    assert re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", vml) == [xlsm.sub_name(op) for op in xlsm.BUTTONS]
    assert "vmlDrawing1.vml" in p["xl/worksheets/_rels/sheet1.xml.rels"].decode()
    # Lite buttons: named shapes, each linked to the Home cell behind it
    drawing = p["xl/drawings/drawing1.xml"].decode()
    names = re.findall(r'<xdr:cNvPr id="\d+" name="([^"]+)"', drawing)
    assert names == [xlsm.lite_shape(op) for op in xlsm.BUTTONS]
    rels = p["xl/drawings/_rels/drawing1.xml.rels"].decode()
    targets = re.findall(r'Target="#([^"]+)"', rels)
    assert targets == [f"'{HOME[lang]}'!{xlsm.lite_cell(op)}" for op in xlsm.BUTTONS]


def test_vba_project_as_olevba_reads_it(fresh):
    out = subprocess.run([sys.executable, "-m", "oletools.olevba", "--decode", str(fresh["custledger.xlsm"])],
                         capture_output=True, text=True, timeout=60).stdout
    modules = re.findall(r"VBA MACRO (\S+)", out)
    assert {"xlwings.bas", "Dictionary.cls", "custledger.bas", "ThisWorkbook.cls", "Sheet1.cls"} <= set(modules)
    calls = re.findall(r'Public Sub (Custledger\w+)\(\)\s+RunPython "import custledger\.xl; custledger\.xl\.(\w+)\(\)"',
                       out)
    assert calls == [(xlsm.sub_name(op), op) for op in xlsm.BUTTONS]
    for _, op in calls:                      # every Sub reaches a Python entry point
        assert callable(getattr(xl, op))


def test_vba_project_as_pyopenvba_reads_it(fresh):
    import xlwings
    from pyopenvba import ExcelFile

    with ExcelFile(str(fresh["custledger_en.xlsm"])) as f:
        assert f.validate() == []
        names = f.module_names()
        assert names[:1] == ["ThisWorkbook"] and names[-3:] == ["xlwings", "Dictionary", "custledger"]
        assert len([n for n in names if n.startswith("Sheet")]) == 6
        # the standalone RunPython code must match the xlwings users install (docs/excel.md)
        assert f'XLWINGS_VERSION As String = "{xlwings.__version__}"' in f.get_module("xlwings")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sheets_are_the_templates(fresh, tmp_path, lang):
    """Same sheets, cells, tables and dropdowns as the .xlsx template (io/template.build_ledger)."""
    plain = build_ledger(tmp_path / "t.xlsx", lang)
    a = openpyxl.load_workbook(plain)
    b = openpyxl.load_workbook(fresh[xlsm.SHIPPED[lang]], keep_vba=True)
    assert a.sheetnames == b.sheetnames
    for ws in a.worksheets:
        wb_ = b[ws.title]
        assert [r for r in ws.iter_rows(values_only=True)] == [r for r in wb_.iter_rows(values_only=True)], ws.title
        assert sorted(ws.tables) == sorted(wb_.tables)
        assert len(ws.data_validations.dataValidation) == len(wb_.data_validations.dataValidation)
    assert set(a.defined_names) == set(b.defined_names)
