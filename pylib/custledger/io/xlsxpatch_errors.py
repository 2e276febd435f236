"""Errors raised by the xlsx patcher (io/xlsxpatch*.py)."""
from __future__ import annotations


class XlsxPatchError(Exception):
    """The workbook could not be patched; the message says why, naming the part or sheet.

    The text is English, for logs and tests. ``code`` (with ``params``), where set, names the
    reason as a message of schema/messages.json, which is what a person is shown in the
    workbook's language; without one they are told the generic cause_unsupported_structure."""

    def __init__(self, text: str = "", code: str | None = None, **params) -> None:
        super().__init__(text)
        self.code = code
        self.params = params

    def reason(self):
        """The reason as a LedgerError to pass as a message's ``detail`` (worded when shown)."""
        from custledger.core.errors import LedgerError

        return LedgerError(self.code or "cause_unsupported_structure", **self.params)


class UnsafePackageError(XlsxPatchError):
    """The source package is refused: zip-bomb limits, unsafe part names, or XML with DTDs.

    The exception's text is English, for logs and tests; ``code`` and ``params`` name the same
    reason as a message of schema/messages.json, which is what a person is shown (in the
    workbook's language, io/reader.check_package and io/filebook)."""


class TableNameError(XlsxPatchError):
    """A generated table's name is already used by a table or defined name elsewhere."""
