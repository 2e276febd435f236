"""Package (OPC) plumbing for the xlsx patcher: relationships, content types, XML text helpers.

Parts we change are edited as text (splicing whole elements) rather than re-serialised from a
tree, so namespace declarations, ``mc:Ignorable`` prefixes and extension blocks written by
Excel survive byte for byte. Trees (defusedxml, DTDs forbidden) are only used to read.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from xml.etree.ElementTree import Element
from xml.parsers import expat

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from custledger.io.xlsxpatch_errors import UnsafePackageError, XlsxPatchError

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_MAIN_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
RT_OFFICE_DOC = R_NS + "/officeDocument"
RT_WORKSHEET = R_NS + "/worksheet"
RT_COMMENTS = R_NS + "/comments"
RT_VML = R_NS + "/vmlDrawing"
RT_CALC_CHAIN = R_NS + "/calcChain"
RT_STYLES = R_NS + "/styles"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'


# -- XML reading -----------------------------------------------------------------------------
def parse_xml(data: bytes, what: str) -> Element:
    """Parse *data* strictly: no DTD, no entities, no network."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise UnsafePackageError(f"{what}: refused XML ({exc.__class__.__name__})", "unsafe_refused_xml",
                                 part=what) from exc
    except SafeET.ParseError as exc:
        raise XlsxPatchError(f"{what}: malformed XML ({exc})") from exc


def check_well_formed(chunks: Iterable[bytes], what: str) -> None:
    """Raise XlsxPatchError unless the bytes form one well-formed, namespace-correct document
    without a DTD (streaming expat: about 130 MB/s, no tree is built)."""
    parser = expat.ParserCreate(namespace_separator=" ")

    def refuse(*_: object) -> None:
        raise XlsxPatchError(f"{what}: DTD in output")

    parser.StartDoctypeDeclHandler = refuse
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise XlsxPatchError(f"{what}: malformed XML ({exc})") from exc


def decode_xml(data: bytes, what: str) -> str:
    """Text of a UTF-8 part (the only encoding Excel writes); anything else is refused."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise XlsxPatchError(f"{what}: not UTF-8 encoded") from exc


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def esc_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc_attr(s: str) -> str:
    return esc_text(s).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")


_ENTITY = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def unescape(s: str) -> str:
    def rep(m: re.Match[str]) -> str:
        g = m.group(1)
        if g[0] == "#":
            return chr(int(g[2:], 16) if g[1] in "xX" else int(g[1:]))
        return _NAMED[g]

    return _ENTITY.sub(rep, s)


# -- XML text scanning -------------------------------------------------------------------------
# One tag, with quoted attribute values (which may hold '>'), or a comment / PI / CDATA.
TAG_RE = re.compile(
    r"<(/?)([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)"
    r"((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>"
    r"|<!--.*?-->|<\?.*?\?>|<!\[CDATA\[.*?\]\]>",
    re.S,
)
ATTR_RE = re.compile(r"([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


@dataclass
class Chunk:
    """A top-level piece of an element's content: an element (name = local name) or other text."""

    name: str | None
    text: str


def split_children(content: str) -> tuple[list[Chunk], str]:
    """Split the content of an element into top-level chunks.

    *content* runs from just after a start tag; scanning stops at the end tag that closes it,
    which is returned with everything after it as the second value.
    """
    chunks: list[Chunk] = []
    depth = 0
    start = 0
    pos = 0
    while True:
        m = TAG_RE.search(content, pos)
        if m is None:
            raise XlsxPatchError("malformed XML: unclosed element")
        if m.start() > pos and depth == 0:
            chunks.append(Chunk(None, content[pos:m.start()]))
        pos = m.end()
        if m.group(2) is None:  # comment / PI / CDATA
            if depth == 0:
                chunks.append(Chunk(None, m.group(0)))
            continue
        closing, selfclose = m.group(1) == "/", m.group(4) == "/"
        if depth == 0:
            if closing:
                return chunks, content[m.start():]
            start = m.start()
        if closing:
            depth -= 1
        elif not selfclose:
            depth += 1
        if depth == 0:
            chunks.append(Chunk(m.group(2).split(":")[-1], content[start:pos]))


