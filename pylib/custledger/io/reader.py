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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..core.errors import LedgerError, file_cause
from ..core.parse import col_letter
from .xlsxpatch_sheets import TailWatch, forget_tails, remember_tail

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
    check_package(path)


def _is_encrypted_ooxml(path: Path) -> bool:
    try:
        import msoffcrypto

        with path.open("rb") as fh:
            return bool(msoffcrypto.OfficeFile(fh).is_encrypted())
    except Exception:  # not an OLE file msoffcrypto understands: treat as legacy .xls
        return False


def read_book(path: Path, want: Callable[[str], bool] = lambda name: True, checked: bool = False) -> RawBook:
    """Read the sheets whose name satisfies ``want`` (others only listed). ``checked``: the
    caller has just run check_ledger_file on this very file (io/filebook.FileBook does)."""
    import fastexcel

    forget_tails()   # what an earlier read noted of its sheets (the save's tails): only this book's
    if not checked:
        check_ledger_file(path)
    try:
        reader = fastexcel.read_excel(str(path))
        names = tuple(reader.sheet_names)
    except Exception as exc:  # calamine refuses a damaged package
        raise LedgerError("file_corrupt_detail", path=str(path), detail=_damage(exc, "cause_damaged_package")) from exc
    sheets = {}
    parts = None
    for name in names:
        if not want(name):
            continue
        if parts is None:
            try:
                parts = sheet_parts(path)
            except Exception as exc:  # damaged workbook.xml or rels: unmeasured = unread
                raise LedgerError("sheet_unreadable", sheet=name, detail=_damage(exc, "cause_damaged_sheet")) from exc
        part = parts.get(name)
        if name in parts and part is None:
            raise LedgerError("sheet_unreadable", sheet=name, detail=LedgerError("cause_sheet_no_target"))
        if part is not None:
            check_sheet_extent(path, name, part=part)  # before calamine allocates the sheet's whole box
        try:
            sheet = reader.load_sheet(name, header_row=None, dtypes="string")
            batch = sheet.to_arrow()
            frame = batch.to_pandas()   # = sheet.to_pandas(); the batch is looked at before it (serial 60)
            cols = sheet.available_columns()
        except Exception as exc:
            raise LedgerError("sheet_unreadable", sheet=name, detail=_damage(exc, "cause_damaged_sheet")) from exc
        col0 = cols[0].absolute_index if cols else 0
        frame.columns = range(frame.shape[1])
        try:
            row0 = first_value_row(path, name, part=part) if len(frame) and part is not None else 1
        except Exception as exc:  # a part zipfile finds damaged (CRC, header) where calamine did not
            raise LedgerError("sheet_unreadable", sheet=name, detail=_damage(exc, "cause_damaged_sheet")) from exc
        if _has_serial_59_text(batch):
            _mark_serial_60(path, name, frame, row0, col0, part=part)
        sheets[name] = RawSheet(name=name, frame=frame, row0=row0, col0=col0)
    return RawBook(path=path, sheet_names=names, sheets=sheets)


_ROW_RE = re.compile(rb'<(?:\w+:)?c\b[^>]*\br="[A-Z]+(\d+)"[^>]*?(?<!/)>(.*?)</(?:\w+:)?c>', re.S)


def first_value_row(path: Path, sheet_name: str, part: str | None = None) -> int:
    """1-based row of the first cell holding a value (what calamine starts its range at)."""
    part = part or sheet_part(path, sheet_name)
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


# Excel serial 60 is 1900-02-29, a day that never was (Lotus 1-2-3's leap-year bug, kept by
# Excel). calamine turns a date-formatted 60 into 1900-02-28, the same text as serial 59, so
# such a cell is found in the sheet XML and handed on as "1900-02-29": parse_date finds no such
# day and the cell becomes a "not a date" problem instead of a silently wrong date.
_SERIAL_59_TEXT = "1900-02-28 00:00:00"
_SERIAL_60_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*>\s*<(?:\w+:)?v>\s*60(?:\.0*)?\s*</', re.S)


