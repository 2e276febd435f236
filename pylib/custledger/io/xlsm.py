"""The macro-enabled ledger (workbook/custledger.xlsm, custledger_en.xlsm), built on Linux.

Route (docs/xlwings-guide.md §1.6, verified file-level; a smoke test in real Excel is the one
manual step before a release, docs/excel.md):

1. the ledger as io/template.py builds it (same sheets, tables, dropdowns), written with
   XlsxWriter as .xlsm plus, on the Home sheet, one form button per operation bound to its Sub
   (VML ``FmlaMacro``) and one xlwings Lite button per operation: a shape named
   ``xlwings_button_<op>`` with a hyperlink to the cell behind it (the Lite convention);
2. pyOpenVBA gives the package its VBA project (document modules, code names) and adds the
   modules: ``xlwings`` and ``Dictionary`` (xlwings' standalone RunPython code, so users need no
   add-in; it must match the xlwings version they install) and ``custledger`` (macros/custledger.bas,
   one Sub per button, generated from BUTTONS by ``bas_text``);
3. the project is written as MS-OVBA requires of a writer: PROJECTCODEPAGE and the module text
   in the code page of the workbook's language (936 for zh, so the Chinese comments survive;
   1252 for en), and a 7-byte ``_VBA_PROJECT`` stream with Version 0xFFFF and no performance
   cache, so Excel compiles the source instead of trusting a cache made by another VBA version.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import tempfile
import zipfile
from pathlib import Path

from ..operations import BUTTONS, button_cell
from ..operations import FIRST_BUTTON_ROW as FIRST_ROW
from ..schema import msg
from . import template

MODULE = "custledger"
CODE_PAGES = {"zh": 936, "en": 1252}     # MS-OVBA PROJECTCODEPAGE per workbook language
# MS-OVBA 2.3.4.1 on write: Reserved1 0x61CC, Version 0xFFFF, Reserved2 0x00, Reserved3 (the
# 3.1.1 example's 0x0001), and no PerformanceCache.
VBA_PROJECT_STREAM = b"\xcc\x61\xff\xff\x00\x01\x00"
PROJECTCODEPAGE = 0x0003


def sub_name(op: str) -> str:
    return "Custledger" + op.title()


def lite_shape(op: str) -> str:
    return f"xlwings_button_{op}"


def lite_cell(op: str) -> str:
    """The Home cell behind the Lite button of ``op`` (its hyperlink target)."""
    return button_cell(op)


def bas_text(lang: str = "zh") -> str:
    """macros/custledger.bas (zh; the en workbook's module names the Home sheet in English, its
    code page 1252 has no Chinese): one parameterless Sub per button calling RunPython."""
    home = "Home sheet (首页)" if lang == "zh" else "Home sheet"
    lines = ['Attribute VB_Name = "custledger"',
             f"' custledger: one Sub per button on the {home}. Each one runs Python through",
             "' xlwings' RunPython (module \"xlwings\" in this workbook, or the xlwings add-in); the Python",
             "' side is custledger/xl.py. Setup (interpreter, trust settings): docs/excel.md.",
             "Option Explicit"]
    for op in BUTTONS:
        lines += ["", f"Public Sub {sub_name(op)}()",
                  f'    RunPython "import custledger.xl; custledger.xl.{op}()"', "End Sub"]
    return "\n".join(lines) + "\n"


def xlwings_modules() -> dict[str, str]:
    """xlwings' standalone VBA (module name -> source) from the installed xlwings package."""
    import xlwings

    pkg = Path(os.path.dirname(xlwings.__file__))
    return {"xlwings": (pkg / "xlwings.bas").read_text(encoding="utf-8"),
            "Dictionary": (pkg / "addin" / "Dictionary.cls").read_text(encoding="utf-8")}


