"""One shape for a problem found in what a person gave us (issue 13): the ``Problem`` record.

A reader or a rule returns its results and a list of Problems; the text is made only at the
edge, from schema/messages.json in the workbook's language (``Problem.text``), so the same
record reads right in a Chinese and an English workbook. ``problem_rows`` turns Problems into
the rows of the Problems sheet, the frame core/validate.py produces (PROBLEM_COLUMNS).

Producers: reading values (core/parse.py), Settings (core/settings.py), header duplicates
(core/load.py), bank files (io/bankfile.py) and the money invariants (core/invariants.py) return
Problem records. The validation rules (core/validate.py) find problems for whole columns at once;
they go through ``problems_frame``, the column-wise form of the same record, so that a sheet of
100,000 faulty rows makes no 100,000 Python objects. ``problem_rows`` is ``problems_frame`` over
a list of records: one place makes the text and the columns of the Problems sheet.

A parameter whose value has a ``message(lang)`` method (a LedgerError, an ``OutputLabel``) is
worded in the language the text is made in, so no parameter carries English into a Chinese text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..schema import messages, msg
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
        return msg(self.code, lang, **{"column": self.column, "value": self.value, **_worded(self.params, lang)})

    def as_row(self, lang: str) -> dict:
        """The record as one row of the Problems frame (a dict keyed by PROBLEM_COLUMNS), the
        shape readers returned before Problem existed (core/settings.parse_settings keeps it)."""
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "value": self.value,
                "problem": self.text(lang), "severity": self.severity, "cell": self.cell,
                "field": self.field, "code": self.code}


@dataclass(frozen=True)
class OutputLabel:
    """A message parameter naming a column of a generated sheet (outputs.json): worded as that
    column's header in the language of the text (Balances 余额 / balance)."""

    sheet: str
    column: str

    def message(self, lang: str) -> str:
        from ..schema import output_columns

        return next((label for key, label, _ in output_columns(self.sheet, lang) if key == self.column),
                    self.column)


def _word(v: Any, lang: str) -> Any:
    """A parameter, worded in ``lang`` when it is a message itself."""
    return v.message(lang) if isinstance(v, (LedgerError, OutputLabel)) else v


def _worded(params: Mapping, lang: str) -> dict:
    """Parameters with the ones that are messages themselves worded in ``lang``."""
    return {k: _word(v, lang) for k, v in params.items()}


def _is_column(v: Any) -> bool:
    return isinstance(v, (list, tuple, np.ndarray, pd.Series, pd.Index))


def _each(value: Any, n: int) -> list:
    """A column given as a scalar (the same for every problem) or a sequence (one per problem)."""
    if not _is_column(value):
        return [value] * n
    out = list(value)
    if len(out) != n:
        raise ValueError(f"a problem column has {len(out)} values for {n} problems")
    return out


def problems_frame(*, sheet, row, column, value, code, lang: str, severity="error",
                   params: Mapping | Sequence[Mapping] | None = None, cell="", field="") -> pd.DataFrame:
    """The Problems frame (PROBLEM_COLUMNS) for many problems given column-wise: ``row`` is a
    sequence (one per problem, 0 or None for a whole sheet or file), every other argument a
    scalar (the same for all) or a sequence. ``params`` is a mapping of message parameters (each
    a scalar or a sequence), or a sequence of mappings, one per problem. The text of each
    problem is made here, from messages.json in ``lang`` (what ``Problem.text`` gives)."""
    return frame_of([problem_columns(sheet=sheet, row=row, column=column, value=value, code=code, lang=lang,
                                     severity=severity, params=params, cell=cell, field=field)])


def frame_of(parts: Sequence[dict]) -> pd.DataFrame:
    """One Problems frame from several ``problem_columns`` results, in order: the frame made
    once (what concatenating a ``problems_frame`` of each gives)."""
    if len(parts) == 1:
        cols = parts[0]
    else:
        cols = {k: np.concatenate([p[k] for p in parts]) if k == "row" else [x for p in parts for x in p[k]]
                for k in PROBLEM_COLUMNS}
    return pd.DataFrame(cols, columns=PROBLEM_COLUMNS)


def problem_columns(*, sheet, row, column, value, code, lang: str, severity="error",
                    params: Mapping | Sequence[Mapping] | None = None, cell="", field="") -> dict:
    """``problems_frame``'s columns (PROBLEM_COLUMNS -> a list each, ``row`` an int64 array),
    before they become a frame: many checks' problems make one frame (``frame_of``)."""
    rows = pd.Series(row).fillna(0).astype("int64").to_numpy()
    n = len(rows)
    codes, columns, values = _each(code, n), _each(column, n), _each(value, n)
    columns = ["" if c is None else c for c in columns]
    if params is None or isinstance(params, Mapping):
        fixed = _worded({k: v for k, v in (params or {}).items() if not _is_column(v)}, lang)
        varying = {k: [_word(x, lang) for x in _each(v, n)] for k, v in (params or {}).items() if _is_column(v)}
        per = [{**fixed, **{k: lst[i] for k, lst in varying.items()}} for i in range(n)] if varying else [fixed] * n
    else:
        per = [_worded(p, lang) for p in params]
        if len(per) != n:
            raise ValueError(f"{len(per)} parameter sets for {n} problems")
    table = messages()
    texts = []
    for c, col, v, kw in zip(codes, columns, values, per):
        entry = table[c]  # one look-up per problem: str.format is the whole cost of a text
        texts.append(entry.get(lang, entry["en"]).format(column=col, value=v, **kw))
    return {"sheet": _each(sheet, n), "row": rows, "column": columns, "value": values, "problem": texts,
            "severity": _each(severity, n), "cell": _each(cell, n), "field": _each(field, n), "code": codes}


def problem_rows(problems: Iterable[Problem], lang: str) -> pd.DataFrame:
    """Problems -> rows of the Problems frame (PROBLEM_COLUMNS), in the given order; a problem
    about a whole sheet or file has row 0."""
    problems = list(problems)
    for p in problems:
        if not isinstance(p, Problem):
            raise TypeError(f"a problem must be a core.problems.Problem, not {type(p).__name__}")
    return problems_frame(sheet=[p.sheet for p in problems], row=[p.row for p in problems],
                          column=[p.column for p in problems], value=[p.value for p in problems],
                          code=[p.code for p in problems], severity=[p.severity for p in problems],
                          params=[p.params for p in problems], cell=[p.cell for p in problems],
                          field=[p.field for p in problems], lang=lang)


class ProblemError(LedgerError):
    """Problems that stop the run (exit 2, one line): ``code`` is the line's message, the
    problems' own texts (in the language the line is printed in, joined by "; ") fill its
    ``{detail}``; ``problem`` is the first, ``problems`` all of them."""

    def __init__(self, code: str, problem: Problem, *more: Problem):
        super().__init__(code, detail=problem.code)
        self.problem = problem
        self.problems = (problem, *more)

    def message(self, lang: str = "zh") -> str:
        sep = "；" if lang == "zh" else "; "
        return msg(self.code, lang, detail=sep.join(p.text(lang) for p in self.problems))
