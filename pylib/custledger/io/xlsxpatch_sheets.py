"""Streaming rewrites of worksheet XML for the xlsx patcher.

- Generated sheets (xlsxwriter output) are remapped while streaming, row block by row block:
  cell and row style indexes (``s="N"``), column styles, conditional-format dxf ids, shared
  strings turned into inline strings (so the target's sharedStrings part is never touched),
  and ``tabSelected`` dropped (the target workbook keeps its own selected tab; two selected
  tabs would open Excel with the sheets grouped).
- Input sheets are never parsed: ``find_tail`` returns the tail after ``</sheetData>`` for
  editing, and ``splice`` passes the sheet's bytes through with a few byte ranges replaced
  (the new tail; for appended rows, the dimension and the end of sheetData).
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence

from custledger.io.xlsxpatch_errors import XlsxPatchError

_SHEETDATA_END = re.compile(rb"</(?:[\w.\-]+:)?sheetData\s*>|<(?:[\w.\-]+:)?sheetData\s*/>")
_CELL_OR_ROW_S = re.compile(rb'(<c r="[A-Z]{1,3}[0-9]{1,7}" s="|<row [^>]*? s=")([0-9]+)"')
_COL_STYLE = re.compile(rb'(<col [^>]*? style=")([0-9]+)"')
_CF_DXF = re.compile(rb'(<cfRule [^>]*?dxfId=")([0-9]+)"')
_SST_CELL = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"( s="[0-9]+")? t="s"><v>([0-9]+)</v></c>')
_AFTER_HYPERLINKS = re.compile(rb"<(?:printOptions|pageMargins|pageSetup|headerFooter|drawing|legacyDrawing|"
                               rb"tableParts|extLst)[\s/>]")
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"\s*/>')
_SI = re.compile(rb"<si>(.*?)</si>|<si/>", re.S)


def search_sheetdata_end(data: bytes, start: int = 0) -> re.Match[bytes] | None:
    """The end of <sheetData> in *data*: a memchr-speed find, then the regex on a small window."""
    i = data.find(b"sheetData", start)
    while i >= 0:
        lo = max(data.rfind(b"<", 0, i), 0)
        m = _SHEETDATA_END.match(data, lo, i + 64)
        if m:
            return m
        i = data.find(b"sheetData", i + 9)
    return None


def find_tail(chunks: Iterable[bytes]) -> tuple[int, bytes]:
    """(length of the head ending with ``</sheetData>``, the bytes after it) of a sheet."""
    offset, carry, found, tail = 0, b"", -1, []
    for chunk in chunks:
        if found >= 0:
            tail.append(chunk)
            continue
        data = carry + chunk
        m = search_sheetdata_end(data)
        if m:
            found = offset - len(carry) + m.end()
            tail.append(data[m.end():])
        else:
            carry = data[-64:]
        offset += len(chunk)
    if found < 0:
        raise XlsxPatchError("worksheet without <sheetData>")
    return found, b"".join(tail)


class TailWatch:
    """The chunks of a worksheet part passed through unchanged, with ``find_tail``'s answer
    noted on the way: where the first ``</sheetData>`` (or ``<sheetData/>``) ends and the bytes
    after it. For pieces that never cut a tag (io/reader's ``_chunks``): the end tag is then
    whole in one piece. ``found()`` gives (head length, tail) once the part was read to its end;
    None before, for a part without sheetData, or when the bytes after it pass MAX_TAIL."""

    MAX_TAIL = 1 << 24

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks
        self._offset = 0
        self._head = -1
        self._tail: list[bytes] = []
        self._size = 0
        self._ended = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            if self._head < 0:
                m = search_sheetdata_end(chunk)
                if m:
                    self._head = self._offset + m.end()
                    self._keep(chunk[m.end():])
            else:
                self._keep(chunk)
            self._offset += len(chunk)
            yield chunk
        self._ended = True

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self.MAX_TAIL:
            self._tail.clear()   # too long to keep: found() says None
        else:
            self._tail.append(data)

    def found(self) -> tuple[int, bytes] | None:
        if not self._ended or self._head < 0 or self._size > self.MAX_TAIL:
            return None
        return self._head, b"".join(self._tail)


# What the read of a ledger learned of its worksheet parts, for the save of the same run:
# io/reader's sheet-extent guard reads every sheet part to its end (its CRC checked there) and
# notes its tail (TailWatch); the patcher looks a part up here before reading it again only to
# find that tail: ~7 ms of a small ledger's validate, ~0.35 s of a 15,000-customer close. A
# part is known by the file's real path and the zip entry's name, CRC, sizes and offset: the
# same entry of the same file is the same bytes. Only the book read last is kept.
_KNOWN_TAILS: dict[tuple, tuple[int, bytes]] = {}


def _tail_key(path, info) -> tuple:
    return (os.path.realpath(path), info.filename, info.CRC, info.compress_size, info.file_size, info.header_offset)


def remember_tail(path, info, found: tuple[int, bytes]) -> None:
    """Note ``found`` (TailWatch.found) for the zip entry ``info`` of the file at ``path``."""
    _KNOWN_TAILS[_tail_key(path, info)] = found


def known_tail(path, info) -> tuple[int, bytes] | None:
    """find_tail's answer for the zip entry ``info`` of ``path``, if the last read noted it."""
    return _KNOWN_TAILS.get(_tail_key(path, info))


def forget_tails() -> None:
    _KNOWN_TAILS.clear()


def splice(chunks: Iterable[bytes], edits: Sequence[tuple[int, int | None, bytes]]) -> Iterator[bytes]:
    """The bytes of *chunks* with each range ``[start, end)`` replaced by its bytes (``end``
    None: to the end of the part), streaming; the ranges must not overlap."""
    todo = sorted(edits, key=lambda e: e[0])
    k, pos, skip_to = 0, 0, 0
    end_of_part = -1
    for chunk in chunks:
        base, i, n = pos, pos, pos + len(chunk)
        pos = n
        while i < n:
            if end_of_part >= 0 or i < skip_to:
                i = n if end_of_part >= 0 else min(skip_to, n)
                continue
            if k < len(todo) and todo[k][0] < n:
                start, end, rep = todo[k]
                if start < i:
                    raise XlsxPatchError("internal error: overlapping edits of a worksheet")
                if start > i:
                    yield chunk[i - base:start - base]
                yield rep
                k += 1
                if end is None:
                    end_of_part = start
                else:
                    skip_to = end
                i = start
            else:
                yield chunk[i - base:]
                i = n
    for start, end, rep in todo[k:]:
        if start != pos or end not in (None, pos):
            raise XlsxPatchError("worksheet shorter than on the first read")
        yield rep
    if skip_to > pos:
        raise XlsxPatchError("worksheet shorter than on the first read")


_ROOT_TAG = re.compile(rb"<(?:[\w.\-]+:)?worksheet\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")


def root_tag(head: bytes) -> bytes:
    """The XML declaration and ``<worksheet ...>`` start tag at the start of a sheet."""
    m = _ROOT_TAG.search(head)
    if m is None:
        raise XlsxPatchError("worksheet without a <worksheet> start tag in its first 64 KiB")
    return head[: m.end()]


def shared_strings(data: bytes | None) -> list[bytes]:
    """Inner XML of each ``<si>`` of an xlsxwriter sharedStrings part (valid CT_Rst for ``<is>``)."""
    if not data:
        return []
    return [m.group(1) or b"" for m in _SI.finditer(data)]


class GeneratedSheetRewriter:
    """Rewrite one xlsxwriter worksheet for the target workbook, streaming."""

    def __init__(self, xf_map: list[int], dxf_map: list[int], sst: list[bytes], rows=None) -> None:
        """``rows``: a columnar body (io/columnar.ColumnarBody) whose data rows go in before
        ``</sheetData>``, styles mapped to the target here (its cells are inline strings)."""
        self.rows = rows
        self.xf_map = xf_map
        self.xf = {str(i).encode(): str(j).encode() for i, j in enumerate(xf_map)}
        self.xf_identity = all(i == j for i, j in enumerate(xf_map))
        self.dxf = {str(i).encode(): str(j).encode() for i, j in enumerate(dxf_map)}
        self.sst = sst
        self.has_formulas = False

    def _xf(self, m: re.Match[bytes]) -> bytes:
        try:
            return m.group(1) + self.xf[m.group(2)] + b'"'
        except KeyError:
            raise XlsxPatchError(f"generated sheet uses unknown style {m.group(2).decode()}") from None

    def _dxf(self, m: re.Match[bytes]) -> bytes:
        return m.group(1) + self.dxf.get(m.group(2), m.group(2)) + b'"'

    def _inline(self, m: re.Match[bytes]) -> bytes:
        return b'<c r="%s"%s t="inlineStr"><is>%s</is></c>' % (
            m.group(1), m.group(2) or b"", self.sst[int(m.group(3))])

    def head(self, data: bytes) -> bytes:
        data = data.replace(b' tabSelected="1"', b"")
        if self.rows is not None:   # the used range covers the rows added below
            data = _DIMENSION.sub(b'<dimension ref="A1:' + self.rows.last_ref().encode() + b'"/>', data, count=1)
        return _COL_STYLE.sub(self._xf, data)

    def _target_xf(self, fmt) -> int | None:
        idx = getattr(fmt, "xf_index", None)
        return None if idx is None else self.xf_map[idx]

    def _columnar(self, end: bytes) -> Iterator[bytes]:
        """The columnar rows, then the end of sheetData (``<sheetData/>`` opened and closed)."""
        if end.endswith(b"/>"):
            yield end[:-2].rstrip() + b">"
            end = b"</sheetData>"
        yield from self.rows.chunks(self._target_xf)
        yield end

    def body(self, data: bytes) -> bytes:
        if not self.has_formulas and (b"<f>" in data or b"<f " in data):
            self.has_formulas = True
        if b' t="s">' in data:
            expected = data.count(b' t="s">')
            data, n = _SST_CELL.subn(self._inline, data)
            if n != expected:
                raise XlsxPatchError("generated sheet: unexpected shared-string cell layout")
        if not self.xf_identity:
            data = _CELL_OR_ROW_S.sub(self._xf, data)
        return data

    def tail(self, data: bytes) -> bytes:
        data = _CF_DXF.sub(self._dxf, data)
        links = self.rows.hyperlinks_xml() if self.rows is not None else b""
        if links:   # in schema order: before printOptions / pageMargins
            m = _AFTER_HYPERLINKS.search(data)
            if m is None:
                raise XlsxPatchError("generated sheet: no place for its hyperlinks")
            data = data[:m.start()] + links + data[m.start():]
        return data

    def rewrite(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        buf = b""
        state = "head"
        for chunk in chunks:
            buf += chunk
            if state == "head":
                i = buf.find(b"<sheetData")
                if i < 0:
                    continue
                yield self.head(buf[:i])
                buf, state = buf[i:], "body"
            if state == "body":
                m = search_sheetdata_end(buf)
                if m and self.rows is not None:
                    yield self.body(buf[: m.start()])
                    yield from self._columnar(m.group(0))
                    buf, state = buf[m.end():], "tail"
                elif m:
                    yield self.body(buf[: m.end()])
                    buf, state = buf[m.end():], "tail"
                else:
                    k = buf.rfind(b"</row>")
                    if k >= 0:
                        yield self.body(buf[: k + 6])
                        buf = buf[k + 6:]
        if state != "tail":
            raise XlsxPatchError("generated sheet without <sheetData>")
        yield self.tail(buf)


_IDMAP = re.compile(rb'(<[\w.\-]+:idmap\b[^>]*?\bdata\s*=\s*")([0-9,]+)"')
_SHAPE_ID = re.compile(rb"_x0000_s([0-9]+)")


def renumber_vml(data: bytes, block: int) -> bytes:
    """Move a VML drawing's shapes to shape-id block *block* (ids block*1024 + n)."""
    data = _IDMAP.sub(lambda m: m.group(1) + str(block).encode() + b'"', data, count=1)
    return _SHAPE_ID.sub(lambda m: b"_x0000_s%d" % (block * 1024 + int(m.group(1)) % 1024), data)


def vml_blocks(data: bytes) -> set[int]:
    """Shape-id blocks a VML drawing claims (its o:idmap data)."""
    out: set[int] = set()
    for m in _IDMAP.finditer(data):
        out |= {int(x) for x in m.group(2).split(b",") if x.strip()}
    return out
