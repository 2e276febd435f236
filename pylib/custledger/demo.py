"""`custledger demo`: a realistic demo ledger written as a workbook, plus its month's bank export.

The data comes from demo_data.make_demo (deterministic); the workbook is the same template
`custledger new` writes (io/template.py), filled. The close then runs on it like on any ledger.
"""

from __future__ import annotations

from pathlib import Path

from .demo_data import make_demo
from .io.template import build_ledger

DEMO_NAMES = {"zh": "演示台账.xlsx", "en": "demo_ledger.xlsx"}


def write_demo(directory: Path, lang: str = "zh", seed: int = 7) -> tuple[Path, Path, str]:
    """-> (ledger path, bank CSV path, month 'YYYY-MM' of the bank export and as_of)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    data = make_demo(seed=seed)
    settings = dict(data.settings)
    settings["language"] = lang
    ledger = directory / DEMO_NAMES[lang]
    build_ledger(ledger, lang, data={"customers": data.customers, "invoices": data.invoices,
                                     "receipts": data.receipts, "interactions": data.interactions},
                 settings={k: str(v) for k, v in settings.items()})
    month = str(settings["as_of"])[:7]
    bank = directory / f"bank_{month}.csv"
    bank.write_bytes(data.bank_csv_bytes("gbk"))
    return ledger, bank, month
