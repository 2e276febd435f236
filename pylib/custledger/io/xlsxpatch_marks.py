"""Validation marks on people's input sheets: a highlight and a comment per marked cell.

How a mark is written, and found again by the next run:
- Highlight: one ``<conditionalFormatting>`` per severity whose single rule is
  ``type="expression"`` with the formula ``N("custledger")=0`` (always TRUE; the text literal
  is the tag) and a fill dxf (light red for errors, light yellow for warnings). The cells'
  own styles are never touched. Any cfRule whose formula is exactly that marker is ours and
  is removed by the next run (the tag survives Excel re-saving the file, which renumbers
  dxfs and priorities); a block left without rules is dropped. Our rules get the lowest
  precedence (priorities after every existing rule), so where a person's own conditional
  format sets the fill too, theirs shows.
- Comment: a legacy comment authored ``custledger`` (comments part + a VML note shape). The
  next run drops every comment of that author and the note shapes of cells left without a
  comment. A person's comments, note shapes, buttons and other VML shapes are kept as they
  are. A cell that already carries a person's comment keeps it: the mark then gets only the
  highlight (counted in ``without_comment``).
- Several marks on one cell become one: the worst severity, the messages joined by newlines.

Only the part of the sheet XML after ``</sheetData>`` is edited (the caller streams the rest).
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from custledger.contract import SEVERITIES
from custledger.core.parse import col_index, col_letter
from custledger.io.xlsxpatch_errors import XlsxPatchError
from custledger.io.xlsxpatch_opc import (
    MAIN_NS,
    R_NS,
    RT_COMMENTS,
    RT_VML,
    TAG_RE,
    XML_DECL,
    Chunk,
    Rel,
    decode_xml,
    esc_attr,
    esc_text,
    fresh_rel_id,
    get_attr,
    insert_in_order,
    relative_target,
    resolve_target,
    root_start,
    split_children,
    tag_prefix,
    unescape,
)

AUTHOR = "custledger"
MARK_FORMULA = 'N("custledger")=0'
FILL = {"error": "FFFFC7CE", "warning": "FFFFEB9C"}

WS_TAIL_ORDER = [
    "sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState",
    "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting",
    "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter",
    "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags",
    "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects",
    "controls", "webPublishItems", "tableParts", "extLst",
]

_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


def parse_ref(ref: str) -> tuple[int, int]:
    """'C17' -> (16, 2): zero-based row and column; ValueError outside A1:XFD1048576."""
    m = _REF.fullmatch(ref.strip())
    if not m:
        raise ValueError(f"not an A1 cell reference: {ref!r}")
    col = col_index(m.group(1)) + 1
    row = int(m.group(2))
    if not (1 <= row <= 1_048_576 and 1 <= col <= 16_384):
        raise ValueError(f"cell reference out of range: {ref!r}")
    return row - 1, col - 1


col_letters = col_letter  # 0-based column -> "A", "AA": the one helper in core/parse.py


def cell_ref(row: int, col: int) -> str:
    return f"{col_letters(col)}{row + 1}"


def sqref_of(cells: set[tuple[int, int]]) -> str:
    """Cells as a compact sqref: runs of consecutive rows in a column become ranges."""
    by_col: dict[int, list[int]] = defaultdict(list)
    for r, c in cells:
        by_col[c].append(r)
    out = []
    for c in sorted(by_col):
        rows = sorted(by_col[c])
        start = prev = rows[0]
        for nxt in [*rows[1:], None]:
            if nxt is not None and nxt == prev + 1:
                prev = nxt
                continue
            out.append(cell_ref(start, c) if start == prev else f"{cell_ref(start, c)}:{cell_ref(prev, c)}")
            if nxt is not None:
                start = prev = nxt
    return " ".join(out)


def cells_of_sqref(sqref: str, cap: int = 1_000_000) -> set[tuple[int, int]]:
    cells: set[tuple[int, int]] = set()
    for part in sqref.split():
        a, _, b = part.partition(":")
        try:
            r1, c1 = parse_ref(a)
            r2, c2 = parse_ref(b) if b else (r1, c1)
        except ValueError:
            continue
        for r in range(min(r1, r2), max(r1, r2) + 1):
            for c in range(min(c1, c2), max(c1, c2) + 1):
                if len(cells) >= cap:
                    return cells
                cells.add((r, c))
    return cells


def mark_dxf(severity: str) -> Element:
    """The fill dxf of a severity (solid fills in dxfs take their colour from bgColor)."""
    ns = f"{{{MAIN_NS}}}"
    dxf = Element(ns + "dxf")
    fill = Element(ns + "fill")
    pf = Element(ns + "patternFill", {"patternType": "solid"})
    pf.append(Element(ns + "fgColor", {"rgb": FILL[severity]}))
    pf.append(Element(ns + "bgColor", {"rgb": FILL[severity]}))
    fill.append(pf)
    dxf.append(fill)
    return dxf


@dataclass
class CellNote:
    """The one mark a cell gets: the worst severity of its problems, their messages joined."""

    severity: str
    message: str


def combine(marks: list[tuple[str, str, str]]) -> dict[tuple[int, int], CellNote]:
    """(cell, severity, message) triples of one sheet -> one note per cell."""
    out: dict[tuple[int, int], CellNote] = {}
    for cell, severity, message in marks:
        key = parse_ref(cell)
        note = out.get(key)
        if note is None:
            out[key] = CellNote(severity, message)
        else:
            if severity == "error":
                note.severity = "error"
            if message and message not in note.message.split("\n"):
                note.message = f"{note.message}\n{message}" if note.message else message
    return out


# -- sheet tail ------------------------------------------------------------------------------
def _is_marker(formula_xml: str) -> bool:
    return re.sub(r"\s+", "", unescape(formula_xml)).lower() == MARK_FORMULA.lower()


def _strip_our_rules(chunk: Chunk) -> tuple[Chunk | None, set[tuple[int, int]]]:
    """Remove our cfRules from a conditionalFormatting block; None if nothing is left."""
    m = TAG_RE.match(chunk.text)
    if m is None or m.group(4) == "/":
        return chunk, set()
    inner, closing = split_children(chunk.text[m.end():])
    kept, dropped = [], False
    for ch in inner:
        if ch.name == "cfRule":
            formulas = re.findall(r"<(?:[\w.\-]+:)?formula\s*>(.*?)</(?:[\w.\-]+:)?formula\s*>", ch.text, re.S)
            if len(formulas) == 1 and _is_marker(formulas[0]):
                dropped = True
                continue
        kept.append(ch)
    if not dropped:
        return chunk, set()
    cleared = cells_of_sqref(get_attr(m.group(0), "sqref") or "")
    if not any(ch.name == "cfRule" for ch in kept):
        return None, cleared
    return Chunk(chunk.name, m.group(0) + "".join(c.text for c in kept) + closing), cleared


def _legacy_rid(chunk: Chunk) -> str | None:
    m = TAG_RE.match(chunk.text)
    if m is None:
        return None
    for am in re.finditer(r"([\w.\-]+):id\s*=\s*\"([^\"]*)\"", m.group(0)):
        return unescape(am.group(2))
    return None


# -- comments part ---------------------------------------------------------------------------
@dataclass
class _Comments:
    """A comments part split into what is kept as written and the comments (one per cell), so
    custledger's own can be dropped and new ones added without reserializing the rest."""

    head: str                      # declaration + root start tag
    prefix: str
    authors: list[str]             # unescaped names
    authors_raw: list[str]         # raw <author> elements
    comments: list[tuple[tuple[int, int], int, str]]  # (cell, authorId, raw element)
    rest: list[Chunk]              # other top-level chunks (extLst...), in place
    closing: str


