"""Saving without losing anything a person entered (DESIGN.md, Reliability).

* A workbook open in Excel (lock file ``~$name`` beside it) is not written unless forced.
* A backup is taken before the first write of a run, into ``<stem>.backups/`` beside the
  ledger; the last ``keep`` backups are kept.
* Saves are atomic: the new workbook is written to a temp file in the same folder, checked,
  flushed to disk, then renamed over the original. A failure at any point leaves the original
  untouched and removes the temp file.
* One run at a time per ledger: a lock (``.<name>.custledger.lock``, flock) makes a second run
  wait up to ``wait`` seconds, then refuse.
* A run killed mid-save (power cut, SIGKILL) leaves its temp file ``.<stem>.custledger-<pid>-…``
  beside the ledger (the ledger itself is whole: the rename never happened). The next save of
  that target removes the temps whose process is gone; backups are copied under a temp name and
  renamed, so a killed backup never counts as one of the ``keep``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import time
import zipfile
from pathlib import Path

from ..core.errors import LedgerError


def excel_lock_file(path: Path) -> Path | None:
    """Excel's owner file: '~$' + name (Excel trims long names to keep the last part)."""
    for cand in (path.with_name("~$" + path.name), path.with_name("~$" + path.name[2:])):
        if cand.exists():
            return cand
    return None


def check_can_write(path: Path, force: bool = False, target: Path | None = None) -> None:
    target = target or path
    if target == path and not force:
        lock = excel_lock_file(path)
        if lock is not None:
            raise LedgerError("file_locked", path=str(path), lock=lock.name)
    if target.exists() and not os.access(target, os.W_OK):
        raise LedgerError("file_readonly", path=str(target))
    if not os.access(target.parent, os.W_OK):
        raise LedgerError("dir_unwritable", path=str(target.parent))


def backup_dir(path: Path) -> Path:
    return path.with_name(path.stem + ".backups")


def take_backup(path: Path, keep: int = 10) -> Path:
    """Copy the ledger before it is overwritten; keep the newest ``keep`` copies."""
    folder = backup_dir(path)
    folder.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    dest = folder / f"{path.stem}.{stamp}{path.suffix}"
    part = folder / f".{dest.name}.custledger-{os.getpid()}-partial"
    try:
        shutil.copy2(path, part)  # a copy cut short (full disk, kill) is never taken for a backup
        os.replace(part, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    olds = sorted(folder.glob(f"{path.stem}.*{path.suffix}"))
    for old in olds[:-keep] if keep > 0 else []:
        with contextlib.suppress(OSError):
            old.unlink()
    return dest


def temp_path(target: Path) -> Path:
    """A fresh temp name beside ``target``; stale temps of dead runs on it are removed first."""
    remove_stale_temps(target)
    return target.with_name(f".{target.stem}.custledger-{os.getpid()}-{time.monotonic_ns()}{target.suffix}")


def remove_stale_temps(target: Path) -> list[Path]:
    """Remove the temp files (and partial backups) left by killed runs on ``target``: those
    whose process id is not running any more. A live process's temp is never touched."""
    removed = []
    cands = list(target.parent.glob(f".{target.stem}.custledger-*{target.suffix}"))
    folder = backup_dir(target)
    if folder.is_dir():
        cands += list(folder.glob(f".{target.stem}.*.custledger-*-partial"))
    for cand in cands:
        try:
            pid = int(cand.name.split(".custledger-", 1)[1].split("-", 1)[0])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            with contextlib.suppress(OSError):
                cand.unlink()
                removed.append(cand)
    return removed


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_package(path: Path) -> None:
    """A cheap check that what we wrote is a whole zip whose parts decompress."""
    with zipfile.ZipFile(path) as zf:
        bad = zf.testzip()
        if bad is not None:
            raise LedgerError("save_failed", detail=f"damaged part {bad}")
        if "xl/workbook.xml" not in zf.namelist():
            raise LedgerError("save_failed", detail="no workbook part")


def commit(tmp: Path, target: Path, original: Path | None, keep: int) -> Path | None:
    """Check tmp, back up the original if it is being replaced, then rename tmp over target."""
    check_package(tmp)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    backup = None
    if original is not None and original.exists() and target.resolve() == original.resolve():
        backup = take_backup(original, keep)
    os.replace(tmp, target)
    with contextlib.suppress(OSError):  # make the rename durable where the OS allows
        fd = os.open(target.parent, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    return backup


def _try_lock(fh) -> bool:
    """Take the exclusive lock on an open file without waiting (flock; msvcrt on Windows)."""
    try:
        import fcntl
    except ImportError:
        import msvcrt

        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


@contextlib.contextmanager
def run_lock(path: Path, wait: float = 30.0):
    """Exclusive per-ledger lock across processes; refuses after ``wait`` seconds."""
    lock_path = path.with_name(f".{path.name}.custledger.lock")
    try:
        fh = open(lock_path, "a+")
    except OSError:
        yield  # read-only folder: nothing will be written there anyway
        return
    try:
        deadline = time.monotonic() + wait
        while not _try_lock(fh):
            if time.monotonic() > deadline:
                raise LedgerError("ledger_busy", path=str(path))
            time.sleep(0.2)
        yield
    finally:
        fh.close()
