"""The Card 客户卡 sheet: one printable page (A4 portrait, fit to one page) for one customer.

Row 1 is the header (项目/内容 of outputs.json "card", then the monthly block's header). Left,
columns A:B, the field/value table by section: profile 基本信息, contacts 联系方式, credit 信用,
tier 分级与分群, balance and aging 余额与账龄, next follow-up 下次跟进. Right, columns D:J: the
12 months' net sales and collections with their chart, the last 12 months' invoices and
receipts, the latest interactions.

Nothing is masked here: the card is a sheet of the ledger itself, which holds these personal
data already (mask_exports applies to what leaves the ledger: statements, letters, files).
"""

from __future__ import annotations

import pandas as pd

from ..core.card import Card
from ..schema import msg, output_columns, output_enum_label, output_sheet_name, sheet
from .dashboard import Grid, display, monthly_chart, put_block
from .sheets import FORMATS, SheetOut

PROFILE = ["customer_id", "name", "aliases", "type", "status", "industry", "region", "size", "owner",
           "payment_terms", "contract_end", "created", "updated", "notes"]
CONTACTS = ["contact", "title", "phone", "email", "address", "birthday", "tax_id", "bank_account"]
CREDIT = [("customers", "credit_limit", "money"), ("balances", "balance", "money"),
          ("balances", "credit_used_pct", "pct"), ("metric", "credit_available", "money"),
          ("balances", "over_limit", "bool"), ("tiers", "credit_grade", "text"),
          ("tiers", "avg_days_late", "float"), ("tiers", "suggested_limit", "money")]
TIER = ["abc", "revenue", "share", "rfm_segment", "r_score", "f_score", "m_score", "value_class",
        "frequency_class", "core", "lifecycle", "recency_days", "frequency"]
# written_off (尾差核销, DESIGN "Write-off of small differences") next to what else lowers the balance
BALANCE = ["invoiced", "credited", "received", "written_off", "applied", "unapplied", "outstanding", "balance"]
KIND_FORMAT = {"money": "money", "int": "int", "date": "date", "enum": "enum"}


def _out_label(sheet_key: str, key: str, lang: str, buckets=None) -> tuple[str, str]:
    for k, label, fmt in output_columns(sheet_key, lang, buckets):
        if k == key:
            return label, fmt
    return key, "text"


def _enum(column: str, value, lang: str) -> str:
    return output_enum_label(column, value, lang)


def card_rows(c: Card, lang: str) -> list[tuple]:
    """The left table: ("section", label) and ("field", label, value, kind) rows, in order."""
    cust = sheet("customers")
    rows: list[tuple] = []

    def section(key):
        rows.append(("section", output_enum_label("card_section", key, lang)))

    def customer_field(key):
        f = cust.field(key)
        v = c.customer.get(key, c.customer_id if key == "customer_id" else None)
        kind = KIND_FORMAT.get(f.kind, "text")
        if kind == "enum":
            v, kind = (f.enum_label(v, lang) if v else None), "text"
        elif key == "aliases" and isinstance(v, (list, tuple)):
            v = ";".join(map(str, v))
        rows.append(("field", f.label(lang), display(v, kind), kind))

    section("profile")
    for k in PROFILE:
        customer_field(k)
    section("contacts")
    for k in CONTACTS:
        customer_field(k)
    section("credit")
    for src, k, kind in CREDIT:
        if src == "customers":
            label = cust.field(k).label(lang)
        elif src == "metric":
            label = output_enum_label("metric", k, lang)
        else:
            label = _out_label(src, k, lang)[0]
        rows.append(("field", label, display(c.credit.get(k), kind, lang=lang), kind if kind != "bool" else "text"))
    section("tier")
    for k in TIER:
        label, fmt = _out_label("tiers", k, lang)
        v = c.tier.get(k)
        if fmt == "enum":
            rows.append(("field", label, None if v is None else _enum(k, v, lang), "text"))
        else:
            rows.append(("field", label, display(v, fmt, lang=lang), fmt if fmt in FORMATS else "text"))
    section("balance")
    for k in BALANCE:
        label, fmt = _out_label("balances", k, lang)
        rows.append(("field", label, display(c.balance.get(k, 0), fmt), fmt))
    for k in ["not_due", *c.buckets, "overdue"]:
        label, fmt = _out_label("aging", k, lang, c.buckets)
        rows.append(("field", label, display(c.aging.get(k, 0), fmt), fmt))
    section("follow_up")
    rows.append(("field", output_enum_label("metric", "next_follow_up", lang), display(c.next_follow_up, "date"),
                 "date"))
    rows.append(("field", output_enum_label("metric", "pending_follow_up", lang),
                 c.follow_up_subject if c.next_follow_up is not None else None, "text"))
    rows.append(("field", output_enum_label("metric", "last_contact", lang), display(c.last_contact, "date"), "date"))
    rows.append(("field", output_enum_label("metric", "open_complaints", lang), c.open_complaints, "int"))
    return rows