def _parse_comments(data: bytes, what: str) -> _Comments:
    text = decode_xml(data, what)
    start = root_start(text, "comments")
    prefix = tag_prefix(start.group(2))
    chunks, closing = split_children(text[start.end():])
    authors, authors_raw, comments = [], [], []
    for ch in chunks:
        m = TAG_RE.match(ch.text)
        if ch.name not in ("authors", "commentList") or m is None or m.group(4) == "/":
            continue
        inner, _ = split_children(ch.text[m.end():])
        for it in inner:
            if ch.name == "authors" and it.name == "author":
                authors_raw.append(it.text)
                authors.append(unescape(re.sub(r"^<[^>]*>|</[^>]*>$", "", it.text)) if not it.text.endswith("/>") else "")
            elif ch.name == "commentList" and it.name == "comment":
                tm = TAG_RE.match(it.text)
                assert tm is not None
                try:
                    cell = parse_ref(get_attr(tm.group(0), "ref") or "")
                except ValueError:
                    cell = (-1, -1)
                comments.append((cell, int(get_attr(tm.group(0), "authorId") or 0), it.text))
    return _Comments(text[: start.end()], prefix, authors, authors_raw, comments, chunks, closing)


def _comment_xml(prefix: str, cell: tuple[int, int], author_id: int, message: str) -> str:
    p = prefix
    return (f'<{p}comment ref="{cell_ref(*cell)}" authorId="{author_id}" shapeId="0"><{p}text>'
            f'<{p}r><{p}rPr><{p}sz val="9"/><{p}color indexed="81"/><{p}rFont val="Tahoma"/>'
            f'<{p}family val="2"/></{p}rPr><{p}t xml:space="preserve">{esc_text(message)}</{p}t></{p}r>'
            f"</{p}text></{p}comment>")