def _has_serial_59_text(batch) -> bool:
    """Does any text column of the Arrow batch hold 1900-02-28 as calamine writes it? (One
    compute kernel per column: comparing the whole pandas frame cost ~1 ms a sheet.)"""
    import pyarrow as pa
    import pyarrow.compute as pc

    return batch.num_rows > 0 and any(
        (pa.types.is_string(c.type) or pa.types.is_large_string(c.type)) and bool(pc.any(pc.equal(c, _SERIAL_59_TEXT)).as_py())
        for c in batch.columns)


def _mark_serial_60(path: Path, name: str, frame, row0: int, col0: int, part: str | None = None) -> None:
    """Where calamine read a date-formatted serial 60 as 1900-02-28, put "1900-02-29" (in place).
    Called only for a sheet that holds that text (_has_serial_59_text: the usual sheet has none)."""
    part = part or sheet_part(path, name)
    if part is None:
        return
    with zipfile.ZipFile(path) as zf:
        for chunk in _chunks(zf, part):
            for m in _SERIAL_60_CELL.finditer(chunk):
                col = sum((c - 64) * 26 ** k for k, c in enumerate(reversed(m.group(1)))) - 1
                i, j = int(m.group(2)) - row0, col - col0
                if 0 <= i < frame.shape[0] and 0 <= j < frame.shape[1] and frame.iat[i, j] == _SERIAL_59_TEXT:
                    frame.iat[i, j] = "1900-02-29"


def sheet_part(path: Path, sheet_name: str) -> str | None:
    """Zip part name of a worksheet, e.g. 'xl/worksheets/sheet2.xml'."""
    parts = sheet_parts(path)
    if sheet_name in parts and parts[sheet_name] is None:
        raise ValueError(f"sheet {sheet_name!r}: its relationship has no target")
    return parts.get(sheet_name)


def sheet_parts(path: Path) -> dict:
    """Sheet name -> zip part name, for every sheet whose relationship has a target (read once
    for a whole book rather than once per sheet)."""
    from defusedxml import ElementTree as ET

    ns_main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    ns_r = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    with zipfile.ZipFile(path) as zf:
        wb = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets: dict = {}
    for rel in rels:
        targets.setdefault(rel.get("Id"), rel.get("Target"))
    rids = {s.get("name"): s.get(f"{ns_r}id") for s in wb.iter(f"{ns_main}sheet")}  # a repeated name: the last
    out = {}
    for name, rid in rids.items():
        if rid is None or rid not in targets:
            continue
        target = targets[rid]   # None: a relationship without a target (damaged; the sheet is unreadable)
        out[name] = None if target is None else target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


# ---- untrusted packages (issue 8) --------------------------------------------------------
# calamine (behind fastexcel and python-calamine) is fast but trusts the file: it reads every
# shared string at open, expands nothing but refuses DTD entities with an obscure message, and
# allocates a dense (rows x columns) grid of 32-byte cells spanning the sheet's used box — one
# stray value at XFD1048576 asks for 550 GB and aborts the process (no exception to catch).
# So before calamine sees a workbook: the zip is checked against the zip-bomb limits the writer
# uses (io/xlsxpatch_zip.ZipLimits), every XML part's prolog is refused if it declares a DTD
# (OPC forbids DTDs; Office never writes one), and each sheet's used box is measured first.

MAX_SHEET_CELLS = 50_000_000   # box of one sheet (rows x columns); ~1.6 GB of calamine cells
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_PROLOG_LIMIT = 1 << 20        # a root element not reached after 1 MB of prolog: refused


def check_package(path: Path) -> None:
    """Refuse (LedgerError file_unsafe) a zip bomb, unsafe part names or XML with a DTD."""
    from .xlsxpatch_errors import UnsafePackageError, XlsxPatchError
    from .xlsxpatch_zip import ZipLimits, open_source

    try:
        zf = open_source(path, ZipLimits())
    except UnsafePackageError as exc:
        raise LedgerError("file_unsafe", path=str(path), detail=exc.reason()) from exc
    except (XlsxPatchError, OSError, zipfile.BadZipFile):
        raise LedgerError("file_corrupt", path=str(path)) from None
    with zf:
        xml_parts = _xml_parts(zf)
        for info in zf.infolist():
            if info.filename in xml_parts and _declares_dtd(zf, info.filename):
                raise LedgerError("file_unsafe", path=str(path), detail=LedgerError("part_has_dtd", part=info.filename))


