"""Email out: addresses checked, messages built (stdlib ``email``), written as .eml or sent by SMTP.

Addresses (``parse_addresses``): Customers.email may hold one address or several separated by
``;`` ``,`` ``；`` ``，`` ``、`` or spaces (a customer's accounts clerk and its boss). Each must be a
plain ``local@domain`` — local part of printable ASCII without spaces, quotes, brackets, commas,
semicolons or colons (what an accountant types; no quoted or commented forms, which are where
header injection hides), at most 64 characters; a domain of at least two dot-separated labels
of letters, digits and inner hyphens (an internationalised domain is accepted and sent in its
IDNA form), a top-level label of letters or ``xn--``, at most 253 characters. One bad address
makes the whole value bad: a statement must not go to half of the people the customer named.

Messages (``build_message``): ``email.policy.SMTP`` — non-ASCII display names and subjects
are RFC 2047 encoded words, the attachment's Chinese file name an RFC 2231 parameter (what
QQ Mail, Foxmail, Outlook and Apple Mail read), lines end in CRLF; a Message-ID made with the
sender's domain, a Date in local time. The body is text/plain UTF-8.

Transport (``SmtpTransport``): ``ssl`` (implicit TLS, port 465) or ``starttls`` (587/25) with
the system's trusted certificates and host name check (``ssl.create_default_context``);
``plain`` only for a loopback host (a local relay, the tests). A send raises ``Refused``
(the server refused the recipient or the message: the connection is still usable) or
``Dropped`` (the connection is gone: the caller reconnects before the next message).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import mimetypes
import re
import smtplib
import socket  # smtplib imports it anyway
import ssl
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path

from ..core.errors import LedgerError, file_cause

SPLIT = re.compile(r"[;,，；、\s]+")
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$")
LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def check_address(text: str) -> str | None:
    """The address in the form to send to (domain in IDNA, lower case), or None if not a
    plain valid address (see the module docstring for the rule)."""
    s = str(text or "").strip()
    if s.count("@") != 1:
        return None
    local, domain = s.split("@")
    if not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        return None
    domain = domain.rstrip(".")
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        return None
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 253 or len(labels) < 2 or not all(_LABEL.match(lb) for lb in labels):
        return None
    if not _TLD.match(labels[-1]):
        return None
    return f"{local}@{ascii_domain.lower()}"


def parse_addresses(text) -> tuple[list[str], list[str]]:
    """(valid addresses in the form to send to, the bad ones as typed) of a Customers.email value."""
    parts = [p for p in SPLIT.split(str(text or "").strip()) if p]
    good: list = []
    bad: list = []
    for p in parts:
        a = check_address(p)
        (good if a else bad).append(a or p)
    return list(dict.fromkeys(good)), bad


def _clean_header(text: str) -> str:
    """One-line header text: no CR/LF or other control characters (header injection)."""
    return " ".join("".join(ch if ch >= " " else " " for ch in str(text or "")).split())


def build_message(sender: str, sender_name: str, recipients: list[str], recipient_name: str, subject: str,
                  body: str, attachment: Path | None = None, *, when: dt.datetime | None = None,
                  message_id: str | None = None) -> EmailMessage:
    """A text/plain UTF-8 message with the file attached (bytes as they are on disk)."""
    msg = EmailMessage(policy=SMTP)
    domain = sender.rsplit("@", 1)[-1]
    msg["From"] = Address(display_name=_clean_header(sender_name), addr_spec=sender)
    name = _clean_header(recipient_name)
    msg["To"] = [Address(display_name=name, addr_spec=a) for a in recipients]
    msg["Subject"] = _clean_header(subject)
    msg["Date"] = format_datetime((when or dt.datetime.now()).astimezone())
    msg["Message-ID"] = message_id or make_msgid(domain=domain)
    msg.set_content(body.replace("\r\n", "\n"), charset="utf-8")
    if attachment is not None:
        path = Path(attachment)
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix.lower() == ".xlsx":
            ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return msg


def write_eml(path: Path, msg: EmailMessage) -> Path:
    """The message as an .eml file (written to a temp name, then renamed into place)."""
    import os

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # one per process: a rerun overwrites it
    tmp.write_bytes(msg.as_bytes(policy=SMTP))
    tmp.replace(path)
    return path


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_server(text: str) -> tuple[str, int]:
    """'smtp.qq.com:465' -> ('smtp.qq.com', 465); '[::1]:2525' for IPv6."""
    m = re.match(r"^\s*(\[[0-9A-Fa-f:.]+\]|[^\s:\[\]]+):(\d{1,5})\s*$", str(text or ""))
    if not m or not 0 < int(m.group(2)) < 65536:
        raise LedgerError("bad_option", option="--smtp", value=str(text))
    return m.group(1).strip("[]"), int(m.group(2))


class Refused(Exception):
    """The server refused this message (recipient, sender or data); the connection goes on.
    Its argument is the reason: the server's words, or a LedgerError (worded where shown)."""