def _build_comments(old: _Comments | None, theirs: list[tuple[tuple[int, int], int, str]],
                    ours: dict[tuple[int, int], CellNote]) -> bytes:
    if old is None:
        prefix, head, authors_raw, authors = "", f'<comments xmlns="{MAIN_NS}">', [], []
        rest: list[Chunk] = [Chunk("authors", ""), Chunk("commentList", "")]
        closing = "</comments>"
    else:
        prefix, head, authors_raw, authors = old.prefix, old.head, list(old.authors_raw), list(old.authors)
        rest, closing = [Chunk(c.name, c.text) for c in old.rest], old.closing
    p = prefix
    if ours and AUTHOR not in authors:
        authors.append(AUTHOR)
        authors_raw.append(f"<{p}author>{AUTHOR}</{p}author>")
    elif not ours and authors and authors[-1] == AUTHOR:
        # no marks left: drop our author too (only when last, so no authorId shifts)
        authors.pop()
        authors_raw.pop()
    our_id = authors.index(AUTHOR) if AUTHOR in authors else -1
    entries = [(cell, raw) for cell, _, raw in theirs]
    entries += [(cell, _comment_xml(p, cell, our_id, note.message)) for cell, note in ours.items()]
    entries.sort(key=lambda e: e[0])
    authors_el = f"<{p}authors>{''.join(authors_raw)}</{p}authors>"
    list_el = f"<{p}commentList>{''.join(raw for _, raw in entries)}</{p}commentList>"
    for ch in rest:
        if ch.name == "authors":
            ch.text = authors_el
        elif ch.name == "commentList":
            ch.text = list_el
    if not any(c.name == "authors" for c in rest):
        rest.insert(0, Chunk("authors", authors_el))
    if not any(c.name == "commentList" for c in rest):
        insert_in_order(rest, Chunk("commentList", list_el), ["authors", "commentList", "extLst"])
    body = head + "".join(c.text for c in rest) + closing
    if old is None:
        return XML_DECL + body.encode("utf-8")
    return body.encode("utf-8")


# -- VML -------------------------------------------------------------------------------------
# VML is matched as text (Excel's VML is not always well-formed XML), with the prefixes the
# document itself binds: Excel and xlsxwriter write v:/o:/x:, openpyxl writes ns0:/ns1:/ns2:.
VML_NS = {"v": "urn:schemas-microsoft-com:vml", "o": "urn:schemas-microsoft-com:office:office",
          "x": "urn:schemas-microsoft-com:office:excel"}
