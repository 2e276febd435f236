"""Files that go to customers are put in place only after the ledger save commits.

Statements and dunning letters (and their PDFs) list what the run computed, including receipts
imported from a bank file in the same run. Written straight into their folder, a run stopped
before its save (Ctrl+C, SIGTERM, a failed save) would leave files that list a receipt the
ledger never kept. So a step renders into a staging folder beside the final one,
``.<folder>.custledger-staging-<pid>-<n>``; the run moves the files in place after the save
(``commit``), or removes the staging folder when it stops early (``discard``). A staging folder
left by a killed process (SIGKILL, power cut) is removed by the next run that stages beside it,
once that process is gone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import LedgerError
from ..io.safe import pid_alive

MARK = ".custledger-staging-"


@dataclass(frozen=True)
class Staging:
    """Files of a run that belong in ``folder``, written in ``temp`` until the save commits."""

    folder: Path   # where the files belong
    temp: Path     # where they are written until the save commits


def stage(run, folder: Path) -> Path:
    """A fresh staging folder for files that belong in ``folder`` (the one ``reserve`` made for
    it, if any); registered on the run. A run outside the pipeline (no ``staged`` list: a step
    called on its own) writes in place."""
    folder = Path(folder)
    if getattr(run, "staged", None) is None:
        return folder
    reserved = getattr(run, "reserved", None) or {}
    temp = reserved.pop(folder, (None, False))[0]
    if temp is None or not temp.is_dir():
        temp = _make(folder)[0]
    run.staged.append(Staging(folder, temp))
    return temp


def _make(folder: Path) -> tuple[Path, bool]:
    """(a new staging folder beside ``folder``, whether its parent folder was made for it)."""
    made = not folder.parent.is_dir()
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(folder)
        temp = folder.with_name(f".{folder.name}{MARK}{os.getpid()}-{time.monotonic_ns()}")
        temp.mkdir()
    except OSError as exc:   # a file where the folder goes, no permission, a full disk...
        raise LedgerError("dir_unwritable", path=str(folder)) from exc
    return temp, made


# step name -> fn(run) -> the folder the step will stage its files for this run, or None
_DESTINATIONS: dict[str, Callable] = {}


def destination(step_name: str):
    """Declare ``fn(run) -> Path | None``: where step ``step_name`` puts its files in this run
    (None: it writes none, or cannot tell before it runs — then it stages when it does)."""
    def register(fn):
        _DESTINATIONS[step_name] = fn
        return fn
    return register


def reserve(run, steps) -> None:
    """Make the staging folders of ``steps`` (those with a declared destination) before any step
    runs: a folder that cannot be written stops the run before its work, not after minutes of
    it, with the ledger untouched; stale staging beside it is cleared now. The step then renders
    into its reserved folder (``stage``); one it never uses (no letter due this time) is removed
    with the run's other staging, and so is a parent folder made only for it."""
    reserved = getattr(run, "reserved", None)
    if getattr(run, "staged", None) is None or reserved is None:
        return
    for name in steps:
        fn = _DESTINATIONS.get(name)
        folder = fn(run) if fn is not None else None
        if folder is not None and Path(folder) not in reserved:
            reserved[Path(folder)] = _make(Path(folder))


def _release(run) -> None:
    """Remove the reserved staging folders no step used (and a parent made only for them)."""
    reserved = getattr(run, "reserved", None) or {}
    while reserved:
        _, (temp, made_parent) = reserved.popitem()
        shutil.rmtree(temp, ignore_errors=True)
        if made_parent:
            with contextlib.suppress(OSError):
                temp.parent.rmdir()   # only if empty: nothing else went there


def final(staged_paths, temp: Path, folder: Path) -> list[Path]:
    """Where each staged file (written flat in ``temp``) will be once committed."""
    return [Path(folder) / Path(p).name for p in staged_paths]


@contextlib.contextmanager
def _signals_held():
    """Ctrl+C and SIGTERM wait while files are moved in place (main thread): a stop then comes
    after the whole set is in place, never halfway through it. The stop is recorded by a
    handler and passed on afterwards — not blocked with pthread_sigmask, which holds for the
    calling thread only: a library's own thread (Arrow's pool) would take the signal, and its
    handler would run in the middle of the move all the same."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    old = {}
    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            num = getattr(signal, name)
            old[num] = signal.signal(num, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for num, handler in old.items():
            signal.signal(num, handler)
        if caught:   # the stop now, as it would have come: the run's handler, or the default
            handler = old[caught[0]]
            if callable(handler):
                handler(caught[0], None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(caught[0])


def commit(run) -> None:
    """Move every staged file into its folder (replacing a file of the same name from an
    earlier run), then remove the staging folders; a folder that does not exist yet is the
    staging folder renamed."""
    with _signals_held():
        _commit(run)
    _release(run)


def _commit(run) -> None:
    while run.staged:
        st = run.staged[0]
        if _rename_whole(st):
            run.staged.pop(0)
            continue
        st.folder.mkdir(parents=True, exist_ok=True)
        for src in sorted(st.temp.rglob("*")):
            if src.is_file():
                dest = st.folder / src.relative_to(st.temp)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dest)
        shutil.rmtree(st.temp, ignore_errors=True)
        run.staged.pop(0)


def _rename_whole(st: Staging) -> bool:
    """The staging folder becomes the folder in one rename when there is no folder yet (a
    month's first close): one atomic step instead of a move per file (~0.1 ms each), the whole
    set in place or none of it. Where the folder exists (a second close of the month: its other
    files stay) or the rename is refused, the files are moved one by one (False)."""
    if os.path.lexists(st.folder):
        return False
    try:
        os.rename(st.temp, st.folder)
    except OSError:   # the folder appeared meanwhile (POSIX: not empty), or Windows refuses
        return False
    return True


def discard(run) -> None:
    """Remove every staging folder of the run (it stopped before its save committed)."""
    while run.staged:
        shutil.rmtree(run.staged.pop().temp, ignore_errors=True)
    _release(run)


def withdraw(run) -> int:
    """Discard the staged files and take them off ``run.files`` (the save went elsewhere and
    the ledger does not hold what they list); how many files were withdrawn."""
    staged = {st.folder / p.name for st in run.staged if st.temp.is_dir() for p in st.temp.iterdir()}
    before = len(run.files)
    run.files[:] = [f for f in run.files if Path(f) not in staged]
    discard(run)
    return before - len(run.files)


def remove_stale(folder: Path) -> list[Path]:
    """Staging folders of ``folder`` left by processes that are gone."""
    removed: list = []
    if not folder.parent.is_dir():
        return removed
    for cand in folder.parent.glob(f".{folder.name}{MARK}*"):
        try:
            pid = int(cand.name.rsplit(MARK, 1)[1].split("-", 1)[0])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not pid_alive(pid):
            with contextlib.suppress(OSError):
                shutil.rmtree(cand)
                removed.append(cand)
    return removed
