"""Fuzzing the readers (hypothesis, bounded): random bytes and mutated real files.

read_book -> load -> validate may only stop with a LedgerError (one clear line, exit 2) or give
problems; read_bank_file may only return problems. Any other exception type is a bug. The
budget (max_examples, no deadline per example but a small corpus) keeps the file under ~40 s.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custledger.core.errors import LedgerError
from custledger.core.load import load
from custledger.core.validate import validate
from custledger.io.bankfile import read_bank_file
from custledger.io.reader import read_book
from custledger.io.template import build_ledger

FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seed")
    p = folder / "ledger.xlsx"
    build_ledger(p, "zh", data={
        "customers": pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["甲公司", "乙"], "phone": ["138", ""]}),
        "invoices": pd.DataFrame({"doc_no": ["I1", "I2"], "date": ["2026-10-01", "2026-10-02"],
                                  "customer_id": ["C1", "C2"], "amount": [100.0, 5.5]})},
        settings={"as_of": "2026-10-31"})
    with zipfile.ZipFile(p) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    return folder, p.read_bytes(), parts


def ledger_pipeline(path: Path) -> None:
    try:
        validate(load(read_book(path)))
    except LedgerError as exc:
        assert exc.message("en") and "\n" not in exc.message("en")


def zip_of(parts: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


@FUZZ
@given(data=st.binary(max_size=4096), head=st.sampled_from([b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"]))
def test_random_bytes_into_the_ledger_reader(seed, data, head):
    folder = seed[0]
    p = folder / "random.xlsx"
    p.write_bytes(head + data)
    ledger_pipeline(p)


@FUZZ
@given(st.data())
def test_mutated_parts_of_a_real_ledger(seed, data):
    folder, _, parts = seed
    name = data.draw(st.sampled_from(sorted(parts)))
    body = bytearray(parts[name])
    for _ in range(data.draw(st.integers(1, 6))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(0, max(len(body) - 1, 0)))
        if kind == "flip" and body:
            body[at] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            del body[at:at + data.draw(st.integers(1, 64))]
        else:
            body[at:at] = data.draw(st.sampled_from([b"<", b">", b"&", b'"', b"<!DOCTYPE x>", b"r=\"XFD1048576\"",
                                                     b"<c r=\"A1\" t=\"s\"><v>99999</v></c>", b"\xff\xfe", b"\x00"]))
    p = folder / "mutated.xlsx"
    p.write_bytes(zip_of({**parts, name: bytes(body)}))
    ledger_pipeline(p)


@FUZZ
@given(data=st.data())
def test_mutated_bytes_of_a_real_ledger_file(seed, data):
    folder, raw, _ = seed
    body = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(body) - 1))
        body[at] = data.draw(st.integers(0, 255))
    p = folder / "flipped.xlsx"
    p.write_bytes(bytes(body))
    ledger_pipeline(p)


CSV_HEAD = "交易日期,对方户名,对方账号,收入金额,支出金额,摘要,交易流水号\n"
cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@FUZZ
@given(rows=st.lists(st.lists(cell, min_size=0, max_size=9), max_size=12),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]),
       suffix=st.sampled_from([".csv", ".txt", ".xlsx"]))
def test_bank_reader_on_generated_csv(seed, rows, encoding, suffix):
    folder = seed[0]
    text = CSV_HEAD + "\n".join(",".join(r) for r in rows)
    p = folder / f"bank{suffix}"
    try:
        p.write_bytes(text.encode(encoding))
    except UnicodeEncodeError:
        return
    read = read_bank_file(p)
    assert isinstance(read.problems, list)
    assert set(read.lines.columns) >= {"date", "amount", "memo"}


@FUZZ
@given(data=st.binary(max_size=4096), head=st.sampled_from([b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", "交易日期,金额\n".encode()]))
def test_bank_reader_on_random_bytes(seed, data, head):
    p = seed[0] / "bank_random.csv"
    p.write_bytes(head + data)
    read = read_bank_file(p)
    assert isinstance(read.problems, list)


@FUZZ
@given(st.data())
def test_bank_reader_on_mutated_workbooks(seed, data):
    folder, _, parts = seed
    name = data.draw(st.sampled_from(sorted(parts)))
    body = bytearray(parts[name])
    at = data.draw(st.integers(0, max(len(body) - 1, 0)))
    body[at:at + data.draw(st.integers(0, 32))] = data.draw(st.binary(max_size=16))
    p = folder / "bank_mut.xlsx"
    p.write_bytes(zip_of({**parts, name: bytes(body)}))
    read_bank_file(p)
