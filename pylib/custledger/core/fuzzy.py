"""Name similarity scores: rapidfuzz when it can be imported, else the same scores in pure Python.

Bank matching (core/bank.py) uses two scorers, both 0–100 floats exactly as rapidfuzz 3 defines
them, over queries × choices (:func:`cdist`):

* ``ratio`` — the normalized Indel similarity: ``(1 - indel / (len1 + len2)) * 100`` where
  ``indel = len1 + len2 - 2 * LCS`` (LCS = longest common subsequence); 100 for two empty
  strings.
* ``partial_ratio`` — the best ``ratio`` of the shorter string against the windows of the
  longer one that could hold an optimal alignment: the prefixes shorter than the needle, every
  window of the needle's length, and the suffixes shorter than it (rapidfuzz's short-needle
  algorithm, which is guaranteed optimal); for equal lengths both directions are tried; 100
  for two empty strings, 0 when only one is empty. (rapidfuzz switches to a heuristic for
  needles longer than 64 characters; names never are that long after normalization.)

Scores below ``score_cutoff`` are 0, as in rapidfuzz.

Why a fallback: rapidfuzz is a compiled extension; in xlwings Lite (Pyodide) or a locked-down
install it may be missing, and matching must then give the same answers, only slower. The
fallback keeps a 20,000-customer ledger usable: the LCS is the bit-parallel algorithm (one
big-integer pass per character), and with a cutoff only pairs whose character-overlap bound can
reach it are scored (an inverted index from character to choices, counted with numpy).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np


@cache
def rapidfuzz_modules():
    """(fuzz, process) of rapidfuzz, or None when it cannot be imported. Imported on first
    use, not with this module: most runs never score a name."""
    try:
        from rapidfuzz import fuzz, process
    except ImportError:
        return None
    return fuzz, process


# ---- pure Python scorers ---------------------------------------------------------------

def _pattern(s: str) -> dict:
    """Bit mask per character of s: bit i set where s[i] is that character."""
    block: dict = {}
    bit = 1
    for ch in s:
        block[ch] = block.get(ch, 0) | bit
        bit <<= 1
    return block


def _lcs(block: dict, len1: int, s2) -> int:
    """Length of the longest common subsequence of s1 (given as its bit masks) and s2
    (Hyyrö's bit-parallel algorithm: one addition per character of s2)."""
    if not len1:
        return 0
    mask = (1 << len1) - 1
    v = mask
    get = block.get
    for ch in s2:
        m = get(ch)
        if m:
            u = v & m
            v = ((v + u) | (v - u)) & mask
    return len1 - v.bit_count()


def _norm_sim(block: dict, len1: int, s2) -> float:
    total = len1 + len(s2)
    if not total:
        return 1.0
    dist = total - 2 * _lcs(block, len1, s2)
    return 1.0 - dist / total


def ratio(s1: str, s2: str, *, score_cutoff: float | None = None) -> float:
    """rapidfuzz.fuzz.ratio, in pure Python."""
    score = _norm_sim(_pattern(s1), len(s1), s2) * 100
    return score if score_cutoff is None or score >= score_cutoff else 0.0


def _partial_impl(s1: str, s2: str, cutoff: float) -> float:
    """Best normalized similarity (0–1) of s1 against windows of s2; assumes len(s1) <= len(s2)."""
    chars = set(s1)
    len1, len2 = len(s1), len(s2)
    block = _pattern(s1)
    best = 0.0
    for i in range(1, len1):  # prefixes shorter than the needle
        if s2[i - 1] in chars:
            sim = _norm_sim(block, len1, s2[:i])
            if sim >= cutoff and sim > best:
                best = cutoff = sim
                if best == 1:
                    return 1.0
    for i in range(len2 - len1):  # full-length windows
        if s2[i + len1 - 1] in chars:
            sim = _norm_sim(block, len1, s2[i:i + len1])
            if sim >= cutoff and sim > best:
                best = cutoff = sim
                if best == 1:
                    return 1.0
    for i in range(len2 - len1, len2):  # suffixes (the last full window included)
        if s2[i] in chars:
            sim = _norm_sim(block, len1, s2[i:])
            if sim >= cutoff and sim > best:
                best = cutoff = sim
                if best == 1:
                    return 1.0
    return best


def partial_ratio(s1: str, s2: str, *, score_cutoff: float | None = None) -> float:
    """rapidfuzz.fuzz.partial_ratio, in pure Python."""
    cutoff = (score_cutoff or 0) / 100
    if not s1 and not s2:
        return 100.0
    if not s1 or not s2:
        return 0.0
    shorter, longer = (s1, s2) if len(s1) <= len(s2) else (s2, s1)
    best = _partial_impl(shorter, longer, cutoff)
    if best != 1 and len(s1) == len(s2):
        best = max(best, _partial_impl(longer, shorter, max(cutoff, best)))
    score = best * 100
    return score if score >= (score_cutoff or 0) else 0.0


# ---- queries × choices -------------------------------------------------------------------

SCORERS = ("ratio", "partial_ratio")


class CharIndex:
    """Inverted index over choices: (character, k-th occurrence) → the choices holding it, so
    Σ over characters of min(count in query, count in choice) — an upper bound of the LCS —
    is one bincount per query over only the choices sharing a character with it."""

    def __init__(self, choices: Sequence[str]):
        self.choices = list(choices)
        self.lengths = np.fromiter(map(len, self.choices), dtype=np.int64, count=len(self.choices))
        keys: list = []
        owners: Any = []  # a list while collected, then an int32 array
        for j, c in enumerate(self.choices):
            for ch, k in Counter(c).items():
                for occ in range(1, k + 1):
                    keys.append((ch, occ))
                    owners.append(j)
        order: dict = {}
        codes = np.fromiter((order.setdefault(k, len(order)) for k in keys), dtype=np.int64, count=len(keys))
        owners = np.asarray(owners, dtype=np.int32)
        sort = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[sort], np.arange(len(order) + 1))
        owners = owners[sort]
        self.postings = {k: owners[bounds[c]:bounds[c + 1]] for k, c in order.items()}

    def overlap(self, queries: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(queries), len(self.choices)), dtype=np.int32)
        get = self.postings.get
        for i, q in enumerate(queries):
            hits = [p for ch, k in Counter(q).items() for occ in range(1, k + 1)
                    if (p := get((ch, occ))) is not None]
            if hits:
                out[i] = np.bincount(np.concatenate(hits), minlength=len(self.choices))
        return out

    def bound(self, queries: Sequence[str], scorer: str) -> np.ndarray:
        """Upper bound of each query × choice score."""
        qlen = np.fromiter(map(len, queries), dtype=np.int64, count=len(queries))[:, None]
        clen = self.lengths[None, :]
        ov = self.overlap(queries)
        if scorer == "ratio":  # ratio = 200·LCS/(l1+l2) ≤ 200·overlap/(l1+l2)
            bound = 200 * ov / np.maximum(qlen + clen, 1)
        else:  # any window w: 200·min(ov, |w|)/(m+|w|) is largest at |w| = ov
            bound = 200 * ov / np.maximum(np.minimum(qlen, clen) + ov, 1)
        # empty strings score 100 against each other; leave them to the exact scorer
        return np.where((qlen == 0) | (clen == 0), 100.0, bound)


