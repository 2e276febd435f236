"""The schema at runtime: every schema file is valid JSON Schema 2020-12, Settings values are
checked by jsonschema against settings.json, and jsonschema is loaded only when there are values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

import custledger.schema
from custledger.core import settings as settings_mod
from custledger.core.settings import SPEC, parse_settings
from custledger.io.reader import RawSheet

SCHEMA_DIR = Path(custledger.schema.__file__).resolve().parent
SCHEMA_FILES = sorted(p for p in SCHEMA_DIR.glob("*.json") if "$schema" in json.loads(p.read_text(encoding="utf-8")))


def test_the_input_sheet_files_are_all_found():
    names = {p.stem for p in SCHEMA_FILES}
    assert {"customers", "invoices", "receipts", "interactions", "payers", "settings"} <= names


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_schema_file_is_valid_against_the_2020_12_metaschema(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(doc)
    # and each property's default satisfies its own rule (a default is never a bad value)
    for key, prop in doc.get("properties", {}).items():
        if "default" in prop:
            rule = {k: v for k, v in prop.items() if not k.startswith("x-")}
            assert jsonschema.Draft202012Validator(rule).is_valid(prop["default"]), (path.name, key)


def _sheet(rows) -> RawSheet:
    return RawSheet("参数", pd.DataFrame([["参数", "值"], *rows], dtype=object))


@pytest.mark.parametrize("key, bad", [
    ("default_terms", "3651"), ("default_terms", "-1"), ("default_terms", "30.5"), ("match_threshold", "101"),
    ("backup_keep", "0"), ("tier_window_months", "121"), ("aging_basis", "whenever"), ("language", "fr"),
    ("currency", "rmb1"), ("company_name", "甲" * 5000),
])
def test_values_outside_the_schema_warn_and_take_the_default(key, bad):
    spec = SPEC.field(key).spec
    if key == "company_name" and "maxLength" not in spec:
        pytest.skip("company_name has no maxLength in settings.json")
    settings, problems = parse_settings(_sheet([[key, bad]]))
    assert [p["code"] for p in problems] == ["setting_bad"]
    assert problems[0]["severity"] == "warning"
    assert getattr(settings, key) == settings_mod.schema_default(key)


@pytest.mark.parametrize("key, text, value", [
    ("default_terms", "3650", 3650), ("default_terms", "0", 0), ("backup_keep", "1", 1),
    ("aging_basis", "Invoice_Date", "invoice_date"), ("currency", "USD", "USD"), ("language", "EN", "en"),
])
def test_values_inside_the_schema_are_kept(key, text, value):
    settings, problems = parse_settings(_sheet([[key, text]]))
    assert problems == [] and getattr(settings, key) == value


def _modules_after(code: str) -> set:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True, timeout=120)
    return set(out.stdout.split())


def test_jsonschema_is_imported_only_when_a_value_needs_its_judgement():
    setup = ("import pandas as pd\nfrom custledger.core.settings import parse_settings\n"
             "from custledger.io.reader import RawSheet\n")
    empty = setup + "parse_settings(RawSheet('参数', pd.DataFrame([['参数', '值'], ['as_of', None]], dtype=object)))\n" \
                    "parse_settings(None)"
    plain = setup + ("parse_settings(RawSheet('参数', pd.DataFrame([['参数', '值'], ['default_terms', '45'], "
                     "['company_name', '杭州启明工贸有限公司'], ['language', 'EN'], ['currency', 'USD']], dtype=object)))")
    bad = setup + "parse_settings(RawSheet('参数', pd.DataFrame([['参数', '值'], ['default_terms', '4500']], dtype=object)))"
    assert "jsonschema" not in _modules_after(empty)
    assert "jsonschema" not in _modules_after(plain)   # every value plainly inside its rule
    assert "jsonschema" in _modules_after(bad)         # a value outside it: jsonschema says so


def _candidates(rule: dict) -> list:
    """Values around every bound of ``rule``: its default, each enum member in other cases, the
    integers at and beside minimum and maximum, strings at and past maxLength, the pattern's
    default with its separators, spaces and line ends changed, and values of the wrong type."""
    out: list = [None, True, False, 0, 1, -1, 3.0, 2.5, "", " ", "\n", "0", "abc", "ABC", "CNY", "cny", "C N Y", "CNY\n",
                 10 ** 30, -(10 ** 30), [], {}]
    default = rule.get("default")
    if default is not None:
        out += [default, str(default), f" {default} ", f"{default}\n", str(default).replace(",", "，"),
                str(default).replace(",", ";"), str(default) + ",", "," + str(default), str(default).replace("0.", ".")]
    for e in rule.get("enum", []):
        out += [e, e.upper(), e.title(), f" {e}", f"{e}\n"]
    for b in (rule.get("minimum"), rule.get("maximum")):
        if isinstance(b, int):
            out += [b - 1, b, b + 1, float(b), str(b)]
    if "maxLength" in rule:
        n = rule["maxLength"]
        out += ["甲" * n, "甲" * (n + 1), "a" * n, "a" * (n + 1), "😀" * n, "😀" * (n + 1)]
    return out


@pytest.mark.parametrize("key", [f.key for f in SPEC.fields])
def test_the_quick_affirmation_never_passes_what_jsonschema_rejects(key):
    """core/settings._surely_valid may only say "plainly fine" where jsonschema agrees; and it
    does say so for the default of every key it can read (else it would save nothing)."""
    spec = SPEC.field(key).spec
    rule = {k: v for k, v in spec.items() if not k.startswith("x-") and k != "default"}
    judge = jsonschema.Draft202012Validator(rule)
    for value in _candidates(spec):
        if settings_mod._surely_valid(rule, value):
            assert judge.is_valid(value), (key, value)
    kind = SPEC.field(key).kind
    if set(rule) <= {"type", "enum", "minimum", "maximum", "maxLength", "pattern"} and kind not in ("date", "bool", "tier_param", "money", "int_list", "float_list"):  # those never reach _check
        text = str(spec.get("default", ""))
        if text.strip():
            value = settings_mod.convert(key, text, check=False)
            assert settings_mod._surely_valid(rule, value), (key, value)


def test_a_keyword_the_quick_affirmation_does_not_read_goes_to_jsonschema():
    assert not settings_mod._surely_valid({"type": "string", "format": "date"}, "2026-10-31")
    assert not settings_mod._surely_valid({"type": "string", "minLength": 2}, "ab")
    assert not settings_mod._surely_valid({"type": "integer"}, 3.0)   # jsonschema's integer, not plainly one
    assert settings_mod._surely_valid({"type": "string", "pattern": "^[A-Z]{3}$"}, "USD")
