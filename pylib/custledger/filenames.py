"""File names that are safe on Windows, macOS and Linux whatever a customer is called.

``safe_name(text)`` gives one path *component* (never a separator, never ``.`` or ``..``), by
these rules, in order:

1. Unicode NFC (macOS stores decomposed names; the same customer must give the same bytes);
2. characters forbidden on Windows ``< > : " / \\ | ? *``, control characters (U+0000–U+001F,
   U+007F–U+009F) and the Unicode line/paragraph separators become ``_``; runs of ``_`` and
   whitespace collapse to one, and so do runs of dots (the result never contains ``..``);
3. leading dots and spaces are dropped (a leading dot hides the file on macOS/Linux, and ``..``
   is how a path escapes its folder), and so are trailing dots and spaces (Windows drops them
   silently, so two names would collide);
4. a Windows reserved device name (CON, PRN, AUX, NUL, COM0–COM9, LPT0–LPT9, the superscript
   COM¹²³/LPT¹²³ forms, CONIN$, CONOUT$) as the part before the first dot, in any case, gets a
   ``_`` in front: ``CON.xlsx`` -> ``_CON.xlsx``;
5. the result is cut to ``max_bytes`` bytes of UTF-8 (255 is the limit of most file systems;
   the default leaves room for a folder path on Windows) at a character boundary, keeping the
   suffix (extension) when one is given separately;
6. an empty result becomes ``_``.

``unique_names(names)`` makes a list of safe names unique the way the file systems compare
them (case-insensitively after NFC, as on Windows and macOS by default): the second ``x`` is
``x (2)``, the third ``x (3)``, within the byte limit.
"""

from __future__ import annotations

import re
import unicodedata

FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f-\x9f\u2028\u2029]')
_RUNS = re.compile(r"[_\s]*_[_\s]*")
_SPACES = re.compile(r"\s+")
_DOTS = re.compile(r"\.{2,}")
RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{p}{d}" for p in ("COM", "LPT") for d in "0123456789¹²³"]
)
MAX_BYTES = 120


def _cut(text: str, limit: int) -> str:
    """The longest prefix of text whose UTF-8 encoding fits in limit bytes."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[:max(limit, 0)].decode("utf-8", errors="ignore")


def _clean(text: str) -> str:
    s = unicodedata.normalize("NFC", str(text or ""))
    s = FORBIDDEN.sub("_", s)
    s = _SPACES.sub(" ", s)
    s = _RUNS.sub("_", s)
    s = _DOTS.sub(".", s)
    return s.lstrip(". ").rstrip(". ")


def _unreserve(stem: str) -> str:
    head = stem.split(".", 1)[0].rstrip(" ").upper()
    return "_" + stem if head in RESERVED else stem


def safe_name(text, suffix: str = "", max_bytes: int = MAX_BYTES) -> str:
    """One safe path component from ``text`` (+ ``suffix`` such as ".xlsx", kept whole).

    See the module docstring for the rules. The suffix itself must be safe (it is checked).
    """
    if suffix and (FORBIDDEN.search(suffix) or suffix.endswith((".", " ")) or ".." in suffix):
        raise ValueError(f"unsafe suffix {suffix!r}")
    room = max_bytes - len(suffix.encode("utf-8"))
    if room < 1:
        raise ValueError("max_bytes leaves no room for a name")
    stem = _unreserve(_clean(text))
    stem = _cut(stem, room).rstrip(". ")  # the cut may expose a trailing dot or space
    if not stem or set(stem) <= {"."}:
        stem = "_"
    return stem + suffix


def unique_names(names, suffix: str = "", max_bytes: int = MAX_BYTES) -> list[str]:
    """``safe_name`` of each, made unique case-insensitively: ``x``, ``x (2)``, ``x (3)``, …"""
    seen: set[str] = set()
    out = []
    for text in names:
        name = safe_name(text, suffix, max_bytes)
        stem = name[: len(name) - len(suffix)] if suffix else name
        k = 1
        while _key(name) in seen:
            k += 1
            tag = f" ({k})"
            head = _cut(stem, max_bytes - len((tag + suffix).encode("utf-8"))).rstrip(". ") or "_"
            name = head + tag + suffix
        seen.add(_key(name))
        out.append(name)
    return out


def _key(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()
