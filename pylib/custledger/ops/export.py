"""Export 导出: a copy of the ledger's input sheets to send out, personal numbers masked,
optionally password-protected.

``custledger export PATH [--encrypt] [--password-file F] [--out FILE]`` calls ``export_cli``.

What is written: the input sheets (Customers, Invoices, Receipts, Interactions, Settings) as
found in the ledger — their header row and the rows below it, every column including ones
custledger does not know; nothing generated (no Problems, Bank, Changes, _snapshot…), no
macros, no formulas. Values: amounts and dates as numbers/dates where they parse, otherwise
the text as typed; text is always written as text (a cell starting with = stays text).

Masking (Settings ``mask_exports``, default yes): every column whose schema field is marked
``x-personal`` — phone (138****5678), ID (tax_id), bank account (6222 **** **** 1234), by
core/mask.py — and birthday, which is replaced by ``****-**-**`` whole (the year, month and
day are each personal). With ``mask_exports`` no, values go out as they are.

Encryption (``encrypt``): the workbook is built in memory and encrypted with msoffcrypto-tool
(ECMA-376 agile encryption, what Excel's "Encrypt with password" writes), so the plain copy
never touches the disk. The password comes from ``--password-file`` (its first line), else
the environment variable CUSTLEDGER_EXPORT_PASSWORD, else a prompt (twice) when the command
runs in a terminal — never from a command-line argument, which would land in shell history
and in the process list. The file is written to a temp name and renamed into place.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..core.errors import LedgerError, file_cause
from ..core.load import DATA_SHEETS, load
from ..core.mask import mask
from ..schema import msg, sheet

PASSWORD_ENV = "CUSTLEDGER_EXPORT_PASSWORD"
BIRTHDAY_MASK = "****-**-**"
_MASK_KIND = {"phone": "phone", "id": "id", "bank": "bank", "email": "email"}


@dataclass(frozen=True)
class ExportResult:
    path: Path
    sheets: tuple
    rows: dict = field(default_factory=dict)   # sheet name -> data rows written
    masked: bool = True
    encrypted: bool = False

    def message(self, lang: str = "zh") -> str:
        return msg("export_written", lang, path=str(self.path),
                   masked=msg("export_masked" if self.masked else "export_unmasked", lang),
                   encrypted=msg("export_encrypted", lang) if self.encrypted else "")


def default_out(path: Path, today: dt.date | None = None) -> Path:
    today = today or dt.date.today()
    return path.with_name(f"{path.stem}_export_{today:%Y%m%d}.xlsx")


def export_password(password_file: Path | None = None, *, environ=None, interactive: bool | None = None,
                    prompt=None) -> str:
    """The export password: the first line of ``password_file``, else $CUSTLEDGER_EXPORT_PASSWORD,
    else typed twice at a terminal prompt. LedgerError when there is none."""
    environ = os.environ if environ is None else environ
    if password_file is not None:
        try:
            text = Path(password_file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            # the cause worded in the message's language; not chained: a UnicodeDecodeError
            # carries the file's bytes, which are the password
            raise LedgerError("export_password_file", path=str(password_file), detail=file_cause(exc)) from None
        lines = text.splitlines()
        password = lines[0] if lines else ""
        if not password:
            raise LedgerError("export_no_password")
        return password
    if environ.get(PASSWORD_ENV):
        return environ[PASSWORD_ENV]
    if interactive is None:
        interactive = sys.stdin.isatty()
    if interactive:
        import getpass

        ask = prompt or getpass.getpass
        first = ask("Password / 密码: ")
        if first and ask("Again / 再输一次: ") != first:
            raise LedgerError("export_password_mismatch")
        if first:
            return first
    raise LedgerError("export_no_password")


def export_cli(path: Path, out: Path | None = None, encrypt: bool = False,
               password_file: Path | None = None) -> ExportResult:
    """What ``custledger export`` runs: resolve the password (when encrypting), then export."""
    password = export_password(password_file) if encrypt else None
    return export_ledger(Path(path), out, password=password)


def export_ledger(path: Path, out: Path | None = None, *, password: str | None = None,
                  today: dt.date | None = None) -> ExportResult:
    """Write the export of the ledger at ``path`` to ``out`` (default ``<stem>_export_<date>.xlsx``
    beside it), encrypted when ``password`` is given. Raises LedgerError (nothing written)."""
    from ..io.filebook import FileBook

    path = Path(path)
    out = Path(out) if out else default_out(path, today)
    if out.exists() and out.resolve() == path.resolve():
        raise LedgerError("export_same_file", path=str(out))
    if out.suffix.lower() != ".xlsx":
        raise LedgerError("file_not_xlsx", path=str(out))
    loaded = load(FileBook(path).read())
    masking = bool(loaded.settings.mask_exports)
    data, sheets, rows = _build(loaded, masking)
    if password is not None:
        encrypted = io.BytesIO()
        from msoffcrypto.format.ooxml import OOXMLFile

        OOXMLFile(io.BytesIO(data)).encrypt(password, encrypted)
        data = encrypted.getvalue()
    _write_atomic(out, data)
    return ExportResult(path=out, sheets=tuple(sheets), rows=rows, masked=masking, encrypted=password is not None)


def _write_atomic(out: Path, data: bytes) -> None:
    from ..io import safe

    if not out.parent.exists():
        raise LedgerError("dir_unwritable", path=str(out.parent))
    tmp = safe.temp_path(out)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise LedgerError("save_failed", detail=file_cause(exc)) from exc


def _build(loaded, masking: bool) -> tuple[bytes, list, dict]:
    import xlsxwriter

    from ..io.xlsxsheets import WORKBOOK_OPTIONS

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {**WORKBOOK_OPTIONS, "in_memory": True})
    fmts = {"money": wb.add_format({"num_format": "#,##0.00"}), "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
            "header": wb.add_format({"bold": True})}
    names, rows = [], {}
    raw = loaded.raw
    for key in (*DATA_SHEETS, "settings"):
        ts = loaded.sheets.get(key)
        name = _settings_name(loaded) if key == "settings" else ts.name
        if not name or name not in raw.sheets:
            continue
        src = raw.sheets[name]
        ws = wb.add_worksheet(name)
        if key == "settings" or ts.layout is None:
            rows[name] = _copy_text(ws, src.frame)
        else:
            rows[name] = _copy_typed(ws, src, ts, sheet(key), masking, fmts)
        names.append(name)
    wb.close()
    return buf.getvalue(), names, rows


def _settings_name(loaded):
    from ..core.load import assign_sheets

    found, _ = assign_sheets(loaded.sheet_names)
    return found.get("settings")


def _copy_text(ws, frame: pd.DataFrame) -> int:
    """Every cell as the text read (the Settings sheet: key/value rows)."""
    for i, row in enumerate(frame.itertuples(index=False)):
        for j, v in enumerate(row):
            if isinstance(v, str) and v != "":
                ws.write_string(i, j, v)
    return max(len(frame) - 1, 0)


def _copy_typed(ws, src, ts, spec, masking: bool, fmts) -> int:
    """Header row and the rows below it; mapped columns typed (or masked), the rest as text."""
    frame, layout = src.frame, ts.layout
    header = frame.iloc[layout.header_index]
    body = frame.iloc[layout.header_index + 1:]
    sheet_rows = src.row0 + layout.header_index + 1 + pd.RangeIndex(len(body))
    typed = ts.frame.drop_duplicates("_row").set_index("_row").reindex(sheet_rows)
    for j, h in header.items():
        if isinstance(h, str):
            ws.write_string(0, j, h, fmts["header"])
    columns = []
    for j in frame.columns:
        key = layout.columns.get(j)
        text = body[j].tolist()
        f = spec.field(key) if key else None
        personal = f.spec.get("x-personal") if f else None
        vals: list
        if personal and masking:
            if personal == "birthday":
                vals = [BIRTHDAY_MASK if isinstance(t, str) and t.strip() else None for t in text]
            else:
                vals = [mask(t, _MASK_KIND[personal]) if isinstance(t, str) else None for t in text]
            columns.append((j, vals, None))
            continue
        if f is not None and f.kind in ("money", "price", "date", "int", "number") and key in typed:
            parsed = typed[key].tolist()
            vals = []
            for t, p in zip(text, parsed):
                if p is None or p is pd.NA or p is pd.NaT or (isinstance(p, float) and p != p):
                    vals.append(t if isinstance(t, str) else None)
                elif f.kind == "money":
                    vals.append(int(p) / 100)  # display only: the cents were exact
                elif f.kind == "date":
                    vals.append(pd.Timestamp(p).to_pydatetime())
                else:
                    vals.append(p if not hasattr(p, "item") else p.item())
            columns.append((j, vals, fmts["money"] if f.kind == "money" else fmts["date"] if f.kind == "date" else None))
            continue
        columns.append((j, [t if isinstance(t, str) else None for t in text], None))
    for i in range(len(body)):
        for j, vals, fmt in columns:
            v = vals[i]
            if v is None or v == "":
                continue
            if isinstance(v, str):
                ws.write_string(i + 1, j, v)
            elif isinstance(v, dt.datetime):
                ws.write_datetime(i + 1, j, v, fmt)
            else:
                ws.write_number(i + 1, j, v, fmt)
    return len(body)


# --- one workbook per owner (负责人) --------------------------------------------------------

PACK_PREFIX = {"zh": "客户清单", "en": "Customers"}
CARDS_SHEET = {"zh": "客户卡片", "en": "Cards"}
PACK_SHEETS = ("balances", "aging", "overdue", "reminders")
PACK_CREATED = dt.datetime(2026, 1, 1)   # fixed document date: the same figures give the same bytes


@dataclass(frozen=True)
class OwnerPack:
    owner: str          # the owner as typed in Customers (the "no owner" label for the rest)
    path: Path
    customers: int


def export_by_owner(run, folder: Path, password: str | None = None) -> list:
    """One workbook per owner (Customers.owner, trimmed; customers without one together under
    the "no owner" label) in ``folder``: Balances, Aging, Overdue and Reminders rows of that
    owner's customers only, and a Cards sheet with their Customers rows; personal numbers
    masked per mask_exports (phone, tax_id, bank_account, birthday — in every sheet that shows
    them); encrypted with ``password`` when given. Named ``客户清单_<owner>_<as_of>.xlsx``; the
    bytes depend on the figures only (fixed document date), unless encrypted (a fresh salt).
    Returns the OwnerPacks, by owner name."""
    from ..core.frames import column_ids as _ids
    from ..core.reminders import reminders
    from ..io.names import safe_name
    from ..render.sheets import sheet_out
    from .needs import need

    lang = run.lang if run.lang in ("zh", "en") else "zh"
    masking = bool(run.settings.mask_exports)
    customers = run.ledger.customers.assign(customer_id=_ids(run.ledger.customers, "customer_id").to_numpy(object))
    owner = customers["owner"].fillna("").astype(str).str.strip() if "owner" in customers else \
        pd.Series("", index=customers.index)
    owner = owner.where(owner != "", msg("owner_none", lang))
    frames = {"balances": need(run, "balances"), "aging": need(run, "aging"), "overdue": need(run, "overdue")}
    frames["reminders"] = run.frames.get("reminders")
    if frames["reminders"] is None:
        frames["reminders"] = reminders(run.ledger, need(run, "open_items"), run.as_of, run.settings)
    buckets = list(_bucket_labels(run.settings))
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        raise LedgerError("dir_unwritable", path=str(folder)) from None
    packs = []
    for name in sorted(set(owner)):
        ids = set(customers.loc[owner == name, "customer_id"])
        outs = []
        for key in PACK_SHEETS:
            f = frames[key]
            part = f[f["customer_id"].isin(ids).to_numpy()] if len(f) else f
            outs.append(sheet_out(key, _mask_frame(part, masking), lang, buckets=buckets, table=""))
        outs.append(_cards(customers[customers["customer_id"].isin(ids)], lang, masking))
        data = _pack_bytes(outs)
        if password is not None:
            encrypted = io.BytesIO()
            from msoffcrypto.format.ooxml import OOXMLFile

            OOXMLFile(io.BytesIO(data)).encrypt(password, encrypted)
            data = encrypted.getvalue()
        path = folder / safe_name(f"{PACK_PREFIX[lang]}_{name}_{run.as_of:%Y-%m-%d}", ".xlsx")
        _write_atomic(path, data)
        packs.append(OwnerPack(owner=name, path=path, customers=len(ids)))
    return packs


def _bucket_labels(settings):
    from ..core.aging import bucket_labels

    return bucket_labels(settings.aging_buckets)


def _mask_frame(frame: pd.DataFrame, masking: bool) -> pd.DataFrame:
    if not masking:
        return frame
    out = frame
    for col, kind in (("phone", "phone"), ("tax_id", "id"), ("bank_account", "bank")):
        if col in out.columns:
            out = out.assign(**{col: out[col].map(lambda v, k=kind: mask(v, k))})
    return out


def _cards(customers: pd.DataFrame, lang: str, masking: bool):
    """The owner's Customers rows (the customer card profile), personal numbers masked."""
    from ..render.sheets import SheetOut

    spec = sheet("customers")
    cols, headers = [], []
    for f in spec.fields:
        values = customers[f.key] if f.key in customers else pd.Series([None] * len(customers), index=customers.index)
        personal = f.spec.get("x-personal")

        def text(v, personal=personal):
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
                return ""
            if isinstance(v, pd.Timestamp):
                v = v.strftime("%Y-%m-%d")
            if personal and masking:
                return BIRTHDAY_MASK if personal == "birthday" else mask(v, _MASK_KIND[personal])
            if f.kind == "money":
                return f"{int(v) / 100:.2f}"
            return str(v)
        cols.append(values.map(text).reset_index(drop=True))
        headers.append(f.label(lang))
    data = pd.DataFrame({i: c for i, c in enumerate(cols)})
    return SheetOut(key="cards", name=CARDS_SHEET[lang], headers=headers, formats=["text"] * len(headers),
                    data=data, widths=[f.width for f in spec.fields])


