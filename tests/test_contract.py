"""The contract module: one home for SheetOut, CellMark, RowAppend and the Book interface; io and
render do not import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import custledger
from custledger import contract
from custledger.io.filebook import FileBook

ROOT = Path(custledger.__file__).resolve().parent


def _imports(path: Path) -> set[str]:
    """Modules a file imports, resolved to custledger.<layer>... (relative imports included)."""
    pkg = "custledger." + ".".join(path.relative_to(ROOT).parent.parts)
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.rstrip(".").split(".")[: len(pkg.rstrip(".").split(".")) - node.level + 1]
                out.add(".".join(base + ([node.module] if node.module else [])))
            else:
                out.add(node.module or "")
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


@pytest.mark.parametrize("layer, other", [("io", "render"), ("render", "io")])
def test_io_and_render_do_not_import_each_other(layer, other):
    bad = {str(p.relative_to(ROOT)): sorted(m for m in _imports(p) if m.startswith(f"custledger.{other}"))
           for p in (ROOT / layer).glob("*.py")}
    assert {k: v for k, v in bad.items() if v} == {}


def test_contract_types_have_one_home_and_old_names_still_import():
    from custledger.io import xlsxpatch, xlsxpatch_append
    from custledger.render import sheets
    assert xlsxpatch.CellMark is contract.CellMark
    assert xlsxpatch.RowAppend is xlsxpatch_append.RowAppend is contract.RowAppend
    assert sheets.SheetOut is contract.SheetOut and sheets.FORMATS is contract.FORMATS
    with pytest.raises(ValueError):
        contract.CellMark(sheet="s", cell="A1", message="m", severity="info")


def test_both_adapters_are_books(tmp_path):
    from custledger.io.xlbook import XlBook
    from custledger.io.xlcaps import Caps
    assert isinstance(FileBook(tmp_path / "x.xlsx"), contract.Book)
    assert isinstance(XlBook(object(), caps=Caps("desktop", True, True, True, True, True, True)), contract.Book)
    assert FileBook(tmp_path / "x.xlsx").reads_change_log and not XlBook(object(), caps=Caps("desktop", True, True, True, True, True, True)).reads_change_log
