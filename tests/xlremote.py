"""Test helpers: drive xlwings code without Excel, through xlwings' remote engine.

``payload(path, client)`` builds, from a real .xlsx/.xlsm, the JSON an Excel client sends to
xlwings (VBA ``Remote.bas`` / Office Scripts ``xlwings.ts``: values of A1..last used cell,
empty cells "", dates as ISO strings, tables, names; an ``Office.js`` client, i.e. xlwings Lite,
also sends the used range's address, notes, visibility...). ``remote_book(...)`` opens it with
``xw.Book(json=...)``. ``apply_actions(actions, src, dst)`` replays the returned actions on a copy
with openpyxl the way Excel executes them (values typed in are coerced as Excel coerces typed
input; an apostrophe keeps text as text) and fails loudly on any action it does not know, or one
the payload's client does not implement.

The remote engine is xlwings PRO code (PolyForm Noncommercial): tests set
``XLWINGS_LICENSE_KEY=noncommercial`` through the ``xl_license`` fixture only, never the package.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.table import Table, TableStyleInfo

# The callbacks the VBA client (addin/Remote.bas) and the Office Scripts client (js/xlwings.ts)
# implement: anything else fails in Excel at run time.
BASIC_ACTIONS = {
    "setValues", "rangeClearContents", "rangeClearFormats", "rangeClear", "addSheet", "setSheetName",
    "setAutofit", "setRangeColor", "activateSheet", "addHyperlink", "setNumberFormat", "setPictureName",
    "setPictureHeight", "setPictureWidth", "deletePicture", "addPicture", "updatePicture", "alert",
    "setRangeName", "namesAdd", "nameDelete", "runMacro", "rangeDelete", "rangeInsert", "rangeSelect",
    "addTable", "setTableName", "resizeTable", "showAutofilterTable", "showHeadersTable",
    "showTotalsTable", "setTableStyle", "copyRange", "sheetDelete", "sheetClear", "sheetClearContents",
    "sheetClearFormats",
}
OFFICE_JS_EXTRA = {"addNote", "deleteNote", "setSheetVisibility", "freezePaneAtRange", "setFontProperty"}
ISO_DT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z?)?$")
NUMBER = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")


def _iso(v: dt.datetime) -> str:
    return v.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def sheet_values(ws) -> list[list]:
    """A1 .. last used cell, as a client sends it."""
    nrows, ncols = ws.max_row, ws.max_column
    if nrows == 1 and ncols == 1 and ws["A1"].value is None:
        return [[]]
    out = []
    for row in ws.iter_rows(min_row=1, max_row=nrows, min_col=1, max_col=ncols):
        vals = []
        for c in row:
            v = c.value
            if v is None:
                vals.append("")
            elif isinstance(v, dt.datetime):
                vals.append(_iso(v))
            elif isinstance(v, dt.date):
                vals.append(_iso(dt.datetime(v.year, v.month, v.day)))
            elif isinstance(v, dt.time):
                vals.append(_iso(dt.datetime(1899, 12, 30, v.hour, v.minute, v.second)))
            else:
                vals.append(v)
        out.append(vals)
    return out


def payload(path: Path, client: str = "VBA", selection: str = "A1", active: int = 0,
            notes: bool = True, empty="") -> dict:
    """The JSON ``client`` sends for the workbook at ``path``, as that client really builds it:
    Google Apps Script sends ``tables: []`` always (js/xlwings.js); Office.js sends each
    sheet's ``notes`` only where Excel has ExcelApi 1.18 (``notes=False``: none, as an older
    Excel); ``empty`` is what an empty cell becomes (``None``: the VBA client's null)."""
    import xlwings as xw

    wb = openpyxl.load_workbook(path, data_only=True)
    sheets = []
    for ws in wb.worksheets:
        tables = []
        for t in (ws.tables.values() if client != "Google Apps Script" else ()):
            c0, r0, c1, r1 = range_boundaries(t.ref)
            head = f"{get_column_letter(c0)}{r0}:{get_column_letter(c1)}{r0}"
            body = f"{get_column_letter(c0)}{r0 + 1}:{get_column_letter(c1)}{r1}"
            tables.append({"name": t.displayName, "range_address": t.ref, "header_row_range_address": head,
                           "data_body_range_address": body, "total_row_range_address": None,
                           "show_headers": True, "show_totals": bool(t.totalsRowCount),
                           "table_style": t.tableStyleInfo.name if t.tableStyleInfo else None,
                           "show_autofilter": t.autoFilter is not None})
        values = sheet_values(ws)
        if empty != "":
            values = [[empty if v == "" else v for v in row] for row in values]
        entry = {"name": ws.title, "values": values, "pictures": [], "tables": tables}
        if client == "Office.js":
            filled = [c for row in ws.iter_rows() for c in row if c.value not in (None, "")]
            used = None
            if filled:
                r0, r1 = min(c.row for c in filled), max(c.row for c in filled)
                c0, c1 = min(c.column for c in filled), max(c.column for c in filled)
                used = f"{get_column_letter(c0)}{r0}:{get_column_letter(c1)}{r1}"
            entry.update({
                "visibility": "Visible" if ws.sheet_state == "visible" else "Hidden",
                "shapes": [], "charts": [], "pivot_tables": [], "print_area": None,
                "show_gridlines": True, "used_range_address": used,
            })
            if notes:
                entry["notes"] = [{"address": c.coordinate} for row in ws.iter_rows() for c in row if c.comment]
        sheets.append(entry)
    names = []
    for name, dn in wb.defined_names.items():
        dest = list(dn.destinations)
        if not dest:
            continue
        sheet, address = dest[0]
        titles = [ws.title for ws in wb.worksheets]
        if sheet in titles:
            names.append({"name": name, "sheet_index": titles.index(sheet), "address": address.replace("$", ""),
                          "book_scope": True, "scope_sheet_name": None, "scope_sheet_index": None})
    data = {"client": client, "version": xw.__version__,
            "book": {"name": Path(path).name, "active_sheet_index": active, "selection": selection},
            "names": names, "sheets": sheets}
    return json.loads(json.dumps(data))   # exactly what went over the wire


def remote_book(path: Path, client: str = "VBA", **kw):
    """``xw.Book(json=payload(path, client, **kw))``: the book as the remote engine sees it."""
    import xlwings as xw

    return xw.Book(json=payload(path, client, **kw))


@pytest.fixture(autouse=False)
def xl_license(monkeypatch):
    """Unlock xlwings' remote engine with the noncommercial key, for the test only.

    xlwings registers its PRO engines when it is first imported; if something imported it
    before the key was set, register them now the same way (xlwings/__init__.py does this)."""
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    import xlwings

    if not xlwings.__pro__:
        from xlwings.main import Engine
        from xlwings.pro import _xlofficejs, _xlremote

        xlwings.engines.add(Engine(impl=_xlremote.engine))
        xlwings.engines.add(Engine(impl=_xlofficejs.engine))
        monkeypatch.setattr(xlwings, "__pro__", True)
    yield
    xlwings.Book._mock_caller = None


# -- applying actions ------------------------------------------------------------------------
def _typed(v):
    """A value as Excel stores it when it is written in (typed input coercion)."""
    if v is None or v == "":
        return None
    if isinstance(v, bool) or isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        if v.startswith("'"):
            return v[1:]
        if v.startswith("="):
            return v          # openpyxl stores it as a formula
        m = ISO_DT.match(v)
        if m:
            parts = [int(x) for x in m.groups() if x is not None]
            return dt.datetime(*parts)
        if NUMBER.match(v):
            return float(v) if any(ch in v for ch in ".eE") else int(v)
        if v.upper() in ("TRUE", "FALSE"):
            return v.upper() == "TRUE"
        if v[:1] in "+-@":
            raise AssertionError(f"Excel would read {v!r} as a formula")
        return v
    raise AssertionError(f"value of unexpected type in setValues: {v!r}")


class Applied:
    """What applying did besides changing cells: alerts shown, counts per action."""

    def __init__(self):
        self.alerts: list = []
        self.counts: dict = {}


class ClientThrew(AssertionError):
    """The client's own code throws on this action: in Excel the run stops there."""


def apply_actions(actions: list[dict], src: Path, dst: Path, client: str = "VBA", allowed=None,
                  throws=()) -> Applied:
    """Replay ``actions`` on a copy of ``src`` saved as ``dst``; unknown actions raise, and so
    does an action in ``throws`` (the client implements it by throwing). ``allowed``: the
    client's action set (default: the basic set, plus Office.js' extras for Office.js)."""
    shutil.copyfile(src, dst)
    keep_vba = Path(src).suffix.lower() == ".xlsm"
    wb = openpyxl.load_workbook(dst, keep_vba=keep_vba)
    if allowed is None:
        allowed = BASIC_ACTIONS | (OFFICE_JS_EXTRA if client == "Office.js" else set())
    info = Applied()
    for a in actions:
        func = a["func"]
        info.counts[func] = info.counts.get(func, 0) + 1
        if func not in allowed:
            raise AssertionError(f"the {client} client has no action {func!r}")
        if func in throws:
            raise ClientThrew(f"the {client} client throws on {func!r}: {a.get('args')!r}")
        handler = _HANDLERS.get(func)
        if handler is None:
            raise AssertionError(f"the test applier does not know action {func!r}")
        handler(wb, a, info)
    wb.save(dst)
    return info


def _ws(wb, a):
    return wb.worksheets[a["sheet_position"]]


def _cells(wb, a):
    ws = _ws(wb, a)
    r0, c0 = a["start_row"] + 1, a["start_column"] + 1
    for r in range(r0, r0 + a["row_count"]):
        for c in range(c0, c0 + a["column_count"]):
            yield ws.cell(r, c)


def _add_sheet(wb, a, info):
    ix, name = a["args"]
    if name in wb.sheetnames:
        raise AssertionError(f"a sheet named {name!r} exists already")
    wb.create_sheet(name, ix)


def _delete_sheet(wb, a, info):
    wb.remove(_ws(wb, a))


def _set_values(wb, a, info):
    ws = _ws(wb, a)
    r0, c0 = a["start_row"] + 1, a["start_column"] + 1
    for i, row in enumerate(a["values"]):
        for j, v in enumerate(row):
            ws.cell(r0 + i, c0 + j).value = _typed(v)


def _number_format(wb, a, info):
    for c in _cells(wb, a):
        c.number_format = a["args"][0]


def _color(wb, a, info):
    color = a["args"][0]
    for c in _cells(wb, a):
        c.fill = PatternFill() if color is None else PatternFill("solid", fgColor=color.lstrip("#").upper())


def _add_table(wb, a, info):
    address, has_headers, style, name = a["args"]
    assert has_headers is True, "tables are written with their header row"
    for ws in wb.worksheets:
        if name in ws.tables:
            raise AssertionError(f"table name {name!r} is taken")
    ws = _ws(wb, a)
    ref = address.replace("$", "")
    c0, r0, c1, r1 = range_boundaries(ref)
    for c in range(c0, c1 + 1):   # Excel needs text headers; openpyxl checks nothing
        v = ws.cell(r0, c).value
        assert isinstance(v, str) and v, f"table header {get_column_letter(c)}{r0} is not text: {v!r}"
    t = Table(displayName=name, ref=ref)
    t.tableStyleInfo = TableStyleInfo(name=style, showRowStripes=True)
    ws.add_table(t)


def _freeze(wb, a, info):
    _ws(wb, a).freeze_panes = a["args"][0].replace("$", "")


def _add_note(wb, a, info):
    address, text = a["args"]
    cell = _ws(wb, a)[address.replace("$", "")]
    assert cell.comment is None, f"{address} has a note already"
    cell.comment = Comment(text, "custledger")


def _delete_note(wb, a, info):
    _ws(wb, a)[a["args"][0].replace("$", "")].comment = None


def _visibility(wb, a, info):
    _ws(wb, a).sheet_state = "visible" if a["args"][0] == "Visible" else "hidden"


def _clear_contents(wb, a, info):
    ws = _ws(wb, a)
    for row in ws.iter_rows():
        for c in row:
            c.value = None


def _activate(wb, a, info):
    wb.active = a["args"][0]


def _alert(wb, a, info):
    info.alerts.append(a["args"])


def _ignore(wb, a, info):
    pass


_HANDLERS = {
    "addSheet": _add_sheet, "sheetDelete": _delete_sheet, "setValues": _set_values,
    "setNumberFormat": _number_format, "setRangeColor": _color, "addTable": _add_table,
    "setAutofit": _ignore, "freezePaneAtRange": _freeze, "addNote": _add_note, "deleteNote": _delete_note,
    "setSheetVisibility": _visibility, "sheetClearContents": _clear_contents, "activateSheet": _activate,
    "alert": _alert,
}


# -- the clients' own action sets, read from the xlwings package ------------------------------
def _xlwings_dir() -> Path:
    import xlwings

    return Path(xlwings.__file__).parent


def _js_functions(text: str):
    """(name, body) of each top-level ``function name(workbook..., action...)`` in a JS/TS file."""
    for m in re.finditer(r"^(?:async )?function (\w+)\(([^)]*)\)[^{]*\{(.*?)^\}", text, re.M | re.S):
        name, params, body = m.groups()
        if params.strip().startswith("workbook") and "action" in params and name != "getRange":
            yield name, body


def client_action_sets() -> dict:
    """client kind -> (actions it implements, actions it implements by throwing), parsed from
    the sources xlwings ships: addin/Remote.bas (``Sub X(wb As Workbook, action``), js/xlwings.ts
    (Office Scripts) and js/xlwings.js (Google Apps Script); a body that starts a line with
    ``throw`` throws whatever it is given. Office.js' code is not shipped: the VBA set plus the
    extras docs/excel-clients.md lists; without ExcelApi 1.18 its notes actions fail."""
    pkg = _xlwings_dir()
    bas = (pkg / "addin" / "Remote.bas").read_text(encoding="utf-8", errors="replace")
    vba = set(re.findall(r"^Sub (\w+)\(wb As Workbook, action", bas, re.M | re.I))
    out = {"VBA": (frozenset(vba), frozenset())}
    for kind, file in (("Microsoft Office Scripts", "xlwings.ts"), ("Google Apps Script", "xlwings.js")):
        funcs = dict(_js_functions((pkg / "js" / file).read_text(encoding="utf-8")))
        thrown = {n for n, body in funcs.items() if re.search(r"^  throw\b", body, re.M)}
        out[kind] = (frozenset(funcs), frozenset(thrown))
    out["Office.js"] = (frozenset(vba | OFFICE_JS_EXTRA), frozenset())
    out["Office.js without notes"] = (frozenset(vba | OFFICE_JS_EXTRA), frozenset({"addNote", "deleteNote"}))
    return out


# -- comparing -------------------------------------------------------------------------------
HYPERLINK = re.compile(r'^=HYPERLINK\("#((?:[^"]|"")*)","((?:[^"]|"")*)"\)$')
FILE_HYPERLINK = re.compile(r'^=HYPERLINK\("([^#"](?:[^"]|"")*)","((?:[^"]|"")*)"\)$')


def displayed(ws) -> list[list]:
    """Cell values as Excel shows them (HYPERLINK formulas -> their text, an empty string blank),
    trailing blanks cut."""
    rows = []
    for row in ws.iter_rows(values_only=True):
        vals = []
        for v in row:
            if v == "":
                v = None
            if isinstance(v, str):
                m = HYPERLINK.match(v) or FILE_HYPERLINK.match(v)
                if m:
                    v = m.group(2).replace('""', '"')
            vals.append(v)
        rows.append(vals)
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    width = max((max((j + 1 for j, v in enumerate(r) if v is not None), default=0) for r in rows), default=0)
    return [r[:width] + [None] * (width - len(r[:width])) for r in rows]


def link_targets(ws) -> dict:
    """cell -> internal link target, from hyperlinks (file writer) or HYPERLINK formulas (xlwings)."""
    out = {}
    for row in ws.iter_rows():
        for c in row:
            if c.hyperlink is not None and c.hyperlink.location:
                out[c.coordinate] = c.hyperlink.location
            elif isinstance(c.value, str) and HYPERLINK.match(c.value):
                out[c.coordinate] = HYPERLINK.match(c.value).group(1).replace('""', '"')
    return out


def file_links(ws) -> dict:
    """cell -> file link target (a path, relative to the workbook), from external hyperlinks
    (file writer) or HYPERLINK("path", ...) formulas (xlwings)."""
    out = {}
    for row in ws.iter_rows():
        for c in row:
            if c.hyperlink is not None and c.hyperlink.target and not c.hyperlink.location:
                out[c.coordinate] = c.hyperlink.target
            elif isinstance(c.value, str) and FILE_HYPERLINK.match(c.value):
                out[c.coordinate] = FILE_HYPERLINK.match(c.value).group(1).replace('""', '"')
    return out


def filled_cells(ws, colors=("FFC7CE", "FFEB9C")) -> dict:
    """cell -> fill colour, for cells with one of our mark fills."""
    out = {}
    for row in ws.iter_rows():
        for c in row:
            rgb = c.fill.fgColor.rgb if c.fill and c.fill.fill_type == "solid" else None
            if isinstance(rgb, str) and rgb[-6:].upper() in colors:
                out[c.coordinate] = rgb[-6:].upper()
    return out


def cf_marked_cells(ws) -> dict:
    """cell -> fill colour of the file writer's tagged conditional-format marks."""
    out = {}
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            if rule.formula and rule.formula[0].replace(" ", "") == 'N("custledger")=0':
                fill = rule.dxf.fill
                rgb = (fill.bgColor.rgb or fill.fgColor.rgb) if fill else None
                for rng in cf.sqref.ranges:
                    c0, r0, c1, r1 = rng.bounds
                    for r in range(r0, r1 + 1):
                        for c in range(c0, c1 + 1):
                            out[f"{get_column_letter(c)}{r}"] = (rgb or "")[-6:].upper()
    return out


class Spy:
    """Stands in for ops.run: records steps and options, returns a clean Report."""

    def __init__(self):
        self.calls = []

    def __call__(self, book, steps, **options):
        from custledger import ops

        options.pop("progress", None)
        self.calls.append((list(steps), options))
        return ops.Report(exit_code=0, summary={}, notes=[], files=[])


class LoglessFileBook:
    """FileBook as the command line uses it, minus the change log (ops/changes.py), which the
    xlwings route does not keep yet (XlBook.reads_change_log is False): so both routes are
    asked for the same sheets when their results are compared."""

    def __new__(cls, path, **kw):
        from custledger.io.filebook import FileBook

        book = FileBook(path, **kw)
        book.reads_change_log = False
        return book