def build_xlsm(path: Path, lang: str = "zh") -> Path:
    """Write the macro-enabled empty ledger at ``path``."""
    path = Path(path)
    tmp = Path(tempfile.mkdtemp(prefix="xlsm-", dir=path.parent))
    try:
        stage = tmp / "stage.xlsm"
        _workbook(stage, lang)
        _add_vba(stage, lang)
        _patch_parts(stage)
        shutil.move(str(stage), path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _workbook(path: Path, lang: str) -> None:
    """build_ledger's workbook plus the buttons on Home."""
    template.build_ledger(path, lang, extend=lambda wb, lg: _buttons(wb.get_worksheet_by_name(template.HOME[lg]), lg))


def _buttons(ws, lang: str) -> None:
    for i, op in enumerate(BUTTONS):
        row = FIRST_ROW + i
        ws.set_row(row, 26)
        label = msg(f"xl_button_{op}", lang)
        ws.insert_button(row, 1, {"macro": sub_name(op), "caption": label, "width": 150, "height": 30,
                                  "x_offset": 0, "y_offset": 1})
        ws.insert_textbox(row, 1, f"{label} · Lite", {
            "width": 150, "height": 30, "x_offset": 170, "y_offset": 1,
            "url": f"internal:'{template.HOME[lang]}'!{lite_cell(op)}",
            "fill": {"color": "#1F4E78"}, "font": {"color": "white", "bold": True},
            "align": {"vertical": "middle", "horizontal": "center"}})


CT_XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"


def _patch_parts(path: Path) -> None:
    """Two edits XlsxWriter and pyOpenVBA leave to us: the workbook's content type becomes the
    macro-enabled one (Excel refuses an .xlsm that says it is an .xlsx), and the text boxes
    ('TextBox N' to XlsxWriter) get the names xlwings Lite binds its buttons to."""
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
        infos = {i.filename: i for i in zf.infolist()}
    names = iter(lite_shape(op) for op in BUTTONS)
    drawing = "xl/drawings/drawing1.xml"
    text = parts[drawing].decode("utf-8")
    text = re.sub(r'(<xdr:cNvPr id="\d+" name=")TextBox \d+(")', lambda m: m.group(1) + next(names) + m.group(2), text)
    parts[drawing] = text.encode("utf-8")
    parts["xl/vbaProject.bin"] = vba_project_stream_as_written(parts["xl/vbaProject.bin"])
    ct = parts["[Content_Types].xml"].decode("utf-8")
    parts["[Content_Types].xml"] = ct.replace(
        f'PartName="/xl/workbook.xml" ContentType="{CT_XLSX_MAIN}"',
        f'PartName="/xl/workbook.xml" ContentType="{CT_XLSM_MAIN}"').encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(infos[name], data, compress_type=zipfile.ZIP_DEFLATED)


def _add_vba(path: Path, lang: str) -> None:
    from pyopenvba import ExcelFile
    from pyopenvba.vba import VBAModuleKind

    code_page = CODE_PAGES[lang]
    mods = {**xlwings_modules(), MODULE: bas_text(lang)}
    for text in mods.values():       # a character the code page lacks would become "?"
        text.encode(f"cp{code_page}")
    with ExcelFile(str(path)) as f:
        f.add_vba_project()
        project = f.vba_project()
        _set_code_page(project, code_page)
        project.add_module("xlwings", mods["xlwings"])
        project.add_module("Dictionary", mods["Dictionary"], kind=VBAModuleKind.other)
        project.add_module(MODULE, mods[MODULE])
        f.save()


def _set_code_page(project, code_page: int) -> None:
    """Module text, names and the PROJECT stream follow ``project.code_page`` when pyOpenVBA
    writes them; the dir stream's PROJECTINFORMATION part is kept verbatim from its template
    (1252), so its PROJECTCODEPAGE record is patched here to say the same."""
    raw = bytearray(project.dir_raw)
    pos = 0
    while pos + 6 <= project.dir_modules_offset:   # records: Id u16, Size u32, Data
        rid, size = struct.unpack_from("<HI", raw, pos)
        if rid == PROJECTCODEPAGE:
            struct.pack_into("<H", raw, pos + 6, code_page)
            break
        pos += 6 + size
    else:
        raise ValueError("the VBA project template has no PROJECTCODEPAGE record")
    project.dir_raw = bytes(raw)
    project.code_page = code_page
    project.dir_structure_dirty = True


def vba_project_stream_as_written(vba_bin: bytes) -> bytes:
    """``vba_bin`` (xl/vbaProject.bin) with its VBA/_VBA_PROJECT stream as MS-OVBA requires of
    a writer (pyOpenVBA keeps its template's Version 0x00B5 and a zeroed cache)."""
    from pyopenvba.cfb import CFB

    cfb = CFB.from_bytes(vba_bin)
    cfb.write_stream_in_storage("VBA", "_VBA_PROJECT", VBA_PROJECT_STREAM)
    return cfb.to_bytes()


SHIPPED = {"zh": "custledger.xlsm", "en": "custledger_en.xlsm"}


def build_shipped(folder: Path) -> list[Path]:
    """workbook/custledger.xlsm (zh) and workbook/custledger_en.xlsm."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [build_xlsm(folder / name, lang) for lang, name in SHIPPED.items()]


if __name__ == "__main__":   # python -m custledger.io.xlsm [workbook]
    import sys

    for p in build_shipped(Path(sys.argv[1] if len(sys.argv) > 1 else "workbook")):
        print(p)
