"""Write generated sheets (and validation marks) into an existing workbook without rewriting it.

``patch_workbook(src, dst, build, sheet_names, ...)`` lets *build* draw the generated sheets on a
fresh xlsxwriter Workbook, then writes ``dst`` = ``src`` with those sheets transplanted in:

- Every part of ``src`` is copied as its raw compressed bytes except the parts that must change:
  ``[Content_Types].xml``, ``xl/workbook.xml`` and its rels, ``xl/styles.xml``, replaced sheets
  (and their rels), and marked input sheets with their rels, comments and VML. Shapes, charts,
  images, buttons, pivots, ``vbaProject.bin``, the shared strings, ``docProps``: untouched.
- A generated sheet whose name (case-insensitively) is already a worksheet of ``src`` replaces it
  in place (same tab position, sheetId, part name and relationship id); the parts that only the
  old sheet used (tables, comments, VML, drawings, charts, images...) are removed with their
  content-type overrides. Sheet-scoped defined names of a replaced sheet are dropped (the new
  sheet brings its own). New sheets are appended after the existing tabs, so no sheet index —
  and no ``localSheetId`` — of ``src`` ever shifts.
- ``xl/calcChain.xml`` is removed whenever a sheet is replaced (it may list formula cells that
  no longer exist; Excel rebuilds it). When generated sheets hold formulas, ``calcPr`` gets
  ``fullCalcOnLoad="1"`` so their values are computed on opening.
- Generated strings become inline strings; generated styles are merged into ``src``'s
  stylesheet (see xlsxpatch_styles); tables get fresh workbook-wide ids, and a generated table
  name already used by a table or defined name elsewhere raises :class:`TableNameError`.
- Marks (see xlsxpatch_marks) highlight people's cells with a tagged conditional format and a
  comment; every sheet listed in ``clear_marks_on`` or carrying a new mark first loses all the
  marks of earlier runs. Only the tail of such a sheet after ``</sheetData>`` is edited.
- Appends (:class:`RowAppend`, see xlsxpatch_append) add rows below the data of an input sheet
  (bank imports): the only change ever made to a person's rows. The sheet is streamed twice
  and only spliced where the rows go (plus its ``<dimension>``); tables that held the old last
  row grow to cover the new rows. Appends and marks on the same sheet combine (the rows go at
  the end of sheetData, the marks in the tail).
- xlsxwriter is created with ``strings_to_formulas``, ``strings_to_urls`` and
  ``strings_to_numbers`` off: text that starts with = + - @ stays text.
- docProps/app.xml (the informative list of sheet titles) is left as it is.

Safety: the source is opened through the zip-bomb guard (:class:`ZipLimits`), XML is parsed
with defusedxml, relationship targets that leave the package are never followed, and nothing
outside ``xl/`` is ever removed. ``dst`` is written directly (the caller renames it into place);
on failure it is deleted.
"""
from __future__ import annotations

import io
import posixpath
import re
import shutil
import tempfile
import time
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xlsxwriter

from custledger.contract import CellMark, RowAppend  # noqa: F401  (the contract types, re-exported)
from custledger.io.xlsxpatch_errors import TableNameError, UnsafePackageError, XlsxPatchError
from custledger.io.xlsxpatch_marks import SEVERITIES, CellNote, combine, mark_dxf, plan_sheet
from custledger.io.xlsxpatch_opc import (
    CT_COMMENTS,
    CT_VML,
    CT_WORKSHEET,
    MAIN_NS,
    R_NS,
    RT_CALC_CHAIN,
    RT_OFFICE_DOC,
    RT_WORKSHEET,
    Chunk,
    ContentTypes,
    Rel,
    check_well_formed,
    decode_xml,
    esc_attr,
    esc_text,
    fresh_rel_id,
    get_attr,
    insert_in_order,
    ns_prefix_for,
    parse_rels,
    parse_xml,
    relative_target,
    rels_name,
    rels_source,
    resolve_target,
    root_start,
    serialize_rels,
    set_attr,
    split_children,
    tag_prefix,
)
from custledger.io.xlsxpatch_sheets import (
    GeneratedSheetRewriter,
    find_tail,
    known_tail,
    renumber_vml,
    root_tag,
    shared_strings,
    splice,
    vml_blocks,
)
from custledger.io.xlsxpatch_styles import cell_formats, merge_styles
from custledger.io.xlsxpatch_zip import CHUNK, RawZipWriter, ZipLimits, iter_chunks, open_source, same_raw

if TYPE_CHECKING:   # xlsxpatch_append itself is imported by the runs that append rows (its import is ~4 ms)
    from custledger.io.xlsxpatch_append import Block, SheetScan, TableInfo

__all__ = ["CellMark", "PatchReport", "RowAppend", "TableNameError", "UnsafePackageError",
           "XlsxPatchError", "ZipLimits", "patch_workbook"]

CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
RT_TABLE = R_NS + "/table"
MAX_ROWS = 1_048_576
WORKBOOK_ORDER = [
    "fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews", "sheets",
    "functionGroups", "externalReferences", "definedNames", "calcPr", "oleSize",
    "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes", "webPublishing",
    "fileRecoveryPr", "webPublishObjects", "extLst",
]
XLSXWRITER_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
PROTECT_OPTIONS = {"select_locked_cells": True, "select_unlocked_cells": True, "sort": True,
                   "autofilter": True, "format_columns": True}


@dataclass(frozen=True)
class PatchReport:
    """What patch_workbook did: sheets replaced and added, marks written and cleared, parts
    copied, rewritten and removed, bytes and seconds."""

    sheets_replaced: tuple[str, ...]
    sheets_added: tuple[str, ...]
    marks_written: int          # marked cells (several marks on one cell count once)
    marks_cleared: int          # cells that carried a mark of an earlier run
    marks_without_comment: int  # marked cells that kept a person's comment (highlight only)
    parts_copied: int           # parts copied raw, byte for byte
    parts_rewritten: tuple[str, ...]
    parts_removed: tuple[str, ...]
    bytes_written: int
    seconds: float
    rows_appended: int = 0      # rows added below input sheets (RowAppend)
    protected_appends: tuple[str, ...] = ()   # protected sheets (sheetProtection) rows were added to
    read_back: bool = False     # verified: every entry of dst read to its end, its CRC checked


