"""The run's summary as plain text, the same characters rich prints, without importing rich.

rich (console, table, markup, emoji, highlighter: ~35 ms of imports) is what the command line
prints its summary with. When stdout is not a terminal (a script, a pipe, an Excel button's
subprocess, a test runner), rich prints a borderless two-column table and the notes as plain
lines: no colour, no markup when the text holds none. This module writes exactly those
characters for such a summary and returns None whenever rich could print anything else — a
terminal (colour, highlighting), an environment variable rich reads for colour or width, text
with markup or emoji codes, a line wider than the console, a character whose width is not
plainly 1 (ASCII) or 2 (East Asian wide) — so the caller lets rich print it. A test holds the
two equal over every summary label and message the package has (issue 12).
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata

# variables rich reads for colour, interactivity or width (COLUMNS is honoured below)
_RICH_ENV = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "LINES", "JUPYTER_LINES")
_MARKUP = re.compile(r"\[|:\S*?:")  # a markup tag, an escape or an emoji code: rich's to render
_NARROW = frozenset("→")            # East Asian ambiguous width, one cell in rich


def cells(text: str) -> int | None:
    """Terminal cells of ``text`` as rich counts them, or None for a character this module
    does not vouch for."""
    n = 0
    for ch in text:
        if " " <= ch <= "~" or ch in _NARROW:
            n += 1
        elif unicodedata.east_asian_width(ch) in ("W", "F") and not unicodedata.combining(ch) \
                and unicodedata.category(ch)[0] in "LPNS":
            n += 2
        else:
            return None
    return n


def _width(environ) -> int | None:
    columns = environ.get("COLUMNS")
    if columns is None:
        return 80
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


def plain_summary(rows: list[tuple[str, str]], lines: list[str], *, stream=None, environ=None) -> str | None:
    """What rich prints for ``Table(show_header=False, box=None)`` of ``rows`` followed by each
    of ``lines``, or None when rich's output could differ (see the module docstring)."""
    stream = sys.stdout if stream is None else stream
    environ = os.environ if environ is None else environ
    isatty = getattr(stream, "isatty", None)
    if isatty is None or isatty() or any(k in environ for k in _RICH_ENV):
        return None
    width = _width(environ)
    texts = [t for row in rows for t in row] + list(lines)
    if width is None or any(_MARKUP.search(t) or "\n" in t or "\r" in t or "\t" in t for t in texts):
        return None
    measured = [[(t, cells(t)) for t in row] for row in rows]
    if any(n is None for row in measured for _, n in row):
        return None
    sized = [[(t, int(n or 0)) for t, n in row] for row in measured]   # every n is an int here
    if not rows:
        return None
    widths = [max(row[i][1] for row in sized) for i in range(len(rows[0]))]
    if any(len(row) != len(widths) for row in rows) or min(widths) == 0 or sum(widths) + 2 * len(widths) > width:
        return None
    out = []
    for row in sized:
        out.append("".join(" " + t + " " * (w - n) + " " for (t, n), w in zip(row, widths)))
    for line in lines:
        n = cells(line)
        if n is None or n > width:
            return None
        out.append(line)
    return "".join(s + "\n" for s in out)
