"""Reading the Settings 参数 sheet: key/value rows, every key with a default (schema/settings.json).

A blank or missing key takes its default; an unknown key or an unreadable value is a warning
(the default is used), never an error: settings must not stop the books from being computed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..schema import norm_header, sheet
from .money import MoneyError, format_cents, to_cents
from .parse import BOOL_WORDS, LIST_SPLIT, col_letter, find_header, header_key, parse_date
from .problems import Problem

if TYPE_CHECKING:
    from .model import Settings

SPEC = sheet("settings")
SETTINGS_HEADER_ROWS = 10  # the key/value header is near the top: a title row or two above it


def _lookup() -> dict:
    table: dict = {}
    for f in SPEC.fields:
        for k in f.header_keys():
            table.setdefault(k, f.key)
    return table


def _column_positions(frame: pd.DataFrame) -> tuple[int, int, int]:
    """(header row index or -1, key column, value column): the header rule of core/parse.py
    (find_header, header_field) over the first SETTINGS_HEADER_ROWS rows; the upper row naming
    both the key and the value column is the header."""
    meta = SPEC.schema["x-sheet"]
    names: dict = {}
    for col, labels in meta["columns"].items():
        for v in [col, *labels.values(), *meta["column_aliases"].get(col, [])]:
            names.setdefault(header_key(v), col)
    rows = frame.iloc[:SETTINGS_HEADER_ROWS].to_numpy(dtype=object)
    found = find_header(rows, names, lambda fields: 0 if "key" in fields and "value" in fields else None)
    if found is None:
        return -1, 0, 1
    return found.index, found.fields["key"], found.fields["value"]


_VALIDATORS: dict = {}


def _surely_valid(rule: dict, value) -> bool:
    """True when ``value`` plainly meets a rule made only of the keywords Settings uses — type
    (string or integer), enum of strings, minimum, maximum, maxLength, pattern — read with
    jsonschema's own meaning of each (maxLength in code points, pattern by ``re.search``,
    bounds inclusive). False means "not sure", never "invalid": jsonschema then judges, and
    it alone says a value is wrong. Saves a run whose Settings are all fine the ~30 ms of
    importing jsonschema (issue 12); a test holds this to jsonschema's verdicts."""
    for word, arg in rule.items():
        if word == "type":
            ok = isinstance(value, str) if arg == "string" else (
                arg == "integer" and isinstance(value, int) and not isinstance(value, bool))
        elif word == "enum":
            ok = isinstance(value, str) and value in arg
        elif word in ("minimum", "maximum"):
            ok = (isinstance(value, int) and not isinstance(value, bool) and isinstance(arg, int)
                  and (value >= arg if word == "minimum" else value <= arg))
        elif word == "maxLength":
            ok = isinstance(value, str) and len(value) <= arg
        elif word == "pattern":
            ok = isinstance(value, str) and re.search(arg, value) is not None
        else:
            ok = False  # a keyword this does not read: jsonschema's to judge
        if not ok:
            return False
    return True


def _rule(key: str) -> dict:
    """The key's property in settings.json as a rule on its own (annotations dropped)."""
    return {k: v for k, v in SPEC.field(key).spec.items() if not k.startswith("x-") and k != "default"}


def _check(key: str, value) -> None:
    """``value`` against the key's property in settings.json (type, enum, minimum, maximum,
    pattern, maxLength) with jsonschema: the schema states the bounds, nothing here repeats them.
    A value _surely_valid affirms is not sent to jsonschema, which is imported only for the first
    value it must judge: a run whose Settings are all plainly fine never pays its import."""
    rule = _rule(key)
    if _surely_valid(rule, value):
        return
    validator = _VALIDATORS.get(key)
    if validator is None:
        from jsonschema import Draft202012Validator

        validator = _VALIDATORS[key] = Draft202012Validator(rule)
    if not validator.is_valid(value):
        raise ValueError(value)


def convert(key: str, text: str, check: bool = True):
    """Typed value of one setting from its text; raises ValueError when unreadable or outside
    the schema (``check=False``: the schema's own default, which a test holds valid)."""
    f = SPEC.field(key)
    spec, kind = f.spec, f.kind
    text = text.strip()
    if kind == "bool":
        v: Any = BOOL_WORDS.get(norm_header(text))
        if v is None:
            raise ValueError(text)
        return v
    if kind == "date":
        d, bad = parse_date(pd.Series([text], dtype=object))
        if bad.iloc[0] or pd.isna(d.iloc[0]):
            raise ValueError(text)
        return d.iloc[0].date()
    if kind == "tier_param":
        return text  # checked against the tier rules in read_settings
    if kind == "money":  # int cents through the one money doorway; never negative
        try:
            cents = to_cents(text)
        except MoneyError:
            raise ValueError(text) from None
        if cents is None or cents < 0:
            raise ValueError(text)
        return cents
    if kind in ("int_list", "float_list"):
        parts = [p for p in LIST_SPLIT.split(text) if p]
        vals = [int(float(p)) if kind == "int_list" else float(p) for p in parts]
        if not vals or any(b <= a for a, b in zip(vals, vals[1:])) or any(v < 0 for v in vals):
            raise ValueError(text)
        if kind == "float_list" and (len(vals) != 2 or vals[-1] > 1):
            raise ValueError(text)
        return tuple(vals)
    if spec.get("type") == "integer":
        v = float(text)
        if v != int(v):
            raise ValueError(text)
        v = int(v)
    elif "enum" in spec:
        v = text.lower()
    else:
        v = text
    if check:
        _check(key, v)
    return v


