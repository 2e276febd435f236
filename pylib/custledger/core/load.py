"""Raw sheets -> typed sheets: which workbook sheet is which, where its header is.

Pure: takes the RawBook the file or xlwings adapter read (frames of text), returns typed
frames per input sheet with their layout, the settings, and the problems of unreadable values.
A missing required sheet or column stops the run (LedgerError, exit 2): nothing can be computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..schema import input_sheets, norm_header, output_sheet_name, outputs, sheet
from .errors import LedgerError
from .model import Settings
from .parse import SheetLayout, col_letter, locate_header, match_sheet_names, parse_sheet
from .problems import Problem
from .settings import read_settings


@dataclass(frozen=True)
class TypedSheet:
    """One input sheet after parsing: canonical typed columns plus ``_row`` (the worksheet row of
    each record), and where each field was found."""

    key: str                 # canonical sheet key (customers, invoices, ...)
    name: str | None         # sheet name in the workbook (None when absent)
    frame: pd.DataFrame      # canonical columns + _row
    layout: SheetLayout | None
    letters: dict            # field key -> column letter (mapped columns only)
    header_row: int = 0      # 1-based worksheet row of the header (0 when the sheet is absent)


@dataclass(frozen=True)
class LoadedBook:
    """What load() read from a workbook: every data sheet typed, Settings, and the problems met
    reading them."""

    sheets: dict             # key -> TypedSheet
    settings: Settings
    problems: list[Problem]  # met reading: Settings, headers, values that cannot be read
    sheet_names: tuple       # every sheet name in the workbook
    raw: object = None       # the RawBook read (generated sheets people edit, e.g. Bank confirm_id)


DATA_SHEETS = ("customers", "invoices", "receipts", "interactions", "payers", "confirmations")
# found by their name only, never by a left-over sheet's header: rows are appended to Payers,
# and a person's own sheet with 付款方 / 客户编号 columns must not be taken for it
BY_NAME_ONLY = ("payers",)


def generated_sheet_names() -> set[str]:
    names = set()
    for s in outputs()["sheets"].values():
        names.update({s["zh"], s["en"]})
    return names


READ_BACK = ("bank",)                       # generated sheets a person edits: Bank (confirm_id)
CHANGE_LOG = ("changes", "snapshot", "sent")  # generated logs appended to (change log, Sent 发送记录)


def sheet_reader(read_back=READ_BACK):
    """want(name) for a book adapter's read: the input sheets (every sheet that is not
    generated) plus the generated sheets in ``read_back``."""
    keep = {norm_header(output_sheet_name(k, lang)) for k in read_back for lang in ("zh", "en")}
    skip = {norm_header(n) for n in generated_sheet_names()} - keep
    return lambda name: norm_header(name) not in skip


def assign_sheets(names) -> tuple[dict, list]:
    """spec key -> sheet name: by name first, then by header among the sheets left over."""
    specs = input_sheets()
    found = match_sheet_names(names, specs)
    generated = {norm_header(n) for n in generated_sheet_names()}
    return found, [n for n in names if n not in found.values() and norm_header(n) not in generated]


def names_language(found: dict, default: str = "zh") -> str:
    """The language of the workbook's own input sheet names (Customers/Invoices -> en,
    客户档案/销售单据 -> zh), else ``default``: what decides the language when Settings does not."""
    for key in DATA_SHEETS:
        name = found.get(key)
        if not name:
            continue
        names = sheet(key).names
        if norm_header(name) in (norm_header(names["en"]), norm_header(key)):
            return "en"
        if norm_header(name) == norm_header(names["zh"]):
            return "zh"
    return default


def load(book, lang_hint: str = "zh") -> LoadedBook:
    found, leftovers = assign_sheets(book.sheet_names)
    settings_raw = book.sheets.get(found.get("settings"))
    settings, problems = read_settings(settings_raw, names_language(found, lang_hint))
    lang = settings.language
    if not any(len(s.frame) for s in book.sheets.values()):
        raise LedgerError("workbook_empty")
    typed = {}
    for key in DATA_SHEETS:
        spec = sheet(key)
        name = found.get(key)
        layout = None
        if name is not None and name in book.sheets:
            layout = locate_header(book.sheets[name].frame, spec, name)
        if layout is None:  # not found by name: a left-over sheet whose header fits
            for cand in (leftovers if key not in BY_NAME_ONLY else ()):
                raw = book.sheets.get(cand)
                if raw is None:
                    continue
                lay = locate_header(raw.frame, spec, cand)
                if lay and all(f.key in lay.headers for f in spec.fields if f.required):
                    name, layout = cand, lay
                    leftovers = [n for n in leftovers if n != cand]
                    break
        if layout is None:
            if name is None and not spec.required:
                typed[key] = _empty(key)
                continue
            if name is None:
                raise LedgerError("sheet_missing", sheet=spec.name(lang),
                                  names=" / ".join([spec.names["zh"], spec.names["en"]]))
            missing = [f for f in spec.fields if f.required]
            raise LedgerError("column_missing", sheet=name, column=missing[0].label(lang))
        for f in spec.fields:
            if f.required and f.key not in layout.headers:
                raise LedgerError("column_missing", sheet=name, column=f.label(lang))
        raw = book.sheets[name]
        frame, probs = parse_sheet(raw, spec, layout, lang)
        problems.extend(probs)
        for pos, text in layout.duplicates:
            r = raw.row0 + layout.header_index
            cell = f"{col_letter(raw.col0 + pos)}{r}"
            problems.append(Problem(str(name), r, str(text), str(text), "header_duplicate", "warning", cell=cell))
        letters = {k: col_letter(raw.col0 + pos) for pos, k in layout.columns.items()}
        typed[key] = TypedSheet(key, name, frame, layout, letters, raw.row0 + layout.header_index)
    return LoadedBook(typed, settings, problems, tuple(book.sheet_names), raw=book)


def generated_frame(book, key: str) -> pd.DataFrame | None:
    """A generated sheet read back (header row 1, labels of either language or keys) as a frame
    with canonical keys; None when the workbook has no such sheet. Used for the Bank sheet,
    where a person confirms a suggested match by typing a customer_id."""
    from ..schema import output_columns, output_sheet_name

    names = {norm_header(output_sheet_name(key, lang)) for lang in ("zh", "en")}
    raw = next((r for n, r in (book.sheets.items() if book else []) if norm_header(n) in names), None)
    if raw is None or raw.frame.empty:
        return None
    lookup = {}
    for lang in ("zh", "en"):
        for ckey, label, _ in output_columns(key, lang):
            lookup[norm_header(label)] = ckey
            lookup[norm_header(ckey)] = ckey
    header = raw.frame.iloc[0]
    cols = {pos: lookup[norm_header(h)] for pos, h in header.items() if isinstance(h, str) and norm_header(h) in lookup}
    body = raw.frame.iloc[1:][list(cols)].rename(columns=cols)
    return body.reset_index(drop=True)


def _empty(key: str) -> TypedSheet:
    from .parse import empty_frame

    return TypedSheet(key, None, empty_frame(sheet(key)), None, {})
