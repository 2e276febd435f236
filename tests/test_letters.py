"""Dunning letters 催款函 (render/letter.py, ops/letters.write_letters): one per customer at
dunning level ≥ 1, tone by the customer's highest level, overdue items and total."""

import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

from custledger.core.aging import OVERDUE_COLUMNS
from custledger.core.model import Settings
from custledger.ops.letters import write_letters
from custledger.render.letter import letter_records, render_letters, tone_level
from custledger.schema import documents
from filled import read_named

AS_OF = dt.date(2026, 10, 31)


def _overdue(rows):
    recs = []
    for doc, cid, due, cents, days, level in rows:
        recs.append({"doc_no": doc, "customer_id": cid, "name": "", "date": pd.Timestamp(due) - pd.Timedelta(days=30),
                     "due_date": pd.Timestamp(due), "amount": cents, "outstanding": cents - 100, "days_overdue": days,
                     "bucket": "", "dunning_level": level, "contact": "", "phone": "", "owner": ""})
    return pd.DataFrame(recs, columns=OVERDUE_COLUMNS)


CUSTOMERS = pd.DataFrame({
    "customer_id": ["C1", "C2", "C3", "C4"],
    "name": ["甲公司/上海:分部", "乙公司", "丙公司", "丁公司"],
    "contact": ["张三", "", "王五", "赵六"],
    "phone": ["13812345678", "02188886666", "", "13900001111"],
})
OVERDUE = _overdue([
    ("X3", "C1", "2026-10-20", 50000, 11, 1),
    ("X1", "C1", "2026-10-01", 120000, 30, 1),
    ("Y1", "C2", "2026-09-15", 80000, 46, 2),
    ("Y2", "C2", "2026-10-25", 10000, 6, 1),          # raised with the customer's highest level
    ("Z1", "C3", "2026-06-01", 99999, 152, 4),        # beyond the last tone: final
    ("W1", "C4", "2026-11-05", 10000, 0, 0),          # level 0: no letter
])




def test_tone_levels():
    assert [tone_level(n) for n in (1, 2, 3, 4, 9)] == ["1", "2", "3", "3", "3"]


def test_records_group_by_customer_with_max_level():
    recs = {r["customer_id"]: r for r in letter_records(OVERDUE, CUSTOMERS, mask=True)}
    assert set(recs) == {"C1", "C2", "C3"}
    assert recs["C1"]["level"] == 1 and recs["C2"]["level"] == 2 and recs["C3"]["level"] == 4
    assert [i[0] for i in recs["C1"]["items"]] == ["X1", "X3"]          # oldest due first
    assert recs["C1"]["total"] == 120000 - 100 + 50000 - 100
    assert recs["C1"]["phone"] == "138****5678"
    assert letter_records(OVERDUE.iloc[0:0], CUSTOMERS, True) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_letters_by_level(tmp_path, lang):
    settings = Settings(language=lang, company_name="杭州启明工贸有限公司", payment_instructions="开户行: 工行 账号: 1202")
    paths = render_letters(OVERDUE, CUSTOMERS, settings, tmp_path, issued=AS_OF, names=True)
    assert set(paths) == {"C1", "C2", "C3"}
    words = documents()["letter"]["levels"]
    for cid, level in (("C1", "1"), ("C2", "2"), ("C3", "3")):
        p = paths[cid]
        assert p.parent == tmp_path and "/" not in p.name and ":" not in p.name and p.suffix == ".xlsx"
        cells, ranges = read_named(p)
        assert cells["title"] == words[level]["title"][lang]
        assert cells["closing"] == words[level]["closing"][lang]
        assert cells["company_name"] == cells["signature"] == "杭州启明工贸有限公司"
        assert cells["letter_date"] == dt.datetime(2026, 10, 31)
        items = OVERDUE[OVERDUE["customer_id"] == cid].sort_values("due_date")
        assert ranges["item_doc_no"] == items["doc_no"].tolist()
        assert [round(v * 100) for v in ranges["item_outstanding"]] == items["outstanding"].tolist()
        assert round(cells["total"] * 100) == items["outstanding"].sum()
        total_text = f"{items['outstanding'].sum() / 100:,.2f}"
        assert total_text in cells["body"]
    cells, _ = read_named(paths["C1"])
    assert "138****5678" in cells["customer_phone"] and "13812345678" not in str(cells)
    # the three tones are different letters
    assert len({read_named(paths[c])[0]["body"][:20] for c in ("C1", "C2", "C3")}) == 3


def test_write_letters_for_the_aging_step(tmp_path):
    ledger = tmp_path / "台账.xlsx"
    settings = Settings(language="zh", company_name="启明", as_of=AS_OF)
    run = SimpleNamespace(options={"ledger_path": ledger}, lang="zh", settings=settings,
                          ledger=SimpleNamespace(customers=CUSTOMERS), as_of=pd.Timestamp(AS_OF),
                          files=[], notes=[], summary={})
    paths = write_letters(run, OVERDUE)
    folder = tmp_path / "台账_letters" / "2026-10-31"
    assert set(paths) == {"C1", "C2", "C3"} and all(p.parent == folder and p.exists() for p in paths.values())
    assert sorted(run.files) == sorted(paths.values()) and run.summary["letters"] == 3
    assert write_letters(run, OVERDUE[OVERDUE["dunning_level"] == 0]) == {}
    run.options["letters"] = False
    assert write_letters(run, OVERDUE) == {}
