"""Errors raised by the xlsx patcher (io/xlsxpatch*.py)."""
from __future__ import annotations


class XlsxPatchError(Exception):
    """The workbook could not be patched; the message says why, naming the part or sheet."""


class UnsafePackageError(XlsxPatchError):
    """The source package is refused: zip-bomb limits, unsafe part names, or XML with DTDs."""


class TableNameError(XlsxPatchError):
    """A generated table's name is already used by a table or defined name elsewhere."""
