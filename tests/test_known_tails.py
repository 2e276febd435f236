"""The save finds where each input sheet's sheetData ends from what the read noted on its pass
over the sheet (io/xlsxpatch_sheets.TailWatch), not by reading the sheet again: the same answer
as find_tail, for the same bytes only, and the same saved workbook."""

import io
import random
import shutil
import zipfile

import pandas as pd

from custledger import ops
from custledger.io import reader, xlsxpatch, xlsxpatch_sheets
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from custledger.io.xlsxpatch_sheets import TailWatch, find_tail, known_tail
from custledger.io.xlsxpatch_zip import iter_chunks

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _zip_with(part: bytes) -> zipfile.ZipFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", part)
    return zipfile.ZipFile(io.BytesIO(buf.getvalue()))


def test_the_noted_tail_is_find_tails_answer_whatever_the_pieces():
    rng = random.Random(8)
    tails = [b"", b'<pageMargins left="0.7"/>', b'<conditionalFormatting sqref="A1"><cfRule type="expression" '
             b'dxfId="0" priority="1"><formula>N("custledger")=0</formula></cfRule></conditionalFormatting>'
             b'<legacyDrawing r:id="rId1"/>', b"<x:pageSetup/>" * 50]
    for _ in range(200):
        rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{"x" * rng.randint(0, 300)}</t></is></c></row>'
                       for r in range(1, rng.randint(0, 400)))
        data = rng.choice(["<sheetData>{}</sheetData>", "<sheetData/>{}", "<x:sheetData>{}</x:sheetData  >"])
        body = data.format(rows) if "{}" in data else data
        xml = f'<?xml version="1.0"?><worksheet {NS}><dimension ref="A1"/>{body}'.encode() + rng.choice(tails) \
            + b"</worksheet>"
        zf = _zip_with(xml)
        size = rng.choice([64, 300, 4096, 1 << 25])
        seen = TailWatch(reader._chunks(zf, "xl/worksheets/sheet1.xml", size))
        for _ in seen:
            pass
        assert seen.found() == find_tail(iter_chunks(zf, "xl/worksheets/sheet1.xml")), xml[:200]


def test_a_pass_that_stops_early_notes_nothing():
    zf = _zip_with(f"<worksheet {NS}><sheetData><row r='1'/></sheetData><pageMargins/></worksheet>".encode())
    seen = TailWatch(reader._chunks(zf, "xl/worksheets/sheet1.xml", 16))
    next(iter(seen))
    assert seen.found() is None
    no_data = _zip_with(f"<worksheet {NS}><pageMargins/></worksheet>".encode())
    seen = TailWatch(reader._chunks(no_data, "xl/worksheets/sheet1.xml"))
    assert list(seen) and seen.found() is None


def _ledger(path):
    build_ledger(path, "zh", data={
        "customers": pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["甲公司", "乙公司"], "phone": ["123", ""]}),
        "invoices": pd.DataFrame({"doc_no": ["I1", "I2"], "date": ["2026-10-01", "2026-10-02"],
                                  "customer_id": ["C1", "C9"], "amount": [100.0, 50.0]})},
        settings={"as_of": "2026-10-31"})
    return path


def test_the_save_takes_the_noted_tails_and_writes_the_same_workbook(tmp_path, monkeypatch):
    first = _ledger(tmp_path / "a.xlsx")
    ops.run(FileBook(first), ["validate"])          # marks on two sheets: the next run clears them
    second = tmp_path / "b.xlsx"
    shutil.copy(first, second)

    # the read notes a tail for every sheet it read (and measured)
    book = FileBook(first).read()
    parts = {n: p for n, p in reader.sheet_parts(first).items() if n in book.sheets}
    assert {"客户档案", "销售单据"} <= set(parts)
    with zipfile.ZipFile(first) as zf:
        for p in parts.values():
            assert known_tail(first, zf.getinfo(p)) == find_tail(iter_chunks(zf, p)), p

    # with them the save reads no input sheet again for its tail; without them (a save of
    # another file, or nothing noted) it does, and both saves hold the same input sheets
    asked = []
    real = xlsxpatch.find_tail
    monkeypatch.setattr(xlsxpatch, "find_tail", lambda chunks: asked.append(1) or real(chunks))
    ops.run(FileBook(first), ["validate"])
    assert asked == []
    monkeypatch.setattr(xlsxpatch_sheets, "_KNOWN_TAILS", {})
    monkeypatch.setattr(reader, "remember_tail", lambda *a: None)
    ops.run(FileBook(second), ["validate"])
    assert asked
    with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
        for p in parts.values():
            assert a.read(p) == b.read(p), p


def test_a_tail_is_known_only_for_the_same_bytes(tmp_path):
    path = _ledger(tmp_path / "c.xlsx")
    FileBook(path).read()
    part = reader.sheet_parts(path)[next(iter(reader.sheet_parts(path)))]
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(part)
        assert known_tail(path, info) is not None
        changed = zipfile.ZipInfo(info.filename)
        changed.CRC, changed.compress_size, changed.file_size = info.CRC ^ 1, info.compress_size, info.file_size
        changed.header_offset = info.header_offset
        assert known_tail(path, changed) is None
        assert known_tail(tmp_path / "other.xlsx", info) is None
    _ledger(tmp_path / "d.xlsx")
    FileBook(tmp_path / "d.xlsx").read()       # another book read: the first one's tails are gone
    with zipfile.ZipFile(path) as zf:
        assert known_tail(path, zf.getinfo(part)) is None