def schema_default(key: str):
    """The value applied when ``key`` is blank or missing: settings.json's default, converted by
    convert() (a blank default: None for a date, "" for text; a tier threshold stays text and is
    converted by core/tiers.TierParams). The one home of every Settings default."""
    f = SPEC.field(key)
    text = str(f.spec.get("default", ""))
    if not text.strip():
        return None if f.kind == "date" else ""
    return convert(key, text, check=False)


def _tier_param_ok(key: str, text: str) -> bool:
    """A tier threshold (core/tiers.TierParams) is kept only if the rules accept it."""
    from .model import Settings
    from .tiers import TierParams

    try:
        TierParams.from_settings(Settings(extra={key: text}))
        return True
    except (ValueError, TypeError, OverflowError):
        return False


def parse_settings(raw, lang_hint: str = "zh") -> tuple[Settings, list[dict]]:
    """``read_settings`` with its problems as rows of the Problems frame (dicts), their text in
    the resulting language: the shape this function has always returned."""
    settings, problems = read_settings(raw, lang_hint)
    return settings, [p.as_row(settings.language) for p in problems]


def read_settings(raw, lang_hint: str = "zh") -> tuple[Settings, list[Problem]]:
    """Settings from the raw sheet (or None) and Problems (warnings: a value not understood
    keeps its default, named in the text). Without a ``language`` row the language is
    ``lang_hint`` (load passes the language of the workbook's own sheet names, DESIGN.md)."""
    from .model import Settings  # model's defaults come from this module (schema_default)

    hint: dict[str, Any] = {"language": lang_hint} if lang_hint in ("zh", "en") else {}
    if raw is None or raw.frame.empty:
        return Settings(**hint), []
    frame = raw.frame
    hdr, kpos, vpos = _column_positions(frame)
    lookup = _lookup()
    values, pending, where = {}, [], {}
    for i in range(hdr + 1, len(frame)):
        key_text, val = frame.iat[i, kpos] if kpos < frame.shape[1] else None, None
        if vpos < frame.shape[1]:
            val = frame.iat[i, vpos]
        if not isinstance(key_text, str) or not key_text.strip():
            continue
        key = lookup.get(norm_header(key_text))
        row = raw.row0 + i
        if key is None:
            pending.append(("setting_unknown", row, col_letter(raw.col0 + kpos), key_text, None))
            continue
        if not isinstance(val, str) or not val.strip():
            continue
        try:
            values[key] = convert(key, val)
            where[key] = (row, col_letter(raw.col0 + vpos))
        except (ValueError, OverflowError):
            pending.append(("setting_bad", row, col_letter(raw.col0 + vpos), val, key))
    extra = {k: values.pop(k) for k in list(values) if SPEC.field(k).spec.get("x-group") == "tiers"}
    for key, text in list(extra.items()):
        if not _tier_param_ok(key, text):
            del extra[key]
            row, letter = where[key]
            pending.append(("setting_bad", row, letter, text, key))
    settings = Settings(**{**hint, **values}, extra=extra)
    lang = settings.language
    problems = []
    for code, row, letter, value, key in pending:
        column = SPEC.field(key).label(lang) if key else ""   # the setting's name as the workbook shows it
        default = SPEC.field(key).spec.get("default", "") if key else ""
        problems.append(Problem(raw.name, row, column, str(value), code, "warning", {"default": default},
                                cell=f"{letter}{row}", field=key or ""))
    return settings, problems


def settings_rows(settings: Settings | None = None) -> list[tuple[str, str, str, str]]:
    """(key, value text, zh description, en description) for the template's Settings sheet."""
    rows = []
    for f in SPEC.fields:
        value = f.spec.get("default", "")
        if settings is not None:
            v = getattr(settings, f.key)
            if isinstance(v, bool):
                value = "yes" if v else "no"
            elif f.kind == "money":
                value = format_cents(v, thousands=False)
            elif isinstance(v, tuple):
                value = ",".join(str(x) for x in v)
            elif v is None:
                value = ""
            else:
                value = str(v)
        rows.append((f.key, str(value), f.descriptions.get("zh", ""), f.descriptions.get("en", "")))
    return rows
