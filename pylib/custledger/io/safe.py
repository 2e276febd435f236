"""Saving without losing anything a person entered (DESIGN.md, Reliability).

* A workbook open in Excel (lock file ``~$name`` beside it) is not written unless forced.
* A backup is taken before the first write of a run, into ``<stem>.backups/`` beside the
  ledger; the last ``keep`` backups are kept.
* Saves are atomic: the new workbook is written to a temp file in the same folder, checked,
  flushed to disk, then renamed over the original. A failure at any point leaves the original
  untouched and removes the temp file.
* One run at a time per ledger: a lock (``.<name>.custledger.lock``, flock) makes a second run
  wait up to ``wait`` seconds, then refuse. The lock file lives only while a run holds it.
* The ledger keeps its identity: a symlink is written through to its target (the link stays),
  the mode, owner and group are kept (on backups too), and a read-only ledger is refused.
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


def real_target(target: Path) -> Path:
    """Where a save to ``target`` really goes: a symlinked ledger is written through the link to
    its target (the link stays a link, the real ledger gets the results; docs/decisions.md)."""
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def is_read_only(path: Path) -> bool:
    """No write permission for anyone (chmod a-w, "read-only" in Explorer or Finder), or not
    writable by this user. Checked on the mode bits too: root passes every os.access test,
    yet a file someone made read-only is meant to stay as it is."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (mode & 0o222) or not os.access(path, os.W_OK)


def check_can_write(path: Path, force: bool = False, target: Path | None = None) -> None:
    target = target or path
    if target == path and not force:
        lock = excel_lock_file(path)
        if lock is not None:
            raise LedgerError("file_locked", path=str(path), lock=lock.name)
    real = real_target(target)
    if real.exists() and is_read_only(real):
        raise LedgerError("file_readonly", path=str(target))
    if not os.access(real.parent, os.W_OK):
        raise LedgerError("dir_unwritable", path=str(real.parent))


def keep_identity(tmp: Path, original: Path) -> None:
    """Give ``tmp`` the mode (600 stays 600: personal data) and, where allowed, the owner and
    group of ``original`` before it replaces it."""
    try:
        st = original.stat()
    except OSError:
        return
    os.chmod(tmp, st.st_mode & 0o7777)
    if hasattr(os, "chown"):
        with contextlib.suppress(OSError):  # only root may give a file away; a user keeps theirs
            os.chown(tmp, st.st_uid, st.st_gid)


def backup_dir(path: Path) -> Path:
    return path.with_name(path.stem + ".backups")


def take_backup(path: Path, keep: int = 10) -> Path:
    """Copy the ledger before it is overwritten; keep the newest ``keep`` copies."""
    folder = backup_dir(path)
    if not folder.is_dir():
        # no wider than the ledger: a 600 ledger's backups are not listed by others either
        mode = path.stat().st_mode & 0o777
        folder.mkdir(exist_ok=True, mode=0o700 | (mode & 0o055) | ((mode & 0o044) >> 2))
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    dest = folder / f"{path.stem}.{stamp}{path.suffix}"
    part = folder / f".{dest.name}.custledger-{os.getpid()}-partial"
    try:
        shutil.copy2(path, part)  # a copy cut short (full disk, kill) is never taken for a backup
        keep_identity(part, path)  # copy2 keeps the mode; the owner and group too
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
    """A fresh temp file beside ``target`` (beside the real file when ``target`` is a symlink, so
    that the final rename stays on one file system); stale temps of dead runs on it are removed
    first. It is created empty with mode 600, so the personal data written into it is never
    readable by others, not even for the seconds before it gets the ledger's own mode."""
    target = real_target(target)
    remove_stale_temps(target)
    tmp = target.with_name(f".{target.stem}.custledger-{os.getpid()}-{time.monotonic_ns()}{target.suffix}")
    with contextlib.suppress(OSError):  # an unwritable folder is reported by the writer itself
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return tmp


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
        if pid != os.getpid() and not pid_alive(pid):
            with contextlib.suppress(OSError):
                cand.unlink()
                removed.append(cand)
    return removed


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` is still running (a temp or staging folder of a live run is never touched)."""
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        import ctypes

        # QUERY_LIMITED_INFORMATION
        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # type: ignore[attr-defined]  # Windows only; mypy checks for this platform
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))  # type: ignore[attr-defined]  # Windows only; mypy checks for this platform
        ctypes.windll.kernel32.CloseHandle(handle)  # type: ignore[attr-defined]  # Windows only; mypy checks for this platform
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_package(path: Path, read_parts: bool = True) -> None:
    """A cheap check that what we wrote is a whole zip whose parts decompress (``read_parts``
    False: its writer has just read every part back, CRC included; the directory is read)."""
    with zipfile.ZipFile(path) as zf:
        bad = zf.testzip() if read_parts else None
        if bad is not None:
            raise LedgerError("save_failed", detail=LedgerError("cause_written_part_damaged", part=bad))
        if "xl/workbook.xml" not in zf.namelist():
            raise LedgerError("save_failed", detail=LedgerError("cause_written_no_workbook"))


def commit(tmp: Path, target: Path, original: Path | None, keep: int, read_back: bool = False) -> Path | None:
    """Check tmp, back up the original if it is being replaced, then rename tmp over target.
    ``read_back``: the writer has read every entry of tmp back to its end (xlsxpatch's verify)."""
    check_package(tmp, read_parts=not read_back)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    backup = None
    replacing = original is not None and original.exists() and target.resolve() == original.resolve()
    if replacing and original is not None:  # (replacing implies it; said for the type checker)
        backup = take_backup(original, keep)
    real = real_target(target)
    if real.exists():
        keep_identity(tmp, real)
    elif original is not None and original.exists():
        keep_identity(tmp, original)  # an --out copy is as private as the ledger it comes from
    else:
        os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, real)  # through a symlink: the link stays, its target is replaced
    with contextlib.suppress(OSError):  # make the rename durable where the OS allows
        fd = os.open(real.parent, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    return backup


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _try_lock(fh) -> bool:
    """Take the exclusive lock on an open file without waiting (flock; msvcrt on Windows)."""
    try:
        import fcntl
    except ImportError:
        import msvcrt

        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]  # Windows only; mypy checks for this platform
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
    """Exclusive per-ledger lock across processes; refuses after ``wait`` seconds.

    The lock file ``.<name>.custledger.lock`` lives only while a run holds it: none is made for a
    path that is no ledger file (missing, a folder: the run refuses it in one line), and the
    holder removes it when done. A waiter that got the lock on a file already removed (its inode
    is no longer the one at the path) lets go and tries again, so two runs never both hold it."""
    if not path.is_file():
        yield  # refused by the run's own checks; nothing to guard, nothing left behind
        return
    lock_path = path.with_name(f".{path.name}.custledger.lock")
    deadline = time.monotonic() + wait
    while True:
        try:
            fh = open(lock_path, "a+")
        except OSError:
            yield  # read-only folder: nothing will be written there anyway
            return
        if _try_lock(fh):
            if _same_file(fh, lock_path):
                break
            fh.close()  # removed by the run that held it: take the new one
            continue
        fh.close()
        if time.monotonic() > deadline:
            raise LedgerError("ledger_busy", path=str(path))
        time.sleep(0.2)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            lock_path.unlink()  # while still held: a waiter on this inode will see it gone
        fh.close()


def _same_file(fh, path: Path) -> bool:
    try:
        a, b = os.fstat(fh.fileno()), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
