"""settings.json is the one home of every Settings default: the value applied when a key is blank,
missing or unreadable is exactly the schema's default, and a warning names that same value."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from custledger.core.model import Settings
from custledger.core.settings import SPEC, convert, parse_settings
from custledger.core.tiers import TierParams, _coerce
from custledger.io.reader import RawSheet

# A value of each kind that convert() refuses (and that is no default).
BAD = {"int_list": "3,2,1", "float_list": "0.9,0.5", "bool": "maybe", "date": "2026-13-45",
       "tier_param": "x,y", "integer": "-999999"}


def _sheet(rows) -> RawSheet:
    return RawSheet("参数", pd.DataFrame([["参数", "值"], *rows], dtype=object))


def _applied(settings: Settings, key: str):
    """What the code applies for ``key``: a Settings field, or a TierParams field for tier keys."""
    if SPEC.field(key).spec.get("x-group") == "tiers":
        return getattr(TierParams.from_settings(settings), key)
    return getattr(settings, key)


def _expected(key: str):
    f = SPEC.field(key)
    text = str(f.spec.get("default", ""))
    if not text:
        return None if f.kind == "date" else ""
    if f.kind == "tier_param":
        return _coerce(text, {fl.name: fl.default for fl in dataclasses.fields(TierParams)}[key])
    return convert(key, text)


KEYS = [f.key for f in SPEC.fields]


def test_every_schema_key_is_applied_somewhere_and_every_default_is_written():
    names = {f.name for f in dataclasses.fields(Settings)} | {f.name for f in dataclasses.fields(TierParams)}
    assert set(KEYS) <= names
    assert all("default" in f.spec for f in SPEC.fields)


@pytest.mark.parametrize("key", KEYS)
def test_missing_and_blank_keys_take_the_schemas_default(key):
    missing, problems = parse_settings(_sheet([]))
    blank, problems2 = parse_settings(_sheet([[key, "  "]]))
    assert problems == [] and problems2 == []
    want = _expected(key)
    assert _applied(Settings(), key) == want
    assert _applied(missing, key) == want and _applied(blank, key) == want
    assert type(_applied(blank, key)) is type(want)


@pytest.mark.parametrize("key", [k for k in KEYS if "enum" in SPEC.field(k).spec or SPEC.field(k).kind in BAD
                                 or SPEC.field(k).spec.get("type") == "integer"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_bad_value_warns_with_the_default_that_is_applied(key, lang):
    f = SPEC.field(key)
    bad = BAD.get(f.kind) or BAD.get(f.spec.get("type")) or "not-an-option"
    rows = [["language", lang], [key, bad]] if key != "language" else [[key, bad]]
    settings, problems = parse_settings(_sheet(rows))
    assert [p["code"] for p in problems] == ["setting_bad"]
    applied = _applied(settings, key)
    assert applied == _expected(key)
    default_text = str(f.spec["default"])
    assert default_text in problems[0]["problem"]
    # the text the warning names reads back as the applied value
    if f.kind != "tier_param" and default_text:
        assert convert(key, default_text) == applied


def test_the_rules_own_defaults_are_the_schemas():
    from custledger.core import aging
    assert aging.DEFAULT_BUCKETS == Settings().aging_buckets == _expected("aging_buckets")
    assert aging.DEFAULT_DUNNING == Settings().dunning_levels == _expected("dunning_levels")
    assert TierParams().abc_split == Settings().abc_split
    assert TierParams().tier_window_months == Settings().tier_window_months
