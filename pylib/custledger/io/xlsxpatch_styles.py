"""Merging a generated workbook's styles.xml into an existing one.

Rules:
- Every font, fill, border, number format, cell style xf, cell xf and dxf the generated
  workbook uses is found in the existing stylesheet (compared as canonical XML: same elements,
  attributes and text, attribute order and whitespace ignored) or appended to it. Re-running
  with the same formats therefore adds nothing: the stylesheet does not grow run after run.
- Index 0 of fonts, borders, cell xfs and cell style xfs, and fills 0 and 1 (the reserved
  none / gray125), map to the existing workbook's own 0 (and 1): unstyled generated cells look
  like unstyled cells of that workbook (its default font), not like xlsxwriter's Calibri.
- Custom number formats keep their format code; a code already present reuses its id, a new
  one gets the next free id >= 164.
- Named cell styles (e.g. xlsxwriter's "Hyperlink") map to the existing style of the same
  builtinId, else the same name, else are added.
- Derived cell xfs (for appended rows, see xlsxpatch_append): a copy of an existing cell xf
  with another number format (``applyNumberFormat="1"``), found or appended like the rest, so a
  date written below a "General" cell still shows as a date, keeping that cell's font and border.
- The existing stylesheet is edited as text: only the ``count`` attribute and the appended
  children of the collections that grew change; everything else stays byte for byte.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from custledger.io.xlsxpatch_errors import XlsxPatchError
from custledger.io.xlsxpatch_opc import (
    MAIN_NS,
    Chunk,
    decode_xml,
    esc_attr,
    esc_text,
    insert_in_order,
    local,
    parse_xml,
    root_start,
    set_attr,
    split_children,
    tag_prefix,
)

STYLE_ORDER = ["numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles",
               "dxfs", "tableStyles", "colors", "extLst"]
_ITEM = {"numFmts": "numFmt", "fonts": "font", "fills": "fill", "borders": "border",
         "cellStyleXfs": "xf", "cellXfs": "xf", "cellStyles": "cellStyle", "dxfs": "dxf"}

Canon = tuple
# built-in number formats we may ask for by code (ECMA-376 18.8.30); others become custom ids
BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4}
# built-in ids that display a date or time (incl. the CJK ones Excel writes for zh/ja/ko)
BUILTIN_DATE_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])


def canonical(el: Element) -> Canon:
    """Order-insensitive identity of an element: tag, sorted attributes, text, children."""
    text = (el.text or "").strip()
    return (el.tag, tuple(sorted(el.attrib.items())), text, tuple(canonical(c) for c in el))


def serialize(el: Element, prefix: str) -> str:
    """Element as text, main-namespace names written with *prefix* (bound on the root).

    Other namespaces get a local declaration (``ns0``..), which keeps the output correct
    whatever the target document declares.
    """
    decls: dict[str, str] = {}

    def qname(tag: str) -> str:
        if tag.startswith("{"):
            uri, name = tag[1:].split("}", 1)
            if uri == MAIN_NS:
                return prefix + name
            p = decls.setdefault(uri, f"ns{len(decls)}")
            return f"{p}:{name}"
        return tag

    def ser(e: Element) -> str:
        inner_decls_before = dict(decls)
        name = qname(e.tag)
        attrs = "".join(f' {qname(k)}="{esc_attr(v)}"' for k, v in e.attrib.items())
        body = (esc_text(e.text) if e.text and e.text.strip() else "") + "".join(ser(c) for c in e)
        new = {u: p for u, p in decls.items() if u not in inner_decls_before}
        xmlns = "".join(f' xmlns:{p}="{esc_attr(u)}"' for u, p in new.items())
        for u in new:
            del decls[u]
        return f"<{name}{xmlns}{attrs}/>" if not body else f"<{name}{xmlns}{attrs}>{body}</{name}>"

    return ser(el)


@dataclass
class _Collection:
    """One list of styles.xml (fonts, fills, borders, xfs...) with an index by canonical form:
    an equal element already there is reused, a new one appended."""

    items: list[Element]
    index: dict[Canon, int] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for i, el in enumerate(self.items):
            self.index.setdefault(canonical(el), i)

    def find_or_add(self, el: Element, prefix: str) -> int:
        key = canonical(el)
        hit = self.index.get(key)
        if hit is not None:
            return hit
        pos = len(self.items) + len(self.added)
        self.added.append(serialize(el, prefix))
        self.index[key] = pos
        return pos


@dataclass
class StyleMerge:
    """Result of merging: the new styles.xml and the index maps for the generated parts."""

    xml: bytes
    changed: bool
    xf_map: list[int]      # generated cellXfs index -> merged index
    dxf_map: list[int]     # generated dxfs index -> merged index
    extra_dxf_ids: list[int]  # ids of the extra dxfs asked for, in order
    derived_xf_ids: list[int] = field(default_factory=list)  # ids of the derived xfs, in order


def _kids(root: Element, name: str) -> list[Element]:
    for el in root:
        if local(el.tag) == name:
            return [c for c in el if local(c.tag) == _ITEM[name]]
    return []


def is_date_format(num_fmt_id: int, code: str | None) -> bool:
    """Whether a number format shows dates or times: a built-in date id, or a custom code with
    y/m/d/h/s outside quoted text, escapes and [colour]/[$-locale] brackets."""
    if num_fmt_id in BUILTIN_DATE_IDS:
        return True
    if num_fmt_id < 164 or not code:
        return False
    bare = re.sub(r'"[^"]*"|\\.|_.|\*.|\[(?![hms]+\])[^\]]*\]', "", code.split(";")[0])
    return bool(re.search(r"[ymdhs]", bare, re.I)) and bare.strip().lower() != "general"


def cell_formats(styles_xml: bytes) -> list[tuple[int, str | None]]:
    """(numFmtId, custom format code or None) of every cell xf, by index."""
    root = parse_xml(styles_xml, "xl/styles.xml")
    codes = {int(e.get("numFmtId", "0")): e.get("formatCode") for e in _kids(root, "numFmts")}
    out = []
    for xf in _kids(root, "cellXfs"):
        nf = int(xf.get("numFmtId", "0"))
        out.append((nf, codes.get(nf)))
    return out


def merge_styles(dst_xml: bytes, gen_xml: bytes | None, extra_dxfs: list[Element],
                 derived_xfs: Sequence[tuple[int, str]] = ()) -> StyleMerge:
    """Merge *gen_xml* (may be None) and the *extra_dxfs* into *dst_xml*; add the
    *derived_xfs* ((existing cell xf index, number format code) pairs)."""
    dst = parse_xml(dst_xml, "xl/styles.xml")
    if dst.tag != f"{{{MAIN_NS}}}styleSheet":
        raise XlsxPatchError("xl/styles.xml: not a transitional SpreadsheetML stylesheet")
    text = decode_xml(dst_xml, "xl/styles.xml")
    start = root_start(text, "styleSheet")
    prefix = tag_prefix(start.group(2))

    cols = {name: _Collection(_kids(dst, name)) for name in _ITEM}
    xf_map: list[int] = []
    dxf_map: list[int] = []
    dst_fmt_ids = {int(e.get("numFmtId", "0")) for e in cols["numFmts"].items}
    by_code = {e.get("formatCode"): int(e.get("numFmtId", "0")) for e in cols["numFmts"].items}
    next_id = max([163, *dst_fmt_ids]) + 1

    def format_id(code: str) -> int:
        """Id of a custom format code: the existing one, else a fresh id >= 164."""
        nonlocal next_id
        if code not in by_code:
            new = Element(f"{{{MAIN_NS}}}numFmt", {"numFmtId": str(next_id), "formatCode": code})
            cols["numFmts"].added.append(serialize(new, prefix))
            by_code[code] = next_id
            next_id += 1
        return by_code[code]

    if gen_xml is not None:
        gen = parse_xml(gen_xml, "generated styles.xml")
        # number formats
        nf_map: dict[str, str] = {}
        for e in _kids(gen, "numFmts"):
            nf_map[e.get("numFmtId", "0")] = str(format_id(e.get("formatCode", "")))

        def simple(name: str, reserved: int) -> list[int]:
            out = []
            for i, el in enumerate(_kids(gen, name)):
                out.append(i if i < reserved and i < len(cols[name].items) else cols[name].find_or_add(el, prefix))
            return out

        font_map = simple("fonts", 1)
        fill_map = simple("fills", 2)
        border_map = simple("borders", 1)
        dxf_map = [cols["dxfs"].find_or_add(el, prefix) for el in _kids(gen, "dxfs")]

        def remap_xf(el: Element) -> Element:
            new = Element(el.tag, dict(el.attrib))
            new.extend(list(el))
            new.text = el.text
            for attr, table in (("fontId", font_map), ("fillId", fill_map), ("borderId", border_map)):
                if attr in new.attrib:
                    new.set(attr, str(table[int(new.get(attr, "0"))]))
            nf = new.get("numFmtId")
            if nf is not None and nf in nf_map:
                new.set("numFmtId", nf_map[nf])
            return new

        # cell style xfs, through the named styles that use them
        dst_styles = cols["cellStyles"].items
        gen_style_xfs = _kids(gen, "cellStyleXfs")
        sxf_map: dict[int, int] = {0: 0}
        for cs in _kids(gen, "cellStyles"):
            gid = int(cs.get("xfId", "0"))
            hit = next((d for d in dst_styles if cs.get("builtinId") is not None
                        and d.get("builtinId") == cs.get("builtinId")), None)
            hit = hit or next((d for d in dst_styles if d.get("name") == cs.get("name")), None)
            if hit is not None:
                sxf_map[gid] = int(hit.get("xfId", "0"))
            elif gid not in sxf_map and gid < len(gen_style_xfs):
                new_id = cols["cellStyleXfs"].find_or_add(remap_xf(gen_style_xfs[gid]), prefix)
                sxf_map[gid] = new_id
                new_cs = Element(f"{{{MAIN_NS}}}cellStyle", dict(cs.attrib))
                new_cs.set("xfId", str(new_id))
                cols["cellStyles"].added.append(serialize(new_cs, prefix))
        for i, el in enumerate(gen_style_xfs):
            if i not in sxf_map:
                sxf_map[i] = cols["cellStyleXfs"].find_or_add(remap_xf(el), prefix)

        for i, el in enumerate(_kids(gen, "cellXfs")):
            if i == 0:
                xf_map.append(0)
                continue
            new = remap_xf(el)
            if "xfId" in new.attrib:
                new.set("xfId", str(sxf_map.get(int(new.get("xfId", "0")), 0)))
            xf_map.append(cols["cellXfs"].find_or_add(new, prefix))

    extra_ids = [cols["dxfs"].find_or_add(el, prefix) for el in extra_dxfs]

    derived_ids = []
    base_xfs = cols["cellXfs"].items
    for base, code in derived_xfs:
        if not 0 <= base < len(base_xfs):
            raise XlsxPatchError(f"xl/styles.xml: no cell style {base}")
        el = base_xfs[base]
        new = Element(el.tag, dict(el.attrib))
        new.extend(list(el))
        new.text = el.text
        new.set("numFmtId", str(BUILTIN_FORMATS[code] if code in BUILTIN_FORMATS else format_id(code)))
        new.set("applyNumberFormat", "1")
        derived_ids.append(cols["cellXfs"].find_or_add(new, prefix))

    if not any(c.added for c in cols.values()):
        return StyleMerge(dst_xml, False, xf_map, dxf_map, extra_ids, derived_ids)

    content = text[start.end():]
    chunks, closing = split_children(content)
    for name in _ITEM:
        col = cols[name]
        if not col.added:
            continue
        count = len(col.items) + len(col.added)
        found = next((c for c in chunks if c.name == name), None)
        if found is None:
            insert_in_order(chunks, Chunk(name, f'<{prefix}{name} count="{count}">{"".join(col.added)}</{prefix}{name}>'),
                            STYLE_ORDER)
            continue
        m = re.match(r"<[^>]*?(/?)>", found.text)
        assert m is not None
        stag = m.group(0)
        if m.group(1):  # self-closing: <dxfs count="0"/>
            open_tag = set_attr(stag[:-2].rstrip() + ">", "count", str(count))
            found.text = f"{open_tag}{''.join(col.added)}</{prefix}{name}>"
        else:
            end = found.text.rindex("</")
            found.text = (set_attr(stag, "count", str(count)) + found.text[len(stag):end]
                          + "".join(col.added) + found.text[end:])
    out = text[: start.end()] + "".join(c.text for c in chunks) + closing
    return StyleMerge(out.encode("utf-8"), True, xf_map, dxf_map, extra_ids, derived_ids)