def cdist(queries: Sequence[str], choices: Sequence[str], scorer: str = "ratio",
          score_cutoff: float = 0, index: CharIndex | None = None) -> np.ndarray:
    """Scores (float32, 0–100) of every query against every choice with ``scorer`` ("ratio" or
    "partial_ratio"); scores below ``score_cutoff`` are 0. The scorer is rapidfuzz's when it
    can be imported, else the pure-Python one above. With a cutoff, only the pairs whose
    character-overlap bound reaches it are scored (a name shares few characters with most
    names: this is what keeps a 20,000-customer ledger fast with either scorer); ``index`` =
    a :class:`CharIndex` of ``choices`` built once for several calls."""
    if scorer not in SCORERS:
        raise ValueError(scorer)
    queries, choices = list(queries), list(choices)
    out = np.zeros((len(queries), len(choices)), dtype=np.float32)
    if not queries or not choices:
        return out
    rf = rapidfuzz_modules()
    if rf is not None:
        fn = getattr(rf[0], scorer)
        if not score_cutoff:
            return rf[1].cdist(queries, choices, scorer=fn, dtype=np.float32, workers=1)
    else:
        fn = ratio if scorer == "ratio" else partial_ratio
        if not score_cutoff:
            for i, q in enumerate(queries):
                for j, c in enumerate(choices):
                    out[i, j] = fn(q, c)
            return out
    index = index if index is not None else CharIndex(choices)
    step = max(1, 4_000_000 // len(choices))  # bound matrices of ~4M cells at a time
    for start in range(0, len(queries), step):
        part = queries[start:start + step]
        for i, j in np.argwhere(index.bound(part, scorer) + 1e-9 >= score_cutoff):
            out[start + i, j] = fn(part[i], choices[j], score_cutoff=score_cutoff)
    return out


def within_one_edit(a: str, b: str) -> bool:
    """True when a and b differ by at most one inserted, deleted or replaced character."""
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la == lb:
        return a[i + 1:] == b[i + 1:]
    return a[i:] == b[i + 1:]
