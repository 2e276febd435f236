"""Safe, unique file names: the rules live in custledger/filenames.py (neutral ground: render
names the files it writes without importing io); this module keeps the old import path."""

from ..filenames import MAX_BYTES, RESERVED, safe_name, unique_names  # noqa: F401
