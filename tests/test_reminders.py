"""Reminders 提醒事项: each kind at its boundary (day N in, day N+1 out), 29 Feb birthdays, sorting,
and the iCalendar export (RFC 5545: CRLF, folding at 75 octets, escaping, stable UIDs)."""

import datetime as dt
import re

import pandas as pd
import pytest

from custledger.core.allocate import allocate, open_items
from custledger.core.model import INTERACTION_COLUMNS, Ledger, Settings
from custledger.core.reminders import KINDS, REMINDER_COLUMNS, next_anniversary, reminders
from custledger.io.ics import escape_text, event_uid, fold, to_ics
from engine_helpers import cust, customers, inv, invoices, rc, receipts

AS_OF = pd.Timestamp("2024-06-10")


def day(offset: int) -> str:
    return (AS_OF + pd.Timedelta(days=offset)).strftime("%Y-%m-%d")


def interactions(*rows: dict) -> pd.DataFrame:
    recs = [{"kind": "call", "summary": "", "owner": "", "status": "", "next_date": None, "satisfaction": None, **r}
            for r in rows]
    frame = pd.DataFrame(recs, columns=INTERACTION_COLUMNS) if recs else pd.DataFrame(columns=INTERACTION_COLUMNS)
    for c in ("date", "next_date"):
        frame[c] = pd.to_datetime(frame[c]).astype("datetime64[ns]")
    frame["satisfaction"] = pd.array([None] * len(frame), dtype="Int64")
    frame["_row"] = range(2, len(frame) + 2)
    return frame


def run(cs, iv=None, rs=None, it=None, lang="zh", as_of=AS_OF, **settings) -> pd.DataFrame:
    iv = iv if iv is not None else invoices()
    rs = rs if rs is not None else receipts()
    it = it if it is not None else interactions()
    s = Settings(language=lang, as_of=as_of.date(), **settings)
    ledger = Ledger(cs, iv, rs, it, s)
    items = open_items(iv, allocate(iv, rs, as_of), as_of)
    out = reminders(ledger, items, as_of, s)
    assert list(out.columns) == REMINDER_COLUMNS
    return out


def kind(frame: pd.DataFrame, k: str) -> pd.DataFrame:
    return frame[frame["kind"] == k].reset_index(drop=True)


# A customer profile that triggers no relationship reminder by itself: contacted and updated recently.
FRESH = {"created": day(-10), "updated": day(-10)}


def fresh(cid: str, **kw) -> dict:
    return cust(cid, **{**FRESH, **kw})


def contacted(*ids: str) -> list[dict]:
    return [{"date": day(-1), "customer_id": c} for c in ids]


# --------------------------------------------------------------------------- payments

def test_due_soon_and_newly_overdue_boundaries_and_open_amounts():
    cs = customers(fresh("C1", owner="张伟"))
    iv = invoices(
        inv("D0", day(-40), "100", due_date=day(0)),     # due today: due_soon, days 0
        inv("D7", day(-40), "100", due_date=day(7)),     # day N in
        inv("D8", day(-40), "100", due_date=day(8)),     # day N+1 out
        inv("O1", day(-40), "100", due_date=day(-1)),    # overdue since today: newly_overdue 1
        inv("O7", day(-40), "300", due_date=day(-7)),    # day N in, partly paid
        inv("O8", day(-40), "100", due_date=day(-8)),    # day N+1 out
        inv("P3", day(-40), "100", due_date=day(3)),     # paid: out
        inv("F1", day(1), "100", due_date=day(2)),       # dated after as_of: out
    )
    rs = receipts(rc("R1", day(-2), "100", applied_to="P3"), rc("R2", day(-2), "120.50", applied_to="O7"))
    out = run(cs, iv, rs, interactions(*contacted("C1")))
    soon, late = kind(out, "due_soon"), kind(out, "newly_overdue")
    assert [s.split(",")[0] for s in soon["subject"]] == ["单据 D0", "单据 D7"]
    assert soon["days"].tolist() == [0, 7]
    assert soon["date"].tolist() == [AS_OF, AS_OF + pd.Timedelta(days=7)]
    assert soon["amount"].tolist() == [10000, 10000]
    assert sorted(late["subject"].str.split(",").str[0]) == ["单据 O1", "单据 O7"]
    got = dict(zip(late["subject"].str.split(",").str[0], zip(late["days"], late["amount"])))
    assert got == {"单据 O1": (1, 10000), "单据 O7": (7, 30000 - 12050)}
    assert set(out["kind"]) == {"due_soon", "newly_overdue"}
    assert (out["owner"] == "张伟").all() and (out["name"] == "Name C1").all()
    assert (soon["action"] == "到期前提醒客户付款").all()


