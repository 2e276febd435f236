"""Converting xlsx files to PDF (or PNG) with LibreOffice headless, in batches.

LibreOffice costs ~1.1 s a file when started once per file, ~0.17 s a file when one process
converts a batch (docs/perf-floor.md), so ``convert`` never starts one process per file: it
passes many files to ONE ``soffice --convert-to`` call, or to one call per worker (at most
``processes``, each with its own files) running side by side. Each call gets a private
profile (``-env:UserInstallation``) in a temporary folder, so it neither collides with a
LibreOffice the user has open nor with the other calls, and is removed afterwards. The
command line is split further when it would exceed what Windows accepts (32,767 characters).

LibreOffice is found in ``CUSTLEDGER_SOFFICE``, then on PATH (soffice, libreoffice), then in
the usual install folders of Windows and macOS; ``LedgerError("libreoffice_missing")`` says
how to install it when it is not found. Output files are ``<outdir>/<input stem>.<fmt>``
(PNG: the first page); inputs must therefore have distinct stems.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..core.errors import LedgerError

CANDIDATES = (
    r"C:\Program Files\LibreOffice\program\soffice.exe",
    r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    "/usr/lib/libreoffice/program/soffice",
    "/opt/libreoffice/program/soffice",
    "/snap/bin/libreoffice",
)
MAX_COMMAND = 30_000     # characters of one command line (Windows allows 32,767)
START_SECONDS = 60       # timeout of one call: start-up ...
PER_FILE_SECONDS = 5     # ... plus this much per file


def find_soffice() -> str | None:
    """The LibreOffice program to run, or None."""
    env = os.environ.get("CUSTLEDGER_SOFFICE")
    if env and Path(env).exists():
        return env
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for path in CANDIDATES:
        if Path(path).exists():
            return path
    return None


def _batches(files: list[Path], parts: int, fixed: int) -> list[list[Path]]:
    """``parts`` interleaved shares of the files, each cut so that a command line fits."""
    shares = [files[i::parts] for i in range(parts)] if parts > 1 else [files]
    out = []
    for share in shares:
        batch: list = []
        size = fixed
        for f in share:
            n = len(str(f)) + 3
            if batch and size + n > MAX_COMMAND:
                out.append(batch)
                batch, size = [], fixed
            batch.append(f)
            size += n
        if batch:
            out.append(batch)
    return out


def _run_one(soffice: str, files: list[Path], outdir: Path, target: str, timeout: float | None) -> None:
    with tempfile.TemporaryDirectory(prefix="custledger-lo-") as profile:
        cmd = [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
               "--nologo", "--nodefault", "--nolockcheck", "--convert-to", target, "--outdir", str(outdir),
               *[str(f) for f in files]]
        limit = timeout if timeout is not None else START_SECONDS + PER_FILE_SECONDS * len(files)
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=limit, text=True, errors="replace",
                                  creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32" else 0)
        except subprocess.TimeoutExpired:
            why = LedgerError("pdf_cause_timed_out", seconds=f"{limit:.0f}", files=len(files))
            raise LedgerError("libreoffice_failed", detail=why) from None
        if proc.returncode != 0:
            # LibreOffice's last line is English prose: kept in the chain (CUSTLEDGER_DEBUG=1), not shown
            tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-1:] or [""]
            raise LedgerError("libreoffice_failed", detail=LedgerError("pdf_cause_exit", status=proc.returncode)) \
                from RuntimeError(tail[0][:200])


def _not_made(missing: list[str]) -> LedgerError:
    """The files LibreOffice left unmade, as a message: how many, and the first one's name."""
    return LedgerError("pdf_cause_not_made", count=len(missing), example=missing[0])


def _pngs(files: list[Path], outdir: Path, processes: int, timeout) -> list[Path]:
    """First page of each file as PNG. Calc's own PNG export fails headless in current
    LibreOffice versions, so: PDF in one batch, then each PDF's first page rasterised with
    poppler's pdftoppm, or else by LibreOffice Draw (one more batch call)."""
    with tempfile.TemporaryDirectory(prefix="custledger-png-") as tmp:
        pdfs = convert(files, tmp, "pdf", processes, timeout)
        pdftoppm = shutil.which("pdftoppm")
        if pdftoppm:
            for f in pdfs:
                subprocess.run([pdftoppm, "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(f),
                                str(outdir / f.stem)], capture_output=True, timeout=120, check=False)
        else:
            soffice = find_soffice()
            if soffice is None:  # convert() above has already refused; said again for the type
                raise LedgerError("libreoffice_missing")
            _run_one(soffice, pdfs, outdir, "png", timeout)
    outs = [outdir / (f.stem + ".png") for f in files]
    missing = [o.name for o in outs if not o.exists()]
    if missing:
        raise LedgerError("libreoffice_failed", detail=_not_made(missing))
    return outs


def convert(files, outdir=None, fmt: str = "pdf", processes: int = 1, timeout: float | None = None) -> list[Path]:
    """Convert ``files`` (xlsx) to ``fmt`` (pdf or png) into ``outdir`` (default: the first
    file's folder); returns the output paths in input order.

    One LibreOffice call per batch; batches run side by side up to ``processes``. Raises
    LedgerError (libreoffice_missing / libreoffice_failed) when LibreOffice is absent or a
    file was not converted.
    """
    files = [Path(f).resolve() for f in files]
    if not files:
        return []
    soffice = find_soffice()
    if soffice is None:
        raise LedgerError("libreoffice_missing")
    outdir = Path(outdir).resolve() if outdir else files[0].parent
    outdir.mkdir(parents=True, exist_ok=True)
    if fmt not in ("pdf", "png"):
        raise ValueError(f"fmt must be pdf or png, not {fmt!r}")
    if fmt == "png":
        return _pngs(files, outdir, processes, timeout)
    fixed = len(soffice) + len(str(outdir)) + 200
    parts = max(1, min(processes, len(files)))
    batches = _batches(files, parts, fixed)
    if len(batches) == 1:
        _run_one(soffice, batches[0], outdir, "pdf", timeout)
    else:
        with ThreadPoolExecutor(max_workers=parts) as pool:
            for f in [pool.submit(_run_one, soffice, b, outdir, "pdf", timeout) for b in batches]:
                f.result()
    outs = [outdir / (f.stem + "." + fmt) for f in files]
    missing = [o.name for o in outs if not o.exists()]
    if missing:
        raise LedgerError("libreoffice_failed", detail=_not_made(missing))
    return outs
