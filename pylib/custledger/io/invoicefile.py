"""Reading the e-invoice platform's invoice export (全量发票查询导出) into rows of text.

Accepted (DESIGN.md "Getting data in"): the platform's xlsx export — the sheet 信息汇总表 (one
row per invoice), else the first sheet whose header names the columns (the 明细 sheets of the
same export repeat an invoice on every item line, so 信息汇总表 wins when present) — the same
columns in a .csv / .txt (UTF-8 with or without BOM, UTF-16 with BOM, GBK/GB18030), and the
older 增值税发票 exports (发票代码 + 发票号码, often .xls). Title rows above the header are
normal: the header is the row among the first 30 that names the most known columns; it must
name an invoice number (数电票号码 or 发票号码), 开票日期 and 价税合计. Header aliases: see
``ALIASES`` (compared after NFKC, case folding and dropping spaces and punctuation; a unit in
brackets at the end is ignored: 价税合计(元)).

The rows come back as text (nothing is evaluated; a number read as 1001.0 is "1001"); parsing
and the mapping rules are the core's (core/invoice_import.py). Anything that makes the file
unusable — missing, empty, damaged, not text in a known encoding, no recognisable header, more
rows than the limit — raises LedgerError (exit 2, one line naming the file); nothing is read in
part.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import LedgerError
from ..core.invoice_import import FIELDS
from ..core.parse import HEADER_SCAN_ROWS, find_header, header_key
from .bankfile import decode_text, text_rows

DEFAULT_MAX_ROWS = 1_000_000
DEFAULT_MAX_BYTES = 300 * 1024 * 1024
SUMMARY_SHEETS = ("信息汇总表", "发票汇总表", "发票信息汇总表")

ALIASES: dict[str, tuple[str, ...]] = {
    "einvoice_no": ("数电票号码", "数电发票号码", "全电发票号码", "全电票号码", "数电票号", "电子发票号码"),
    "invoice_code": ("发票代码",),
    "invoice_no": ("发票号码", "发票号"),
    "date": ("开票日期", "开票时间", "开具日期"),
    "buyer_tax_id": ("购买方纳税人识别号", "购方识别号", "购方税号", "购买方识别号", "购方纳税人识别号",
                     "购买方税号", "购买方统一社会信用代码/纳税人识别号", "购买方统一社会信用代码",
                     "购方统一社会信用代码"),
    "buyer_name": ("购买方名称", "购方名称", "购方企业名称", "购买方单位名称", "购货方名称"),
    "net": ("金额", "不含税金额", "合计金额"),
    "tax": ("税额", "合计税额"),
    "total": ("价税合计", "价税合计金额", "含税金额", "价税合计(小写)"),
    "status": ("发票状态", "状态"),
    "positive": ("是否正数发票", "是否正数", "正数发票"),
    "remark": ("备注",),
}
_INDEX = {header_key(a): f for f, names in ALIASES.items() for a in names}


@dataclass(frozen=True)
class InvoiceFile:
    """What an export gave: ``rows`` has one text column per field of core.invoice_import.FIELDS
    ("" when the export lacks it) and ``_row`` (1-based row in the sheet or file); ``labels``
    maps each field found to its header text as written (for messages)."""

    name: str              # file name, for messages
    sheet: str             # sheet name ("" for a text file)
    rows: pd.DataFrame
    labels: dict


def _rank(fields: dict) -> tuple[int] | None:
    """A header names an invoice number, 开票日期 and 价税合计; the row naming the most wins."""
    usable = ("einvoice_no" in fields or "invoice_no" in fields) and "date" in fields and "total" in fields
    return (len(fields),) if usable else None


def _header(frame: pd.DataFrame) -> tuple[int, dict[str, int]] | None:
    """(position of the header row, field -> column position) with the most fields, or None:
    core.parse.find_header's scan."""
    found = find_header(frame.iloc[:HEADER_SCAN_ROWS].to_numpy(dtype=object), _INDEX, _rank)
    return None if found is None else (found.index, found.fields)


NUMBER_FIELDS = ("einvoice_no", "invoice_code", "invoice_no", "buyer_tax_id")


def _as_text(col: pd.Series, number: bool) -> pd.Series:
    """Text of a column, "" for blanks; in a number column a whole number read as 1001.0 is
    "1001" (other columns are parsed by the core, which reads 1130.0 as money anyway)."""
    s = col.astype("str").fillna("").str.strip()  # Arrow-backed text: whole-column kernels
    return s.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True) if number else s


