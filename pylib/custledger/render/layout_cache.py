"""A template's Layout kept between runs, so that a close does not load openpyxl at all.

Reading a template (template_fill.read_layout) imports openpyxl (~0.12 s) and parses the file
(~25 ms), on every run that writes statements or letters, for a file that rarely changes. The
Layout is plain data, so it is kept as JSON (never pickle: the folder is the user's, and JSON
cannot run code) in the user's cache folder, under a key made of everything it depends on: the
template's bytes, the regions and header texts asked for, and the source of template_fill.py
(a change of the reading code makes a new key). A missing, unreadable or stale entry is read
from the template again; a cache that cannot be written is skipped silently: it only saves time.

Folder: ``CUSTLEDGER_CACHE_DIR`` if set, else ``%LOCALAPPDATA%\\custledger\\cache`` on Windows,
``$XDG_CACHE_HOME/custledger`` or ``~/.cache/custledger`` elsewhere; entries in ``layouts/``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
import tempfile
from functools import cache
from pathlib import Path

from . import template_fill as tf

FORMAT = 1  # of the JSON below; a change makes new keys


def cache_dir() -> Path:
    explicit = os.environ.get("CUSTLEDGER_CACHE_DIR")
    if explicit:
        return Path(explicit)
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "custledger" / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "custledger"


@cache
def _code_key() -> bytes:
    return hashlib.sha256(Path(tf.__file__).read_bytes()).digest()


def _key(data: bytes, regions, headers) -> str:
    h = hashlib.sha256()
    h.update(str(FORMAT).encode())
    h.update(_code_key())
    h.update(json.dumps([list(regions), headers], sort_keys=True, ensure_ascii=False, default=str).encode())
    h.update(data)
    return h.hexdigest()


class _NotPlain(TypeError):
    """A template value JSON cannot hold exactly: that layout is not kept."""


def _value(v):
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    if isinstance(v, dt.datetime):
        return {"datetime": v.isoformat()}
    if isinstance(v, dt.date):
        return {"date": v.isoformat()}
    if isinstance(v, dt.time):
        return {"time": v.isoformat()}
    if isinstance(v, dt.timedelta):
        return {"timedelta": [v.days, v.seconds, v.microseconds]}
    raise _NotPlain(type(v).__name__)


def _unvalue(v):
    if not isinstance(v, dict):
        return v
    kind, x = next(iter(v.items()))
    if kind == "datetime":
        return dt.datetime.fromisoformat(x)
    if kind == "date":
        return dt.date.fromisoformat(x)
    if kind == "time":
        return dt.time.fromisoformat(x)
    return dt.timedelta(*x)


def _tuple(x):
    return tuple(x) if isinstance(x, list) else x


def to_json(layout: tf.Layout) -> dict:
    """The Layout as JSON-able data (dict keys that are numbers as lists of pairs)."""
    for props in layout.styles:
        for v in props.values():
            if not isinstance(v, (str, bool, int, float)):
                raise _NotPlain(type(v).__name__)
    return {
        "sheet": layout.sheet,
        "rows": [[r, [[c, _value(v), s] for c, v, s in cells]] for r, cells in layout.rows.items()],
        "styles": layout.styles,
        "col_widths": [[c, list(w)] for c, w in layout.col_widths.items()],
        "row_heights": [[r, list(h)] for r, h in layout.row_heights.items()],
        "default_row_height": layout.default_row_height,
        "merges": [list(m) for m in layout.merges],
        "names": [[n, list(pos)] for n, pos in layout.names.items()],
        "regions": [{"name": g.name, "r0": g.r0, "r1": g.r1, "c0": g.c0, "c1": g.c1,
                     "columns": [[c, k] for c, k in g.columns.items()], "column_names": g.column_names}
                    for g in layout.regions],
        "page": {k: (list(v) if isinstance(v, tuple) else v) for k, v in layout.page.items()},
    }


def from_json(d: dict) -> tf.Layout:
    return tf.Layout(
        sheet=d["sheet"],
        rows={r: [(c, _unvalue(v), s) for c, v, s in cells] for r, cells in d["rows"]},
        styles=d["styles"],
        col_widths={c: tuple(w) for c, w in d["col_widths"]},
        row_heights={r: tuple(h) for r, h in d["row_heights"]},
        default_row_height=d["default_row_height"],
        merges=[tuple(m) for m in d["merges"]],
        names={n: tuple(pos) for n, pos in d["names"]},
        regions=[tf.Region(g["name"], g["r0"], g["r1"], g["c0"], g["c1"], {c: k for c, k in g["columns"]},
                           g["column_names"]) for g in d["regions"]],
        page={k: _tuple(v) for k, v in d["page"].items()},
    )


def cached_layout(path, regions=(), headers: dict | None = None) -> tf.Layout:
    """template_fill.read_layout(path, regions, headers), from the cache when it holds it."""
    data = Path(path).read_bytes()
    try:
        entry = cache_dir() / "layouts" / f"{_key(data, regions, headers)}.json"
    except (OSError, RuntimeError, KeyError):  # no home folder to keep it in
        return tf.read_layout(data, regions=regions, headers=headers)
    try:
        return from_json(json.loads(entry.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        pass  # not there yet, or unreadable: read the template
    layout = tf.read_layout(data, regions=regions, headers=headers)
    try:
        text = json.dumps(to_json(layout), ensure_ascii=False)
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
    except (OSError, _NotPlain, ValueError):
        return layout
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, entry)   # whole or not at all: another process may read it meanwhile
    except OSError:
        Path(tmp).unlink(missing_ok=True)
    return layout
