"""Reminders as an iCalendar file (RFC 5545) for the team's calendars.

Written by hand: the format is tiny and the rules are few —

* one all-day VEVENT per reminder: ``DTSTART;VALUE=DATE`` = its date, ``DTEND`` the day after;
* a stable ``UID``: a SHA-1 of kind, customer_id, subject and date, so that importing the file
  again updates the same events instead of duplicating them;
* ``DTSTAMP`` (required) in UTC; pass ``stamp`` for reproducible output;
* TEXT values escaped (backslash, ``;``, ``,`` and newlines: §3.3.11);
* content lines folded at 75 octets (UTF-8, never inside a character), continuation lines
  starting with one space (§3.1); every line ends with CRLF.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd

from ..core.money import format_cents
from ..schema import msg, output_enum_label

PRODID = "-//custledger//Reminders//EN"
MAX_OCTETS = 75


def escape_text(value) -> str:
    """An RFC 5545 TEXT value: \\ ; , escaped, newlines as \\n, other control characters dropped."""
    s = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    s = s.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return "".join(ch for ch in s if ch >= " " or ch == "\t")


def fold(line: str) -> str:
    """A content line folded to at most 75 octets per physical line, joined with CRLF + space."""
    data = line.encode("utf-8")
    if len(data) <= MAX_OCTETS:
        return line
    parts, start, limit = [], 0, MAX_OCTETS
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # never split a UTF-8 character
            end -= 1
        parts.append(data[start:end].decode("utf-8"))
        start, limit = end, MAX_OCTETS - 1  # continuation lines start with a space
    return "\r\n ".join(parts)


def event_uid(kind: str, customer_id: str, subject: str, date) -> str:
    key = "\x1f".join([str(kind), str(customer_id), str(subject), pd.Timestamp(date).strftime("%Y-%m-%d")])
    return hashlib.sha1(key.encode("utf-8")).hexdigest() + "@custledger"


def _money(cents) -> str:
    return format_cents(cents)


def to_ics(reminders: pd.DataFrame, lang: str = "zh", calendar_name: str = "", stamp: dt.datetime | None = None) -> str:
    """The iCalendar text of a Reminders frame (core/reminders.REMINDER_COLUMNS)."""
    stamp = (stamp or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    if calendar_name:
        lines.append(f"X-WR-CALNAME:{escape_text(calendar_name)}")
    dtstamp = stamp.strftime("%Y%m%dT%H%M%SZ")
    cols = [reminders[c].tolist() for c in ("date", "kind", "customer_id", "name", "owner", "subject", "amount",
                                           "action", "days")]
    for date, kind, cid, name, owner, subject, amount, action, days in zip(*cols):
        if pd.isna(date):
            continue
        day = pd.Timestamp(date)
        label = output_enum_label("kind", kind, lang)
        who = name or cid
        summary = f"[{label}] {who}: {subject}" if lang == "en" else f"【{label}】{who}:{subject}"
        desc = [str(action)]
        if amount is not None and not pd.isna(amount):
            desc.append(msg("caption_amount", lang) + _money(amount))
        if owner:
            desc.append(msg("caption_owner", lang) + str(owner))
        desc.append(("客户编号 " if lang == "zh" else "Customer ID ") + str(cid))
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event_uid(kind, cid, subject, day)}",
            f"DTSTAMP:{dtstamp}",
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + pd.Timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{escape_text(summary)}",
            f"DESCRIPTION:{escape_text(chr(10).join(desc))}",
            f"CATEGORIES:{escape_text(label)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(x) + "\r\n" for x in lines)


def write_ics(path: Path, reminders: pd.DataFrame, lang: str = "zh", calendar_name: str = "",
              stamp: dt.datetime | None = None) -> Path:
    """Write the iCalendar file atomically (temp file + rename); returns its path."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(to_ics(reminders, lang, calendar_name, stamp).encode("utf-8"))
    tmp.replace(path)
    return path
