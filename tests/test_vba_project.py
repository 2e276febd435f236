"""The VBA project inside the shipped .xlsm, read back with oletools as MS-OVBA describes it:
the _VBA_PROJECT stream as a writer must write it, the code page of the workbook's language in
the dir stream and in the module text, and the xlwings version its RunPython module carries
equal to the one the `xl` extra of pyproject.toml installs."""

from __future__ import annotations

import io
import re
import struct
import tomllib
import zipfile
from pathlib import Path

import olefile
import pytest
from oletools.olevba import VBA_Parser, decompress_stream

from custledger.io import xlsm

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {lang: ROOT / "workbook" / name for lang, name in xlsm.SHIPPED.items()}


def _ole(path: Path) -> olefile.OleFileIO:
    with zipfile.ZipFile(path) as zf:
        return olefile.OleFileIO(io.BytesIO(zf.read("xl/vbaProject.bin")))


def _dir_records(ole) -> dict:
    """The PROJECTINFORMATION records of the dir stream (Id -> Data), up to PROJECTVERSION."""
    raw = decompress_stream(bytearray(ole.openstream("VBA/dir").read()))
    out, pos = {}, 0
    while pos + 6 <= len(raw):
        rid, size = struct.unpack_from("<HI", raw, pos)
        if rid == 0x0009:                      # PROJECTVERSION: its Size field is not its size
            break
        out[rid] = bytes(raw[pos + 6:pos + 6 + size])
        pos += 6 + size
    return out


def _modules(path: Path) -> dict:
    parser = VBA_Parser(str(path))
    try:
        return {vba_name.rsplit(".", 1)[0]: code for _, _, vba_name, code in parser.extract_macros()}
    finally:
        parser.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_vba_project_stream_is_as_ms_ovba_requires_on_write(lang):
    ole = _ole(SHIPPED[lang])
    stream = ole.openstream("VBA/_VBA_PROJECT").read()
    reserved1, version, reserved2 = struct.unpack_from("<HHB", stream)
    assert (reserved1, version, reserved2) == (0x61CC, 0xFFFF, 0x00)
    assert len(stream) == 7                    # PerformanceCache: MUST NOT be present on write


@pytest.mark.parametrize("lang,code_page", [("zh", 936), ("en", 1252)])
def test_code_page_is_the_workbooks_language(lang, code_page):
    records = _dir_records(_ole(SHIPPED[lang]))
    assert struct.unpack("<H", records[0x0003])[0] == code_page          # PROJECTCODEPAGE
    assert struct.unpack("<I", records[0x0002])[0] == 0x0409             # PROJECTLCID: MUST be 0x409
    code = _modules(SHIPPED[lang])[xlsm.MODULE]
    # olevba decodes the module with the dir stream's code page: the text comes back whole
    assert code.replace("\r\n", "\n").rstrip("\n") == xlsm.bas_text(lang).rstrip("\n")
    assert "?" not in code.split("\n", 2)[1]


def test_chinese_comment_round_trips_in_the_zh_workbook():
    code = _modules(SHIPPED["zh"])[xlsm.MODULE]
    assert "Home sheet (首页)" in code
    assert "首页" not in xlsm.bas_text("en")   # cp1252 has no Chinese: the en module has none


def test_a_character_the_code_page_lacks_stops_the_build(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsm, "bas_text", lambda lang="zh": "' 客户\n")
    with pytest.raises(UnicodeEncodeError):
        xlsm.build_xlsm(tmp_path / "en.xlsm", "en")


def test_xl_extra_pins_the_xlwings_the_workbook_carries():
    """RunPython refuses to run when the workbook's xlwings VBA module and the xlwings Python
    package differ: the `xl` extra (what docs/excel.md tells users to install) must pin exactly
    the version the shipped module carries."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = [r for r in project["optional-dependencies"]["xl"] if r.startswith("xlwings")]
    assert len(pins) == 1
    m = re.fullmatch(r"xlwings==(\d+\.\d+\.\d+)", pins[0].replace(" ", ""))
    assert m, f"the xl extra must pin xlwings exactly, not {pins[0]!r}"
    for lang, path in SHIPPED.items():
        carried = re.search(r'XLWINGS_VERSION As String = "([^"]+)"', _modules(path)["xlwings"])
        assert carried and carried.group(1) == m.group(1), lang
    assert f"xlwings=={m.group(1)}" in (ROOT / "docs" / "excel.md").read_text(encoding="utf-8")