def root_start(xml: str, local_name: str) -> re.Match[str]:
    """The start tag of the document element *local_name* (any prefix)."""
    for m in TAG_RE.finditer(xml):
        if m.group(2) is None:
            continue
        if m.group(2).split(":")[-1] != local_name or m.group(1):
            raise XlsxPatchError(f"expected <{local_name}> as document element, found <{m.group(2)}>")
        return m
    raise XlsxPatchError(f"no <{local_name}> element")


def tag_prefix(qname: str) -> str:
    """'x:sheets' -> 'x:', 'sheets' -> ''."""
    return qname[: qname.index(":") + 1] if ":" in qname else ""


def ns_prefix_for(start_tag: str, uri: str) -> str | None:
    """The prefix bound to *uri* on a start tag ('' for the default namespace), if any."""
    for m in ATTR_RE.finditer(start_tag):
        val = m.group(2) if m.group(2) is not None else m.group(3)
        if val == uri and m.group(1).startswith("xmlns"):
            return m.group(1)[6:]
    return None


def set_attr(tag: str, name: str, value: str) -> str:
    """Set attribute *name* on a start tag (text), adding it if absent."""
    pat = re.compile(r"(\s" + re.escape(name) + r"\s*=\s*)(\"[^\"]*\"|'[^']*')")
    if pat.search(tag):
        return pat.sub(lambda m: m.group(1) + '"' + esc_attr(value) + '"', tag, count=1)
    end = len(tag) - (2 if tag.endswith("/>") else 1)
    return tag[:end].rstrip() + f' {name}="{esc_attr(value)}"' + tag[end:]


def get_attr(tag: str, name: str) -> str | None:
    for m in ATTR_RE.finditer(tag):
        if m.group(1) == name:
            return unescape(m.group(2) if m.group(2) is not None else m.group(3))
    return None


def _rank(ch: Chunk, order: list[str]) -> int | None:
    if ch.name is None:
        return None
    if ch.name in order:
        return order.index(ch.name)
    # a wrapper such as mc:AlternateContent ranks as the first schema element inside it
    for m in TAG_RE.finditer(ch.text):
        if m.group(2) is not None and not m.group(1) and m.group(2).split(":")[-1] in order:
            return order.index(m.group(2).split(":")[-1])
    return None


def insert_in_order(chunks: list[Chunk], new: Chunk, order: list[str]) -> None:
    """Insert *new* before the first element that must follow it in the schema *order*."""
    rank = order.index(new.name)  # type: ignore[arg-type]
    for i, ch in enumerate(chunks):
        r = _rank(ch, order)
        if r is not None and r > rank:
            chunks.insert(i, new)
            return
    chunks.append(new)


# -- relationships ----------------------------------------------------------------------------
@dataclass
class Rel:
    """One relationship of a .rels part (target as written; ``external``: outside the package)."""

    id: str
    type: str
    target: str
    external: bool = False


def rels_name(part: str) -> str:
    """'xl/worksheets/sheet1.xml' -> 'xl/worksheets/_rels/sheet1.xml.rels' ('' = package)."""
    d, b = posixpath.split(part)
    return posixpath.join(d, "_rels", b + ".rels")


def rels_source(rels_part: str) -> str | None:
    """Inverse of rels_name; None if *rels_part* is not a relationships part."""
    d, b = posixpath.split(rels_part)
    if posixpath.basename(d) != "_rels" or not b.endswith(".rels"):
        return None
    return posixpath.join(posixpath.dirname(d), b[: -len(".rels")])


def parse_rels(data: bytes, what: str) -> list[Rel]:
    root = parse_xml(data, what)
    out = []
    for el in root:
        if local(el.tag) != "Relationship":
            continue
        out.append(Rel(el.get("Id", ""), el.get("Type", ""), el.get("Target", ""),
                       el.get("TargetMode", "Internal") == "External"))
    return out


