"""Email texts of ``custledger send``: bilingual (zh + en) templates a user may edit.

A template is a UTF-8 text file: the first line ``Subject: …`` (or ``主题:…``), a blank line,
then the body. ``{name}`` placeholders are filled in; one the program does not know is left as
typed (so a typo shows in the .eml instead of failing the run). The placeholders:

company_name, period (YYYY-MM), file (the attachment's name), customer_id, customer_name, and
every Customers field by its key (contact, phone, owner, …); for an owner pack, owner and count.
Personal numbers (Customers fields marked ``x-personal``: phone, tax_id, bank_account,
birthday) are masked by core/mask.py when Settings ``mask_exports`` is on — the body leaves
the workbook like a statement does, so the same rule holds.

Where the template comes from: ``templates/<file>`` beside the ledger (a copy the user edited),
else the shipped one (templates/ of the checkout, built from DEFAULTS by ``build_email_templates``
— run ``python -m custledger.render.email_body`` after changing DEFAULTS).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

from ..core.errors import LedgerError, file_cause
from ..core.mask import maybe_mask
from ..schema import sheet

FILES = {"statement": "email_statement.txt", "letter": "email_letter.txt", "owner_pack": "email_owner.txt"}

DEFAULTS = {
    "statement": """Subject: {company_name} {period} 对账单 / Statement of account — {customer_name}

{customer_name}:

您好!附件是贵司 {period} 的对账单({file}),请核对。
如与贵司账目相符,请签章后回传;如有不符,请在收到后 7 日内回复本邮件说明差异。

Dear {customer_name},

Please find attached your statement of account for {period} ({file}).
If it agrees with your records, please sign and return it; if not, please reply to this
email within 7 days and tell us the difference.

{company_name}
""",
    "letter": """Subject: {company_name} 催款函 / Payment reminder — {customer_name}

{customer_name}:

您好!贵司有款项已逾期,详见附件催款函({file})。请尽快安排付款;如已付款,请回复告知付款日期与金额。

Dear {customer_name},

Some of your invoices are overdue: please see the attached reminder ({file}) and arrange payment.
If you have already paid, please reply with the date and amount of the payment.

{company_name}
""",
    "owner_pack": """Subject: {company_name} {period} 客户清单 / Your customers — {owner}

{owner}:

附件是您负责的 {count} 位客户的余额、账龄、逾期与提醒事项({file})。

{owner},

Attached are the balances, aging, overdue items and reminders of the {count} customers you look after ({file}).

{company_name}
""",
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SUBJECT = re.compile(r"^\s*(?:subject|主题|标题)\s*[:：]\s*(.*)$", re.IGNORECASE)


def shipped_email(kind: str) -> Path:
    from .build_templates import REPO_TEMPLATES

    path = REPO_TEMPLATES / FILES[kind]
    if path.exists():
        return path
    import tempfile

    folder = Path(tempfile.gettempdir()) / "custledger-templates"
    path = folder / FILES[kind]
    if not path.exists() or path.read_text(encoding="utf-8") != DEFAULTS[kind]:
        build_email_templates(folder)
    return path


def find_email_template(kind: str, ledger: Path | None) -> Path:
    """``templates/<file>`` beside the ledger when the user has one, else the shipped one."""
    if ledger is not None:
        beside = Path(ledger).parent / "templates" / FILES[kind]
        if beside.exists():
            return beside
    return shipped_email(kind)


def read_template(path: Path) -> tuple[str, str]:
    """(subject template, body template) of a template file; LedgerError if unreadable."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError("email_template_bad", path=str(path), detail=file_cause(exc)) from exc
    lines = text.replace("\r\n", "\n").split("\n")
    m = _SUBJECT.match(lines[0]) if lines else None
    if not m:
        raise LedgerError("email_template_bad", path=str(path), detail=LedgerError("email_template_no_subject"))
    body = "\n".join(lines[1:]).lstrip("\n")
    return m.group(1).strip(), body


def fill(text: str, values: dict) -> str:
    """``{key}`` replaced by values[key]; unknown keys left as typed."""
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


def customer_values(row: dict, mask: bool) -> dict:
    """Placeholder values of one Customers row: text, personal fields masked when ``mask``."""
    spec = sheet("customers")
    out = {}
    for f in spec.fields:
        v = row.get(f.key)
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
            out[f.key] = ""
            continue
        personal = f.spec.get("x-personal")
        if isinstance(v, pd.Timestamp):
            v = v.strftime("%Y-%m-%d")
        if personal == "birthday":
            out[f.key] = "****-**-**" if mask and str(v).strip() else str(v)
        elif personal:
            out[f.key] = maybe_mask(v, personal, mask)   # x-personal names the mask kind (core/mask.KINDS)
        else:
            out[f.key] = str(v).strip()
    out["customer_id"] = out.get("customer_id", "")
    out["customer_name"] = out.get("name", "")
    return out


def build_email_templates(folder: Path) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, name in FILES.items():
        path = folder / name
        path.write_text(DEFAULTS[kind], encoding="utf-8", newline="\n")
        paths.append(path)
    return paths


if __name__ == "__main__":
    from .build_templates import REPO_TEMPLATES

    for p in build_email_templates(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_TEMPLATES):
        print(p)
