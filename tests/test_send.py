"""send: statements and letters by email through a real SMTP server on 127.0.0.1 (aiosmtpd),
every attempt on the Sent sheet, nothing sent twice across reruns and kills."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

pytest.importorskip("aiosmtpd")
# AUTH without TLS is what the plain loopback server of some tests offers, on 127.0.0.1 only
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

from custledger import ops  # noqa: E402
from custledger.io.filebook import FileBook  # noqa: E402
from custledger.io.mail import SmtpTransport, check_address, parse_addresses  # noqa: E402
from custledger.io.template import build_ledger  # noqa: E402
from custledger.ops.send import send_ledger  # noqa: E402
from smtp_server import HOST, Mailbox, Server  # noqa: E402
from xlremote import xl_license  # noqa: E402,F401  (fixture: xlwings' remote engine for the button test)

ROOT = Path(__file__).resolve().parents[1]
MONTH = "2026-10"
CUSTOMERS = pd.DataFrame({
    "customer_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
    "name": ["北京甲科技有限公司", "乙商贸", "丙工厂", "丁集团", "戊公司", "己公司"],
    "contact": ["张伟", "李娜", "王强", "赵敏", "钱多", "孙立"],
    "email": ["c1@example.com", "c2@example.com", "", "c4@example.com; boss4@example.com", "not-an-address",
              "c6@example.com"],
    "phone": ["13812345678", "", "", "", "", ""],
    "owner": ["张三", "李四", "张三", "李四", "张三", "李四"],
})


def make_ledger(folder: Path, pause: int = 0, customers: pd.DataFrame = CUSTOMERS) -> Path:
    path = folder / "台账.xlsx"
    n = len(customers)
    build_ledger(path, "zh", data={
        "customers": customers,
        "invoices": pd.DataFrame({"doc_no": [f"I{i}" for i in range(n)], "date": ["2026-10-05"] * n,
                                  "customer_id": list(customers["customer_id"]),
                                  "amount": [1000 + 10 * i for i in range(n)]})},
        settings={"as_of": "2026-10-31", "company_name": "杭州示例贸易有限公司", "send_pause_seconds": str(pause)})
    report = ops.run(FileBook(path), ["reconcile", "statements"], month=MONTH)
    assert report.summary["statements"] == n
    return path


def statement_files(ledger: Path) -> dict:
    folder = ledger.parent / f"{ledger.stem}_statements" / MONTH
    return {p.name.split("_")[1]: p for p in folder.glob("*.xlsx")}


def sent_rows(ledger: Path) -> list[dict]:
    rows = CalamineWorkbook.from_path(str(ledger)).get_sheet_by_name("发送记录").to_python()
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def transport(server: Server, **kw) -> SmtpTransport:
    return SmtpTransport(HOST, server.port, "plain", **kw)


def by_customer(mailbox: Mailbox) -> dict:
    out = {}
    for m in mailbox.messages():
        for part in m.iter_attachments():
            cid = part.get_filename().split("_")[1]
            out.setdefault(cid, []).append((m, part))
    return out


def test_addresses_are_checked_strictly():
    assert check_address(" Zhang.Wei@Example.COM ") == "Zhang.Wei@example.com"
    assert check_address("a@例子.中国") == "a@xn--fsqu00a.xn--fiqs8s"
    for bad in ("", "a", "a@b", "a@@b.com", "a b@c.com", "a@b..com", ".a@b.com", "a@-b.com", "a@b.c0m",
                "a<b@c.com", "a@b.com\r\nBcc: x@y.com", "\"x\"@b.com", "a,b@c.com"):
        assert check_address(bad) is None, bad
    assert parse_addresses("a@x.com；b@y.com、 a@x.com") == (["a@x.com", "b@y.com"], [])
    assert parse_addresses("a@x.com; nope") == (["a@x.com"], ["nope"])
    assert parse_addresses("  ") == ([], [])


def test_send_delivers_one_message_per_customer_then_nothing(tmp_path):
    ledger = make_ledger(tmp_path)
    files = statement_files(ledger)
    with Server() as server:
        report = send_ledger(FileBook(ledger), month=MONTH, transport=transport(server), sender="ar@example.com")
        # C3 has no email (logged, not an error); C5's address is bad (failed: exit 1)
        assert report.exit_code == 1
        assert report.summary["sent"] == 4 and report.summary["sent_failed"] == 1
        assert report.summary["sent_no_email"] == 1
        got = by_customer(server.mailbox)
        assert sorted(got) == ["C1", "C2", "C4", "C6"] and all(len(v) == 1 for v in got.values())
        for cid, [(m, part)] in got.items():
            # attachment byte-equal to the statement file
            assert part.get_content() == files[cid].read_bytes()
            assert part.get_filename() == files[cid].name
            name = CUSTOMERS.set_index("customer_id").at[cid, "name"]
            assert m["To"].addresses[0].display_name == name
            assert name in str(m["Subject"]) and MONTH in str(m["Subject"])
            assert "杭州示例贸易有限公司" in m.get_body(("plain",)).get_content()
        # headers of Chinese names are RFC 2047 encoded words on the wire, never raw UTF-8
        raw = server.mailbox.received[0][2]
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert head.isascii() and b"=?utf-8?" in head
        envelopes = {tuple(rcpt) for _, rcpt, _ in server.mailbox.received}
        assert ("c4@example.com", "boss4@example.com") in envelopes
        assert all(frm == "ar@example.com" for frm, _, _ in server.mailbox.received)

        log = sent_rows(ledger)
        assert [(r["客户编号"], r["状态"]) for r in log] == [
            ("C1", "已发送"), ("C2", "已发送"), ("C3", "无邮箱"), ("C4", "已发送"), ("C5", "失败"), ("C6", "已发送")]
        for r in log:
            assert r["文件SHA256"] == hashlib.sha256(files[r["客户编号"]].read_bytes()).hexdigest()
            assert r["期间"] == MONTH and r["类型"] == "对账单"
        ids = {r["邮件编号"] for r in log if r["状态"] == "已发送"}
        assert ids == {m["Message-ID"] for m in server.mailbox.messages()}
        assert not (ledger.with_name("台账.sent.jsonl")).exists()  # folded into the sheet

        # a rerun sends nothing again; the bad address is tried (and logged) again
        again = send_ledger(FileBook(ledger), month=MONTH, transport=transport(server), sender="ar@example.com")
        assert again.summary["sent"] == 0 and again.summary["sent_skipped"] == 5
        assert len(server.mailbox.received) == 4
        log2 = sent_rows(ledger)
        assert log2[:6] == log and [(r["客户编号"], r["状态"]) for r in log2[6:]] == [("C5", "失败")]

        # an address typed in later: that customer's statement goes on the next run, only it
        import openpyxl

        wb = openpyxl.load_workbook(ledger)
        ws = wb["客户档案"]
        header = [c.value for c in ws[1]] if ws.cell(1, 1).value else [c.value for c in ws[2]]
        row = next(r for r in ws.iter_rows() if r[0].value == "C3")
        row[header.index("邮箱")].value = "c3@example.com"
        wb.save(ledger)
        fourth = send_ledger(FileBook(ledger), month=MONTH, transport=transport(server), sender="ar@example.com")
        assert fourth.summary["sent"] == 1 and sorted(by_customer(server.mailbox)) == ["C1", "C2", "C3", "C4", "C6"]

        # a statement that changed (new sha256) is sent again; the others are not
        ops.run(FileBook(ledger), ["reconcile", "statements"], month=MONTH, as_of=pd.Timestamp("2026-11-02").date())
        third = send_ledger(FileBook(ledger), month=MONTH, transport=transport(server), sender="ar@example.com")
        assert third.summary["sent"] == 5 and len(server.mailbox.received) == 10


def test_refused_recipients_are_logged_and_resent_when_accepted(tmp_path):
    ledger = make_ledger(tmp_path)
    box = Mailbox(refuse={"c2@example.com", "boss4@example.com"})
    with Server(box) as server:
        report = send_ledger(FileBook(ledger), month=MONTH, transport=transport(server), sender="ar@example.com")
        assert report.exit_code == 1
        log = {r["客户编号"]: r for r in sent_rows(ledger)}
        assert log["C2"]["状态"] == "失败" and "c2@example.com" in log["C2"]["说明"] and "550" in log["C2"]["说明"]
        # one of two recipients refused: it went to the other, sent, and the refusal is said
        assert log["C4"]["状态"] == "已发送" and "boss4@example.com" in log["C4"]["说明"]
        assert sorted(by_customer(box)) == ["C1", "C4", "C6"]
        box.refuse.clear()
        again = send_ledger(FileBook(ledger), month=MONTH, transport=transport(server), sender="ar@example.com")
        assert again.summary["sent"] == 1
        got = by_customer(box)
        assert sorted(got) == ["C1", "C2", "C4", "C6"] and all(len(v) == 1 for v in got.values())


def test_dropped_connection_reconnects_and_the_rerun_sends_the_rest(tmp_path):
    ledger = make_ledger(tmp_path)
    box = Mailbox(drop_at={2})
    with Server(box) as server:
        report = send_ledger(FileBook(ledger), month=MONTH, transport=transport(server), sender="ar@example.com")
        log = {r["客户编号"]: r for r in sent_rows(ledger)}
        assert log["C2"]["状态"] == "失败" and "连接中断" in log["C2"]["说明"]
        # the run went on after the drop: a new connection delivered the later ones
        assert sorted(by_customer(box)) == ["C1", "C4", "C6"] and report.exit_code == 1
        send_ledger(FileBook(ledger), month=MONTH, transport=transport(server), sender="ar@example.com")
        got = by_customer(box)
        assert sorted(got) == ["C1", "C2", "C4", "C6"] and all(len(v) == 1 for v in got.values())


def _cli(*args, env=None):
    e = {**os.environ, "PYTHONPATH": str(ROOT / "pylib"), "CUSTLEDGER_LANG": "zh", **(env or {})}
    return [sys.executable, "-m", "custledger.cli", *args], e


def test_a_killed_run_then_a_rerun_delivers_exactly_the_rest(tmp_path):
    more = pd.concat([CUSTOMERS] + [pd.DataFrame({
        "customer_id": [f"D{i}"], "name": [f"客户{i}"], "contact": [""], "email": [f"d{i}@example.com"], "phone": [""],
        "owner": ["张三"]}) for i in range(6)], ignore_index=True)
    ledger = make_ledger(tmp_path, pause=1, customers=more)
    journal = ledger.with_name("台账.sent.jsonl")
    expected = {"C1", "C2", "C4", "C6", *[f"D{i}" for i in range(6)]}
    with Server(Mailbox(), user="ar@example.com", password="abcdefghijklmnop") as server:
        cmd, env = _cli("send", str(ledger), "--month", MONTH, "--smtp", f"{HOST}:{server.port}",
                        "--user", "ar@example.com", env={"CUSTLEDGER_SMTP_PASSWORD": "abcdefghijklmnop"})
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:   # kill once three messages are on the journal
            lines = journal.read_text(encoding="utf-8").splitlines() if journal.exists() else []
            if sum(json.loads(x)["status"] == "sent" for x in lines) >= 3:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        first = {m.get_filename().split("_")[1] for m in
                 (p for msg in server.mailbox.messages() for p in msg.iter_attachments())}
        assert 3 <= len(first) < len(expected)   # killed half-way
        assert "发送记录" not in CalamineWorkbook.from_path(str(ledger)).sheet_names  # the kill came before the write

        cmd, env = _cli("send", str(ledger), "--month", MONTH, "--smtp", f"{HOST}:{server.port}",
                        "--user", "ar@example.com", "--json", env={"CUSTLEDGER_SMTP_PASSWORD": "abcdefghijklmnop"})
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 1, done.stderr   # C5's bad address
        summary = json.loads(done.stdout)["summary"]
        got = by_customer(server.mailbox)
        assert set(got) == expected and all(len(v) == 1 for v in got.values())   # nothing twice
        assert summary["sent"] == len(expected) - len(first)
        log = sent_rows(ledger)
        assert sorted(r["客户编号"] for r in log if r["状态"] == "已发送") == sorted(expected)
        assert not journal.exists()


def test_wrong_password_stops_before_anything_is_sent(tmp_path):
    ledger = make_ledger(tmp_path)
    with Server(Mailbox(), user="ar@example.com", password="right") as server:
        cmd, env = _cli("send", str(ledger), "--month", MONTH, "--smtp", f"{HOST}:{server.port}",
                        "--user", "ar@example.com", env={"CUSTLEDGER_SMTP_PASSWORD": "wrong"})
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and "授权码" in done.stderr and "Traceback" not in done.stderr
        assert server.mailbox.received == []
    # a remote server without TLS is refused before connecting; a password is never an argument
    cmd, env = _cli("send", str(ledger), "--month", MONTH, "--smtp", "smtp.example.com:25", "--user", "a@example.com")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--ssl" in done.stderr
    cmd, env = _cli("send", str(ledger), "--month", MONTH, "--password", "x")
    assert subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60).returncode == 2


def test_outbox_without_smtp_writes_eml_files_and_sends_nothing(tmp_path):
    ledger = make_ledger(tmp_path)
    files = statement_files(ledger)
    cmd, env = _cli("send", str(ledger), "--month", MONTH, "--from", "ar@example.com")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr   # C5's bad address is a failure
    outbox = tmp_path / "台账_outbox" / MONTH
    emls = sorted(p.name for p in outbox.glob("*.eml"))
    assert emls == ["statement_C1.eml", "statement_C2.eml", "statement_C4.eml", "statement_C6.eml"]
    from email import message_from_bytes
    from email.policy import default

    m = message_from_bytes((outbox / "statement_C1.eml").read_bytes(), policy=default)
    [part] = list(m.iter_attachments())
    assert part.get_content() == files["C1"].read_bytes()
    # masking holds in the body: a template that shows the phone shows it masked
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "email_statement.txt").write_text(
        "Subject: 对账单 {period} {customer_name}\n\n电话 {phone},联系人 {contact},{unknown}\n", encoding="utf-8")
    (outbox / "statement_C1.eml").unlink()
    subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    m = message_from_bytes((outbox / "statement_C1.eml").read_bytes(), policy=default)
    body = m.get_body(("plain",)).get_content()
    assert "138****5678" in body and "13812345678" not in body and "{unknown}" in body
    assert str(m["Subject"]) == "对账单 2026-10 北京甲科技有限公司"
    statuses = [r["状态"] for r in sent_rows(ledger) if r["客户编号"] == "C1"]
    assert statuses == ["已存发件箱", "已存发件箱"]   # re-made because its .eml was removed
    assert sorted(p.name for p in outbox.glob("*.eml")) == emls


def test_letters_are_sent_with_their_statements(tmp_path):
    ledger = tmp_path / "台账.xlsx"
    build_ledger(ledger, "zh", data={
        "customers": CUSTOMERS.iloc[:2],
        "invoices": pd.DataFrame({"doc_no": ["I1", "I2"], "date": ["2026-08-01", "2026-10-05"],
                                  "customer_id": ["C1", "C2"], "amount": [500, 600]})},
        settings={"as_of": "2026-10-31", "send_pause_seconds": "0"})
    ops.run(FileBook(ledger), ["reconcile", "aging", "letters", "statements"], month=MONTH)
    letters = list((tmp_path / "台账_letters" / "2026-10-31").glob("*.xlsx"))
    assert [p.name.split("_")[1] for p in letters] == ["C1"]
    with Server() as server:
        report = send_ledger(FileBook(ledger), month=MONTH, letters=True, transport=transport(server),
                             sender="ar@example.com")
        assert report.exit_code == 0 and report.summary["sent"] == 3
        kinds = sorted((r["客户编号"], r["类型"]) for r in sent_rows(ledger))
        assert kinds == [("C1", "催款函"), ("C1", "对账单"), ("C2", "对账单")]
        att = {p.get_filename(): p.get_content() for m in server.mailbox.messages() for p in m.iter_attachments()}
        assert att[letters[0].name] == letters[0].read_bytes()


def test_send_button_writes_the_outbox_only(tmp_path, monkeypatch, xl_license):
    """The Excel button takes no server: the month's .eml files go to the outbox beside the book."""
    from custledger import xl
    from xlremote import remote_book

    ledger = make_ledger(tmp_path)
    calls = []
    real = ops.run

    def spy(book, steps, **options):
        calls.append((list(steps), dict(options)))
        return real(book, steps, **options)

    monkeypatch.setattr(ops, "run", spy)
    monkeypatch.setattr(xl, "_book_path", lambda book: ledger)
    book = remote_book(ledger)
    report = xl.send(book, month=MONTH)
    assert report is not None and calls[0][0] == ["send"]
    assert "transport" not in calls[0][1] and calls[0][1]["month"] == MONTH
    outbox = tmp_path / "台账_outbox" / MONTH
    assert sorted(p.name for p in outbox.glob("*.eml")) == [
        "statement_C1.eml", "statement_C2.eml", "statement_C4.eml", "statement_C6.eml"]