def _xml_parts(zf: zipfile.ZipFile) -> set:
    """The parts that hold XML, whatever their name: an XML suffix, or an XML content type in
    [Content_Types].xml (a sheet part may be called ``sheet2.dat``: calamine follows the rels and
    reads it as XML all the same). Parts declared as something else (images, vbaProject.bin) are
    never parsed as XML and are not checked."""
    names = zf.namelist()
    out = {n for n in names if n.lower().endswith(_XML_SUFFIXES)}
    defaults, overrides = {}, {}
    try:
        raw = zf.read("[Content_Types].xml")[:_PROLOG_LIMIT]
        for m in re.finditer(rb'<(?:\w+:)?(Default|Override)\b([^>]*)>', raw):
            attrs = dict(re.findall(rb'(\w+)\s*=\s*["\']([^"\']*)["\']', m.group(2)))
            ctype = attrs.get(b"ContentType", b"").lower()
            if m.group(1) == b"Default" and b"Extension" in attrs:
                defaults[attrs[b"Extension"].decode("latin-1").lower()] = ctype
            elif m.group(1) == b"Override" and b"PartName" in attrs:
                overrides[attrs[b"PartName"].decode("utf-8", "replace").lstrip("/").lower()] = ctype
    except Exception:  # noqa: BLE001 - absent or damaged (bad CRC, zlib): the suffixes still count
        pass
    for n in names:
        ext = n.rsplit(".", 1)[-1].lower() if "." in n.rsplit("/", 1)[-1] else ""
        ctype = overrides.get(n.lower(), defaults.get(ext, b""))
        if b"xml" in ctype:
            out.add(n)
    return out


_DOCTYPE = re.compile(rb"<!\s*doctype", re.I)
_FIRST_TAG = re.compile(rb"<[A-Za-z_:]")
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_PI = re.compile(rb"<\?.*?\?>", re.S)


def _declares_dtd(zf: zipfile.ZipFile, name: str) -> bool:
    """True if the part has a <!DOCTYPE> before its root element (or a prolog over 1 MB).

    Read as bytes, not with a parser: a prolog that a strict parser rejects (a bogus encoding,
    text before the declaration) is still read leniently by calamine, so a DTD behind it must be
    found too. UTF-16/32 parts are decoded first (BOM or zero bytes around the first '<')."""
    try:
        with zf.open(name) as fh:
            head = fh.read(_FIRST_READ)
            if len(head) == _FIRST_READ:
                # a prolog settled within the first bytes needs no more (a sheet part is megabytes);
                # else read on to the limit
                early = _prolog_verdict(head, partial=True)
                if early is not None:
                    return early
                head += fh.read(_PROLOG_LIMIT + 1 - len(head))
    except Exception:  # noqa: BLE001 - a damaged part: calamine and the writer say so in their words
        return False
    return bool(_prolog_verdict(head, partial=False))


_FIRST_READ = 1 << 12


