"""Every part of a saved ledger is read back before it replaces the original: xlsxpatch's verify
reads each entry to its end (CRC), so the commit does not read the package a second time, and a
part that does not decompress still stops the save (save_failed, the ledger untouched)."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest

from custledger import ops
from custledger.core.errors import LedgerError
from custledger.io import safe
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from test_save_failed import ledger  # noqa: F401  (the fixture: a one-customer ledger)


def _damage(path, part: str) -> None:
    """Flip bytes at the end of *part*'s compressed data (its CRC no longer matches)."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(part)
    raw = bytearray(path.read_bytes())
    head = info.header_offset
    start = head + 30 + int.from_bytes(raw[head + 26:head + 28], "little") + int.from_bytes(raw[head + 28:head + 30], "little")
    for k in range(max(info.compress_size - 8, 0), info.compress_size - 2):
        raw[start + k] ^= 0x5A
    path.write_bytes(bytes(raw))


def test_the_save_reads_every_part_once(ledger, monkeypatch):
    seen = []
    real = safe.check_package
    monkeypatch.setattr(safe, "check_package", lambda p, read_parts=True: (seen.append(read_parts), real(p, read_parts))[1])
    ops.run(FileBook(ledger), ["validate"])
    assert seen == [False]          # verify read it all back; the commit only looks at the directory
    with zipfile.ZipFile(ledger) as z:
        assert z.testzip() is None


def test_a_part_copied_as_is_that_does_not_decompress_stops_the_save(ledger):
    with zipfile.ZipFile(ledger) as z:
        theme = next(n for n in z.namelist() if n.startswith("xl/theme/"))
    _damage(ledger, theme)
    with zipfile.ZipFile(ledger) as z:
        with pytest.raises(Exception):
            z.read(theme)
    before = ledger.read_bytes()
    with pytest.raises(LedgerError) as info:
        ops.run(FileBook(ledger), ["validate"])
    assert info.value.code == "save_failed"
    assert ledger.read_bytes() == before
    assert sorted(p.name for p in ledger.parent.iterdir() if p.is_file()) == [ledger.name]   # no temp left


def test_a_part_copied_raw_is_checked_against_its_source(tmp_path, monkeypatch):
    """A sheet this write already read to its end (its CRC checked then) is compared byte for
    byte with its source instead of being inflated again: a copy that went wrong still stops
    the save."""
    import random

    from custledger.io import xlsxpatch, xlsxpatch_zip

    rng = random.Random(5)
    ledger = tmp_path / "台账.xlsx"   # a customers sheet well over one read block compressed
    build_ledger(ledger, "zh", data={"customers": pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(3000)],
        "name": ["".join(rng.choice("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥") for _ in range(8)) + "公司"
                 for _ in range(3000)]})}, settings={"as_of": "2026-10-31"})

    compared, damaged = [], []
    real_same = xlsxpatch_zip.same_raw
    monkeypatch.setattr(xlsxpatch, "same_raw", lambda *a: (compared.append(a[1].filename), real_same(*a))[1])
    ops.run(FileBook(ledger), ["validate"])
    assert any(n.startswith("xl/worksheets/") for n in compared)     # the input sheets took the short way

    real_copy = xlsxpatch_zip.RawZipWriter.copy_raw

    def bad_copy(self, src, info, name=None):
        real_copy(self, src, info, name)
        if info.filename in compared and info.compress_size > 32768 and not damaged:
            damaged.append(info.filename)
            end = self._fh.tell()
            self._fh.seek(end - 40)                      # (the writer's file is write-only)
            self._fh.write(b"\xde\xad\xbe\xef" * 8)
            self._fh.seek(end)

    monkeypatch.setattr(xlsxpatch_zip.RawZipWriter, "copy_raw", bad_copy)
    before = ledger.read_bytes()
    with pytest.raises(LedgerError) as info:
        ops.run(FileBook(ledger), ["validate"])
    assert damaged and info.value.code == "save_failed"
    assert ledger.read_bytes() == before


@pytest.mark.parametrize("where", ["rows", "tail"])
def test_a_written_part_that_is_not_well_formed_is_caught(tmp_path, monkeypatch, where):
    """The rewritten XML parts are still parsed when the package is read back: a malformed one
    (in a big chunk of column-wise rows, or in a sheet's tail) fails the write, nothing left."""
    from custledger.io import columnar, xlsxpatch_sheets
    from custledger.io.xlsxpatch import XlsxPatchError, patch_workbook
    from custledger.io.xlsxsheets import Formats, write_sheet_out
    from custledger.render.sheets import sheet_out

    src = tmp_path / "src.xlsx"
    build_ledger(src, "zh")
    n = 6000
    frame = pd.DataFrame({"customer_id": [f"C{i:05d}" for i in range(n)], "name": ["某某商贸有限公司"] * n,
                          "balance": list(range(n))})
    out = sheet_out("balances", frame, "zh")
    if where == "rows":
        real = columnar.ColumnarBody.chunks

        def chunks(self, xf_of, chunk_rows=columnar.CHUNK_ROWS):
            for i, c in enumerate(real(self, xf_of, chunk_rows)):
                assert len(c) > 1 << 16
                yield c.replace(b"</c>", b"</x>", 1) if i == 0 else c

        monkeypatch.setattr(columnar.ColumnarBody, "chunks", chunks)
    else:
        real_tail = xlsxpatch_sheets.GeneratedSheetRewriter.tail
        monkeypatch.setattr(xlsxpatch_sheets.GeneratedSheetRewriter, "tail",
                            lambda self, data: real_tail(self, data) + b"<oops>")
    bodies: dict = {}

    def build(wb):
        write_sheet_out(wb, out, Formats(wb), protect=True, bodies=bodies)

    dst = tmp_path / "dst.xlsx"
    with pytest.raises(XlsxPatchError, match="malformed"):
        patch_workbook(src, dst, build, [out.name], bodies=bodies)
    assert list(bodies) == [out.name] and not dst.exists()