def test_shipped_email_templates_are_current(tmp_path):
    from custledger.render.build_templates import REPO_TEMPLATES
    from custledger.render.email_body import FILES, build_email_templates, read_template

    for path in build_email_templates(tmp_path):
        assert (REPO_TEMPLATES / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), \
            "templates/ is stale: python -m custledger.render.email_body"
        subject, body = read_template(path)
        assert "{customer_name}" in subject + body or "{owner}" in subject + body
        assert "{company_name}" in subject + body and body.strip()
    assert set(FILES.values()) == {p.name for p in build_email_templates(tmp_path)}


def _self_signed(tmp_path: Path):
    """A certificate for 127.0.0.1 (server context, client context trusting only it)."""
    import datetime as dt
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    crt, pem = tmp_path / "cert.pem", tmp_path / "key.pem"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(crt, pem)
    client = ssl.create_default_context(cafile=str(crt))
    return server, client


def test_starttls_with_login_and_certificate_check(tmp_path):
    import ssl

    from custledger.core.errors import LedgerError

    ledger = make_ledger(tmp_path)
    server_ctx, client_ctx = _self_signed(tmp_path)
    with Server(Mailbox(), user="ar@example.com", password="abcdefghijklmnop", tls_context=server_ctx) as server:
        t = SmtpTransport(HOST, server.port, "starttls", "ar@example.com", "abcdefghijklmnop", context=client_ctx)
        report = send_ledger(FileBook(ledger), month=MONTH, transport=t, sender="ar@example.com")
        assert report.summary["sent"] == 4 and len(server.mailbox.received) == 4
        # the system's trust store does not know this certificate: refused before any login
        untrusted = SmtpTransport(HOST, server.port, "starttls", "ar@example.com", "abcdefghijklmnop",
                                  context=ssl.create_default_context())
        with pytest.raises(LedgerError) as err:
            untrusted.connect()
        assert err.value.code == "smtp_connect_failed"
    # plain SMTP to a non-loopback host is refused outright (never tried)
    with pytest.raises(LedgerError):
        SmtpTransport("smtp.example.com", 25, "plain")


