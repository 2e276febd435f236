"""Zip layer of the xlsx patcher: a guarded reader and a writer that copies entries raw.

Rules:
- A source package is refused before anything is read from it when it declares more than
  ``ZipLimits.max_total_bytes`` uncompressed, more than ``max_entries`` entries, an entry
  whose compression ratio exceeds ``max_ratio`` (entries over 1 MiB only: small parts compress
  well and are harmless), an encrypted entry, a duplicate entry name, or a name that is
  absolute or climbs out of the package (``..``, backslashes, drive letters).
- Untouched entries are copied as their raw compressed bytes (no inflate/deflate), with their
  CRC, sizes, method and timestamp; rewritten entries are deflated while streaming.
- The writer produces plain (non-zip64) archives: an entry or an offset past 4 GiB is refused
  with :class:`XlsxPatchError` rather than written wrong.
"""
from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from custledger.io.xlsxpatch_errors import UnsafePackageError, XlsxPatchError

_LOCAL_SIG = 0x04034B50
_CENTRAL_SIG = 0x02014B50
_EOCD_SIG = 0x06054B50
_LOCAL_FMT = "<IHHHHHIIIHH"
_LOCAL_LEN = struct.calcsize(_LOCAL_FMT)  # 30
_MAX32 = 0xFFFFFFFF
_FLAG_UTF8 = 0x800
_DOS_EPOCH = (0 << 11, (1 << 5) | 1)  # 00:00:00, 1980-01-01 (as xlsxwriter writes)
CHUNK = 1 << 20


@dataclass(frozen=True)
class ZipLimits:
    """Zip-bomb guard for a source workbook (see module docstring)."""

    max_total_bytes: int = 2 << 30
    max_ratio: float = 200.0
    max_entries: int = 100_000
    ratio_floor_bytes: int = 1 << 20


def check_part_name(name: str) -> None:
    """Raise UnsafePackageError unless *name* is a relative path that stays in the package."""
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or (len(name) > 1 and name[1] == ":")
        or any(seg == ".." for seg in name.split("/"))
    ):
        raise UnsafePackageError(f"unsafe zip entry name {name!r}", "unsafe_entry_name", name=repr(name))


def open_source(path: Path, limits: ZipLimits) -> zipfile.ZipFile:
    """Open *path* as a zip and apply the guard; the caller closes it."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        with open(path, "rb") as fh:
            ole = fh.read(8) == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        why = "password-protected (encrypted) workbook or legacy .xls" if ole else str(exc)
        raise XlsxPatchError(f"{path}: not an xlsx/xlsm package ({why})") from exc
    try:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise UnsafePackageError(f"{path}: {len(infos)} zip entries (limit {limits.max_entries})",
                                     "unsafe_too_many_entries", count=f"{len(infos):,}", limit=f"{limits.max_entries:,}")
        seen: set[str] = set()
        total = 0
        for info in infos:
            check_part_name(info.filename)
            key = info.filename.lower()
            if key in seen:
                raise UnsafePackageError(f"{path}: duplicate zip entry {info.filename!r}", "unsafe_duplicate_entry",
                                         name=info.filename)
            seen.add(key)
            if info.flag_bits & 0x1:
                raise UnsafePackageError(f"{path}: encrypted zip entry {info.filename!r}", "unsafe_encrypted_entry",
                                         name=info.filename)
            total += info.file_size
            if info.file_size > limits.ratio_floor_bytes and (
                info.file_size > limits.max_ratio * max(info.compress_size, 1)
            ):
                ratio = f"{info.file_size / max(info.compress_size, 1):,.0f}"
                raise UnsafePackageError(
                    f"{path}: entry {info.filename!r} expands {ratio}x (limit {limits.max_ratio:,.0f}x)",
                    "unsafe_entry_expands", name=info.filename, ratio=ratio, limit=f"{limits.max_ratio:,.0f}")
        if total > limits.max_total_bytes:
            raise UnsafePackageError(
                f"{path}: declares {total} bytes uncompressed (limit {limits.max_total_bytes})",
                "unsafe_declares_bytes", total=f"{total:,}", limit=f"{limits.max_total_bytes:,}")
    except BaseException:
        zf.close()
        raise
    return zf


class Parts(Protocol):
    """What iter_chunks reads from: a ZipFile, or xlsxpatch's in-memory generated package."""

    def open(self, name: str) -> Any: ...


def iter_chunks(zf: Parts, name: str, size: int = CHUNK) -> Iterator[bytes]:
    """Yield the decompressed bytes of *name* in chunks (CRC checked at the end by zipfile)."""
    with zf.open(name) as fh:
        while chunk := fh.read(size):
            yield chunk


def _data_at(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """Where *info*'s compressed bytes start, after its local header (checked)."""
    fp = zf.fp
    assert fp is not None
    fp.seek(info.header_offset)
    head = fp.read(_LOCAL_LEN)
    if len(head) != _LOCAL_LEN or struct.unpack("<I", head[:4])[0] != _LOCAL_SIG:
        raise XlsxPatchError(f"corrupt zip: bad local header for {info.filename!r}")
    n_len, x_len = struct.unpack("<HH", head[26:30])
    return info.header_offset + _LOCAL_LEN + n_len + x_len


def _raw_blocks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, at: int | None = None) -> Iterator[bytes]:
    """The compressed bytes of *info* as stored, in blocks (``at``: where they start, if known)."""
    fp = zf.fp
    assert fp is not None
    at = _data_at(zf, info) if at is None else at
    left = info.compress_size
    while left:
        fp.seek(at)
        block = fp.read(min(CHUNK, left))
        if not block:
            raise XlsxPatchError(f"corrupt zip: {info.filename!r} is truncated")
        yield block
        at += len(block)
        left -= len(block)