def test_remind_due_days_setting_moves_the_boundary():
    cs = customers(fresh("C1"))
    iv = invoices(inv("A", day(-40), "1", due_date=day(3)), inv("B", day(-40), "1", due_date=day(4)),
                  inv("C", day(-40), "1", due_date=day(-3)), inv("D", day(-40), "1", due_date=day(-4)))
    out = run(cs, iv, it=interactions(*contacted("C1")), remind_due_days=3)
    assert kind(out, "due_soon")["subject"].str.startswith("单据 A").tolist() == [True]
    assert kind(out, "newly_overdue")["subject"].str.startswith("单据 C").tolist() == [True]


# --------------------------------------------------------------------------- customer dates

def test_contract_end_boundaries_and_inactive_customers():
    cs = customers(fresh("C0", contract_end=day(0)), fresh("C30", contract_end=day(30)),
                   fresh("C31", contract_end=day(31)), fresh("CP", contract_end=day(-1)),
                   fresh("CI", contract_end=day(5), status="inactive"))
    out = kind(run(cs, it=interactions(*contacted("C0", "C30", "C31", "CP", "CI"))), "contract_end")
    assert out["customer_id"].tolist() == ["C0", "C30"]
    assert out["days"].tolist() == [0, 30]
    assert out["subject"].tolist() == [f"合同到期日 {day(0)}", f"合同到期日 {day(30)}"]


def test_birthday_window_and_who():
    # as_of 2024-06-10: birthdays on 06-10 (today), 06-17 (day 7, in), 06-18 (day 8, out), 06-09 (next year)
    cs = customers(fresh("B0", birthday="1980-06-10", contact="王伟"), fresh("B7", birthday="1975-06-17"),
                   fresh("B8", birthday="1975-06-18"), fresh("BY", birthday="1990-06-09"))
    out = kind(run(cs, it=interactions(*contacted("B0", "B7", "B8", "BY"))), "birthday")
    assert out["customer_id"].tolist() == ["B0", "B7"]
    assert out["days"].tolist() == [0, 7]
    assert out["subject"].tolist() == ["王伟 生日(06-10)", "Name B7 生日(06-17)"]
    assert (out["action"] == "发送生日祝福(客户关怀)").all()


def test_birthday_29_february():
    born = pd.Series(pd.to_datetime(["2000-02-29", "1999-03-01", None]))
    # common year: 28 Feb; leap year: 29 Feb; already passed this year: next year's
    assert next_anniversary(born, "2025-02-20").tolist()[:2] == [pd.Timestamp("2025-02-28"), pd.Timestamp("2025-03-01")]
    assert next_anniversary(born, "2024-02-20").tolist()[:2] == [pd.Timestamp("2024-02-29"), pd.Timestamp("2024-03-01")]
    assert next_anniversary(born, "2025-03-01")[0] == pd.Timestamp("2026-02-28")
    assert next_anniversary(born, "2027-03-02")[0] == pd.Timestamp("2028-02-29")
    assert pd.isna(next_anniversary(born, "2025-01-01")[2])

    cs = customers(fresh("L", birthday="2000-02-29"))
    it = interactions({"date": "2025-02-20", "customer_id": "L"})
    common = kind(run(cs, it=it, as_of=pd.Timestamp("2025-02-21")), "birthday")
    assert common["date"].tolist() == [pd.Timestamp("2025-02-28")] and common["days"].tolist() == [7]
    assert kind(run(cs, it=it, as_of=pd.Timestamp("2025-02-20")), "birthday").empty  # 8 days ahead
    it24 = interactions({"date": "2024-02-20", "customer_id": "L"})
    leap = kind(run(customers(cust("L", birthday="2000-02-29", created="2024-01-01")), it=it24,
                    as_of=pd.Timestamp("2024-02-22")), "birthday")
    assert leap["date"].tolist() == [pd.Timestamp("2024-02-29")] and leap["days"].tolist() == [7]