_VML_ROOT = re.compile(r"<xml\b[^>]*>")
_SHAPETYPE_202 = (
    '<{v}:shapetype id="_x0000_t202" coordsize="21600,21600" {o}:spt="202" '
    'path="m,l,21600r21600,l21600,xe"><{v}:stroke joinstyle="miter"/>'
    '<{v}:path gradientshapeok="t" {o}:connecttype="rect"/></{v}:shapetype>'
)
_NOTE = (
    '<{v}:shape id="_x0000_s{sid}" type="#_x0000_t202" style="position:absolute;'
    'margin-left:{left}pt;margin-top:{top}pt;width:144pt;height:60pt;z-index:{z};visibility:hidden" '
    'fillcolor="#ffffe1" {o}:insetmode="auto"><{v}:fill color2="#ffffe1"/>'
    '<{v}:shadow on="t" color="black" obscured="t"/><{v}:path {o}:connecttype="none"/>'
    '<{v}:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></{v}:textbox>'
    '<{x}:ClientData ObjectType="Note"><{x}:MoveWithCells/><{x}:SizeWithCells/>'
    "<{x}:Anchor>{anchor}</{x}:Anchor><{x}:AutoFill>False</{x}:AutoFill><{x}:Row>{row}</{x}:Row>"
    "<{x}:Column>{col}</{x}:Column></{x}:ClientData></{v}:shape>"
)


def _vml_prefixes(text: str) -> tuple[dict[str, str], str]:
    """Prefixes the document binds to the VML namespaces, and its root tag (with any missing
    declarations added)."""
    m = _VML_ROOT.search(text)
    root = m.group(0) if m else "<xml>"
    decls = dict(re.findall(r"xmlns:([\w.\-]+)\s*=\s*[\"']([^\"']*)[\"']", root))
    by_uri = {uri: pfx for pfx, uri in decls.items()}
    out: dict[str, str] = {}
    for key, uri in VML_NS.items():
        if uri in by_uri:
            out[key] = by_uri[uri]
            continue
        pfx = key
        while pfx in decls:
            pfx += "1"
        decls[pfx] = uri
        out[key] = pfx
        root = root[:-1].rstrip("/") + f' xmlns:{pfx}="{uri}"' + (">" if not root.endswith("/>") else "/>")
    return out, root


def _shape_re(p: dict[str, str]) -> re.Pattern[str]:
    v = re.escape(p["v"])
    return re.compile(rf"<{v}:shape\b(?:[^>]*/>|.*?</{v}:shape\s*>)", re.S)


def _note_cell(shape: str, p: dict[str, str]) -> tuple[int, int] | None:
    if not re.search(r"ObjectType\s*=\s*[\"']Note[\"']", shape):
        return None
    x = re.escape(p["x"])
    r = re.search(rf"<{x}:Row>\s*(\d+)\s*</{x}:Row>", shape)
    c = re.search(rf"<{x}:Column>\s*(\d+)\s*</{x}:Column>", shape)
    return (int(r.group(1)), int(c.group(1))) if r and c else None


def _note_shape(shape_id: int, cell: tuple[int, int], z: int, p: dict[str, str]) -> str:
    row, col = cell
    top = max(row - 1, 0)
    anchor = f"{col + 1}, 15, {top}, {10 if row else 2}, {col + 3}, 15, {top + 4}, 16"
    return _NOTE.format(sid=shape_id, left=f"{(col + 1) * 48 + 11.25:g}", top=f"{top * 15 + 1.5:g}",
                        z=z, anchor=anchor, row=row, col=col, **p)


def noted_cells(data: bytes) -> set[tuple[int, int]]:
    """Cells that have a note (comment) shape in a VML drawing."""
    text = data.decode("latin-1")
    p, _ = _vml_prefixes(text)
    return {c for m in _shape_re(p).finditer(text) if (c := _note_cell(m.group(0), p))}


def new_vml(idmap: int, cells: list[tuple[int, int]]) -> bytes:
    p = {k: k for k in VML_NS}
    shapes = "".join(_note_shape(idmap * 1024 + 1 + i, c, i + 1, p) for i, c in enumerate(cells))
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit">'
        f'<o:idmap v:ext="edit" data="{idmap}"/></o:shapelayout>{_SHAPETYPE_202.format(**p)}{shapes}</xml>'
    ).encode("ascii")


