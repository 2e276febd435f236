"""The field reference docs/fields.md, generated from the schema (python -m custledger.schema.docs).

tests/test_schema.py fails when docs/fields.md is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import input_sheets, outputs

KIND_TEXT = {"id": "text (unique key)", "ref": "text (customer_id in Customers)", "text": "text", "list": "list (, ; 、 or spaces)",
             "enum": "choice", "date": "date", "money": "amount (yuan, 2 decimals)", "price": "number", "number": "number",
             "int": "whole number", "phone": "phone (CN)", "email": "email", "uscc": "unified social credit code",
             "account": "bank account", "bool": "yes / no", "int_list": "numbers, comma-separated",
             "float_list": "fractions, comma-separated"}


def render() -> str:
    out = ["# Field reference", "",
           "Generated from `pylib/custledger/schema/*.json` by `python -m custledger.schema.docs`; do not edit by hand.",
           "Headers may be the 中文 label, the English label or the key; case, spaces, underscores and",
           "full/half width are ignored. **Bold** keys are required.", ""]
    for spec in input_sheets():
        out += [f"## {spec.names['zh']} · {spec.names['en']} (`{spec.key}`)", "",
                spec.schema.get("description", ""), ""]
        if spec.aliases:
            out += ["Also recognised as: " + ", ".join(spec.aliases), ""]
        out += ["| key | 中文 | English | type | rule | 说明 |", "|---|---|---|---|---|---|"]
        for f in spec.fields:
            p = f.spec
            rules = []
            if f.key in spec.unique:
                rules.append("unique")
            for k, word in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("maxLength", "len ≤")):
                if k in p:
                    rules.append(f"{word} {p[k]}")
            if "enum" in p:
                rules.append(" / ".join(f"{v} ({f.enum_label(v, 'zh')})" for v in p["enum"]))
            if "default" in p and p["default"] != "":
                rules.append(f"default {p['default']}")
            key = f"**{f.key}**" if f.required else f.key
            out.append(f"| {key} | {f.labels.get('zh', '')} | {f.labels.get('en', '')} | {KIND_TEXT.get(f.kind, f.kind)} | "
                       f"{'; '.join(rules)} | {f.descriptions.get('zh', '')} |")
        out.append("")
    out += ["## Generated sheets", "", "Rewritten on every run; header in row 1.", ""]
    for key, s in outputs()["sheets"].items():
        cols = ", ".join(f"{c['key']} {c['zh']}" if c["key"] != "*bucket" else "one column per aging bucket"
                         for c in s["columns"])
        out.append(f"- **{s['zh']} · {s['en']}** (`{key}`): {cols}")
    out.append("")
    return "\n".join(out)


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    target = Path(argv[0]) if argv else Path(__file__).resolve().parents[3] / "docs" / "fields.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(), encoding="utf-8")
    print(target)


if __name__ == "__main__":
    main()