# --------------------------------------------------------------------------- interactions

def test_follow_up_due_late_and_superseded():
    cs = customers(fresh("F7"), fresh("F8"), fresh("FL", owner="客户经理"), fresh("FS"))
    it = interactions(
        {"date": day(-3), "customer_id": "F7", "kind": "visit", "summary": "介绍新品", "next_date": day(7)},
        {"date": day(-3), "customer_id": "F8", "next_date": day(8)},                        # N+1: out
        {"date": day(-30), "customer_id": "FL", "next_date": day(-20), "owner": "李娜"},     # missed: still due
        {"date": day(-30), "customer_id": "FS", "next_date": day(-20)},
        {"date": day(-5), "customer_id": "FS", "summary": "已回访"},                         # done: no next
        {"date": day(1), "customer_id": "F8", "next_date": day(2)},                          # after as_of: unseen
    )
    out = kind(run(cs, it=it), "follow_up")
    assert out["customer_id"].tolist() == ["FL", "F7"]
    assert out["days"].tolist() == [-20, 7]
    assert out["date"].tolist() == [AS_OF - pd.Timedelta(days=20), AS_OF + pd.Timedelta(days=7)]
    assert out["owner"].tolist() == ["李娜", ""]
    assert out["subject"][1] == f"{day(-3)} 拜访:介绍新品"


def test_no_contact_boundaries():
    cs = customers(cust("N90", created=day(-400), updated=day(-1)), cust("N91", created=day(-400), updated=day(-1)),
                   cust("NC90", created=day(-90)), cust("NC91", created=day(-91)),
                   cust("NN"), cust("NI", status="inactive"))
    it = interactions({"date": day(-90), "customer_id": "N90"}, {"date": day(-91), "customer_id": "N91"})
    out = kind(run(cs, it=it), "no_contact")
    assert out["customer_id"].tolist() == ["N91", "NC91", "NN"]
    assert out["days"].tolist()[:2] == [91, 91] and pd.isna(out["days"][2])
    assert (out["date"] == AS_OF).all()
    assert out["subject"].tolist() == [f"最近联系 {day(-91)}", f"建档 {day(-91)} 后无跟进记录", "无跟进记录"]


def test_stale_profile_boundary_matches_validation_rule():
    cs = customers(cust("S180", updated=day(-180)), cust("S181", updated=day(-181)),
                   cust("SC", created=day(-181)), cust("SU", created=day(-400), updated=day(-5)))
    out = kind(run(cs, it=interactions(*contacted("S180", "S181", "SC", "SU"))), "stale_profile")
    assert out["customer_id"].tolist() == ["S181", "SC"]
    assert out["days"].tolist() == [181, 181]
    assert kind(run(cs, it=interactions(*contacted("S180", "S181", "SC", "SU")), stale_profile_days=400),
                "stale_profile").empty


def test_open_complaints():
    cs = customers(fresh("K1", owner="张伟"), fresh("K2"), fresh("K3"))
    it = interactions(
        {"date": day(-12), "customer_id": "K1", "kind": "complaint", "summary": "发货延迟", "status": "open"},
        {"date": day(-2), "customer_id": "K2", "kind": "complaint", "summary": "质量", "status": "closed"},
        {"date": day(-4), "customer_id": "K3", "kind": "complaint", "summary": "", "owner": "王磊"},  # blank: open
        {"date": day(3), "customer_id": "K2", "kind": "complaint", "status": "open"},              # after as_of
    )
    out = kind(run(cs, it=it), "open_complaint")
    assert out["customer_id"].tolist() == ["K1", "K3"]
    assert out["days"].tolist() == [12, 4]
    assert out["owner"].tolist() == ["张伟", "王磊"]
    assert out["subject"].tolist() == [f"{day(-12)} 投诉:发货延迟", f"{day(-4)} 投诉"]


# --------------------------------------------------------------------------- order, language

