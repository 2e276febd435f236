"""`custledger xl install PATH`: give an existing ledger workbook the buttons' macro module.

Where Excel runs (Windows, macOS) it opens PATH through xlwings, imports macros/custledger.bas
(generated from io/xlsm.BUTTONS, so it needs no repository checkout) and xlwings' standalone
RunPython module, and saves the workbook as PATH.xlsm next to it. That needs Excel's
"Trust access to the VBA project object model" (docs/excel.md). Where Excel is absent it does
nothing and says what to do instead: use the shipped workbook/custledger.xlsm, the command line,
or xlwings Lite.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from .core.errors import LedgerError

XLSM_FORMAT = 52   # xlOpenXMLWorkbookMacroEnabled


def install(path, lang: str | None = None) -> str:
    """Import the custledger macro module into the workbook at ``path`` and save it as .xlsm;
    returns the one-line result for the user. Raises LedgerError (exit 2) when it cannot."""
    from .schema import msg

    path = Path(path).resolve()
    lang = lang or os.environ.get("CUSTLEDGER_LANG", "zh")
    if not path.exists():
        raise LedgerError("file_missing", path=str(path))
    shipped = "workbook/custledger.xlsm" if lang == "zh" else "workbook/custledger_en.xlsm"
    if sys.platform not in ("win32", "darwin"):
        return msg("xl_install_no_excel", lang, detail=sys.platform, shipped=shipped, path=str(path))
    try:
        import xlwings as xw

        app = xw.App(visible=False, add_book=False)
    except Exception as exc:  # noqa: BLE001 - Excel not installed, or it would not start
        detail = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        return msg("xl_install_no_excel", lang, detail=detail, shipped=shipped, path=str(path))
    target = path.with_suffix(".xlsm")
    try:
        book = app.books.open(str(path))
        _import_modules(book, lang)
        book.api.SaveAs(str(target), XLSM_FORMAT) if os.name == "nt" else book.save(str(target))
        book.close()
    finally:
        app.quit()
    return msg("xl_install_done", lang, path=str(target))


def _import_modules(book, lang: str) -> None:
    from .io.xlsm import MODULE, bas_text, xlwings_modules

    try:
        components = book.api.VBProject.VBComponents
    except Exception as exc:  # noqa: BLE001 - Trust Center blocks access to the VBA project
        raise LedgerError("xl_install_trust", detail=str(exc).splitlines()[0][:160]) from None
    sources = {**xlwings_modules(), MODULE: bas_text(lang)}
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in sources.items():
            for c in list(components):
                if c.Name == name:
                    components.Remove(c)
            suffix = ".cls" if text.lstrip().startswith("VERSION") else ".bas"
            f = Path(tmp) / f"{name}{suffix}"
            # the VBA editor reads a .bas in the ANSI code page: a comment character it lacks
            # becomes "?" rather than stopping the install
            f.write_text(text.replace("\r\n", "\n").replace("\n", "\r\n"),
                         encoding="mbcs" if os.name == "nt" else "utf-8", errors="replace")
            components.Import(str(f))