def _prolog_verdict(head: bytes, partial: bool) -> bool | None:
    """Does ``head`` (a part's first bytes) declare a DTD before its root element? With
    ``partial`` (more bytes follow), None when these bytes cannot tell: no root element yet, or a
    comment or processing instruction still open before it (what looks like the root may be
    inside it)."""
    for bom, codec in ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
                       (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            head = head.decode(codec, "ignore").encode("utf-8")
            break
    else:
        if head[:2] in (b"<\x00", b"\x00<"):
            head = head.decode("utf-16-le" if head[0] == 0x3C else "utf-16-be", "ignore").encode("utf-8")
    prolog = _PI.sub(b"", _COMMENT.sub(b"", head))
    root = _FIRST_TAG.search(prolog)
    if partial and (root is None or b"<!--" in prolog[:root.start()] or b"<?" in prolog[:root.start()]):
        return None
    dtd = _DOCTYPE.search(prolog)
    if dtd is not None and (root is None or dtd.start() < root.start()):
        return True
    return root is None and len(head) > _PROLOG_LIMIT


def check_sheet_extent(path: Path, sheet_name: str, limit: int = MAX_SHEET_CELLS, part: str | None = None) -> None:
    """Refuse (LedgerError sheet_too_large) a sheet whose used box exceeds ``limit`` cells.

    A fast vectorized pass reads every ``r="…"`` reference; it is exact for sheets whose rows
    and cells all carry their reference (what Excel, LibreOffice, openpyxl and xlsxwriter
    write). Anything else — a cell or row without ``r``, namespace-prefixed elements, quotes
    the fast pass does not read — or a box over the limit is measured again by a slower pass
    that follows calamine's own rules (implicit positions, only cells holding a value)."""
    try:
        part = part or sheet_part(path, sheet_name)
        if part is None:
            return
        with zipfile.ZipFile(path) as zf:
            # the save of this run needs where sheetData ends: noted on this pass (TailWatch)
            seen = TailWatch(_chunks(zf, part))
            box = _box_fast(zf, part, seen)
            if box is None or _area(box) > limit:
                seen = TailWatch(_chunks(zf, part))
                box = _box_exact(zf, part, seen)
            found = seen.found()
            if found is not None:
                remember_tail(path, zf.getinfo(part), found)
    except Exception as exc:  # damaged (CRC, bad XML in workbook.xml, missing part): unmeasured = unread
        raise LedgerError("sheet_unreadable", sheet=sheet_name, detail=_damage(exc, "cause_damaged_sheet")) from exc
    if box is not None and _area(box) > limit:
        r0, r1, c0, c1 = box
        ref = f"{col_letter(max(c0, 1) - 1)}{r0}:{col_letter(max(c1, 1) - 1)}{r1}"
        raise LedgerError("sheet_too_large", sheet=sheet_name, ref=ref, cells=f"{_area(box):,}", limit=f"{limit:,}")


def _damage(exc: BaseException, code: str) -> LedgerError:
    """Why a part could not be read, worded in the message's language: the system's reason for
    an OSError (core/errors.file_cause), else ``code`` (a damaged package or sheet). What
    calamine or zipfile said (English) stays in the exception chain (CUSTLEDGER_DEBUG=1)."""
    return file_cause(exc) if isinstance(exc, OSError) else LedgerError(code)


def _area(box) -> int:
    r0, r1, c0, c1 = box
    return 0 if r1 < r0 else (r1 - r0 + 1) * (c1 - c0 + 1)


def _chunks(zf: zipfile.ZipFile, part: str, size: int = 1 << 25):
    """The part's bytes in pieces that end just before a '<' (no tag is ever cut)."""
    tail = b""
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(size)
            if not chunk:
                break
            buf = tail + chunk
            cut = buf.rfind(b"<")
            if cut <= 0:
                tail = buf
                continue
            tail = buf[cut:]
            yield buf[:cut]
    if tail:
        yield tail


_WS = (9, 10, 13, 32)
_BIG = 1 << 40  # a reference past what calamine can hold: forces the box over any limit


def _box_fast(zf: zipfile.ZipFile, part: str, chunks: Iterable[bytes] | None = None):
    """(min row, max row, min col, max col), 1-based, of every cell and row reference; None
    when this pass is not sure (then the exact pass decides). It reads references only where
    writers put them, first in the tag: ``<c r="B7"``, ``<row r="7"``; any other form of a
    ``c`` or ``row`` tag sends the sheet to the exact pass."""
    import numpy as np

    lo_r = lo_c = _BIG
    hi_r = hi_c = 0
    for buf in (_chunks(zf, part) if chunks is None else chunks):
        if re.search(rb":(?:c|row)[\s/>]", buf):
            return None  # namespace-prefixed elements
        a = np.frombuffer(buf, dtype=np.uint8)
        pad = np.concatenate([a, np.zeros(24, np.uint8)])
        lt = np.flatnonzero(a == 60)
        after = pad[lt + 1]
        lt = lt[(after == 99) | (after == 114)]   # only <c… and <r… tags are looked at below

        def delim(x):
            return (x == 32) | (x == 62) | (x == 47) | (x == 9) | (x == 10) | (x == 13)

        def at(pos, text: bytes):
            ok = np.ones(len(pos), bool)
            for k, ch in enumerate(text):
                ok &= pad[pos + k] == ch
            return ok

        cells = lt[(pad[lt + 1] == 99) & delim(pad[lt + 2])]
        rows = lt[at(lt + 1, b"row") & delim(pad[lt + 4])]
        if not at(cells + 2, b' r="').all() or not at(rows + 4, b' r="').all():
            return None
        # Only the extreme references are parsed: the longest (and shortest) run of letters
        # or digits holds the maximum (minimum), so per reference only lengths are computed.
        v = cells + 6

        def is_letter(x):
            return (x >= 65) & (x <= 90)

        def extreme(starts, width, base, zero, pick):
            """max (or min) of the fixed-width numbers at ``starts``: digit by digit, keeping
            only the candidates that hold the extreme digit so far (lexicographic = numeric)."""
            value = 0
            for k in range(width):
                ch = pad[starts + k]
                best = int(ch.max() if pick is max else ch.min()) - zero
                if not (1 <= best <= 26 if base == 26 else 0 <= best <= 9):
                    return None
                value = value * base + best
                starts = starts[ch == best + zero]
            return value

        l2 = is_letter(pad[v + 1])
        l3 = l2 & is_letter(pad[v + 2])
        if not is_letter(pad[v]).all() or (l3 & is_letter(pad[v + 3])).any():
            return None
        letters = 1 + l2.astype(np.int64) + l3
        starts = np.concatenate([v + letters, rows + 8])
        # the run of digits after the letters (row: after r="), 1 to 7 of them, then the quote
        digits = np.zeros(len(starts), np.int64)
        run = np.ones(len(starts), bool)
        for k in range(8):
            ch = pad[starts + k]
            run &= (ch >= 48) & (ch <= 57)
            digits += run
        if len(digits) and (((digits < 1) | (digits > 7)).any() or (pad[starts + digits] != 34).any()):
            return None
        for group_of, extent in ((letters, "col"), (digits, "row")):
            if not len(group_of):
                continue
            base, zero, src = (26, 64, v) if extent == "col" else (10, 48, starts)
            top, bottom = int(group_of.max()), int(group_of.min())
            hi = extreme(src[group_of == top], top, base, zero, max)
            lo = extreme(src[group_of == bottom], bottom, base, zero, min)
            if hi is None or lo is None:
                return None
            if extent == "col":
                lo_c, hi_c = min(lo_c, lo), max(hi_c, hi)
            else:
                lo_r, hi_r = min(lo_r, lo), max(hi_r, hi)
    if hi_c == 0:
        return (1, 0, 1, 0)
    return (lo_r, hi_r, lo_c, hi_c)


_TAG_RE = re.compile(rb"<(/?)(?:[A-Za-z_][\w.\-]*:)?(row|c|v|is)(?=[\s/>])([^>]*?)(/?)>")
_R_ATTR_RE = re.compile(rb"""(?:^|\s)r\s*=\s*(["'])\s*([A-Za-z]*)(\d*)\s*\1""")


def _box_exact(zf: zipfile.ZipFile, part: str, chunks: Iterable[bytes] | None = None):
    """The box of the cells holding a value (<v> or <is>), positions as calamine derives them:
    a row or cell without ``r`` follows the previous one."""
    lo_r = lo_c = _BIG
    hi_r = hi_c = 0
    row = col = 0
    cell = None  # (row, col) of the open <c> not yet known to hold a value
    for buf in (_chunks(zf, part) if chunks is None else chunks):
        for m in _TAG_RE.finditer(buf):
            close, name, attrs, empty = m.groups()
            if close:
                if name == b"c":
                    cell = None
                continue
            if name in (b"v", b"is"):
                if cell is not None:
                    r, c = cell
                    lo_r, hi_r, lo_c, hi_c = min(lo_r, r), max(hi_r, r), min(lo_c, c), max(hi_c, c)
                    cell = None
                continue
            ref = _R_ATTR_RE.search(attrs)
            letters, digits = (ref.group(2).upper(), ref.group(3)) if ref else (b"", b"")
            if len(letters) > 3 or len(digits) > 7:
                return (1, _BIG, 1, _BIG)
            if name == b"row":
                row, col = (int(digits) if digits else row + 1), 0
                continue
            if letters:
                col = 0
                for ch in letters:
                    col = col * 26 + ch - 64
                row = int(digits) if digits else row
            else:
                col += 1
            cell = None if empty else (row, col)
    if hi_c == 0:
        return (1, 0, 1, 0)
    return (lo_r, hi_r, lo_c, hi_c)
