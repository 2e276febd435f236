"""Why a mail server could not be reached, or the connection went, is worded from messages.json
in the message's language (the server's own reply is quoted as it is): never Python's or the
system's English text (Connection refused, SMTPServerDisconnected: …) in a Chinese workbook."""

from __future__ import annotations

import re
import smtplib
import socket
import ssl

import pytest

pytest.importorskip("aiosmtpd")
# AUTH without TLS is what the loopback test server offers, on 127.0.0.1 only
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

from custledger.core.errors import LedgerError  # noqa: E402
from custledger.io.filebook import FileBook  # noqa: E402
from custledger.io.mail import SmtpTransport, _detail  # noqa: E402
from custledger.ops.send import send_ledger  # noqa: E402
from smtp_server import HOST, Mailbox, Server, free_port  # noqa: E402
from test_file_causes import ENGLISH_SYSTEM, HAN, SYSTEM_TEXT  # noqa: E402
from test_send import MONTH, make_ledger, sent_rows, transport  # noqa: E402


@pytest.mark.parametrize("exc, zh_words, en_words", [
    (ConnectionRefusedError(111, "Connection refused"), "拒绝连接", "refused the connection"),
    (ConnectionResetError(104, "Connection reset by peer"), "连接被中断", "broken off"),
    (TimeoutError("timed out"), "超时", "did not answer in time"),
    (socket.gaierror(-2, "Name or service not known"), "找不到这个服务器", "no such server"),
    (ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), "证书",
     "certificate"),
    (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "加密连接", "encrypted"),
    (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), "连接被中断", "broken off"),
    (smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server."), "不支持", "does not support"),
    (smtplib.SMTPException("No suitable authentication method found."), "应答", "answer"),
])
def test_no_answer_from_the_server_is_worded_in_the_messages_language(exc, zh_words, en_words):
    why = LedgerError("smtp_connect_failed", server="smtp.example.com:465", detail=_detail(exc))
    zh, en = why.message("zh"), why.message("en")
    assert zh_words in zh and not SYSTEM_TEXT.search(zh) and str(exc) not in zh, zh
    assert en_words in en and not HAN.search(en) and not ENGLISH_SYSTEM.search(en) and str(exc) not in en, en


def test_the_servers_own_reply_is_quoted_as_it_is():
    reply = smtplib.SMTPAuthenticationError(535, "Login Fail. 请使用授权码登录".encode())
    assert _detail(reply) == "535 Login Fail. 请使用授权码登录"


def test_a_server_that_is_not_there_is_named_in_chinese_and_in_english():
    with pytest.raises(LedgerError) as err:
        SmtpTransport(HOST, free_port(), "plain", timeout=5).connect()
    zh, en = err.value.message("zh"), err.value.message("en")
    assert err.value.code == "smtp_connect_failed" and isinstance(err.value.__cause__, OSError)
    assert "拒绝连接" in zh and not SYSTEM_TEXT.search(zh), zh
    assert "refused the connection" in en and not ENGLISH_SYSTEM.search(en), en


def test_a_non_ascii_password_is_said_in_the_messages_language():
    with Server(Mailbox(), user="ar@example.com", password="abcdefghijklmnop") as server:
        with pytest.raises(LedgerError) as err:
            SmtpTransport(HOST, server.port, "plain", "ar@example.com", "密码密码", timeout=10).connect()
    zh, en = err.value.message("zh"), err.value.message("en")
    assert err.value.code == "smtp_auth_failed" and "ASCII" in zh and "non-ASCII" in en
    assert "非 ASCII" in zh and not re.search(r"[a-z]{2,}", zh), zh   # no English words in the Chinese line
    assert not ENGLISH_SYSTEM.search(en), en


def test_a_dropped_connection_on_the_sent_sheet_is_worded_in_chinese(tmp_path):
    ledger = make_ledger(tmp_path)
    with Server(Mailbox(drop_at={2})) as server:
        send_ledger(FileBook(ledger), month=MONTH, transport=transport(server), sender="ar@example.com")
    log = {r["客户编号"]: r for r in sent_rows(ledger)}
    said = log["C2"]["说明"]
    assert log["C2"]["状态"] == "失败" and "连接中断" in said and "连接被中断" in said, said
    assert not SYSTEM_TEXT.search(said) and "Disconnected" not in said, said
