"""One shape for a problem found in what a person gave us (issue 13): the ``Problem`` record.

A reader or a rule returns its results and a list of Problems; the text is made only at the
edge, from schema/messages.json in the workbook's language (``Problem.text``), so the same
record reads right in a Chinese and an English workbook. ``problem_rows`` turns Problems into
the rows of the Problems sheet, the frame core/validate.py produces (PROBLEM_COLUMNS).

Producers so far: bank files (io/bankfile.py). The others (core/parse.py, core/settings.py,
core/validate.py, core/bank.py, core/invariants.py) can move to it one at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd

from ..schema import msg
from .errors import LedgerError

PROBLEM_COLUMNS = ["sheet", "row", "column", "value", "problem", "severity", "cell", "field", "code"]
SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class Problem:
    """Where (sheet — or a file's name —, 1-based row or None for the whole sheet/file, column
    label), what was there (value, as text), what is wrong (code: a key of messages.json), how
    bad (error | warning) and the message's parameters."""

    sheet: str
    row: int | None
    column: str
    value: str
    code: str
    severity: str = "error"
    params: Mapping = field(default_factory=dict)
    cell: str = ""        # the cell at fault in the workbook, when it is one ("" for a bank file)
    field: str = ""       # the schema field key, when it is one

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def text(self, lang: str) -> str:
        """The message in ``lang`` (column and value are always available to it; a parameter
        that is itself a message, a LedgerError, is written in ``lang`` too)."""
        params = {k: v.message(lang) if isinstance(v, LedgerError) else v for k, v in self.params.items()}
        return msg(self.code, lang, **{"column": self.column, "value": self.value, **params})


def problem_rows(problems: Iterable[Problem], lang: str) -> pd.DataFrame:
    """Problems -> rows of the Problems frame (PROBLEM_COLUMNS), in the given order; a problem
    about a whole sheet or file has row 0."""
    problems = list(problems)
    return pd.DataFrame({
        "sheet": [p.sheet for p in problems],
        "row": pd.Series([p.row or 0 for p in problems], dtype="int64"),
        "column": [p.column or "" for p in problems],
        "value": [p.value for p in problems],
        "problem": [p.text(lang) for p in problems],
        "severity": [p.severity for p in problems],
        "cell": [p.cell for p in problems],
        "field": [p.field for p in problems],
        "code": [p.code for p in problems],
    }, columns=PROBLEM_COLUMNS)


class ProblemError(LedgerError):
    """A Problem that stops the run (exit 2, one line): ``code`` is the line's message, the
    problem's own text (in the language the line is printed in) fills its ``{detail}``."""

    def __init__(self, code: str, problem: Problem):
        super().__init__(code, detail=problem.code)
        self.problem = problem

    def message(self, lang: str = "zh") -> str:
        return msg(self.code, lang, detail=self.problem.text(lang))
