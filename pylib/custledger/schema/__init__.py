"""The schema: one JSON Schema (draft 2020-12) per input sheet plus labels of generated sheets.

This package is the single source of truth for sheet names, columns, types, enums, bounds and
the zh/en labels and descriptions. Everything else derives from it: header matching, the
validator, the template workbook (columns, dropdowns, input messages, widths), generated sheet
headers and the field reference in docs/fields.md.

Annotations we add to JSON Schema (all prefixed ``x-``, ignored by validators):
``x-sheet`` (sheet key, zh/en names, name aliases, table name), ``x-label`` (zh/en header),
``x-aliases`` (other headers people use), ``x-description`` (zh/en one-liners), ``x-kind``
(how a cell is read: id, ref, text, list, enum, date, money, price, number, int, phone, email,
uscc, account), ``x-enum-labels`` / ``x-enum-aliases`` (what people type for an enum value),
``x-unique`` (columns unique within the sheet), ``x-ref`` (foreign key), ``x-width``,
``x-personal`` (masked in exports).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

INPUT_SHEETS = ("customers", "invoices", "receipts", "interactions", "payers", "confirmations", "settings")
LANGS = ("zh", "en")


def norm_header(text) -> str:
    """Header/sheet-name matching key: NFKC (full/half width), lower case, no spaces,
    underscores, hyphens or dots. '客户 编号', 'Customer_ID', 'ＣＵＳＴＯＭＥＲ ID' all match."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s_\-.·:：*]+", "", s)


@cache
def _load(name: str) -> dict:
    with resources.files(__package__).joinpath(name).open("r", encoding="utf-8") as fh:
        return json.load(fh)


@dataclass(frozen=True)
class Field:
    """One column of an input sheet as its JSON Schema property states it (kind, labels,
    aliases, required); the schema file is the single source of truth."""

    key: str
    kind: str
    labels: dict            # {"zh": ..., "en": ...}
    descriptions: dict
    aliases: tuple
    required: bool
    spec: dict              # the raw JSON Schema property

    def label(self, lang: str) -> str:
        return self.labels.get(lang) or self.key

    @property
    def enum(self) -> tuple:
        return tuple(self.spec.get("enum", ()))

    def enum_label(self, value: str, lang: str) -> str:
        return self.spec.get("x-enum-labels", {}).get(value, {}).get(lang, value)

    @property
    def width(self) -> int:
        return int(self.spec.get("x-width", 12))

    def header_keys(self) -> set[str]:
        names = [self.key, *self.labels.values(), *self.aliases]
        return {norm_header(n) for n in names if n}


@dataclass(frozen=True)
class SheetSpec:
    """One input sheet as its JSON Schema file states it: names, aliases, fields in template
    order, the unique columns."""

    key: str
    names: dict             # {"zh": ..., "en": ...}
    aliases: tuple
    required: bool
    table: str
    fields: tuple           # tuple[Field, ...], in template order
    unique: tuple
    schema: dict

    def name(self, lang: str) -> str:
        return self.names[lang]

    def field(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    @property
    def keys(self) -> list[str]:
        return [f.key for f in self.fields]

    def name_keys(self) -> set[str]:
        return {norm_header(n) for n in (self.key, *self.names.values(), *self.aliases)}


@cache
def sheet(key: str) -> SheetSpec:
    """The spec of an input sheet (customers, invoices, receipts, interactions, payers, settings)."""
    doc = _load(f"{key}.json")
    meta = doc["x-sheet"]
    required = set(doc.get("required", ()))
    fields = tuple(
        Field(
            key=k,
            kind=p.get("x-kind", "text"),
            labels=p.get("x-label", {}),
            descriptions=p.get("x-description", {}),
            aliases=tuple(p.get("x-aliases", ())),
            required=k in required,
            spec=p,
        )
        for k, p in doc["properties"].items()
    )
    return SheetSpec(
        key=key,
        names={"zh": meta["zh"], "en": meta["en"]},
        aliases=tuple(meta.get("aliases", ())),
        required=bool(meta.get("required", False)),
        table=meta.get("table", ""),
        fields=fields,
        unique=tuple(doc.get("x-unique", ())),
        schema=doc,
    )


def input_sheets() -> list[SheetSpec]:
    return [sheet(k) for k in INPUT_SHEETS]


@cache
def outputs() -> dict:
    return _load("outputs.json")


def output_columns(sheet_key: str, lang: str, buckets: list[str] | None = None) -> list[tuple[str, str, str]]:
    """(key, label, format) for each column of a generated sheet, '*bucket' expanded."""
    cols = []
    for c in outputs()["sheets"][sheet_key]["columns"]:
        if c["key"] == "*bucket":
            for b in buckets or []:
                cols.append((b, c[lang].format(label=b), c["format"]))
        else:
            cols.append((c["key"], c[lang], c["format"]))
    return cols


def output_sheet_name(sheet_key: str, lang: str) -> str:
    return outputs()["sheets"][sheet_key][lang]


def output_enum_label(column: str, value, lang: str) -> str:
    labels = outputs()["enums"].get(column, {})
    return labels.get(str(value), {}).get(lang, value)


@cache
def documents() -> dict:
    """schema/documents.json: wording of the Home sheet, statements and letters, zh and en."""
    return _load("documents.json")


@cache
def messages() -> dict:
    return _load("messages.json")


def msg(code: str, lang: str, **kw) -> str:
    """A user message in the workbook's language, e.g. msg('required', 'zh', column='金额')."""
    entry = messages()[code]
    return entry.get(lang, entry["en"]).format(**kw)