def edit_vml(data: bytes, keep_notes: set[tuple[int, int]], add: list[tuple[int, int]]) -> tuple[bytes, int]:
    """Drop note shapes of cells not in *keep_notes*, add notes for *add*; returns (vml, shapes left)."""
    text = data.decode("latin-1")  # byte-preserving; VML may be any ASCII-compatible encoding
    p, root = _vml_prefixes(text)
    out, pos, left = [], 0, 0
    for m in _shape_re(p).finditer(text):
        cell = _note_cell(m.group(0), p)
        out.append(text[pos:m.start()])
        pos = m.end()
        if cell is not None and cell not in keep_notes:
            continue
        out.append(m.group(0))
        left += 1
    out.append(text[pos:])
    text = "".join(out)
    if add:
        ids = [int(x) for x in re.findall(r"_x0000_s(\d+)", text)]
        idmap = re.search(r"<[\w.\-]+:idmap\b[^>]*\bdata\s*=\s*[\"'](\d+)", text)
        first = max(ids, default=(int(idmap.group(1)) if idmap else 1) * 1024) + 1
        new = "".join(_note_shape(first + i, c, left + i + 1, p) for i, c in enumerate(add))
        if "_x0000_t202" not in text:
            new = _SHAPETYPE_202.format(**p) + new
        end = text.rfind("</xml")
        root_m = _VML_ROOT.search(text)
        if end < 0 or root_m is None:
            raise XlsxPatchError("VML drawing without <xml> root")
        text = text[: root_m.start()] + root + text[root_m.end():end] + new + text[end:]
        left += len(add)
    return text.encode("latin-1"), left


# -- one sheet -------------------------------------------------------------------------------
@dataclass
class MarkPlan:
    """What to write for one input sheet (parts to write are name -> bytes)."""

    tail: bytes
    rels: list[Rel]
    rels_changed: bool
    write: dict[str, bytes] = field(default_factory=dict)
    new_parts: dict[str, str] = field(default_factory=dict)  # part -> content type
    remove: list[str] = field(default_factory=list)
    written: int = 0
    cleared: int = 0
    without_comment: int = 0