class Dropped(Exception):
    """The connection to the server is gone; reconnect before the next message (the reason as
    for Refused)."""


@dataclass
class SmtpTransport:
    host: str
    port: int
    security: str = "ssl"          # ssl | starttls | plain (loopback only)
    user: str = ""
    password: str = ""
    timeout: float = 60.0
    context: ssl.SSLContext | None = None
    _conn: smtplib.SMTP | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.security not in ("ssl", "starttls", "plain"):
            raise ValueError(self.security)
        if self.security == "plain" and not is_loopback(self.host):
            raise LedgerError("send_needs_smtp_tls")

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"

    def connect(self) -> None:
        """Open, secure and log in; LedgerError (the run cannot go on) when that fails."""
        self.close()
        ctx = self.context or ssl.create_default_context()
        try:
            if self.security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ctx)
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if self.security == "starttls":
                conn.starttls(context=ctx)
                conn.ehlo()
            if self.user:
                _login(conn, self.user, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise LedgerError("smtp_auth_failed", detail=_detail(exc)) from None
        except UnicodeEncodeError:  # smtplib logs in with ASCII only; authorisation codes are ASCII
            raise LedgerError("smtp_auth_failed", detail=LedgerError("smtp_cause_non_ascii")) from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise LedgerError("smtp_connect_failed", server=self.server, detail=_detail(exc)) from exc
        self._conn = conn

    def send(self, msg: EmailMessage) -> str:
        """Send; "" when every recipient was accepted, else which were refused (the message
        went to the others: it counts as sent, the refusal is said)."""
        if self._conn is None:
            self.connect()
        assert self._conn is not None  # connect() sets it or raises
        try:
            refused = self._conn.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise Refused("; ".join(f"{a} {c} {_text(m)}" for a, (c, m) in exc.recipients.items())) from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._conn = None
            raise Dropped(_detail(exc)) from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421:  # service closing the channel
                self.close()
                raise Dropped(_detail(exc)) from None
            self._reset()
            raise Refused(_detail(exc)) from None
        except smtplib.SMTPException as exc:
            self._reset()
            raise Refused(_detail(exc)) from None
        return "; ".join(f"{a} {c} {_text(m)}" for a, (c, m) in (refused or {}).items())

    def _reset(self) -> None:
        assert self._conn is not None  # only after a send on an open connection
        try:
            self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                try:
                    conn.close()
                except OSError:
                    pass


def _login(conn: smtplib.SMTP, user: str, password: str) -> None:
    """Log in with one mechanism, PLAIN else LOGIN (what QQ, 163, Tencent and Aliyun business mail
    offer): a refused code is said at once instead of retrying other mechanisms."""
    mechs = conn.esmtp_features.get("auth", "").upper().split()
    mech = next((m for m in ("PLAIN", "LOGIN") if m in mechs), None)
    if mech is None:
        conn.login(user, password)   # smtplib says what the server lacks
        return
    conn.user, conn.password = user, password
    conn.auth(mech, getattr(conn, f"auth_{mech.lower()}"), initial_response_ok=mech == "PLAIN")


def _text(m) -> str:
    return m.decode("utf-8", "replace") if isinstance(m, bytes) else str(m)


# What went wrong without an answer from the server, as a message code (Python's and the
# system's text is English prose): classes checked in order, the rest is core/errors.file_cause
_NO_ANSWER = ((socket.gaierror, "cause_host_unknown"), (ssl.SSLCertVerificationError, "cause_certificate"),
              (ssl.SSLError, "cause_tls"), (smtplib.SMTPServerDisconnected, "cause_connection_lost"),
              (smtplib.SMTPNotSupportedError, "smtp_cause_not_supported"))


def _detail(exc: BaseException) -> str | LedgerError:
    """Why a connection, login or send failed: the server's reply (its code and its own words,
    quoted as they are: a Chinese provider answers in Chinese), or, when there was no reply,
    the cause worded from messages.json in the language it is shown in."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"[:300]
    code = next((c for kind, c in _NO_ANSWER if isinstance(exc, kind)), None)
    if code:
        return LedgerError(code)
    if isinstance(exc, smtplib.SMTPException):
        return LedgerError("smtp_cause_protocol")
    return file_cause(exc)
