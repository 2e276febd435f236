"""Errors that stop a run before anything is written (exit code 2).

A LedgerError carries a message code from schema/messages.json and its parameters, so the way
in can print one clear line in the workbook's (or the user's) language, never a traceback.
``file_cause`` is the one rule for why a file could not be read or written, worded the same way.
"""

from __future__ import annotations

import errno


class LedgerError(Exception):
    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params
        # the workbook's language, set by a run that stops once it knows it (ops/pipeline.py):
        # the way in says the one line in it unless the person asked for a language
        self.lang: str | None = None

    def message(self, lang: str = "zh") -> str:
        from ..schema import msg

        # a parameter that is itself a message (a LedgerError: the detail of a refusal) is
        # written in the same language
        params = {k: v.message(lang) if isinstance(v, LedgerError) else v for k, v in self.params.items()}
        try:
            return msg(self.code, lang, **params)
        except KeyError:
            return f"{self.code}: {self.params}"

    def __str__(self) -> str:
        return self.message("en")


# What an OSError means, as a message code. The system's own text (strerror, str(exc)) is English
# prose whatever the workbook's language, so it is never a parameter of a message; the errno is
# (a number is no prose). ENOTDIR (a part of the path is a file) means the file is not there.
_OS_CAUSES = {
    errno.ENOENT: "cause_not_found", errno.ENOTDIR: "cause_not_found",
    errno.EACCES: "cause_no_permission", errno.EPERM: "cause_no_permission",
    errno.EISDIR: "cause_is_folder", errno.ENOSPC: "cause_disk_full", errno.EROFS: "cause_read_only",
    errno.ENAMETOOLONG: "cause_name_too_long",
    errno.EHOSTUNREACH: "cause_unreachable", errno.ENETUNREACH: "cause_unreachable",
}
# the same for a connection (a mail server): by class first, which Python picks from the errno
# on every system (Windows' WSAE* numbers included)
_CONNECTION_CAUSES = ((ConnectionRefusedError, "cause_connection_refused"), (TimeoutError, "cause_timed_out"),
                      (ConnectionError, "cause_connection_lost"))


def file_cause(exc: BaseException) -> LedgerError:
    """Why a file could not be opened, read or written (or a connection made), as a message
    worded in the language it is shown in (pass it as the ``detail`` of the refusal): an OSError
    by its errno (known ones by their meaning, others by their number; a refused, lost or timed
    out connection by its class), a UnicodeDecodeError as "not UTF-8 text", a
    LedgerError as itself. Anything else is "a system error" without its text. The exception
    itself belongs in the chain (``raise … from exc``), where CUSTLEDGER_DEBUG=1 shows it."""
    if isinstance(exc, LedgerError):
        return exc
    if isinstance(exc, UnicodeDecodeError):
        return LedgerError("cause_not_utf8")
    code = next((c for kind, c in _CONNECTION_CAUSES if isinstance(exc, kind)), None)
    if code:
        return LedgerError(code)
    number = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    if isinstance(number, int):
        return LedgerError(_OS_CAUSES.get(number, "cause_os_error"), errno=number)
    return LedgerError("cause_system")