def plan_sheet(
    sheet_part: str,
    tail: bytes,
    rels: list[Rel],
    read_part: Callable[[str], bytes],
    notes: dict[tuple[int, int], CellNote],
    dxf_ids: dict[str, int],
    new_part_name: Callable[[str], str],
    new_idmap: Callable[[], int],
    r_prefix: str | None = None,
) -> MarkPlan:
    """Plan the removal of old marks and the writing of *notes* on one sheet.

    *tail* is the sheet XML after ``</sheetData>``; *new_part_name(kind)* allocates a fresh part
    name for 'comments' or 'vml'; *new_idmap()* a fresh VML shape-id block; *r_prefix* the
    prefix the sheet's root binds to the relationships namespace (declared locally if None).
    """
    what = sheet_part
    tail_text = decode_xml(tail, what)
    chunks, closing = split_children(tail_text)
    rels = list(rels)
    rel_by_id = {r.id: r for r in rels}
    plan = MarkPlan(tail, rels, False)
    cleared: set[tuple[int, int]] = set()

    # 1. highlights: drop ours, then add the new blocks after the person's own
    kept_chunks: list[Chunk] = []
    for ch in chunks:
        if ch.name == "conditionalFormatting":
            new_ch, gone = _strip_our_rules(ch)
            cleared |= gone
            if new_ch is None:
                continue
            ch = new_ch
        kept_chunks.append(ch)
    chunks = kept_chunks
    prefix = ""
    for ch in chunks:
        if ch.name is not None:
            m = TAG_RE.match(ch.text)
            prefix = tag_prefix(m.group(2)) if m else ""
            break
    closing_m = re.match(r"</([\w.\-:]+)", closing)
    if closing_m:
        prefix = tag_prefix(closing_m.group(1))
    top_priority = max((int(x) for x in re.findall(r"\bpriority\s*=\s*\"(\d+)\"", "".join(c.text for c in chunks))), default=0)
    p = prefix
    for n, severity in enumerate(SEVERITIES, start=1):
        cells = {cell for cell, note in notes.items() if note.severity == severity}
        if not cells:
            continue
        block = (f'<{p}conditionalFormatting sqref="{sqref_of(cells)}"><{p}cfRule type="expression" '
                 f'dxfId="{dxf_ids[severity]}" priority="{top_priority + n}"><{p}formula>'
                 f"{esc_text(MARK_FORMULA)}</{p}formula></{p}cfRule></{p}conditionalFormatting>")
        insert_in_order(chunks, Chunk("conditionalFormatting", block), WS_TAIL_ORDER)

    # 2. comments: keep theirs, drop ours, add new ones where the cell is free
    comments_rel = next((r for r in rels if r.type == RT_COMMENTS and not r.external), None)
    comments_part = resolve_target(sheet_part, comments_rel.target) if comments_rel else None
    old = _parse_comments(read_part(comments_part), comments_part) if comments_part else None
    our_author = old.authors.index(AUTHOR) if old and AUTHOR in old.authors else -1
    theirs = [c for c in old.comments if c[1] != our_author] if old else []
    cleared |= {c[0] for c in old.comments if c[1] == our_author} if old else set()
    their_cells = {c[0] for c in theirs}
    ours = {cell: note for cell, note in notes.items() if cell not in their_cells}
    plan.without_comment = len(notes) - len(ours)
    plan.written = len(notes)
    plan.cleared = len(cleared)
    final_cells = their_cells | set(ours)

    if final_cells:
        data = _build_comments(old, theirs, dict(sorted(ours.items())))
        if comments_part is None:
            comments_part = new_part_name("comments")
            plan.new_parts[comments_part] = "comments"
            rels.append(Rel(fresh_rel_id(rels), RT_COMMENTS, relative_target(sheet_part, comments_part)))
            plan.write[comments_part] = data
        elif data != read_part(comments_part):
            plan.write[comments_part] = data
    elif comments_part is not None:
        plan.remove.append(comments_part)
        rels.remove(comments_rel)  # type: ignore[arg-type]

    # 3. VML: the legacyDrawing's part holds note shapes (and buttons, which stay)
    legacy_idx = next((i for i, c in enumerate(chunks) if c.name == "legacyDrawing"), None)
    vml_rel = rel_by_id.get(_legacy_rid(chunks[legacy_idx]) or "") if legacy_idx is not None else None
    vml_part = resolve_target(sheet_part, vml_rel.target) if vml_rel and not vml_rel.external else None
    if vml_part is not None:
        old_vml = read_part(vml_part)
        noted = noted_cells(old_vml)
        keep = noted & their_cells
        add = sorted(final_cells - keep)
        vml, left = edit_vml(old_vml, keep, add)
        if left == 0:
            plan.remove.append(vml_part)
            rels.remove(vml_rel)  # type: ignore[arg-type]
            del chunks[legacy_idx]  # type: ignore[arg-type]
        elif vml != old_vml:
            plan.write[vml_part] = vml
    elif final_cells:
        vml_part = new_part_name("vml")
        plan.new_parts[vml_part] = "vml"
        plan.write[vml_part] = new_vml(new_idmap(), sorted(final_cells))
        rid = fresh_rel_id(rels)
        rels.append(Rel(rid, RT_VML, relative_target(sheet_part, vml_part)))
        rid_attr = f'{r_prefix}:id="{esc_attr(rid)}"' if r_prefix else f'xmlns:r="{R_NS}" r:id="{esc_attr(rid)}"'
        el = f"<{p}legacyDrawing {rid_attr}/>"
        if legacy_idx is not None:  # a legacyDrawing whose rel is missing: repoint it
            chunks[legacy_idx] = Chunk("legacyDrawing", el)
        else:
            insert_in_order(chunks, Chunk("legacyDrawing", el), WS_TAIL_ORDER)

    new_tail = ("".join(c.text for c in chunks) + closing).encode("utf-8")
    plan.tail = new_tail
    plan.rels = rels
    plan.rels_changed = len(rels) != len(rel_by_id) or any(r is not rel_by_id.get(r.id) for r in rels)
    return plan


__all__ = ["AUTHOR", "MARK_FORMULA", "CellNote", "MarkPlan", "combine", "mark_dxf", "parse_ref",
           "plan_sheet"]
