"""The schema files are valid JSON Schema (draft 2020-12) and everything derived from it agrees."""

from pathlib import Path

import jsonschema
import pytest

from custledger.schema import input_sheets, messages, outputs, sheet
from custledger.schema.docs import render

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("spec", input_sheets(), ids=lambda s: s.key)
def test_each_input_schema_is_valid_draft_2020_12(spec):
    jsonschema.Draft202012Validator.check_schema(spec.schema)
    assert spec.schema["$schema"].endswith("2020-12/schema")
    for f in spec.fields:
        assert f.labels.get("zh") and f.labels.get("en"), f.key
        assert f.descriptions.get("zh") and f.descriptions.get("en"), f.key
        if f.kind == "enum":
            for v in f.enum:
                assert f.spec["x-enum-labels"][v]["zh"] and f.spec["x-enum-labels"][v]["en"]


def test_labels_are_unique_per_sheet_so_headers_are_unambiguous():

    for spec in input_sheets():
        seen = {}
        for f in spec.fields:
            for k in f.header_keys():
                assert seen.setdefault(k, f.key) == f.key, (spec.key, k, f.key, seen[k])


def test_jsonschema_agrees_with_a_clean_row():
    """A typed, clean row (dates as ISO text, amounts in yuan) validates against the JSON Schema."""
    row = {"doc_no": "XS-1", "date": "2026-10-01", "customer_id": "C1", "kind": "invoice", "amount": 12.5}
    v = jsonschema.Draft202012Validator(sheet("invoices").schema, format_checker=jsonschema.FormatChecker())
    assert not list(v.iter_errors(row))
    bad = dict(row, kind="gift", date="2026-13-01")
    assert {e.validator for e in v.iter_errors(bad)} == {"enum", "format"}


def test_messages_and_outputs_have_both_languages():
    for code, entry in messages().items():
        assert entry.get("zh") and entry.get("en"), code
    for key, s in outputs()["sheets"].items():
        assert s["zh"] and s["en"]
        for c in s["columns"]:
            assert c["zh"] and c["en"], (key, c)


def test_field_reference_doc_is_current():
    assert (ROOT / "docs" / "fields.md").read_text(encoding="utf-8") == render(), \
        "docs/fields.md is stale: python -m custledger.schema.docs"