def test_sorted_by_date_then_kind_then_customer_and_english_labels():
    cs = customers(cust("B", birthday="1980-06-17", created=day(-400)), cust("A", contract_end=day(7), updated=day(-1)))
    iv = invoices(inv("X1", day(-20), "5", customer_id="B", due_date=day(7)),
                  inv("X2", day(-20), "5", customer_id="A", due_date=day(7)))
    out = run(cs, iv, lang="en")
    keys = list(zip(out["date"], out["kind"].map(KINDS.index), out["customer_id"]))
    assert keys == sorted(keys)
    assert list(zip(out["kind"], out["customer_id"])) == [
        ("no_contact", "A"), ("no_contact", "B"), ("stale_profile", "B"),
        ("due_soon", "A"), ("due_soon", "B"), ("contract_end", "A"), ("birthday", "B")]
    assert out["action"][0] == "Schedule a call or a visit"
    assert out["subject"][3] == f"Invoice X2, due {day(7)}"


def test_empty_ledger_gives_empty_frame():
    out = run(customers())
    assert out.empty and list(out.columns) == REMINDER_COLUMNS


# --------------------------------------------------------------------------- iCalendar

def sample() -> pd.DataFrame:
    return pd.DataFrame({
        "date": pd.to_datetime(["2024-06-12", "2024-06-17"]),
        "kind": ["due_soon", "birthday"],
        "customer_id": ["C1", "C2"],
        "name": ["甲公司, 华东; 分部\\总部", "乙"],
        "owner": ["张伟", ""],
        "subject": ["单据 XS-1,到期日 2024-06-12", "王伟 生日(06-17)\n备注"],
        "amount": pd.array([1234567, None], dtype="Int64"),
        "action": ["到期前提醒客户付款" * 6, "发送生日祝福(客户关怀)"],
        "days": pd.array([2, 7], dtype="Int64"),
    })


STAMP = dt.datetime(2024, 6, 10, 8, 0, tzinfo=dt.UTC)


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_ics_lines_crlf_folded_and_escaped():
    text = to_ics(sample(), "zh", "启明工贸", STAMP)
    raw = text.encode("utf-8")
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    physical = raw.split(b"\r\n")[:-1]
    assert max(len(x) for x in physical) <= 75
    assert any(x.startswith(b" ") for x in physical), "a long line was folded"
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert lines.count("BEGIN:VEVENT") == 2
    summary = [x for x in lines if x.startswith("SUMMARY:")][0]
    assert summary == "SUMMARY:【即将到期】甲公司\\, 华东\\; 分部\\\\总部:单据 XS-1\\,到期日 2024-06-12"
    assert "DTSTART;VALUE=DATE:20240612" in lines and "DTEND;VALUE=DATE:20240613" in lines
    assert "DTSTAMP:20240610T080000Z" in lines
    assert any("王伟 生日(06-17)\\n备注" in x for x in lines)
    assert to_ics(sample(), "zh", "启明工贸", STAMP) == text


def test_fold_never_splits_a_character_and_round_trips():
    line = "DESCRIPTION:" + "客户关怀ab" * 40
    folded = fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert folded.replace("\r\n ", "") == line
    assert escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"


def test_uid_is_stable_and_distinct():
    a = event_uid("due_soon", "C1", "单据 XS-1", "2024-06-12")
    assert a == event_uid("due_soon", "C1", "单据 XS-1", pd.Timestamp("2024-06-12"))
    assert re.fullmatch(r"[0-9a-f]{40}@custledger", a)
    assert len({a, event_uid("due_soon", "C1", "单据 XS-1", "2024-06-13"), event_uid("birthday", "C1", "单据 XS-1",
                                                                                     "2024-06-12")}) == 3


def test_ics_parses_with_icalendar():
    icalendar = pytest.importorskip("icalendar")
    frame = sample()
    cal = icalendar.Calendar.from_ical(to_ics(frame, "en", "Team", STAMP))
    events = [c for c in cal.walk("VEVENT")]
    assert len(events) == 2
    assert [e.decoded("DTSTART") for e in events] == [dt.date(2024, 6, 12), dt.date(2024, 6, 17)]
    assert [e.decoded("DTEND") for e in events] == [dt.date(2024, 6, 13), dt.date(2024, 6, 18)]
    assert str(events[0]["SUMMARY"]) == "[Due Soon] 甲公司, 华东; 分部\\总部: 单据 XS-1,到期日 2024-06-12"
    assert str(events[1]["SUMMARY"]).endswith("王伟 生日(06-17)\n备注")
    desc = str(events[0]["DESCRIPTION"])
    assert "Amount 12,345.67" in desc and "Owner 张伟" in desc
    assert len({str(e["UID"]) for e in events}) == 2
