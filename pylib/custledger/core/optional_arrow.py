"""pyarrow where it is installed: whole-column string kernels for the large paths.

pyarrow is a dependency everywhere but Pyodide (xlwings Lite, pyproject: not on emscripten);
callers fall back to pandas / Python there, with the same results.
"""

from __future__ import annotations


def arrow():
    """(pyarrow, pyarrow.compute), or (None, None) where pyarrow is not installed."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None, None
    return pa, pc
