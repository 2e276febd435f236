"""The file adapter: a ledger workbook on disk, read with fastexcel, written by xlsxpatch.

Same interface as the xlwings adapter (io/xlbook.py): ``read()`` returns the RawBook of the
input sheets (and the Bank sheet, where people confirm suggested matches); ``write()`` takes
the generated sheets (SheetOut), the validation marks and the input sheets whose old marks are
to be cleared, and saves once: backup, atomic rename, nothing else in the package touched.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..contract import BookDefaults, SheetOut
from ..core.errors import LedgerError, file_cause
from ..core.load import CHANGE_LOG, READ_BACK, sheet_reader
from . import safe
from .reader import RawBook, check_ledger_file, read_book
from .xlsxsheets import Formats, write_sheet_out

BIG_SHEET_ROWS = 50_000   # above this, xlsxwriter's constant_memory mode (no Excel table)


@dataclass(frozen=True)
class WriteInfo:
    target: Path
    backup: Path | None
    sheets: tuple
    marks: int
    note: str = ""          # said to the user: e.g. results written elsewhere, and why


class FileBook(BookDefaults):
    reads_change_log = True  # read() hands back Changes and _snapshot (ops/changes.py appends to them)

    def __init__(self, path: Path, out: Path | None = None, force: bool = False, wait: float = 30.0):
        self.path = Path(path)
        self.out = Path(out) if out else None
        self.force = force
        self.wait = wait
        self.lang = "zh"          # the workbook's language, for notes; set by the run
        self._checked = None      # the file's stat signature when check_ledger_file last passed

    @property
    def target(self) -> Path:
        return self.out or self.path

    def read(self) -> RawBook:
        # generated sheets read back: Bank (confirmations), Changes and _snapshot (the change log)
        self._check_ledger()
        return read_book(self.path, want=sheet_reader(READ_BACK + CHANGE_LOG), checked=True)

    def _check_ledger(self) -> None:
        """check_ledger_file (the package safe for calamine, ~10 ms: every part's prolog), once
        per run: again only when the file changed since it passed (a run checks before any
        work, reads, and checks before its save)."""
        sig = _signature(self.path)
        if sig is None or sig != self._checked:
            check_ledger_file(self.path)
            self._checked = sig

    def session(self):
        """Held for a whole run: one run at a time per ledger (see safe.run_lock)."""
        return safe.run_lock(self.path, wait=self.wait)

    def check_writable(self) -> None:
        self._check_ledger()
        safe.check_can_write(self.path, self.force, self.target)

    def write(self, outs: Sequence[SheetOut], marks=(), clear_marks_on=(), keep: int = 10,
              protect: bool = True, appends=()) -> WriteInfo:
        """``appends``: (sheet name, SheetLayout, frame) rows to add at the end of an input sheet."""
        from .xlsxpatch import XlsxPatchError, patch_workbook
        from .xlsxpatch_errors import UnsafePackageError

        self.check_writable()
        target = self.target
        tmp = safe.temp_path(target)
        big = any(len(o.data) > BIG_SHEET_ROWS for o in outs)

        bodies: dict = {}   # big tabular sheets: data rows written column-wise (io/columnar.py)

        def build(wb):
            fmts = Formats(wb)
            for o in outs:
                write_sheet_out(wb, o, fmts, protect=protect, constant_memory=big, bodies=bodies)

        try:
            extra: dict = {"appends": list(appends)} if appends else {}
            report = patch_workbook(self.path, tmp, build, [o.name for o in outs], marks=list(marks),
                                    clear_marks_on=list(clear_marks_on), constant_memory=big, bodies=bodies,
                                    **extra)
            backup = safe.commit(tmp, target, self.path, keep, read_back=getattr(report, "read_back", False))
        except LedgerError:
            _remove(tmp)
            raise
        except UnsafePackageError as exc:
            _remove(tmp)
            raise LedgerError("save_failed", detail=exc.reason()) from exc
        except XlsxPatchError as exc:
            # a structure this writer cannot keep or change safely: the ledger stays as it is and
            # the results go to a workbook of their own beside it (DESIGN.md, Reliability)
            _remove(tmp)
            alt = target.with_name(f"{target.stem}.custledger-results.xlsx")
            write_standalone(alt, outs, big)
            from ..schema import msg
            why = exc.reason()
            if os.environ.get("CUSTLEDGER_DEBUG"):  # the writer's own (English) reason, for support
                print(f"custledger: {exc}", file=sys.stderr)
            note = msg("would_drop_parts", self.lang, path=self.path.name, parts=why.message(self.lang), out=alt.name)
            return WriteInfo(target=alt, backup=None, sheets=tuple(o.name for o in outs), marks=0, note=note)
        except Exception as exc:  # the original is untouched: say why in one line
            _remove(tmp)
            # the reason in the message's language (a full disk, no permission...); the exception
            # itself, English, stays chained: CUSTLEDGER_DEBUG=1 shows it
            raise LedgerError("save_failed", detail=file_cause(exc)) from exc
        except BaseException:  # interrupted (Ctrl+C, SIGTERM): the original is untouched, no temp left
            _remove(tmp)
            raise
        return WriteInfo(target=target, backup=backup, sheets=tuple(o.name for o in outs), marks=len(marks),
                         note=self._protected_note(getattr(report, "protected_appends", ())))

    def _protected_note(self, sheets) -> str:
        """Rows were added to a protected sheet (the import was asked for; the protection is a
        guard against slips, and the person should know custledger went past it)."""
        if not sheets:
            return ""
        from ..schema import msg

        return msg("appended_to_protected", self.lang, sheet="、".join(sheets) if self.lang == "zh" else
                   ", ".join(sheets))


def write_standalone(path: Path, outs: Sequence[SheetOut], big: bool) -> Path:
    """The generated sheets alone in a new workbook (atomic: temp file, then rename)."""
    import xlsxwriter

    from .xlsxsheets import WORKBOOK_OPTIONS

    tmp = safe.temp_path(path)
    try:
        wb = xlsxwriter.Workbook(str(tmp), {**WORKBOOK_OPTIONS, "constant_memory": big})
        fmts = Formats(wb)
        for o in outs:
            write_sheet_out(wb, o, fmts, protect=True, constant_memory=big)
        wb.close()
        safe.commit(tmp, path, None, 0)
    except Exception:
        _remove(tmp)
        raise
    return path


def _signature(p: Path):
    """What changes when the file does (replaced, rewritten, touched); None if it is not there."""
    try:
        st = p.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _remove(p: Path) -> None:
    try:
        p.unlink()
    except OSError:
        pass
