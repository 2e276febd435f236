"""export --by-owner: each owner's workbook holds their customers and nobody else's, masked per
mask_exports, optionally encrypted; send --owners mails each owner theirs."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import msoffcrypto
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from custledger.ops.export import export_owners_cli

ROOT = Path(__file__).resolve().parents[1]
OWNERS = {"C1": "张三", "C2": "李四", "C3": "张三", "C4": "", "C5": "李四"}


def make_ledger(tmp_path: Path, mask: str = "yes", owner_emails: str = "") -> Path:
    path = tmp_path / "台账.xlsx"
    ids = list(OWNERS)
    build_ledger(path, "zh", data={
        "customers": pd.DataFrame({"customer_id": ids, "name": [f"客户{c}" for c in ids], "owner": list(OWNERS.values()),
                                   "phone": ["13812345678", "13900001111", "", "", "13722223333"],
                                   "bank_account": ["6222 0212 3456 1234", "", "", "", ""],
                                   "email": [f"{c.lower()}@example.com" for c in ids]}),
        "invoices": pd.DataFrame({"doc_no": [f"I{c}" for c in ids], "date": ["2026-08-01"] * 5, "customer_id": ids,
                                  "amount": [100, 200, 300, 400, 500]})},
        settings={"as_of": "2026-10-31", "mask_exports": mask, "owner_emails": owner_emails, "send_pause_seconds": "0"})
    return path


def sheets_of(data) -> dict:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data)) if isinstance(data, bytes) else CalamineWorkbook.from_path(str(data))
    return {n: book.get_sheet_by_name(n).to_python() for n in book.sheet_names}


def ids_in(sheet: list) -> set:
    header = sheet[0]
    col = header.index("客户编号")
    return {r[col] for r in sheet[1:] if r[col]}


def test_each_owner_gets_only_their_customers_masked(tmp_path):
    ledger = make_ledger(tmp_path)
    packs, masked, encrypted = export_owners_cli(ledger, tmp_path / "packs")
    assert masked and not encrypted
    by = {p.owner: p for p in packs}
    assert sorted(by) == sorted(["张三", "李四", "(未指定负责人)"])
    want = {"张三": {"C1", "C3"}, "李四": {"C2", "C5"}, "(未指定负责人)": {"C4"}}
    for owner, pack in by.items():
        sheets = sheets_of(pack.path)
        assert list(sheets) == ["对账余额", "账龄分析", "逾期清单", "提醒事项", "客户卡片"]
        for name, rows in sheets.items():
            assert ids_in(rows) <= want[owner], (owner, name)   # nobody else's customer, anywhere
        assert ids_in(sheets["对账余额"]) == want[owner] and ids_in(sheets["客户卡片"]) == want[owner]
        text = json.dumps(sheets, ensure_ascii=False, default=str)
        for other in set(OWNERS) - want[owner]:
            assert f"客户{other}" not in text
        assert "13812345678" not in text and "6222 0212 3456 1234" not in text
    cards = sheets_of(by["张三"].path)["客户卡片"]
    assert "138****5678" in json.dumps(cards, ensure_ascii=False)
    # the same figures give the same bytes (so send --owners does not mail an unchanged pack again)
    first = by["张三"].path.read_bytes()
    export_owners_cli(ledger, tmp_path / "packs")
    assert by["张三"].path.read_bytes() == first


def test_encrypted_packs_and_the_command(tmp_path):
    ledger = make_ledger(tmp_path, mask="no")
    pw = tmp_path / "pw.txt"
    pw.write_text("s3cret\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "pylib")}
    done = subprocess.run([sys.executable, "-m", "custledger.cli", "export", str(ledger), "--by-owner",
                           str(tmp_path / "out"), "--encrypt", "--password-file", str(pw), "--json"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    files = json.loads(done.stdout)["files"]
    assert len(files) == 3
    for f in files:
        office = msoffcrypto.OfficeFile(open(f, "rb"))
        assert office.is_encrypted()
        office.load_key(password="s3cret")
        plain = io.BytesIO()
        office.decrypt(plain)
        text = json.dumps(sheets_of(plain.getvalue()), ensure_ascii=False, default=str)
        if "张三" in Path(f).name:
            assert "13812345678" in text   # mask_exports no: as typed
    bad = subprocess.run([sys.executable, "-m", "custledger.cli", "export", str(ledger), "--by-owner",
                          str(tmp_path / "out2"), "--encrypt"], env={**env, "CUSTLEDGER_EXPORT_PASSWORD": ""},
                         capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_send_owners_mails_each_owner_their_pack(tmp_path):
    pytest.importorskip("aiosmtpd")
    from custledger.io.mail import SmtpTransport
    from custledger.ops.send import send_ledger
    from smtp_server import HOST, Server

    ledger = make_ledger(tmp_path, owner_emails="张三=zhang@example.com; 李四 = li@example.com")
    with Server() as server:
        report = send_ledger(FileBook(ledger), month="2026-10", owners=True,
                             transport=SmtpTransport(HOST, server.port, "plain"), sender="ar@example.com")
        # no statements were made: only the packs; the unowned pack has no address (no_email)
        assert report.summary["sent"] == 2 and report.summary["sent_no_email"] == 1
        got = {}
        for m in server.mailbox.messages():
            [part] = list(m.iter_attachments())
            got[m["To"].addresses[0].addr_spec] = part.get_content()
        folder = tmp_path / "台账_owners" / "2026-10"
        zhang = next(folder.glob("客户清单_张三_*.xlsx"))
        assert got["zhang@example.com"] == zhang.read_bytes()
        assert ids_in(sheets_of(got["li@example.com"])["对账余额"]) == {"C2", "C5"}
        again = send_ledger(FileBook(ledger), month="2026-10", owners=True,
                            transport=SmtpTransport(HOST, server.port, "plain"), sender="ar@example.com")
        assert again.summary["sent"] == 0 and len(server.mailbox.received) == 2
