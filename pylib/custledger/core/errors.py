"""Errors that stop a run before anything is written (exit code 2).

A LedgerError carries a message code from schema/messages.json and its parameters, so the way
in can print one clear line in the workbook's (or the user's) language, never a traceback.
"""

from __future__ import annotations


class LedgerError(Exception):
    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params

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