def _pack_bytes(outs) -> bytes:
    import xlsxwriter

    from ..io.xlsxsheets import WORKBOOK_OPTIONS, Formats, write_sheet_out

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {**WORKBOOK_OPTIONS, "in_memory": True})
    wb.set_properties({"created": PACK_CREATED})
    fmts = Formats(wb)
    for o in outs:
        write_sheet_out(wb, o, fmts, protect=False)
    wb.close()
    return buf.getvalue()


def export_owners_cli(path: Path, folder: Path, encrypt: bool = False, password_file: Path | None = None,
                      as_of=None) -> tuple:
    """What ``custledger export PATH --by-owner DIR`` runs: (packs, masked, encrypted)."""
    from ..io.filebook import FileBook
    from . import run as ops_run

    password = export_password(password_file) if encrypt else None
    folder = Path(folder)
    report = ops_run(FileBook(Path(path)), ["owner_packs"], as_of=as_of, write=False, owner_dir=folder,
                     password=password)
    return report.summary["owner_packs"], report.summary["owner_packs_masked"], password is not None


def _owner_packs_step(run) -> None:
    packs = export_by_owner(run, run.options.get("owner_dir"), password=run.options.get("password"))
    run.files.extend(p.path for p in packs)
    run.summary["owner_packs"] = packs
    run.summary["owner_packs_masked"] = bool(run.settings.mask_exports)


def _register() -> None:
    from .pipeline import step

    step("owner_packs")(_owner_packs_step)


_register()
