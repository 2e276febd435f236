"""Send 发送: each customer's statement (and dunning letter) by email, every attempt logged.

``custledger send PATH --month YYYY-MM [--letters] [--owners] [--outbox DIR] [--smtp HOST:PORT
…]`` runs ``run(book, ["send"], month=…, …)``; the step ``send`` does:

1. What to send. For each customer (Customers order by customer_id): its statement of the month
   in the statements folder (option ``dir``, default ``<ledger stem>_statements/YYYY-MM/``) —
   the PDF when the folder has one, else the xlsx — named as render/statement.py names it; with
   ``letters``, its dunning letter from the latest letters folder of the month
   (``<ledger stem>_letters/YYYY-MM-DD/``, or option ``letters_dir``); with ``owners``, each
   负责人's pack (ops/export.py ``export_by_owner``, built into ``<ledger stem>_owners/YYYY-MM/``)
   to the address Settings ``owner_emails`` gives.
2. Never twice. A message whose (customer — or owner —, period, kind, sha256 of the file) is
   already logged ``sent`` is skipped; so is one already ``no_email`` while the address is still
   blank (once one is typed in, it goes), and in outbox mode one
   already ``outbox`` whose .eml is still there. The log is the Sent 发送记录 sheet read back
   plus the journal ``<ledger stem>.sent.jsonl`` beside the ledger, where every attempt is
   appended and flushed to disk (fsync) before the next message starts: a run killed half-way
   has its sends on disk, and the next run skips them. (A kill in the instant between the
   server's "250 accepted" and the journal line can still send that one message twice: SMTP
   has no way to ask.)
3. Each message: a short bilingual text from the template (render/email_body.py), personal
   numbers masked per mask_exports, the file attached byte for byte. Without a transport (no
   ``--smtp``) it is written to the outbox (option ``outbox``, default
   ``<ledger stem>_outbox/YYYY-MM/``) as ``<kind>_<customer_id>.eml`` and logged ``outbox``:
   nothing leaves the machine. With one, it is sent; a refused recipient or message is
   logged ``failed`` and the run goes on; a dropped connection is logged ``failed`` and the
   next message reconnects; three failed reconnections in a row stop the run (what was not
   tried is left for the next run). Between two SMTP messages the run pauses Settings
   ``send_pause_seconds``.
4. The Sent sheet is rewritten as the old rows + the journal's new rows (nothing is ever
   dropped: the sheet is a log). After the workbook is written in place the journal is
   emptied (ops.send.send_ledger); if the write fails the journal stays and is folded in next
   time. An adapter that does not read the Sent sheet back (xlwings) leaves the sheet alone.

The run's exit code is 1 when any message failed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pandas as pd

from ..core.errors import LedgerError, file_cause
from ..core.frames import column_ids as _ids
from ..core.load import generated_frame
from ..core.statements import month_bounds
from ..io.names import safe_name
from ..render.sheets import sheet_out
from ..schema import documents, msg, norm_header, outputs
from .pipeline import Run, step

SENT_COLUMNS = ["when", "customer_id", "recipient", "email", "period", "kind", "file", "sha256", "message_id",
                "status", "detail"]
MAX_RECONNECT_FAILURES = 3


@dataclass(frozen=True)
class Item:
    """One message to make: to a customer (or an owner), one file."""

    kind: str                 # statement | letter | owner_pack
    key: str                  # customer_id, or the owner's name for an owner pack
    recipient: str            # display name
    email: str                # Customers.email (or the owner's address) as typed
    file: Path
    values: dict              # template placeholders


def journal_path(run: Run) -> Path:
    from .statements import ledger_path

    book_path = getattr(run.book, "path", None)
    base = Path(book_path).absolute() if book_path else ledger_path(run)
    return base.with_name(f"{base.stem}.sent.jsonl")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _doc_file(folder: Path, kind: str, lang: str, cid: str, name: str, tail: str) -> Path | None:
    """The PDF, else the xlsx, of a statement/letter as render/* names it; None if neither."""
    prefix = documents()[kind]["file_prefix"][lang]
    stem = f"{prefix}_{cid}_{name}_{tail}" if name else f"{prefix}_{cid}_{tail}"
    xlsx = folder / safe_name(stem, ".xlsx")
    pdf = xlsx.with_suffix(".pdf")
    return pdf if pdf.is_file() else xlsx if xlsx.is_file() else None


def _letters_folder(run: Run, ledger: Path, month: str) -> tuple[Path | None, str]:
    """(folder, its date) of the latest dunning letters of the month."""
    explicit = run.options.get("letters_dir")
    if explicit:
        folder = Path(explicit)
        return folder, folder.name
    root = ledger.parent / f"{ledger.stem}_letters"
    if not root.is_dir():
        return None, ""
    days = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name.startswith(month + "-"))
    return (root / days[-1], days[-1]) if days else (None, "")


def _items(run: Run, month: str) -> tuple[list[Item], list[str]]:
    """The messages of the run and the folders looked in."""
    from ..render.email_body import customer_values
    from .statements import ledger_path

    ledger = ledger_path(run)
    lang = run.lang if run.lang in ("zh", "en") else "zh"
    mask = bool(run.settings.mask_exports)
    cust = run.ledger.customers.assign(customer_id=_ids(run.ledger.customers, "customer_id").to_numpy(object))
    cust = cust.drop_duplicates("customer_id").sort_values("customer_id", kind="stable")
    st_dir = Path(run.options.get("dir") or ledger.parent / f"{ledger.stem}_statements" / month)
    folders = [str(st_dir)]
    letters_dir, letters_day = (None, "")
    if run.options.get("letters"):
        letters_dir, letters_day = _letters_folder(run, ledger, month)
        folders.append(str(letters_dir or ledger.parent / f"{ledger.stem}_letters"))
    base = {"company_name": run.settings.company_name, "period": month}
    items = []
    for row in cust.to_dict("records"):
        cid, name = row["customer_id"], str(row.get("name") or "").strip()
        email = "" if pd.isna(row.get("email")) else str(row.get("email") or "")
        vals = {**base, **customer_values(row, mask)}
        found = [("statement", _doc_file(st_dir, "statement", lang, cid, name, month))]
        if letters_dir is not None:
            found.append(("letter", _doc_file(letters_dir, "letter", lang, cid, name, letters_day)))
        for kind, path in found:
            if path is not None:
                items.append(Item(kind, cid, name, email, path, {**vals, "file": path.name}))
    if run.options.get("owners"):
        items.extend(_owner_items(run, ledger, month, base))
        folders.append(str(ledger.parent / f"{ledger.stem}_owners" / month))
    return items, folders


def owner_addresses(text: str) -> dict:
    """Settings owner_emails 'Zhang=zhang@x.com; 李四=li@x.com' -> {norm owner: address text}."""
    out = {}
    for part in [p for p in (text or "").replace("；", ";").replace("\n", ";").split(";") if p.strip()]:
        name, sep, addr = part.replace("＝", "=").partition("=")
        if sep and name.strip():
            out[norm_header(name)] = addr.strip()
    return out


def _owner_items(run: Run, ledger: Path, month: str, base: dict) -> list[Item]:
    from .export import export_by_owner

    folder = ledger.parent / f"{ledger.stem}_owners" / month
    packs = export_by_owner(run, folder)
    addresses = owner_addresses(run.settings.owner_emails)
    return [Item("owner_pack", p.owner, p.owner, addresses.get(norm_header(p.owner), ""), p.path,
                 {**base, "owner": p.owner, "count": p.customers, "file": p.path.name}) for p in packs]


# --- the log --------------------------------------------------------------------------------

def _enum_keys(enum: str) -> dict:
    labels = outputs()["enums"][enum]
    return {norm_header(t): k for k, v in labels.items() for t in (k, v.get("zh", ""), v.get("en", ""))}


def previous_log(run: Run) -> pd.DataFrame:
    """The Sent sheet as read back (keys, not labels), SENT_COLUMNS as text."""
    frame = generated_frame(run.validation.loaded.raw, "sent")
    if frame is None or frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SENT_COLUMNS})
    frame = frame.reindex(columns=SENT_COLUMNS)
    frame = frame.astype(object).where(frame.notna(), "").map(lambda v: "" if v is None else str(v))
    kinds, status = _enum_keys("send_kind"), _enum_keys("send_status")
    frame["kind"] = frame["kind"].map(lambda v: kinds.get(norm_header(v), v))
    frame["status"] = frame["status"].map(lambda v: status.get(norm_header(v), v))
    return frame.reset_index(drop=True)


def read_journal(path: Path) -> pd.DataFrame:
    """Journal lines (one JSON object each); a torn last line (a kill while writing) is skipped."""
    rows = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                rows.append({c: str(rec.get(c, "") or "") for c in SENT_COLUMNS})
    return pd.DataFrame(rows, columns=SENT_COLUMNS).astype(object)


def _merge(before: pd.DataFrame, journal: pd.DataFrame) -> pd.DataFrame:
    """The old rows, then the journal rows not already among them (a journal folded before a
    crash emptied it is not folded twice)."""
    if journal.empty:
        return before
    seen = set(map(tuple, before[SENT_COLUMNS].to_numpy(object).tolist()))
    new = journal[[tuple(r) not in seen for r in journal[SENT_COLUMNS].to_numpy(object).tolist()]]
    return pd.concat([before, new], ignore_index=True)


class Journal:
    """Append-only JSON lines, each flushed (and with ``durable`` fsynced) before the call
    returns. Outbox runs need no fsync: writing an .eml twice sends nothing twice."""

    def __init__(self, path: Path, durable: bool = True):
        self.path = path
        self.durable = durable
        self.fh: IO[str] | None = None

    def append(self, rec: dict) -> None:
        if self.fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fh = open(self.path, "a", encoding="utf-8", newline="\n")
        self.fh.write(json.dumps({c: rec.get(c, "") for c in SENT_COLUMNS}, ensure_ascii=False) + "\n")
        self.fh.flush()
        if self.durable:
            os.fsync(self.fh.fileno())

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


def clear_journal(path: Path) -> None:
    """After the Sent sheet holds the journal: empty it (atomically: a kill leaves it whole)."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass


# --- the step -------------------------------------------------------------------------------

def _now() -> str:
    """The attempt's time to the millisecond: with the rest of the row it tells two attempts
    apart when a journal is folded (rows without a Message-ID: no_email, a bad address)."""
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


@step("send")
def send_step(run: Run) -> None:
    from email.utils import make_msgid

    from ..io.mail import Dropped, Refused, build_message, parse_addresses, write_eml
    from ..render.email_body import fill, find_email_template, read_template
    from .changes import sheet_present
    from .statements import has_folder, ledger_path

    if not has_folder(run):   # xlwings Lite, a book never saved: no files to send, no outbox
        run.notes.append(msg("send_no_folder", run.lang))
        return
    month = run.options.get("month")
    try:
        month = f"{month_bounds(month)[0]:%Y-%m}"
    except (ValueError, TypeError):
        raise LedgerError("bad_option", option="--month", value=str(month or "")) from None
    ledger = ledger_path(run)
    transport = run.options.get("transport")
    sender = run.options.get("sender") or ""
    sender_name = run.options.get("sender_name") or run.settings.company_name
    outbox = Path(run.options.get("outbox") or ledger.parent / f"{ledger.stem}_outbox" / month)
    jpath = journal_path(run)
    has_sheet, read_sheet = sheet_present(run.validation.loaded.raw, "sent")
    log = _merge(previous_log(run), read_journal(jpath))

    status_of: dict = {}
    for key, status in zip(zip(log["customer_id"], log["period"], log["kind"], log["sha256"]), log["status"]):
        status_of.setdefault(key, set()).add(status)

    items, folders = _items(run, month)
    if not items:
        run.notes.append(msg("send_no_files", run.lang, month=month, dir="; ".join(folders)))
    # an unreadable template stops the run before the first message, not half-way
    templates = {k: read_template(find_email_template(k, ledger)) for k in dict.fromkeys(i.kind for i in items)}
    journal = Journal(jpath, durable=transport is not None)
    counts = {"sent": 0, "failed": 0, "no_email": 0, "skipped": 0, "outbox": 0}
    tick = run.options.get("progress_each") or (lambda done, total: None)
    pause = max(int(run.settings.send_pause_seconds or 0), 0)
    connect_failures, stopped, sent_before = 0, False, False
    try:
        for i, item in enumerate(items):
            tick(i, len(items))
            sha = sha256_file(item.file)
            key = (item.key, month, item.kind, sha)
            seen = status_of.get(key, set())
            eml = outbox / f"{item.kind}_{safe_name(item.key)}.eml"
            no_address = not str(item.email or "").strip()
            if "sent" in seen or ("no_email" in seen and no_address) or \
                    (transport is None and "outbox" in seen and eml.is_file()):
                counts["skipped"] += 1
                continue
            try:
                rel = os.path.relpath(item.file, ledger.parent)
            except ValueError:
                rel = str(item.file)
            rec = {"when": _now(), "customer_id": item.key, "recipient": item.recipient, "email": item.email.strip(),
                   "period": month, "kind": item.kind, "file": rel, "sha256": sha, "message_id": "",
                   "status": "", "detail": ""}
            good, bad = parse_addresses(item.email)
            if not good and not bad:
                rec.update(status="no_email", detail=msg("send_owner_no_address", run.lang, owner=item.key)
                           if item.kind == "owner_pack" else msg("send_no_address", run.lang))
            elif bad:
                rec.update(status="failed", detail=msg("send_bad_address", run.lang, value=", ".join(bad)))
            elif stopped:
                continue  # left for the next run
            else:
                subject, body = templates[item.kind]
                from_addr = sender or "custledger@localhost"
                rec["message_id"] = make_msgid(domain=from_addr.rsplit("@", 1)[-1])
                message = build_message(from_addr, sender_name, good, item.recipient, fill(subject, item.values),
                                        fill(body, item.values), item.file, message_id=rec["message_id"])
                if transport is None:
                    write_eml(eml, message)
                    rec["status"], rec["detail"] = "outbox", os.path.relpath(eml, ledger.parent) \
                        if eml.drive == ledger.drive else str(eml)
                else:
                    if sent_before and pause:
                        time.sleep(pause)
                    sent_before = True
                    try:
                        refused = transport.send(message)
                        rec.update(status="sent", detail=msg("send_refused", run.lang, detail=refused) if refused else "")
                        connect_failures = 0
                    # the reason: the server's own words, or a cause worded in the workbook's language
                    except Refused as exc:
                        why = LedgerError("send_refused", detail=exc.args[0])
                        rec.update(status="failed", detail=why.message(run.lang))
                        connect_failures = 0
                    except Dropped as exc:
                        why = LedgerError("send_disconnected", detail=exc.args[0])
                        rec.update(status="failed", detail=why.message(run.lang))
                    except LedgerError as exc:  # reconnecting failed
                        rec.update(status="failed", detail=exc.message(run.lang))
                        connect_failures += 1
                        stopped = connect_failures >= MAX_RECONNECT_FAILURES
            rec["when"] = _now()
            journal.append(rec)
            counts[rec["status"]] += 1
            status_of.setdefault(key, set()).add(rec["status"])
        tick(len(items), len(items))
    finally:
        journal.close()
        if transport is not None:
            transport.close()

    log = _merge(previous_log(run), read_journal(jpath))
    if not (has_sheet and not read_sheet):  # a book that did not hand us the sheet: never rewrite it
        run.add(sheet_out("sent", log, run.lang, note=run.note()))
    run.summary.update(sent=counts["sent"], sent_failed=counts["failed"], sent_no_email=counts["no_email"],
                       sent_skipped=counts["skipped"])
    if transport is None:
        run.summary["outbox"] = str(outbox)
        run.notes.append(msg("send_outbox", run.lang, count=counts["outbox"], dir=str(outbox)))
    else:
        run.notes.append(msg("send_done", run.lang, sent=counts["sent"], failed=counts["failed"],
                             no_email=counts["no_email"], skipped=counts["skipped"]))
    if stopped:
        run.notes.append(msg("send_stopped", run.lang, count=MAX_RECONNECT_FAILURES))
    if counts["failed"]:
        run.notes.append(msg("send_some_failed", run.lang, count=counts["failed"]))
        run.summary["blocked"] = True   # exit 1 (pipeline): something did not go


def send_ledger(book, *, as_of=None, progress=None, **options):
    """Run the send step and write the Sent sheet; then empty the journal when the ledger itself
    now holds it (a file book written in place: not a copy, not a results workbook beside it)."""
    from . import run as ops_run

    report = ops_run(book, ["send"], as_of=as_of, progress=progress, **options)
    path = getattr(book, "path", None)
    if path is None or not getattr(book, "reads_change_log", False):
        return report  # the journal stays the record (an adapter that does not read Sent back)
    jp = Path(path).absolute().with_name(f"{Path(path).stem}.sent.jsonl")
    if report.target and Path(report.target).resolve() == Path(path).resolve():
        clear_journal(jp)
    elif jp.exists():
        report.notes.append(msg("send_log_kept", report.summary.get("language", "zh"), path=str(jp)))
    return report


PASSWORD_ENV = "CUSTLEDGER_SMTP_PASSWORD"


def smtp_password(password_file: Path | None = None, *, environ=None, interactive: bool | None = None,
                  prompt=None) -> str:
    """The SMTP password (a provider's authorisation code 授权码): the first line of
    ``password_file``, else $CUSTLEDGER_SMTP_PASSWORD, else typed at a terminal prompt; never
    a command-line argument (shell history, the process list)."""
    import sys

    environ = os.environ if environ is None else environ
    if password_file is not None:
        try:
            lines = Path(password_file).read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            # the cause worded in the message's language; not chained: a UnicodeDecodeError
            # carries the file's bytes, which are the password
            raise LedgerError("smtp_password_file", path=str(password_file), detail=file_cause(exc)) from None
        if lines and lines[0]:
            return lines[0]
        raise LedgerError("smtp_no_password")
    if environ.get(PASSWORD_ENV):
        return environ[PASSWORD_ENV]
    if interactive is None:
        interactive = sys.stdin.isatty()
    if interactive:
        import getpass

        typed = (prompt or getpass.getpass)("SMTP password / 授权码: ")
        if typed:
            return typed
    raise LedgerError("smtp_no_password")


def send_cli(path: Path, *, out=None, force=False, month=None, letters=False, owners=False, outbox=None,
             smtp=None, use_ssl=False, starttls=False, user=None, password_file=None, sender=None,
             directory=None):
    """(book, options) for ``send_ledger`` from the command line's flags; LedgerError (exit 2)
    for what cannot run — checked before anything is read or sent."""
    from ..io.filebook import FileBook
    from ..io.mail import SmtpTransport, check_address, is_loopback, parse_server

    options = {"month": month, "letters": letters, "owners": owners, "outbox": outbox, "dir": directory}
    if smtp:
        host, port = parse_server(smtp)
        if use_ssl and starttls:
            raise LedgerError("send_both_tls")
        security = "ssl" if use_ssl else "starttls" if starttls else "plain"
        if security == "plain" and not is_loopback(host):
            raise LedgerError("send_needs_smtp_tls")
        from_addr = sender or (user if user and "@" in user else "")
        if not from_addr:
            raise LedgerError("send_no_from")
        if not check_address(from_addr):
            raise LedgerError("bad_option", option="--from", value=from_addr)
        password = smtp_password(password_file) if user else ""
        transport = SmtpTransport(host, port, security, user or "", password)
        transport.connect()  # a wrong server, certificate or login stops here, before anything is sent
        transport.close()    # reading the ledger may take a while: the first message connects again
        options.update(transport=transport, sender=check_address(from_addr))
    elif sender:
        if not check_address(sender):
            raise LedgerError("bad_option", option="--from", value=sender)
        options["sender"] = check_address(sender)
    return FileBook(Path(path), out=out, force=force), options