def test_a_journal_folded_but_not_yet_emptied_is_not_folded_twice(tmp_path, monkeypatch):
    """A crash between writing the ledger and emptying the journal: the next run finds the same
    rows on the sheet and in the journal and keeps one of each."""
    import custledger.ops.send as send_mod

    ledger = make_ledger(tmp_path)
    monkeypatch.setattr(send_mod, "clear_journal", lambda path: None)
    send_ledger(FileBook(ledger), month=MONTH, sender="ar@example.com")
    journal = ledger.with_name("台账.sent.jsonl")
    assert len(journal.read_text(encoding="utf-8").splitlines()) == 6
    first = sent_rows(ledger)
    assert len(first) == 6
    monkeypatch.undo()
    send_ledger(FileBook(ledger), month=MONTH, sender="ar@example.com")
    rows = sent_rows(ledger)
    assert rows[:6] == first and [r["客户编号"] for r in rows[6:]] == ["C5"]   # only the new attempt
    assert not journal.exists()


def test_a_server_gone_for_good_stops_the_run_and_the_rest_goes_next_time(tmp_path):
    more = pd.concat([CUSTOMERS] + [pd.DataFrame({
        "customer_id": [f"D{i}"], "name": [f"客户{i}"], "contact": [""], "email": [f"d{i}@example.com"], "phone": [""],
        "owner": ["张三"]}) for i in range(4)], ignore_index=True)
    ledger = make_ledger(tmp_path, customers=more)
    box = Mailbox(drop_at={2})
    server = Server(box)
    port = server.port
    real = box.handle_DATA

    async def handle_DATA(srv, session, envelope):
        reply = await real(srv, session, envelope)
        if box.datas == 2:   # the second message: connection dropped, and the server stops listening
            server.controller.server.close()
        return reply

    box.handle_DATA = handle_DATA
    with server:
        report = send_ledger(FileBook(ledger), month=MONTH, transport=transport(server), sender="ar@example.com")
    assert report.exit_code == 1 and any("停止" in n for n in report.notes)
    log = [(r["客户编号"], r["状态"]) for r in sent_rows(ledger)]
    # C2 dropped; C4, C6, D0 could not connect: three in a row stop the run, D1.. are left untried
    assert log == [("C1", "已发送"), ("C2", "失败"), ("C3", "无邮箱"), ("C4", "失败"), ("C5", "失败"), ("C6", "失败"),
                   ("D0", "失败")]
    with Server(box, port=port) as again:
        send_ledger(FileBook(ledger), month=MONTH, transport=transport(again), sender="ar@example.com")
    got = by_customer(box)
    assert sorted(got) == ["C1", "C2", "C4", "C6", "D0", "D1", "D2", "D3"] and all(len(v) == 1 for v in got.values())


def test_a_template_without_subject_stops_before_any_message(tmp_path):
    ledger = make_ledger(tmp_path)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "email_statement.txt").write_text("您好 {customer_name}\n", encoding="utf-8")
    cmd, env = _cli("send", str(ledger), "--month", MONTH)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "邮件模板" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "台账_outbox").exists()
    assert not ledger.with_name("台账.sent.jsonl").exists()