def card_sheet(c: Card, lang: str, note: str = "") -> SheetOut:
    """The Card SheetOut: tabular fallback = the field/value rows; draw = the one-page layout."""
    name = output_sheet_name("card", lang)
    (_, field_label, _), (_, value_label, _) = output_columns("card", lang)[:2]
    rows = card_rows(c, lang)
    inter = sheet("interactions")
    full_note = (msg("card_note", lang, customer_id=c.customer_id, as_of=f"{c.as_of:%Y-%m-%d}") + "\n" + note).strip()

    def draw(wb, ws, fmts):
        g = Grid()
        g.put(0, 0, field_label, "header")
        g.put(0, 1, value_label, "header")
        r = 1
        for row in rows:
            if row[0] == "section":
                g.put(r, 0, row[1], "section")
                g.put(r, 1, None, "section")
            else:
                g.put(r, 0, row[1], "label")
                g.put(r, 1, row[2], row[3] + "+cell" if row[3] in FORMATS or row[3] == "text" else "text+cell")
            r += 1
        # right side: monthly block (header in row 1) and its chart, documents, interactions
        m_first, m_last = put_block(g, 0, 3, "monthly", c.monthly, lang)
        chart_row = m_last + 2
        r = chart_row + 16
        g.put(r, 3, output_enum_label("card_section", "documents", lang), "section")
        for j in range(4, 9):
            g.put(r, j, None, "section")
        _, d_last = put_block(g, r + 1, 3, "documents", c.documents, lang, enums={"kind": "doc_kind"})
        r = max(d_last, r + 1) + 1
        if c.documents_total > len(c.documents):
            g.put(r, 3, msg("card_documents_more", lang, shown=len(c.documents), total=c.documents_total), "note")
            r += 1
        r += 1
        g.put(r, 3, output_enum_label("card_section", "interactions", lang), "section")
        for j in range(4, 10):
            g.put(r, j, None, "section")
        labels = {"kind": lambda k: inter.field("kind").enum_label(k, lang) if k else "",
                  "status": lambda k: inter.field("status").enum_label(k, lang) if k else ""}
        put_block(g, r + 1, 3, "interactions", c.interactions, lang, labels=labels)
        for col, w in {0: 16, 1: 30, 2: 2, 3: 11, 4: 12, 5: 22, 6: 13, 7: 11, 8: 13, 9: 11}.items():
            ws.set_column(col, col, w)
        ws.set_row(0, 30)
        g.flush(ws, fmts)
        ws.write_comment(0, 0, full_note, {"x_scale": 3, "y_scale": 2})
        ch = monthly_chart(wb, name, m_first, m_last, 3, lang,
                           title=output_enum_label("card_section", "monthly", lang))
        ch.set_size({"width": 640, "height": 300})
        ws.insert_chart(chart_row, 3, ch, {"x_offset": 2, "y_offset": 2})
        ws.hide_gridlines(2)
        ws.print_area(0, 0, max(g.last_row, chart_row + 15), 9)
        ws.set_portrait()
        ws.set_paper(9)
        ws.fit_to_pages(1, 1)
        ws.center_horizontally()
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)

    data = pd.DataFrame({0: pd.Series([r[1] for r in rows], dtype=object),
                         1: pd.Series([r[2] if r[0] == "field" else None for r in rows], dtype=object)})
    return SheetOut(key="card", name=name, headers=[field_label, value_label], formats=["text", "text"],
                    data=data, table="", widths=[16, 30], note=full_note, draw=draw)

