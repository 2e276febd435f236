"""The contract between the layers: what the rules hand to the writers, and what every book
adapter offers. Neutral ground: io (the writers), render (the sheets) and ops (the runs) import
these from here, so io never imports render and render never imports io.

* SheetOut — a generated sheet ready to write (render/sheets.py builds it; every writer takes it);
* CellMark — a validation highlight on a person's input cell;
* RowAppend — rows to add below the data of an input sheet (bank imports);
* Book — the adapter interface ops.run talks to (io/filebook.FileBook, io/xlbook.XlBook), with
  BookDefaults for the parts an adapter may leave out (no lock, nothing to check before writing).

Nothing here imports pandas or an engine: importing the contract costs nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd

    from .io.reader import RawBook

SEVERITIES = ("error", "warning")

FORMATS = {
    "money": "#,##0.00",
    "date": "yyyy-mm-dd",
    "int": "0",
    "pct": "0.0%",
    "float": "0.0",
}


@dataclass(frozen=True)
class SheetOut:
    """A generated sheet to write: its headers, per-column formats and display values, in the
    workbook's language; the same record goes to every writer (file, Excel, Lite)."""

    key: str                      # canonical generated-sheet key (problems, aging, ...)
    name: str                     # sheet name in the workbook's language
    headers: list                 # labels
    formats: list                 # format kind per column (money, date, int, pct, float, text, enum, bool, link)
    data: pd.DataFrame            # display values, columns positional in header order
    links: dict = field(default_factory=dict)  # column position -> list of link targets (or None)
    table: str = ""               # Excel table name
    widths: list = field(default_factory=list)
    note: str = ""                # title/timestamp: goes in a cell comment on A1, not above the header
    # A laid-out sheet (Card, Dashboard): the file writer calls draw(wb, ws, formats) on the new
    # xlsxwriter worksheet instead of writing the table; headers/data stay the tabular fallback
    # (row 1 header) for writers that cannot draw. Cells must be written in row order
    # (xlsxwriter's constant_memory mode drops writes to earlier rows).
    draw: Callable[..., Any] | None = None
    protect: bool = True          # False: an input sheet created on first use (Payers) stays editable
    hidden: bool = False          # very hidden (_snapshot: the program's memory, not for people); a
                                  # writer that cannot hide a sheet writes it as it is


@dataclass(frozen=True)
class CellMark:
    """A validation highlight on a person's input cell."""

    sheet: str     # sheet name as in the workbook
    cell: str      # A1 reference, e.g. "C17"
    message: str   # comment text
    severity: str  # "error" | "warning"

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"CellMark severity must be 'error' or 'warning', not {self.severity!r}")


@dataclass(frozen=True)
class RowAppend:
    """Rows to add below the data of an input sheet (see the module docstring for the rules).

    ``rows`` holds canonical keys: money as int64 cents, dates as datetime64[ns], text as str,
    enums as the labels to write (the caller converts keys to the workbook language's labels).
    ``columns`` maps each field key to its column letter in that sheet; fields of ``rows``
    without a column are not written. ``kinds`` maps field keys to the schema's x-kind (missing:
    text). ``header_row`` (1-based), when the caller knows it, is never a style source.
    """

    sheet: str                 # input sheet name as in the workbook
    columns: dict              # field key -> column letter where that field lives ("receipt_no" -> "A")
    kinds: dict                # field key -> schema x-kind: id, ref, text, list, enum, date, money, ...
    rows: pd.DataFrame         # canonical keys; money = int64 cents; dates = datetime64[ns]; text = str
    header_row: int = 0        # 1-based header row if known (0: guessed)



class WriteInfo(Protocol):
    """What a write reports: where the results went, the backup made (if any), a note for the user."""

    # read-only members: the adapters report with frozen dataclasses
    @property
    def target(self) -> Any: ...

    @property
    def backup(self) -> Any: ...

    @property
    def note(self) -> str: ...


@runtime_checkable
class Book(Protocol):
    """A ledger workbook as ops.run sees it. ``read`` once, ``write`` once per run; ``session``
    is held for the whole run (a file: a per-ledger lock); ``check_writable`` refuses early
    (Excel lock, read-only) before any work; ``lang`` is set by the run to the ledger's language
    (for the adapter's own notes); ``withheld_message`` is the message code said when statements
    are withheld on errors (each client says how to ask differently); ``reads_change_log``: read()
    hands back the change log sheets (ops/changes.py)."""

    lang: str
    withheld_message: str
    reads_change_log: bool

    def read(self) -> RawBook: ...

    def write(self, outs: Sequence[SheetOut], marks: Sequence[CellMark] = (), clear_marks_on: Sequence[str] = (),
              keep: int = 10, protect: bool = True, appends: Sequence[RowAppend] = ()) -> WriteInfo: ...

    def session(self) -> contextlib.AbstractContextManager: ...

    def check_writable(self) -> None: ...


class BookDefaults:
    """The optional parts of Book, for an adapter that has nothing to lock or check."""

    lang = "zh"
    withheld_message = "statements_withheld"
    reads_change_log = False

    def session(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    def check_writable(self) -> None:
        return None
