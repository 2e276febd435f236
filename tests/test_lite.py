"""The xlwings Lite scripts (custledger/lite/main.py) driven through the remote engine as an
Office.js client (what xlwings Lite is), their button bindings against the shipped workbook,
and that their code path needs nothing Pyodide lacks."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from custledger import ops
from custledger.io import xlsm
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from xlremote import LoglessFileBook, apply_actions, displayed, filled_cells, cf_marked_cells, remote_book, xl_license  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
MAIN = ROOT / "pylib" / "custledger" / "lite" / "main.py"
REQS = ROOT / "pylib" / "custledger" / "lite" / "requirements.txt"


@pytest.fixture(autouse=True)
def _remote(xl_license):
    """The remote engine is xlwings PRO (PolyForm Noncommercial): key set for the tests only."""


@pytest.fixture()
def lite(monkeypatch):
    """lite/main.py as Lite loads it; @script records its options (no-op decorator off-server)."""
    import xlwings

    seen = {}

    def script(**kw):
        def wrap(fn):
            seen[fn.__name__] = kw
            return fn
        return wrap

    monkeypatch.setattr(xlwings, "script", script)
    spec = importlib.util.spec_from_file_location("lite_main", MAIN)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.bindings = seen
    return mod


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lite") / "ledger.xlsx"
    cust = pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["甲公司", "乙公司"]})
    inv = pd.DataFrame({"doc_no": ["S1", "S2", "S3"], "date": ["2026-08-01", "2026-09-31", "2026-10-01"],
                        "customer_id": ["C1", "C2", "C7"], "amount": [100.0, 250.5, 30.0]})
    build_ledger(path, "zh", data={"customers": cust, "invoices": inv}, settings={"as_of": "2026-10-31"})
    return path


def test_every_button_is_bound_to_the_shipped_shapes(lite):
    assert sorted(lite.bindings) == sorted(xlsm.BUTTONS)
    with zipfile.ZipFile(ROOT / "workbook" / "custledger.xlsm") as zf:
        drawing = zf.read("xl/drawings/drawing1.xml").decode()
        rels = zf.read("xl/drawings/_rels/drawing1.xml.rels").decode()
    shapes = re.findall(r'<xdr:cNvPr id="\d+" name="([^"]+)"', drawing)
    targets = re.findall(r'Target="#([^"]+)"', rels)
    for op, kw in lite.bindings.items():
        m = re.fullmatch(r"\[(\w+)\](.+)!(\w+)", kw["button"])
        shape, sheet, cell = m.groups()
        assert shape == xlsm.lite_shape(op) and shape in shapes
        assert sheet == "首页" and cell == xlsm.lite_cell(op)
        assert f"'{sheet}'!{cell}" in targets             # the shape's hyperlink is that cell


def test_validate_script_writes_what_the_cli_writes(lite, ledger, tmp_path):
    cli = tmp_path / "cli.xlsx"
    shutil.copyfile(ledger, cli)
    want = ops.run(LoglessFileBook(cli), ["validate"])
    book = remote_book(ledger, "Office.js")
    lite.validate(book)
    out = tmp_path / "lite.xlsx"
    info = apply_actions(book.json()["actions"], ledger, out, "Office.js")
    a, b = openpyxl.load_workbook(cli), openpyxl.load_workbook(out)
    assert want.summary["errors"] >= 2
    assert displayed(a["校验结果"]) == displayed(b["校验结果"])
    assert filled_cells(b["销售单据"]) == cf_marked_cells(a["销售单据"]) != {}
    assert len(info.alerts) == 1 and "校验" in info.alerts[0][0]


def test_card_and_month_come_from_the_form(lite, ledger, monkeypatch):
    calls = []

    def spy(book, steps, **options):
        options.pop("progress", None)
        calls.append((steps, options))
        return ops.Report(exit_code=0, summary={}, notes=[], files=[])

    monkeypatch.setattr(ops, "run", spy)
    lite.card(remote_book(ledger, "Office.js"), customer_id=" C2 ")
    assert calls[-1] == (["reconcile", "card"], {"customer_id": "C2"})
    lite.statements(remote_book(ledger, "Office.js"), month="2026-09")
    assert calls[-1][1] == {"month": "2026-09", "as_sheets": True}      # no file system in Lite
    lite.close(remote_book(ledger, "Office.js"))
    assert calls[-1][1]["month"] == "2026-10" and calls[-1][1]["as_sheets"] is True
    book = remote_book(ledger, "Office.js")
    lite.card(book)                                   # no ID typed: a message, nothing run
    assert len(calls) == 3 and [a["func"] for a in book.json()["actions"]] == ["alert"]


def test_lite_path_needs_nothing_pyodide_lacks(ledger, tmp_path):
    """Run the Lite validate script with the modules Pyodide has no build for (or that make no
    sense there) made unimportable: it must still work."""
    blocked = ["fastexcel", "python_calamine", "msoffcrypto", "typer", "rich"]
    code = f"""
import sys
for m in {blocked!r}:
    sys.modules[m] = None
sys.path[:0] = [{str(ROOT / 'tests')!r}, {str(ROOT / 'pylib')!r}]
import os
os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"
import importlib.util, xlwings
xlwings.script = lambda **kw: (lambda f: f)
spec = importlib.util.spec_from_file_location("m", {str(MAIN)!r}); m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
from xlremote import remote_book
from pathlib import Path
book = remote_book(Path({str(ledger)!r}), "Office.js")
m.validate(book)
funcs = [a["func"] for a in book.json()["actions"]]
assert "setValues" in funcs and "alert" in funcs, funcs
print("ok")
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr[-2000:]


def test_requirements_list_what_the_lite_path_imports():
    reqs = [line.strip() for line in REQS.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    assert {"pandas", "numpy", "jsonschema", "rapidfuzz", "phonenumbers", "python-stdnum"} <= set(reqs)
    assert "custledger" not in reqs          # not on PyPI yet: a wheel URL, see the file's comment
    assert not any(r.startswith(("python-calamine", "fastexcel", "msoffcrypto", "typer", "rich")) for r in reqs)
