"""pyarrow where it is installed: whole-column string kernels for the large paths.

pyarrow is a dependency everywhere but Pyodide (xlwings Lite, pyproject: not on emscripten);
callers fall back to pandas / Python there, with the same results.
"""

from __future__ import annotations

import numpy as np


def arrow():
    """(pyarrow, pyarrow.compute), or (None, None) where pyarrow is not installed."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None, None
    return pa, pc


def string_bytes(arr) -> bytes:
    """The concatenated values of a pyarrow StringArray or LargeStringArray without nulls: a
    slice of its data buffer, b"" for no values (an array past 1 GiB is read with 64-bit offsets)."""
    pa = arrow()[0]
    if not len(arr):
        return b""
    arr = arr.cast(pa.large_string()) if arr.type == pa.string() and arr.nbytes > 2**30 else arr
    width = np.int64 if arr.type == pa.large_string() else np.int32
    offs = np.frombuffer(arr.buffers()[1], dtype=width)[arr.offset: arr.offset + len(arr) + 1]
    return bytes(memoryview(arr.buffers()[2])[offs[0]:offs[-1]])
