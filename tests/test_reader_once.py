"""The read path does each check once per run without checking less: a part's prolog is judged
from its first bytes only when they settle it, sheet parts are looked up once per book, and a
FileBook re-checks its file whenever the file changed."""

import io
import os
import random
import zipfile

import pytest

from custledger.core.errors import LedgerError
from custledger.io import filebook, reader
from custledger.io.filebook import FileBook
from test_save_failed import ledger  # noqa: F401  (the fixture: a one-customer ledger)


def _zip_with(part: bytes) -> zipfile.ZipFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/x.xml", part)
    return zipfile.ZipFile(io.BytesIO(buf.getvalue()))


def _full_verdict(part: bytes) -> bool:
    return bool(reader._prolog_verdict(part[:reader._PROLOG_LIMIT + 1], partial=False))


def test_a_prolog_judged_early_is_judged_as_the_whole_would_be():
    rng = random.Random(3)
    pieces = [b"<?xml version='1.0'?>", b"<!-- note -->", b"<!-- <root> inside a comment -->", b"<!DOCTYPE r [<!ENTITY e 'x'>]>",
              b"<?pi <fake/> ?>", b"\n", b" " * 1500, b"<!-- " + b"x" * 5000 + b" -->", b"<!-- <a/> " + b"y" * 4500]
    cases = [b"<root/>", b"\xef\xbb\xbf<root/>" + b"<c/>" * 3000, "<r/>".encode("utf-16"),
             b"<!--" + b"-" * 4100 + b"--><!DOCTYPE x><r/>"]
    for _ in range(300):
        head = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        cases.append(head + b"<root>" + b"<c>1</c>" * rng.randint(0, 2000) + b"</root>")
    for part in cases:
        assert reader._declares_dtd(_zip_with(part), "xl/x.xml") == _full_verdict(part), part[:80]


def test_a_dtd_behind_a_long_comment_is_still_found():
    part = b"<?xml version='1.0'?><!-- " + b"z" * 10_000 + b" --><!DOCTYPE r [<!ENTITY a 'b'>]><r>&a;</r>"
    assert reader._declares_dtd(_zip_with(part), "xl/x.xml") is True
    part = b"<!-- <r> looks like a root " + b"z" * 10_000 + b" --><!DOCTYPE r><r/>"
    assert reader._declares_dtd(_zip_with(part), "xl/x.xml") is True


def test_sheet_parts_is_sheet_part_for_every_sheet(ledger):
    parts = reader.sheet_parts(ledger)
    names = zipfile.ZipFile(ledger).namelist()
    assert parts and all(p in names for p in parts.values())
    for name, part in parts.items():
        assert reader.sheet_part(ledger, name) == part
    assert reader.sheet_part(ledger, "no such sheet") is None


def test_a_filebook_checks_its_file_again_only_when_it_changed(ledger, monkeypatch):
    calls = []
    real = filebook.check_ledger_file
    monkeypatch.setattr(filebook, "check_ledger_file", lambda p, *a, **k: (calls.append(p), real(p, *a, **k)))
    book = FileBook(ledger)
    book.check_writable()
    book.read()
    book.check_writable()
    assert len(calls) == 1
    st = ledger.stat()
    os.utime(ledger, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))   # saved again
    book.read()
    assert len(calls) == 2
    ledger.write_bytes(b"not a workbook any more")
    with pytest.raises(LedgerError):
        book.check_writable()
    assert len(calls) == 3


def _col(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def test_the_fast_extent_pass_agrees_with_the_exact_one():
    rng = random.Random(5)
    for _ in range(150):
        rows = sorted(rng.sample(range(1, 2_000_000), rng.randint(0, 6)))
        body = []
        for r in rows:
            cols = sorted(rng.sample(range(1, 17_000), rng.randint(1, 4)))
            cells = "".join(f'<c r="{_col(c)}{r}" t="n"><v>{rng.randint(0, 9)}</v></c>' for c in cols)
            body.append(f'<row r="{r}" spans="1:3">{cells}</row>')
        if rng.random() < 0.2 and body:   # an odd reference: the fast pass may not say, never says wrong
            body.append(rng.choice(['<row r="7x"><c r="A7x"><v>1</v></c></row>', '<row><c><v>1</v></c></row>',
                                    '<row r="9"><c r="a9"><v>1</v></c></row>', '<row r="12345678"/>']))
        xml = ('<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               '<sheetData>' + "".join(body) + "</sheetData></worksheet>").encode()
        zf = _zip_with(xml)
        fast = reader._box_fast(zf, "xl/x.xml")
        if fast is not None:
            assert fast == reader._box_exact(zf, "xl/x.xml"), xml[:300]
        elif not any(b in xml for b in (b"7x", b"<row>", b"a9", b"12345678")):
            raise AssertionError(f"plain references left to the exact pass: {xml[:300]!r}")