# The records below are plain classes (compared by identity): a dataclass costs ~0.3 ms of
# every run's start, and these are never compared or printed.
class _Sheet:
    __slots__ = ("name", "sheet_id", "rid", "part", "state")

    def __init__(self, name: str, sheet_id: int, rid: str, part: str | None, state: str | None) -> None:
        self.name, self.sheet_id, self.rid, self.part, self.state = name, sheet_id, rid, part, state


class _GenSheet:
    __slots__ = ("name", "part", "dst_part", "replaces", "state")

    def __init__(self, name: str, part: str, dst_part: str, replaces: _Sheet | None, state: str | None) -> None:
        self.name = name
        self.part = part              # part in the generated package
        self.dst_part = dst_part      # part in the result
        self.replaces = replaces
        self.state = state


class _AppendPlan:
    """One input sheet's appended rows, between the scan and the writing."""

    __slots__ = ("sheet", "scan", "first_r", "block", "tables")

    def __init__(self, sheet: _Sheet, scan: SheetScan, first_r: int, block: Block, tables: list[TableInfo]) -> None:
        self.sheet = sheet
        self.scan = scan
        self.first_r = first_r        # number of the first new row
        self.block = block            # the rows, column-wise, styles resolved (derived: asked)
        self.tables = tables          # tables to grow to the new last row


class _Names:
    """Part names in use in the result; hands out fresh numbered ones."""

    __slots__ = ("used",)

    def __init__(self, used: set[str] | None = None) -> None:
        self.used = set() if used is None else used

    def fresh(self, like: str) -> str:
        d, b = posixpath.split(like)
        m = re.fullmatch(r"(.*?)(\d*)(\.[^.]*)?", b)
        assert m is not None
        stem, ext = m.group(1), m.group(3) or ""
        n = 1
        while (cand := posixpath.join(d, f"{stem}{n}{ext}")).lower() in self.used:
            n += 1
        self.used.add(cand.lower())
        return cand


def patch_workbook(
    src: Path,
    dst: Path,
    build: Callable[[xlsxwriter.Workbook], None],
    sheet_names: Sequence[str],
    marks: Sequence[CellMark] | None = None,
    clear_marks_on: Sequence[str] = (),
    protect: bool = False,
    *,
    constant_memory: bool = False,
    limits: ZipLimits = ZipLimits(),
    compresslevel: int = 3,
    tmp_dir: Path | None = None,
    verify: bool = True,
    appends: Sequence[RowAppend] = (),
    bodies: dict | None = None,
) -> PatchReport:
    """Write *src* plus the sheets *build* draws (named *sheet_names*, in order) and *marks* to *dst*.

    *build* is not called when *sheet_names* is empty (marks only). *constant_memory* is passed
    to xlsxwriter: use it for big sheets (rows must then be written in order; comments and
    merges only on the current row). *protect* protects the generated sheets without a password
    (selecting, sorting, filtering and formatting columns allowed). Sheets in *clear_marks_on*
    that do not exist in *src* are ignored; a mark on a missing sheet or on a generated sheet
    raises :class:`XlsxPatchError`. *appends* add rows below input sheets (see
    xlsxpatch_append; several on one sheet follow each other in order); an append to a sheet
    that is missing, not a worksheet, or generated in this call raises. *compresslevel*
    (zlib 1-9) applies to rewritten parts only: 3 is ~3x faster than 6 for ~10% more bytes. *verify* re-reads what was written: every
    entry's local header and CRC (``PatchReport.read_back``), and a streaming, namespace-aware well-formedness check of
    every rewritten XML part (generated sheets in full; for a marked or appended input sheet,
    its root tag with the new rows and the new tail, since the rest is the source's own bytes);
    a failure raises and deletes *dst*. *bodies* {sheet name: io/columnar.ColumnarBody}, filled
    by *build*: the data rows of those sheets, inserted while they are transplanted.
    """
    t0 = time.perf_counter()
    src, dst = Path(src), Path(dst)
    if src.resolve() == dst.resolve():
        raise ValueError("dst must differ from src (write to a temp file, then rename)")
    if len({n.lower() for n in sheet_names}) != len(sheet_names):
        raise ValueError(f"duplicate generated sheet names: {list(sheet_names)}")
    # The generated workbook is built in memory (no temp files: creating and removing xlsxwriter's
    # ~20 part files cost more than drawing a small sheet); constant_memory streams rows through
    # temp files in a work folder beside dst instead.
    work = Path(tempfile.mkdtemp(prefix="xlsxpatch-", dir=tmp_dir or dst.parent)) if sheet_names and constant_memory else None
    try:
        gen: Path | io.BytesIO = work / "generated.xlsx" if work is not None else io.BytesIO()
        parts = _build_generated(gen, work, build, sheet_names, protect, constant_memory) if sheet_names else None
        with open_source(src, limits) as zsrc:
            zgen: zipfile.ZipFile | _MemoryPackage | None = None
            if sheet_names:
                zgen = _MemoryPackage(parts) if parts is not None else zipfile.ZipFile(gen)
            try:
                patcher = _Patcher(zsrc, zgen, list(sheet_names), list(marks or ()),
                                   list(clear_marks_on), list(appends), bodies)
                report = patcher.run(dst, compresslevel)
                if verify:
                    _verify(dst, report["parts_rewritten"], patcher.checked, zsrc, patcher.crc_read)
                    report["read_back"] = True
            finally:
                if zgen is not None:
                    zgen.close()
    except BaseException:
        dst.unlink(missing_ok=True)
        raise
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    return PatchReport(**{**report, "seconds": time.perf_counter() - t0})


