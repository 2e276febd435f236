"""A real SMTP server on the loopback address for the send tests (aiosmtpd in a thread).

``Mailbox`` records every message the server accepted (envelope and raw bytes); it can refuse
recipients (550 at RCPT) and drop the connection (abort the socket, no reply) while receiving
chosen messages. Only 127.0.0.1 is ever bound or addressed.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    refuse: set = field(default_factory=set)      # recipient addresses answered 550
    drop_at: set = field(default_factory=set)     # 1-based numbers of DATA commands to abort
    received: list = field(default_factory=list)  # (mail_from, rcpt_tos, bytes)
    datas: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.datas += 1
            n = self.datas
        if n in self.drop_at:
            server.transport.abort()   # the connection is gone mid-message: nothing delivered
            return "451 dropped"
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 2.0.0 Ok: queued"

    def messages(self):
        with self.lock:
            return [message_from_bytes(raw, policy=default) for _, _, raw in self.received]


class Server:
    """Context manager: a Controller on 127.0.0.1:<free port>; ``user``/``password`` turn on AUTH."""

    def __init__(self, mailbox: Mailbox | None = None, user: str = "", password: str = "", tls_context=None,
                 port: int | None = None):
        self.mailbox = mailbox or Mailbox()
        self.port = port or free_port()
        kwargs = {}
        if user:
            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() \
                    and auth_data.password == password.encode()
                return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535
            kwargs.update(authenticator=authenticator, auth_require_tls=tls_context is not None,
                          auth_required=True)
        if tls_context is not None:
            kwargs.update(tls_context=tls_context, require_starttls=True)
        self.controller = Controller(self.mailbox, hostname=HOST, port=self.port, **kwargs)

    def __enter__(self):
        import warnings

        with warnings.catch_warnings():  # AUTH without TLS: only ever on 127.0.0.1 here
            warnings.simplefilter("ignore", UserWarning)
            self.controller.start()
        return self

    def __exit__(self, *exc):
        try:
            self.controller.stop()
        except AssertionError:  # already stopped by the test (a server that went away)
            pass
        return False
