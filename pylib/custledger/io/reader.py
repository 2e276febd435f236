"""Reading a workbook file into raw sheets: every cell as text, positions kept.

The file adapter's read half. fastexcel (calamine + Arrow) reads each sheet in one bulk call,
every column as text, so that one parsing path (core/parse.py) handles dates and amounts
whether they were typed as Excel dates/numbers or as text. fastexcel drops leading empty rows
and columns; the column offset comes from fastexcel, the row offset from the first cell with a
value in the sheet XML (streamed, stops at once).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..core.errors import LedgerError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
LEDGER_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class RawSheet:
    """One sheet as text. ``frame`` has positional columns 0..n-1 (str or NaN);
    frame row i is worksheet row ``row0 + i`` (1-based), column j is worksheet column
    ``col0 + j`` (0-based index, 0 = A)."""

    name: str
    frame: pd.DataFrame
    row0: int = 1
    col0: int = 0


@dataclass(frozen=True)
class RawBook:
    path: Path | None
    sheet_names: tuple[str, ...]
    sheets: dict = field(default_factory=dict)   # name -> RawSheet, only the sheets read


def check_ledger_file(path: Path, must_write: bool = False) -> None:
    """Refuse, with one clear line, what cannot be a ledger workbook (exit 2 territory)."""
    if not path.exists():
        raise LedgerError("file_missing", path=str(path))
    if path.is_dir():
        raise LedgerError("file_is_dir", path=str(path))
    suffix = path.suffix.lower()
    with path.open("rb") as fh:
        head = fh.read(8)
    if head[:8] == OLE_MAGIC:
        if _is_encrypted_ooxml(path):
            raise LedgerError("file_encrypted", path=str(path))
        raise LedgerError("file_xls", path=str(path))
    if suffix in (".csv", ".txt", ".tsv"):
        raise LedgerError("file_csv", path=str(path))
    if len(head) == 0:
        raise LedgerError("file_empty", path=str(path))
    if head[:4] != ZIP_MAGIC or suffix not in LEDGER_SUFFIXES:
        if suffix in LEDGER_SUFFIXES:
            raise LedgerError("file_corrupt", path=str(path))
        raise LedgerError("file_not_xlsx", path=str(path))
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except zipfile.BadZipFile:
        raise LedgerError("file_corrupt", path=str(path)) from None
    if "xl/workbook.xml" not in names:
        raise LedgerError("file_corrupt", path=str(path))


def _is_encrypted_ooxml(path: Path) -> bool:
    try:
        import msoffcrypto

        with path.open("rb") as fh:
            return bool(msoffcrypto.OfficeFile(fh).is_encrypted())
    except Exception:  # not an OLE file msoffcrypto understands: treat as legacy .xls
        return False


def read_book(path: Path, want: callable = lambda name: True) -> RawBook:
    """Read the sheets whose name satisfies ``want`` (others only listed)."""
    import fastexcel

    check_ledger_file(path)
    try:
        reader = fastexcel.read_excel(str(path))
        names = tuple(reader.sheet_names)
    except Exception as exc:  # calamine refuses a damaged package
        raise LedgerError("file_corrupt_detail", path=str(path), detail=str(exc).splitlines()[0][:200]) from None
    sheets = {}
    for name in names:
        if not want(name):
            continue
        try:
            sheet = reader.load_sheet(name, header_row=None, dtypes="string")
            frame = sheet.to_pandas()
            cols = sheet.available_columns()
        except Exception as exc:
            raise LedgerError("sheet_unreadable", sheet=name, detail=str(exc).splitlines()[0][:200]) from None
        col0 = cols[0].absolute_index if cols else 0
        frame.columns = range(frame.shape[1])
        row0 = _first_value_row(path, name) if len(frame) else 1
        sheets[name] = RawSheet(name=name, frame=frame, row0=row0, col0=col0)
    return RawBook(path=path, sheet_names=names, sheets=sheets)


_ROW_RE = re.compile(rb'<(?:\w+:)?c\b[^>]*\br="[A-Z]+(\d+)"[^>]*?(?<!/)>(.*?)</(?:\w+:)?c>', re.S)


def _first_value_row(path: Path, sheet_name: str) -> int:
    """1-based row of the first cell holding a value (what calamine starts its range at)."""
    part = sheet_part(path, sheet_name)
    if part is None:
        return 1
    with zipfile.ZipFile(path) as zf, zf.open(part) as fh:
        buf = b""
        while True:
            chunk = fh.read(1 << 16)
            if not chunk:
                break
            buf += chunk
            start = buf.find(b"<sheetData")
            if start < 0:
                continue
            for m in _ROW_RE.finditer(buf, start):
                body = m.group(2)
                if re.search(rb"<(?:\w+:)?(v|t)\b[^>]*>[^<]", body):
                    return int(m.group(1))
            # keep the tail in case a cell is cut in the middle
            cut = buf.rfind(b"<c ", start)
            buf = buf[:start] + buf[cut:] if cut > start else buf
            if len(buf) > 1 << 24:  # 16 MB of empty styled cells: give up, assume A1 start
                return 1
    return 1


def sheet_part(path: Path, sheet_name: str) -> str | None:
    """Zip part name of a worksheet, e.g. 'xl/worksheets/sheet2.xml'."""
    from defusedxml import ElementTree as ET

    ns_main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    ns_r = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    with zipfile.ZipFile(path) as zf:
        wb = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    rid = None
    for s in wb.iter(f"{ns_main}sheet"):
        if s.get("name") == sheet_name:
            rid = s.get(f"{ns_r}id")
    if rid is None:
        return None
    for rel in rels:
        if rel.get("Id") == rid:
            target = rel.get("Target")
            if target.startswith("/"):
                return target.lstrip("/")
            return "xl/" + target
    return None