def _verify(dst: Path, rewritten: Sequence[str], checked: set[str], zsrc: zipfile.ZipFile,
            crc_read: Iterable[str] = ()) -> None:
    """Re-read *dst*: entry headers, every entry's CRC (the parts copied raw too: what
    zipfile.testzip checks, so the caller need not read the package again) and well-formed XML
    of the rewritten parts. A part copied raw from a source part this write has already read to
    its end (``crc_read``: its CRC checked then) is not inflated again: its bytes are compared
    with the source's instead."""
    # the XML parts parsed below are read in full there (CRC checked at their end): once is enough
    parsed = {n for n in rewritten if n not in checked and n.lower().endswith((".xml", ".rels"))}
    copied = set(crc_read) - set(rewritten)
    with zipfile.ZipFile(dst) as z:
        for info in z.infolist():
            with z.open(info) as fh:  # checks the local header against the directory
                if info.filename in parsed:
                    fh.read(1)
                    continue
                if info.filename in copied and same_raw(z, info, zsrc, zsrc.getinfo(info.filename)):
                    fh.read(1)
                    continue
                while fh.read(CHUNK):  # CRC is checked at the end
                    pass
        src_names = {n.lower(): n for n in zsrc.namelist()}
        for name in rewritten:
            if name in checked or not name.lower().endswith((".xml", ".rels", ".vml")):
                continue
            if name.lower().endswith(".vml") and name.lower() in src_names:
                # Excel's VML is not always well-formed; judge ours only if theirs was
                try:
                    check_well_formed([zsrc.read(src_names[name.lower()])], name)
                except XlsxPatchError:
                    continue
            check_well_formed(iter_chunks(z, name), f"internal error: written part {name}")


class _MemoryPackage:
    """The generated package's parts, as xlsxwriter made them (name -> bytes), read like the
    ZipFile they would otherwise have been deflated into and inflated from again."""

    def __init__(self, parts: dict[str, bytes]) -> None:
        self.parts = parts

    def read(self, name: str) -> bytes:
        return self.parts[name]

    def namelist(self) -> list[str]:
        return list(self.parts)

    def open(self, name: str) -> io.BytesIO:
        return io.BytesIO(self.parts[name])

    def close(self) -> None:
        pass


class _PartsWorkbook(xlsxwriter.Workbook):
    """An in-memory xlsxwriter Workbook that keeps its parts instead of zipping them: the
    patcher reads them at once (xlsxwriter's deflate at level 6 and the inflate that followed
    were pure overhead). Uses xlsxwriter's packager hook (Workbook._get_packager, "allows the
    default packager to be over-ridden"); ``parts`` stays None where that hook is not as
    expected, and the package is then read from the zip as before."""

    parts: dict[str, bytes] | None = None

    def _get_packager(self):  # type: ignore[no-untyped-def]
        packager = super()._get_packager()
        create = getattr(packager, "_create_package", None)
        if create is None or not self.in_memory:
            return packager

        def keep():  # type: ignore[no-untyped-def]
            files = create()
            parts: dict[str, bytes] = {}
            for data, name, is_binary in files:
                value = data.getvalue()
                parts[name] = value if is_binary or isinstance(value, bytes) else value.encode("utf-8")
            self.parts = parts
            return []   # nothing to zip

        packager._create_package = keep
        return packager


def _build_generated(out: Path | io.BytesIO, work: Path | None, build: Callable[[xlsxwriter.Workbook], None],
                     sheet_names: Sequence[str], protect: bool, constant_memory: bool) -> dict[str, bytes] | None:
    """Draw the generated sheets: into a file ``out`` in ``work`` (constant_memory; None
    returned), else in memory: its parts returned (see _PartsWorkbook)."""
    where = {"tmpdir": str(work)} if work is not None else {"in_memory": True}
    cls = _PartsWorkbook if work is None else xlsxwriter.Workbook
    wb = cls(out if isinstance(out, io.BytesIO) else str(out),
             {**XLSXWRITER_OPTIONS, "constant_memory": constant_memory, **where})
    try:
        build(wb)
        sheets = wb.worksheets()
        names = [ws.get_name() for ws in sheets]
        if names != list(sheet_names):
            raise XlsxPatchError(f"build() made sheets {names}, expected {list(sheet_names)}")
        if any(getattr(ws, "is_chartsheet", False) for ws in sheets):
            raise XlsxPatchError("generated chartsheets are not supported; put charts on a worksheet")
        if protect:
            for ws in sheets:
                ws.protect("", PROTECT_OPTIONS)
    except BaseException:
        wb.fileclosed = True  # nothing to save; keeps xlsxwriter's destructor quiet
        raise
    wb.close()
    return getattr(wb, "parts", None)