def serialize_rels(rels: Iterable[Rel]) -> bytes:
    parts = [f'<Relationships xmlns="{PKG_REL_NS}">']
    for r in rels:
        mode = ' TargetMode="External"' if r.external else ""
        parts.append(f'<Relationship Id="{esc_attr(r.id)}" Type="{esc_attr(r.type)}" '
                     f'Target="{esc_attr(r.target)}"{mode}/>')
    parts.append("</Relationships>")
    return XML_DECL + "".join(parts).encode("utf-8")


def resolve_target(source_part: str, target: str) -> str | None:
    """Part name a relationship from *source_part* points to, or None if it leaves the package."""
    target = target.split("#", 1)[0]
    if not target:
        return None
    base = "" if source_part == "" else posixpath.dirname(source_part)
    path = target[1:] if target.startswith("/") else posixpath.join(base, target)
    norm = posixpath.normpath(path)
    if norm.startswith("../") or norm == ".." or norm.startswith("/") or "\\" in norm or norm == ".":
        return None
    return norm


def relative_target(source_part: str, target_part: str) -> str:
    return posixpath.relpath(target_part, posixpath.dirname(source_part) or ".")


def fresh_rel_id(rels: Iterable[Rel]) -> str:
    used = {r.id for r in rels}
    n = 1 + max((int(m.group(1)) for r in used if (m := re.fullmatch(r"rId(\d+)", r))), default=0)
    while f"rId{n}" in used:
        n += 1
    return f"rId{n}"


# -- content types ----------------------------------------------------------------------------
class ContentTypes:
    """[Content_Types].xml: Default (by extension) and Override (by part) entries, in order."""

    def __init__(self, data: bytes) -> None:
        root = parse_xml(data, "[Content_Types].xml")
        self.defaults: dict[str, str] = {}
        self.overrides: dict[str, str] = {}  # lower-case part name (no leading '/') -> type
        self._spelling: dict[str, str] = {}
        for el in root:
            if local(el.tag) == "Default":
                self.defaults[el.get("Extension", "").lower()] = el.get("ContentType", "")
            elif local(el.tag) == "Override":
                name = el.get("PartName", "").lstrip("/")
                self.overrides[name.lower()] = el.get("ContentType", "")
                self._spelling[name.lower()] = name
        self._initial = (dict(self.defaults), dict(self.overrides))

    @property
    def changed(self) -> bool:
        return (self.defaults, self.overrides) != self._initial

    def get(self, part: str) -> str | None:
        ct = self.overrides.get(part.lower())
        if ct is None:
            ct = self.defaults.get(posixpath.splitext(part)[1][1:].lower())
        return ct

    def set_override(self, part: str, ct: str) -> None:
        if self.overrides.get(part.lower()) != ct:
            self.overrides[part.lower()] = ct
            self._spelling[part.lower()] = part

    def ensure(self, part: str, ct: str) -> None:
        """Make *part* resolve to *ct*: a Default for its extension if free, else an Override."""
        ext = posixpath.splitext(part)[1][1:].lower()
        if self.get(part) == ct:
            return
        if ext and ext not in self.defaults and ext != "xml":
            self.defaults[ext] = ct
        else:
            self.set_override(part, ct)

    def remove(self, part: str) -> None:
        if self.overrides.pop(part.lower(), None) is not None:
            self._spelling.pop(part.lower(), None)

    def serialize(self) -> bytes:
        parts = [f'<Types xmlns="{CT_NS}">']
        for ext, ct in self.defaults.items():
            parts.append(f'<Default Extension="{esc_attr(ext)}" ContentType="{esc_attr(ct)}"/>')
        for key, ct in self.overrides.items():
            parts.append(f'<Override PartName="/{esc_attr(self._spelling[key])}" ContentType="{esc_attr(ct)}"/>')
        parts.append("</Types>")
        return XML_DECL + "".join(parts).encode("utf-8")
