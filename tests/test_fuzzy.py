"""core/fuzzy.py: the pure-Python scorers give exactly rapidfuzz's scores, so bank matching
answers the same with or without rapidfuzz installed."""

from __future__ import annotations

import builtins
import importlib
import random
import sys

import numpy as np
import pytest

from custledger.core import fuzzy

rapidfuzz = pytest.importorskip("rapidfuzz")
from rapidfuzz import fuzz, process  # noqa: E402

from custledger.core.names import normalize_name  # noqa: E402
from test_bank_match import CUSTOMERS, LINES  # noqa: E402

_ALPHABET = list("恒昌机电杭州苏华为技术锦城程鼎胜盛食品联创武汉厦门科分公司") + list("abcde ")


def _pairs(seed: int, n: int):
    rnd = random.Random(seed)
    for _ in range(n):
        a = "".join(rnd.choice(_ALPHABET) for _ in range(rnd.randint(0, 14)))
        if rnd.random() < 0.5:  # b derived from a: the near pairs bank matching meets
            b = list(a)
            for _ in range(rnd.randint(0, 3)):
                op = rnd.random()
                pos = rnd.randint(0, len(b))
                if op < 0.4 and b:
                    del b[min(pos, len(b) - 1)]
                elif op < 0.7:
                    b.insert(pos, rnd.choice(_ALPHABET))
                elif b:
                    b[min(pos, len(b) - 1)] = rnd.choice(_ALPHABET)
            b = "".join(rnd.choice(_ALPHABET) for _ in range(rnd.randint(0, 4))) + "".join(b)
        else:
            b = "".join(rnd.choice(_ALPHABET) for _ in range(rnd.randint(0, 14)))
        yield a, b


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pure_python_scores_equal_rapidfuzz(seed):
    for a, b in _pairs(seed, 4000):
        assert fuzzy.ratio(a, b) == fuzz.ratio(a, b), (a, b)
        assert fuzzy.partial_ratio(a, b) == fuzz.partial_ratio(a, b), (a, b)
        for cut in (50, 90):
            assert fuzzy.ratio(a, b, score_cutoff=cut) == fuzz.ratio(a, b, score_cutoff=cut), (a, b)
            assert fuzzy.partial_ratio(a, b, score_cutoff=cut) == fuzz.partial_ratio(a, b, score_cutoff=cut)


def test_scores_on_the_bank_test_names(monkeypatch):
    names = sorted({normalize_name(c[1]) for c in CUSTOMERS} | {normalize_name(x) for c in CUSTOMERS
                                                                  for x in c[2].split(";") if x})
    payers = sorted({normalize_name(line[0]) for line in LINES})
    for scorer, ours in ((fuzz.ratio, "ratio"), (fuzz.partial_ratio, "partial_ratio")):
        for cut in (0, 60, 90, 100):
            want = process.cdist(payers, names, scorer=scorer, dtype=np.float32, workers=1,
                                 score_cutoff=cut or None)
            with_rf = fuzzy.cdist(payers, names, ours, cut)  # rapidfuzz, pruned by the bound
            with monkeypatch.context() as m:
                m.setattr(fuzzy, "rapidfuzz_modules", lambda: None)
                pure = fuzzy.cdist(payers, names, ours, cut)
            np.testing.assert_array_equal(with_rf, want)
            np.testing.assert_array_equal(pure, want)


def test_edge_cases():
    for a, b in [("", ""), ("", "a"), ("a", ""), ("abc", "abc"), ("华为", "北京华为技术"), ("ab", "ba")]:
        assert fuzzy.ratio(a, b) == fuzz.ratio(a, b)
        assert fuzzy.partial_ratio(a, b) == fuzz.partial_ratio(a, b)
    assert fuzzy.within_one_edit("锦城科技", "锦程科技")
    assert fuzzy.within_one_edit("鼎胜食品", "鼎胜食品厂") and fuzzy.within_one_edit("鼎胜食品", "胜食品")
    assert not fuzzy.within_one_edit("锦城科技", "程锦科技")  # two replacements
    assert not fuzzy.within_one_edit("abc", "bca")
    with pytest.raises(ValueError):
        fuzzy.cdist(["a"], ["b"], "WRatio")


def test_bank_matching_runs_without_rapidfuzz(monkeypatch):
    """With rapidfuzz impossible to import, core/bank.py imports and matches the labelled set
    exactly as with it."""
    from custledger.core import bank
    from test_bank_match import _customers, _lines, _receipts
    with_rf = bank.match_bank(_lines(), _customers(), _receipts())

    real_import = builtins.__import__

    def blocked(name, *args, **kw):
        if name == "rapidfuzz" or name.startswith("rapidfuzz."):
            raise ImportError("blocked for the test")
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", blocked)
    for mod in [m for m in sys.modules if m == "rapidfuzz" or m.startswith("rapidfuzz.")]:
        monkeypatch.delitem(sys.modules, mod)
    fuzzy.rapidfuzz_modules.cache_clear()
    try:
        assert fuzzy.rapidfuzz_modules() is None
        reloaded = importlib.reload(bank)
        without = reloaded.match_bank(_lines(), _customers(), _receipts())
    finally:
        fuzzy.rapidfuzz_modules.cache_clear()
    import pandas as pd
    pd.testing.assert_frame_equal(with_rf, without)