class _Patcher:
    def __init__(self, zsrc: zipfile.ZipFile, zgen: zipfile.ZipFile | _MemoryPackage | None, sheet_names: list[str],
                 marks: list[CellMark], clear_on: list[str], appends: list[RowAppend] | None = None,
                 bodies: dict | None = None) -> None:
        self.z = zsrc
        self.bodies = bodies or {}
        self.appends = appends or []
        self.scans: dict[str, SheetScan] = {}       # appended sheet part -> its pass-1 scan
        self.sheet_edits: dict[str, list[tuple[int, int | None, bytes]]] = {}  # input sheet splices
        self.new_tails: dict[str, bytes] = {}
        self.derived: list[tuple[int, str]] = []    # derived cell xfs asked for (base xf, format)
        self.date1904 = False
        self.g = zgen
        self.sheet_names = sheet_names
        self.marks = marks
        self.clear_on = clear_on
        self.entries = {i.filename: i for i in zsrc.infolist()}
        self.lower = {n.lower(): n for n in self.entries}
        self.names = _Names(set(self.lower))
        self.write: dict[str, bytes] = {}     # src part -> new bytes (or new part -> bytes)
        self.streams: dict[str, Callable[[], object]] = {}  # part -> chunk iterator factory
        self.remove: set[str] = set()
        self.new_order: list[str] = []        # parts that do not exist in src, in writing order
        self.raw_from_gen: dict[str, str] = {}  # new part -> generated part copied raw
        self.counts = {"written": 0, "cleared": 0, "without_comment": 0, "appended": 0}
        self.protected_appends: list[str] = []      # protected sheets that got rows (said by the caller)
        self.rewriters: list[GeneratedSheetRewriter] = []
        self.gen_defined: list = []
        self.vml_blocks: set[int] | None = None
        # parts written after all others, when the generated sheets have been streamed
        self.late: dict[str, Callable[[], bytes]] = {}
        self.checked: set[str] = set()  # rewritten parts already checked well-formed
        self.crc_read: set[str] = set()  # source parts read to their end here (zipfile checked their CRC)

    # -- reading -------------------------------------------------------------------------------
    def read(self, part: str) -> bytes:
        name = self.lower.get(part.lower())
        if name is None:
            raise XlsxPatchError(f"missing part {part!r}")
        data = self.z.read(name)
        self.crc_read.add(name)
        return data

    def whole(self, part: str) -> Iterator[bytes]:
        """iter_chunks of a source part; noted in crc_read once read to its end."""
        yield from iter_chunks(self.z, part)
        self.crc_read.add(part)

    def _known_tail(self, part: str) -> tuple[int, bytes] | None:
        """find_tail's answer for a source part as the read of this file noted it (its CRC was
        checked by that read, so the part counts as read: crc_read), or None."""
        try:
            known = known_tail(self.z.filename, self.z.getinfo(part))
        except KeyError:
            return None
        if known is not None:
            self.crc_read.add(part)
        return known

    def has(self, part: str) -> bool:
        return part.lower() in self.lower

    def rels_of(self, part: str) -> list[Rel]:
        rp = rels_name(part)
        return parse_rels(self.read(rp), rp) if self.has(rp) else []

    # -- main ----------------------------------------------------------------------------------
    def run(self, dst: Path, compresslevel: int) -> dict:
        self.ct = ContentTypes(self.read("[Content_Types].xml"))
        root_rels = parse_rels(self.read("_rels/.rels"), "_rels/.rels") if self.has("_rels/.rels") else []
        doc = next((r for r in root_rels if r.type == RT_OFFICE_DOC and not r.external), None)
        wb_part = resolve_target("", doc.target) if doc else None
        if wb_part is None or not wb_part.startswith("xl/") or not self.has(wb_part):
            raise XlsxPatchError("not a SpreadsheetML package (no workbook part under xl/)")
        self.wb_part = self.lower[wb_part.lower()]
        self.wb_rels_part = rels_name(self.wb_part)
        self.wb_rels = self.rels_of(self.wb_part)
        self.sheets = self._read_sheets()

        gen_sheets = self._plan_generated() if self.g is not None else []
        notes = self._collect_notes(gen_sheets)
        appends = self._scan_appends(gen_sheets)
        style_merge = merge_styles(
            self.read(self._styles_part()),
            self.g.read("xl/styles.xml") if self.g is not None else None,
            [mark_dxf(s) for s in SEVERITIES] if notes else [],
            self.derived,
        )
        if style_merge.changed:
            self.write[self._styles_part()] = style_merge.xml
        dxf_ids = dict(zip(SEVERITIES, style_merge.extra_dxf_ids))

        if gen_sheets:
            self._transplant(gen_sheets, style_merge.xf_map, style_merge.dxf_map)
        self._plan_marks(notes, dxf_ids)
        self._plan_appends(appends, style_merge.derived_xf_ids)
        self._stream_input_sheets()
        if gen_sheets:
            self._edit_workbook(gen_sheets)
        if self.ct.changed:
            self.write[self.lower["[content_types].xml"]] = self.ct.serialize()
        return self._emit(dst, compresslevel, gen_sheets)

    def _styles_part(self) -> str:
        rel = next((r for r in self.wb_rels if r.type.endswith("/styles") and not r.external), None)
        part = resolve_target(self.wb_part, rel.target) if rel else None
        if part is None or not self.has(part):
            raise XlsxPatchError("workbook has no styles part")
        return self.lower[part.lower()]

    def _read_sheets(self) -> list[_Sheet]:
        root = parse_xml(self.read(self.wb_part), self.wb_part)
        if root.tag != f"{{{MAIN_NS}}}workbook":
            raise XlsxPatchError(f"{self.wb_part}: not a transitional SpreadsheetML workbook "
                                 "(strict OOXML is not supported; save as .xlsx from Excel)", "unsupported_strict")
        rels = {r.id: r for r in self.wb_rels}
        out = []
        for el in root.iter(f"{{{MAIN_NS}}}sheet"):
            rid = el.get(f"{{{R_NS}}}id", "")
            rel = rels.get(rid)
            part = None
            if rel is not None and rel.type == RT_WORKSHEET and not rel.external:
                p = resolve_target(self.wb_part, rel.target)
                if p is not None and p.startswith("xl/") and self.has(p):
                    part = self.lower[p.lower()]
            out.append(_Sheet(el.get("name", ""), int(el.get("sheetId", "0")), rid, part, el.get("state")))
        pr = root.find(f"{{{MAIN_NS}}}workbookPr")
        self.date1904 = pr is not None and pr.get("date1904", "").lower() in ("1", "true")
        return out

    def sheet_by_name(self, name: str) -> _Sheet | None:
        return next((s for s in self.sheets if s.name.lower() == name.lower()), None)

    # -- generated sheets ------------------------------------------------------------------------
    def _plan_generated(self) -> list[_GenSheet]:
        assert self.g is not None
        groot = parse_xml(self.g.read("xl/workbook.xml"), "generated workbook.xml")
        grels = {r.id: r for r in parse_rels(self.g.read("xl/_rels/workbook.xml.rels"), "generated rels")}
        self.gen_defined = [el for el in groot.iter(f"{{{MAIN_NS}}}definedName")]
        out = []
        for el in groot.iter(f"{{{MAIN_NS}}}sheet"):
            name = el.get("name", "")
            gpart = resolve_target("xl/workbook.xml", grels[el.get(f"{{{R_NS}}}id", "")].target)
            assert gpart is not None
            old = self.sheet_by_name(name)
            if old is not None and old.part is None:
                raise XlsxPatchError(f"sheet {old.name!r} exists and is not a worksheet; cannot replace it",
                                     "unsupported_not_worksheet", sheet=old.name)
            dst_part = old.part if old is not None else self.names.fresh("xl/worksheets/sheet.xml")
            out.append(_GenSheet(name, gpart, dst_part, old, el.get("state") or (old.state if old else None)))  # type: ignore[arg-type]
        return out

    def _graph(self) -> dict[str, list[str]]:
        """Internal relationship edges of src: source part -> target parts that exist."""
        edges: dict[str, list[str]] = {}
        for name in self.entries:
            source = rels_source(name)
            if source is None:
                continue
            targets = []
            for r in parse_rels(self.z.read(name), name):
                if r.external:
                    continue
                t = resolve_target(source, r.target)
                if t is not None and self.has(t):
                    targets.append(self.lower[t.lower()])
            edges[source] = targets
        return edges

    @staticmethod
    def _reach(edges: dict[str, list[str]], starts: list[str], blocked: set[str]) -> set[str]:
        seen: set[str] = set()
        todo = deque(starts)
        while todo:
            p = todo.popleft()
            for t in edges.get(p, ()):
                if t not in seen and t not in blocked:
                    seen.add(t)
                    todo.append(t)
        return seen

    def _transplant(self, gens: list[_GenSheet], xf_map: list[int], dxf_map: list[int]) -> None:
        self._drop_replaced(gens)
        table_names, next_table_id = self._names_in_use(gens)
        self.vml_blocks = set()
        for name in self.entries:
            if name.lower().endswith(".vml") and name not in self.remove:
                self.vml_blocks |= vml_blocks(self.z.read(name))
        self._copy_generated(gens, xf_map, dxf_map, table_names, next_table_id)

    def _drop_replaced(self, gens: list[_GenSheet]) -> None:
        """Drop the parts only replaced sheets used, their rels, and the calc chain."""
        # _Sheet.part is Optional; a replaced sheet's part is used as found (typed loosely)
        replaced: list[Any] = [s.replaces.part for s in gens if s.replaces is not None]
        if replaced:
            edges = self._graph()
            blocked = set(replaced)
            theirs = self._reach(edges, replaced, set())
            kept = self._reach(edges, [""], blocked)
            for part in theirs - kept - blocked:
                if part.startswith("xl/"):
                    self._drop(part)
            for part in replaced:
                rp = rels_name(part)
                if self.has(rp):
                    self._drop(self.lower[rp.lower()], keep_name=True)
            calc = [r for r in self.wb_rels if r.type == RT_CALC_CHAIN]
            for r in calc:
                calc_part = resolve_target(self.wb_part, r.target)
                if calc_part and self.has(calc_part):
                    self._drop(self.lower[calc_part.lower()])
                self.wb_rels.remove(r)

    def _names_in_use(self, gens: list[_GenSheet]) -> tuple[dict[str, str], int]:
        """Table names and defined names that stay (lower-case -> what uses it); next table id."""
        table_names: dict[str, str] = {}
        table_ids: set[int] = set()
        for name in self.entries:
            if name in self.remove or self.ct.get(name) != CT_TABLE:
                continue
            root = parse_xml(self.z.read(name), name)
            table_ids.add(int(root.get("id", "0")))
            for key in ("name", "displayName"):
                if root.get(key):
                    table_names[root.get(key, "").lower()] = f"table {root.get(key)!r} ({name})"
        replaced_idx = {i for i, s in enumerate(self.sheets) if any(s is gs.replaces for gs in gens)}
        for el in parse_xml(self.read(self.wb_part), self.wb_part).iter(f"{{{MAIN_NS}}}definedName"):
            lid = el.get("localSheetId")
            if lid is not None and int(lid) in replaced_idx:
                continue
            table_names.setdefault(el.get("name", "").lower(), f"defined name {el.get('name')!r}")
        return table_names, max(table_ids, default=0) + 1

    def _copy_generated(self, gens: list[_GenSheet], xf_map: list[int], dxf_map: list[int],
                        table_names: dict[str, str], next_table_id: int) -> None:
        """Generated sheets and every part they reach: fresh names, rewritten rels and ids."""
        assert self.g is not None
        g = self.g
        gct = ContentTypes(g.read("[Content_Types].xml"))
        gnames = set(g.namelist())
        mapping: dict[str, str] = {s.part: s.dst_part for s in gens}
        order: list[str] = []
        todo = deque(s.part for s in gens)
        # each generated rels part parsed once (a sheet linking to files has a relationship per link)
        parsed: dict[str, list[Rel]] = {}
        while todo:
            part = todo.popleft()
            order.append(part)
            rp = rels_name(part)
            if rp not in gnames:
                continue
            parsed[rp] = parse_rels(g.read(rp), rp)
            for r in parsed[rp]:
                t = resolve_target(part, r.target) if not r.external else None
                if t is not None and t in gnames and t not in mapping:
                    mapping[t] = self.names.fresh(t)
                    todo.append(t)
        sst = shared_strings(g.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in gnames else None)
        sheet_parts = {s.part for s in gens}
        for part in order:
            new = mapping[part]
            is_sheet = part in sheet_parts
            ct = CT_WORKSHEET if is_sheet else gct.get(part)
            if is_sheet:
                self.ct.set_override(new, CT_WORKSHEET)
            elif ct:
                self.ct.ensure(new, ct)
            rp = rels_name(part)
            if rp in gnames:
                rels = parsed[rp]
                for r in rels:
                    if not r.external:
                        t = resolve_target(part, r.target)
                        if t in mapping:
                            r.target = relative_target(new, mapping[t])
                self._put(rels_name(new), serialize_rels(rels))
            if is_sheet:
                name = next(s.name for s in gens if s.part == part)
                rw = GeneratedSheetRewriter(xf_map, dxf_map, sst, rows=self.bodies.get(name))
                self._put_stream(new, lambda rw=rw, part=part: rw.rewrite(iter_chunks(g, part)))  # type: ignore[misc]  # mypy cannot infer a lambda's default-bound arguments
                self.rewriters.append(rw)
            elif ct == CT_TABLE:
                data, next_table_id = self._table(g.read(part), dxf_map, table_names, next_table_id,
                                                  part)
                self._put(new, data)
            elif new.lower().endswith(".vml"):
                self._put(new, renumber_vml(g.read(part), self._new_block()))
            else:
                self._put(new, None, raw_from=part)

    def _new_block(self) -> int:
        assert self.vml_blocks is not None
        b = max(self.vml_blocks, default=0) + 1
        self.vml_blocks.add(b)
        return b

    @staticmethod
    def _table(data: bytes, dxf_map: list[int], used: dict[str, str], next_id: int,
               part: str) -> tuple[bytes, int]:
        root = parse_xml(data, part)
        for key in ("name", "displayName"):
            val = root.get(key)
            if val and val.lower() in used:
                raise TableNameError(
                    f"generated table {val!r} clashes with {used[val.lower()]} already in the workbook; "
                    "rename the generated table")
        for key in ("name", "displayName"):
            if root.get(key):
                used[root.get(key, "").lower()] = f"generated table {root.get(key)!r}"
        text = decode_xml(data, part)
        start = root_start(text, "table")
        tag = set_attr(start.group(0), "id", str(next_id))
        text = text[: start.start()] + tag + text[start.end():]
        dmap = {str(i): str(j) for i, j in enumerate(dxf_map)}
        text = re.sub(r'\b(\w*DxfId)="(\d+)"', lambda m: f'{m.group(1)}="{dmap.get(m.group(2), m.group(2))}"', text)
        return text.encode("utf-8"), next_id + 1

    # -- marks ---------------------------------------------------------------------------------
    def _collect_notes(self, gens: list[_GenSheet]) -> dict[str, dict[tuple[int, int], CellNote]]:
        gen_names = {s.name.lower() for s in gens}
        by_sheet: dict[str, list[tuple[str, str, str]]] = {}
        for mk in self.marks:
            sheet = self.sheet_by_name(mk.sheet)
            if mk.sheet.lower() in gen_names:
                raise XlsxPatchError(f"mark on {mk.sheet}!{mk.cell}: {mk.sheet!r} is a generated sheet")
            if sheet is None or sheet.part is None:
                raise XlsxPatchError(f"mark on {mk.sheet}!{mk.cell}: no such worksheet in the workbook")
            by_sheet.setdefault(sheet.name, []).append((mk.cell, mk.severity, mk.message))
        notes = {}
        for name, triples in by_sheet.items():
            try:
                notes[name] = combine(triples)
            except ValueError as exc:
                raise XlsxPatchError(f"mark on sheet {name!r}: {exc}") from None
        for name in self.clear_on:
            sheet = self.sheet_by_name(name)
            if sheet is not None and sheet.part is not None and sheet.name.lower() not in gen_names:
                notes.setdefault(sheet.name, {})
        return notes

    def _plan_marks(self, notes: dict[str, dict[tuple[int, int], CellNote]], dxf_ids: dict[str, int]) -> None:
        if not notes:
            return
        if self.vml_blocks is None:
            self.vml_blocks = set()
            for name in self.entries:
                if name.lower().endswith(".vml"):
                    self.vml_blocks |= vml_blocks(self.z.read(name))
        kinds = {"comments": "xl/comments.xml", "vml": "xl/drawings/vmlDrawing.vml"}
        for name, cell_notes in notes.items():
            sheet = self.sheet_by_name(name)
            assert sheet is not None and sheet.part is not None
            part = sheet.part
            scan = self.scans.get(part)
            if scan:
                head_len, tail = scan.head_len, scan.tail
            else:
                head_len, tail = self._known_tail(part) or find_tail(self.whole(part))
            root = root_tag(next(iter_chunks(self.z, part, 1 << 16)))
            r_prefix = ns_prefix_for(root.decode("utf-8", "replace"), R_NS)
            plan = plan_sheet(part, tail, self.rels_of(part), self.read, cell_notes, dxf_ids,
                              lambda kind: self.names.fresh(kinds[kind]), self._new_block,
                              r_prefix or None)
            for k in ("written", "cleared", "without_comment"):
                self.counts[k] += getattr(plan, k)
            for p, kind in plan.new_parts.items():
                if kind == "comments":
                    self.ct.set_override(p, CT_COMMENTS)
                else:
                    self.ct.ensure(p, CT_VML)
            for p in plan.remove:
                self._drop(self.lower[p.lower()])
            for p, data in plan.write.items():
                self._put(self.lower.get(p.lower(), p), data)
            if plan.rels_changed:
                rp = rels_name(part)
                if plan.rels:
                    self._put(self.lower.get(rp.lower(), rp), serialize_rels(plan.rels))
                elif self.has(rp):
                    self._drop(self.lower[rp.lower()])
            if plan.tail != tail:
                # the head is the source's bytes; check the new tail under the source's root tag
                check_well_formed([root, b"<sheetData/>", plan.tail], f"internal error: new tail of {part}")
                self.checked.add(part)
                self.sheet_edits.setdefault(part, []).append((head_len, None, plan.tail))
                self.new_tails[part] = plan.tail

    # -- appends ---------------------------------------------------------------------------------
    def _scan_appends(self, gens: list[_GenSheet]) -> list[_AppendPlan]:
        """Pass 1 over each appended sheet: where the rows go and which styles they take
        (derived styles are only asked for here; their ids come from the style merge)."""
        if not self.appends:
            return []
        from custledger.io.xlsxpatch_append import append_block, cell_styles, resolve_styles, scan_sheet

        gen_names = {s.name.lower() for s in gens}
        by_sheet: dict[str, list[RowAppend]] = {}
        for ra in self.appends:
            if not isinstance(ra, RowAppend):
                raise TypeError(f"appends must be RowAppend records, not {type(ra).__name__}")
            sheet = self.sheet_by_name(ra.sheet)
            if ra.sheet.lower() in gen_names:
                raise XlsxPatchError(f"append to {ra.sheet!r}: it is a generated sheet")
            if sheet is None or sheet.part is None:
                raise XlsxPatchError(f"append to {ra.sheet!r}: no such worksheet in the workbook")
            by_sheet.setdefault(sheet.name, []).append(ra)
        formats = cell_formats(self.read(self._styles_part()))
        derived_index: dict[tuple[int, str], int] = {}

        def ask(need: tuple[int, str]) -> int:
            if need not in derived_index:
                derived_index[need] = len(self.derived)
                self.derived.append(need)
            return derived_index[need]

        plans = []
        for name, ras in by_sheet.items():
            block = append_block(ras, self.date1904)
            if not block.n:
                continue
            sheet = self.sheet_by_name(name)
            assert sheet is not None and sheet.part is not None
            part = sheet.part
            scan = scan_sheet(iter_chunks(self.z, part), block.n, f"sheet {name!r}")
            self.scans[part] = scan
            tables = self._tables_of(part)
            last_r = scan.last.r if scan.last else 0
            new_last = last_r + block.n
            if new_last > MAX_ROWS:
                raise XlsxPatchError(f"append to {name!r}: {block.n} rows after row {last_r} pass "
                                     f"Excel's last row {MAX_ROWS}")
            header_row = max(ra.header_row for ra in ras)
            is_header = scan.last is not None and (
                last_r <= header_row if header_row else
                last_r == scan.first_value_r or any(t.header_rows and t.r1 == last_r for t in tables))
            source = {} if scan.last is None or is_header else cell_styles(scan.last.xml)
            own = {row.r - last_r - 1: cell_styles(row.xml) for row in scan.trailing if 0 <= row.r - last_r - 1 < block.n}
            resolve_styles(block, source, own, scan.col_style, formats, ask)
            used = block.used_cols()
            lo, hi = min(used), max(used)
            grow = []
            for t in tables:
                if not (t.r1 <= last_r <= t.r2 and t.c1 <= hi and t.c2 >= lo):
                    continue
                if t.totals_rows:
                    raise XlsxPatchError(
                        f"append to {name!r}: table {t.name!r} has a totals row; rows cannot be added "
                        "below it (turn the totals row off, or add the rows by hand)")
                if new_last > t.r2:
                    grow.append(t)
            plans.append(_AppendPlan(sheet, scan, last_r + 1, block, grow))
        return plans

    def _tables_of(self, part: str) -> list[TableInfo]:
        from custledger.io.xlsxpatch_append import table_info

        out = []
        for r in self.rels_of(part):
            t = resolve_target(part, r.target) if r.type == RT_TABLE and not r.external else None
            if t is not None and self.has(t):
                info = table_info(self.read(t), self.lower[t.lower()])
                if info is not None:
                    out.append(info)
        return out

    def _plan_appends(self, plans: list[_AppendPlan], derived_ids: list[int]) -> None:
        if not plans:
            return
        from custledger.io.xlsxpatch_append import (
            block_xml,
            grow_dimension,
            grow_sheet_autofilter,
            grow_table,
            merge_row,
            sheet_protected,
        )

        for plan in plans:
            block = plan.block
            for c in block.cols:  # the derived styles' ids, now that the style merge gave them
                asked = block.need[c] >= 0
                if asked.any():
                    block.xf[c][asked] = np.asarray(derived_ids, dtype=np.int64)[block.need[c][asked]]
            scan, part = plan.scan, plan.sheet.part
            assert part is not None
            p = scan.prefix
            # existing empty rows at the new rows' numbers: merged, their other cells kept
            filled = {row.r - plan.first_r: merge_row(p, row.r, decode_xml(row.xml, part), block.cells(row.r - plan.first_r))
                      for row in scan.trailing if 0 <= row.r - plan.first_r < block.n}
            block_bytes = block_xml(p, plan.first_r, block, filled)
            edits = self.sheet_edits.setdefault(part, [])
            new_last = plan.first_r + block.n - 1
            cols = block.used_cols()
            if scan.dimension is not None:
                start, end, tag = scan.dimension
                new_tag = grow_dimension(tag, new_last, min(cols), max(cols))
                if new_tag != tag:
                    edits.append((start, end, new_tag))
            if scan.sd_empty:
                edits.append((scan.sd_start, scan.sd_end,
                              f"<{p}sheetData>".encode() + block_bytes + f"</{p}sheetData>".encode()))
            else:
                at = scan.last.end if scan.last is not None else scan.sd_end
                merged = [row for row in scan.trailing if row.r <= new_last]
                edits.append((at, merged[-1].end if merged else at, block_bytes))
            # a sheet-level AutoFilter grows over the new rows (on the tail the marks may have rewritten)
            tail = self.new_tails.get(part, scan.tail)
            grown = grow_sheet_autofilter(tail, plan.first_r - 1, new_last, min(cols), max(cols))
            if grown != tail:
                edits[:] = [e for e in edits if not (e[0] == scan.head_len and e[1] is None)]
                edits.append((scan.head_len, None, grown))
                self.new_tails[part] = tail = grown
            if sheet_protected(tail):
                self.protected_appends.append(plan.sheet.name)
            root = root_tag(next(iter_chunks(self.z, part, 1 << 16)))
            check_well_formed([root, f"<{p}sheetData>".encode(), block_bytes, f"</{p}sheetData>".encode(), tail],
                              f"internal error: appended rows of {part}")
            self.checked.add(part)
            for t in plan.tables:
                self._put(t.part, grow_table(self.read(t.part), t.part, new_last))
            self.counts["appended"] += plan.block.n

    def _stream_input_sheets(self) -> None:
        """Input sheets with marks or appends: the source's bytes, spliced."""
        for part, edits in self.sheet_edits.items():
            self._put_stream(part, lambda part=part, edits=edits: splice(iter_chunks(self.z, part), edits))  # type: ignore[misc]  # mypy cannot infer a lambda's default-bound arguments

    # -- workbook.xml --------------------------------------------------------------------------
    def _edit_workbook(self, gens: list[_GenSheet]) -> None:
        text = decode_xml(self.read(self.wb_part), self.wb_part)
        start = root_start(text, "workbook")
        p = tag_prefix(start.group(2))
        rp = ns_prefix_for(start.group(0), R_NS)
        chunks, closing = split_children(text[start.end():])
        sheets_chunk = next((c for c in chunks if c.name == "sheets"), None)
        if sheets_chunk is None:
            raise XlsxPatchError(f"{self.wb_part}: no <sheets>")
        m = re.match(r"<[^>]*>", sheets_chunk.text)
        assert m is not None
        inner, sheets_close = split_children(sheets_chunk.text[m.end():])
        sheet_chunks = [c for c in inner if c.name == "sheet"]
        if len(sheet_chunks) != len(self.sheets):
            raise XlsxPatchError(f"{self.wb_part}: <sheet> elements outside <sheets>")
        next_id = max((s.sheet_id for s in self.sheets), default=0) + 1
        index_of: dict[str, int] = {}
        for gs in gens:
            if gs.replaces is not None:
                i = self.sheets.index(gs.replaces)
                index_of[gs.name] = i
                tag = sheet_chunks[i].text
                if gs.replaces.name != gs.name:
                    tag = set_attr(tag, "name", gs.name)
                if (gs.state or "visible") != (gs.replaces.state or "visible"):
                    tag = set_attr(tag, "state", gs.state or "visible")
                sheet_chunks[i].text = tag
                continue
            rid = fresh_rel_id(self.wb_rels)
            self.wb_rels.append(Rel(rid, RT_WORKSHEET, relative_target(self.wb_part, gs.dst_part)))
            rattr = f'{rp}:id="{rid}"' if rp else f'xmlns:r="{R_NS}" r:id="{rid}"'
            state = f' state="{esc_attr(gs.state)}"' if gs.state and gs.state != "visible" else ""
            inner.append(Chunk("sheet", f'<{p}sheet name="{esc_attr(gs.name)}" sheetId="{next_id}"{state} {rattr}/>'))
            index_of[gs.name] = len(self.sheets)
            self.sheets.append(_Sheet(gs.name, next_id, rid, gs.dst_part, gs.state))
            next_id += 1
        sheets_chunk.text = m.group(0) + "".join(c.text for c in inner) + sheets_close

        # defined names: drop the replaced sheets' own and the globals the build redefines
        gen_order = [gs.name for gs in gens]
        new_names = []
        for el in self.gen_defined:
            lid = el.get("localSheetId")
            attrs = {k: v for k, v in el.attrib.items()}
            if lid is not None:
                attrs["localSheetId"] = str(index_of[gen_order[int(lid)]])
            new_names.append((attrs, el.text or ""))
        replaced_idx = {index_of[gs.name] for gs in gens if gs.replaces is not None}
        global_new = {a["name"].lower() for a, _ in new_names if "localSheetId" not in a}
        dn_chunk = next((c for c in chunks if c.name == "definedNames"), None)
        kept: list[str] = []
        if dn_chunk is not None:
            m2 = re.match(r"<[^>]*>", dn_chunk.text)
            assert m2 is not None
            if not m2.group(0).endswith("/>"):
                for c in split_children(dn_chunk.text[m2.end():])[0]:
                    if c.name == "definedName":
                        tag = re.match(r"<[^>]*>", c.text).group(0)  # type: ignore[union-attr]
                        lid = get_attr(tag, "localSheetId")
                        nm = (get_attr(tag, "name") or "").lower()
                        if lid is not None and int(lid) in replaced_idx:
                            continue
                        if lid is None and nm in global_new:
                            continue
                    kept.append(c.text)
        added = [
            f"<{p}definedName" + "".join(f' {k}="{esc_attr(v)}"' for k, v in attrs.items())
            + f">{esc_text(txt)}</{p}definedName>"
            for attrs, txt in new_names
        ]
        body = "".join(kept + added)
        if dn_chunk is not None:
            if body.strip():
                dn_chunk.text = f"<{p}definedNames>{body}</{p}definedNames>"
            else:
                chunks.remove(dn_chunk)
        elif body:
            insert_in_order(chunks, Chunk("definedNames", f"<{p}definedNames>{body}</{p}definedNames>"),
                            WORKBOOK_ORDER)

        def finish() -> bytes:
            # fullCalcOnLoad only once the streamed sheets showed formulas
            if any(rw.has_formulas for rw in self.rewriters):
                calc = next((c for c in chunks if c.name == "calcPr"), None)
                if calc is None:
                    insert_in_order(chunks, Chunk("calcPr", f'<{p}calcPr fullCalcOnLoad="1"/>'), WORKBOOK_ORDER)
                else:
                    m3 = re.match(r"<[^>]*>", calc.text)
                    assert m3 is not None
                    calc.text = set_attr(m3.group(0), "fullCalcOnLoad", "1") + calc.text[m3.end():]
            return (text[: start.end()] + "".join(c.text for c in chunks) + closing).encode("utf-8")

        self._put(self.wb_part, None)
        self.late[self.wb_part] = finish
        self._put(self.wb_rels_part, serialize_rels(self.wb_rels))

    # -- bookkeeping -----------------------------------------------------------------------------
    def _put(self, part: str, data: bytes | None, raw_from: str | None = None) -> None:
        existing = self.lower.get(part.lower())
        if existing is not None:
            part = existing
            self.remove.discard(part)
        elif part not in self.new_order:
            self.new_order.append(part)
            self.names.used.add(part.lower())
        if raw_from is not None:
            self.raw_from_gen[part] = raw_from
        elif data is not None:
            self.write[part] = data

    def _put_stream(self, part: str, factory: Callable[[], object]) -> None:
        self._put(part, None)
        self.streams[part] = factory

    def _drop(self, part: str, keep_name: bool = False) -> None:
        rp = rels_name(part)
        if rels_source(part) is None and self.has(rp):
            self._drop(self.lower[rp.lower()])
        self.remove.add(part)
        self.write.pop(part, None)
        self.streams.pop(part, None)
        self.ct.remove(part)
        if not keep_name:
            self.names.used.discard(part.lower())

    def _emit(self, dst: Path, compresslevel: int, gens: list[_GenSheet]) -> dict:
        out = RawZipWriter(dst, compresslevel)
        copied = 0
        rewritten: list[str] = []
        try:
            ct_name = self.lower["[content_types].xml"]
            order = [ct_name] + [n for n in self.entries if n != ct_name] + self.new_order
            for name in order:
                if name in self.late:
                    continue
                if name in self.remove and name not in self.write and name not in self.streams:
                    continue
                if name in self.streams:
                    out.write_stream(name, self.streams[name]())  # type: ignore[arg-type]
                    rewritten.append(name)
                elif name in self.write:
                    out.write_bytes(name, self.write[name])
                    rewritten.append(name)
                elif name in self.raw_from_gen:
                    assert self.g is not None
                    if isinstance(self.g, _MemoryPackage):
                        out.write_bytes(name, self.g.read(self.raw_from_gen[name]))
                    else:
                        out.copy_raw(self.g, self.g.getinfo(self.raw_from_gen[name]), name)
                    rewritten.append(name)
                else:
                    out.copy_raw(self.z, self.entries[name])
                    copied += 1
            for name, make in self.late.items():
                out.write_bytes(name, make())
                rewritten.append(name)
            out.close()
        except BaseException:
            out.abort()
            raise
        removed = sorted(n for n in self.remove if n not in self.write and n not in self.streams)
        return {
            "sheets_replaced": tuple(s.name for s in gens if s.replaces is not None),
            "sheets_added": tuple(s.name for s in gens if s.replaces is None),
            "marks_written": self.counts["written"],
            "marks_cleared": self.counts["cleared"],
            "marks_without_comment": self.counts["without_comment"],
            "parts_copied": copied,
            "parts_rewritten": tuple(rewritten),
            "parts_removed": tuple(removed),
            "bytes_written": out.bytes_written,
            "rows_appended": self.counts["appended"],
            "protected_appends": tuple(self.protected_appends),
        }