def same_raw(a: zipfile.ZipFile, ia: zipfile.ZipInfo, b: zipfile.ZipFile, ib: zipfile.ZipInfo) -> bool:
    """Whether two entries hold the same compressed bytes with the same CRC, sizes and method:
    what one inflates to, so does the other (a part copied raw is checked against its source)."""
    if (ia.CRC, ia.compress_size, ia.file_size, ia.compress_type) != (ib.CRC, ib.compress_size, ib.file_size,
                                                                       ib.compress_type):
        return False
    return all(x == y for x, y in zip(_raw_blocks(a, ia), _raw_blocks(b, ib), strict=True))


def _dos_time(info: zipfile.ZipInfo) -> tuple[int, int]:
    y, mo, d, h, mi, s = info.date_time
    if y < 1980:
        return _DOS_EPOCH
    return (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d


class RawZipWriter:
    """Write a zip archive entry by entry: raw copies from a source zip, or streamed deflate."""

    def __init__(self, path: Path, compresslevel: int = 6) -> None:
        self._fh: BinaryIO = open(path, "wb")
        self._level = compresslevel
        self._central: list[bytes] = []
        self._names: set[str] = set()
        self.bytes_written = 0

    # -- entries -------------------------------------------------------------------------
    def _local_header(self, name: bytes, flags: int, method: int, time_date: tuple[int, int],
                      crc: int, csize: int, usize: int, version: int) -> bytes:
        return struct.pack(_LOCAL_FMT, _LOCAL_SIG, version, flags, method, time_date[0],
                           time_date[1], crc, csize, usize, len(name), 0) + name

    def _register(self, name: str) -> tuple[bytes, int]:
        check_part_name(name)
        if name.lower() in self._names:
            raise XlsxPatchError(f"internal error: zip entry {name!r} written twice")
        self._names.add(name.lower())
        try:
            return name.encode("ascii"), 0
        except UnicodeEncodeError:
            return name.encode("utf-8"), _FLAG_UTF8

    def _add_central(self, name: bytes, flags: int, method: int, time_date: tuple[int, int],
                     crc: int, csize: int, usize: int, version: int, offset: int,
                     external_attr: int) -> None:
        if max(csize, usize, offset) >= _MAX32:
            raise XlsxPatchError("workbook too large for this writer (entry or offset past 4 GiB)", "unsupported_too_large")
        self._central.append(
            struct.pack("<IHHHHHHIIIHHHHHII", _CENTRAL_SIG, 20, version, flags, method,
                        time_date[0], time_date[1], crc, csize, usize, len(name), 0, 0, 0, 0,
                        external_attr, offset) + name
        )

    def copy_raw(self, src: zipfile.ZipFile, info: zipfile.ZipInfo, name: str | None = None) -> None:
        """Copy *info* from *src* as its compressed bytes, unchanged (optionally renamed)."""
        raw_name, utf8 = self._register(name or info.filename)
        at = _data_at(src, info)
        flags = (info.flag_bits & ~(0x08 | _FLAG_UTF8)) | utf8
        version = max(info.extract_version, 20 if info.compress_type == zipfile.ZIP_DEFLATED else 10)
        version = min(version, 63)
        td = _dos_time(info)
        offset = self._fh.tell()
        self._fh.write(self._local_header(raw_name, flags, info.compress_type, td, info.CRC,
                                          info.compress_size, info.file_size, version))
        for block in _raw_blocks(src, info, at):
            self._fh.write(block)
        self._add_central(raw_name, flags, info.compress_type, td, info.CRC, info.compress_size,
                          info.file_size, version, offset, info.external_attr)

    def write_stream(self, name: str, chunks: Iterator[bytes] | list[bytes]) -> None:
        """Deflate the concatenation of *chunks* into a new entry *name*."""
        raw_name, flags = self._register(name)
        offset = self._fh.tell()
        self._fh.write(self._local_header(raw_name, flags, zipfile.ZIP_DEFLATED, _DOS_EPOCH,
                                          0, 0, 0, 20))
        comp = zlib.compressobj(self._level, zlib.DEFLATED, -15)
        crc = 0
        usize = 0
        csize = 0
        for chunk in chunks:
            if not chunk:
                continue
            crc = zlib.crc32(chunk, crc)
            usize += len(chunk)
            out = comp.compress(chunk)
            if out:
                self._fh.write(out)
                csize += len(out)
        out = comp.flush()
        self._fh.write(out)
        csize += len(out)
        if max(usize, csize) >= _MAX32:
            raise XlsxPatchError(f"part {name!r} too large for this writer (past 4 GiB)", "unsupported_too_large")
        end = self._fh.tell()
        self._fh.seek(offset + 14)
        self._fh.write(struct.pack("<III", crc, csize, usize))
        self._fh.seek(end)
        self._add_central(raw_name, flags, zipfile.ZIP_DEFLATED, _DOS_EPOCH, crc, csize, usize,
                          20, offset, 0)

    def write_bytes(self, name: str, data: bytes) -> None:
        self.write_stream(name, [data])

    # -- finish --------------------------------------------------------------------------
    def close(self) -> None:
        start = self._fh.tell()
        for rec in self._central:
            self._fh.write(rec)
        size = self._fh.tell() - start
        if len(self._central) >= 0xFFFF or start >= _MAX32:
            raise XlsxPatchError("workbook too large for this writer (zip64 needed)", "unsupported_too_large")
        self._fh.write(struct.pack("<IHHHHIIH", _EOCD_SIG, 0, 0, len(self._central),
                                   len(self._central), size, start, 0))
        self.bytes_written = self._fh.tell()
        self._fh.close()

    def abort(self) -> None:
        self._fh.close()