def _rows(name: str, sheet: str, frame: pd.DataFrame, row0: int, max_rows: int) -> InvoiceFile | None:
    found = _header(frame)
    if found is None:
        return None
    at, mapping = found
    body = frame.iloc[at + 1:]
    if len(body) > max_rows:
        raise LedgerError("invoice_file_too_large", path=name, rows=f"{len(body):,}", limit=f"{max_rows:,}")
    out = pd.DataFrame(index=range(len(body)))
    for f in FIELDS:
        out[f] = _as_text(body.iloc[:, mapping[f]], f in NUMBER_FIELDS).array if f in mapping else ""
    out["_row"] = np.arange(len(body), dtype="int64") + row0 + at + 1
    labels = {f: str(frame.iat[at, j]).strip() for f, j in mapping.items()}
    return InvoiceFile(name=name, sheet=sheet, rows=out, labels=labels)


def _workbook(path: Path, max_rows: int) -> InvoiceFile:
    import fastexcel

    from .reader import check_package, check_sheet_extent, first_value_row

    name = path.name
    with path.open("rb") as fh:
        zipped = fh.read(4) == b"PK\x03\x04"
    if zipped:
        try:  # zip bomb, DTD: refused before calamine opens the package
            check_package(path)
        except LedgerError as exc:
            raise LedgerError("invoice_file_unreadable", path=name, detail=exc) from exc
        except Exception:  # noqa: BLE001 - damaged: calamine's own message follows
            pass
    try:
        reader = fastexcel.read_excel(str(path))
        names = list(reader.sheet_names)
    except Exception as exc:  # calamine raises several types for damaged or encrypted files
        # calamine's text is English: the reason from messages.json, its error kept in the chain
        raise LedgerError("invoice_file_unreadable", path=name, detail=LedgerError("bank_cause_damaged")) from exc
    order = [n for n in names if n.strip() in SUMMARY_SHEETS] + [n for n in names if n.strip() not in SUMMARY_SHEETS]
    for sheet in order:
        if zipped:
            try:  # an absurd sheet box would make calamine allocate it densely: only the sheets read
                check_sheet_extent(path, sheet)
            except LedgerError as exc:
                raise LedgerError("invoice_file_unreadable", path=name, detail=exc) from exc
            except Exception:  # noqa: BLE001 - damaged part: calamine's own message follows
                pass
        try:
            loaded = reader.load_sheet(sheet, header_row=None, dtypes="string")
            frame = loaded.to_pandas()
        except Exception as exc:
            raise LedgerError("invoice_file_unreadable", path=name, detail=LedgerError("bank_cause_damaged")) from exc
        frame.columns = range(frame.shape[1])
        row0 = 1
        if zipped and len(frame):  # fastexcel drops leading empty rows: count from the first kept
            try:
                row0 = first_value_row(path, sheet)
            except Exception:  # noqa: BLE001 - only the row numbers in messages depend on it
                row0 = 1
        got = _rows(name, sheet, frame, row0, max_rows)
        if got is not None:
            return got
    raise LedgerError("invoice_file_no_header", path=name, rows=HEADER_SCAN_ROWS)


def read_invoice_file(path, *, max_rows: int = DEFAULT_MAX_ROWS, max_bytes: int = DEFAULT_MAX_BYTES) -> InvoiceFile:
    """Read an invoice export (rules in the module docstring); raises LedgerError when unusable."""
    path = Path(path)
    name = path.name
    if not path.exists():
        raise LedgerError("file_missing", path=str(path))
    if path.is_dir():
        raise LedgerError("file_is_dir", path=str(path))
    size = path.stat().st_size
    if size == 0:
        raise LedgerError("invoice_file_no_header", path=name, rows=HEADER_SCAN_ROWS)
    if size > max_bytes:
        raise LedgerError("invoice_file_too_large", path=name, rows=f"{size:,} bytes", limit=f"{max_bytes:,}")
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        try:
            return _workbook(path, max_rows)
        except zipfile.BadZipFile as exc:
            raise LedgerError("invoice_file_unreadable", path=name, detail=LedgerError("bank_cause_damaged")) from exc
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        raise LedgerError("invoice_file_unreadable", path=name, detail=LedgerError("bank_cause_damaged"))
    text = decode_text(path.read_bytes())
    if text is None:
        raise LedgerError("invoice_file_unreadable", path=name, detail=LedgerError("cause_not_text"))
    try:
        rows = text_rows(text)
    except Exception as exc:  # csv.Error: a field over the limit, a stray quote (its text is English)
        raise LedgerError("invoice_file_unreadable", path=name, detail=LedgerError("bank_cause_csv")) from exc
    width = max((len(r) for r in rows), default=0)
    frame = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=object)
    got = _rows(name, "", frame, 1, max_rows)
    if got is None:
        raise LedgerError("invoice_file_no_header", path=name, rows=HEADER_SCAN_ROWS)
    return got
