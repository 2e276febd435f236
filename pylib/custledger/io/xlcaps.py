"""What the Excel client behind an xlwings book can do, as data, read from the payload it sent.

The ``client`` field names the code that applies the returned actions (xlwings 0.37.8:
addin/Remote.bas for VBA, js/xlwings.ts for Office Scripts, js/xlwings.js for Google Apps Script;
Office.js adds notes, visibility, freeze panes, fonts); each sheet's ``notes`` list says whether
that Excel has notes there (none before ExcelApi 1.18). tests/test_client_matrix.py parses those
sources and replays every button with them. No heavy imports: xl.py reads this before anything
else, so even a failed import of the engine gets its message the right way.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caps:
    """What the Excel client behind a book can do, as data (decided by ``caps_of`` from the
    payload). ``notes`` is whether the client has notes at all (it holds for a sheet added in
    the run); ``note_sheets`` the sheets of the payload whose notes were sent (None: every sheet)."""

    client: str
    marks: bool       # set a fill and take it off again (no fill)
    notes: bool       # add/delete cell notes
    hide: bool        # hide a sheet
    freeze: bool      # freeze the header row
    read_color: bool  # read a range's fill synchronously
    status_bar: bool
    tables: bool = True     # Excel tables (Google Apps Script: every table action throws)
    alert: bool = True      # a message box (Office Scripts implements alert by throwing)
    autofit: bool = True
    note_sheets: frozenset | None = None

    def notes_on(self, sheet_name: str) -> bool:
        """Notes on this sheet of the payload: its notes were sent (a sheet added in the run
        goes by ``notes``: a remote book gives it an empty list whatever the client)."""
        return self.notes if self.note_sheets is None else sheet_name in self.note_sheets


# What each client's own code does with the actions (xlwings 0.37.8: addin/Remote.bas,
# js/xlwings.ts, js/xlwings.js; Office.js adds notes, visibility, freeze panes, fonts).
# tests/test_client_matrix.py parses those sources and replays every button with them.
OFFICE_JS = "Office.js"
TABLES_THROW = frozenset({"Google Apps Script"})          # throw "NotImplemented: addTable"
ALERT_THROWS = frozenset({"Microsoft Office Scripts"})    # alert() is `throw myPrompt`


def caps_of(book) -> Caps:
    """The capabilities of ``book``'s client, from the payload it sent."""
    api = book.api
    if not isinstance(api, dict):      # desktop Excel through COM/AppleScript: everything
        return Caps("desktop", True, True, True, True, True, True)
    client = str(api.get("client", ""))
    office_js = client == OFFICE_JS
    sheets = api.get("sheets") or []
    sent = frozenset(str(s.get("name")) for s in sheets
                     if isinstance(s.get("notes"), list) and s.get("notes_supported") is not False)
    # a client with notes sends them for every sheet; one without (ExcelApi < 1.18) for none
    notes = office_js and api.get("notes_supported") is not False and bool(sheets) and len(sent) == len(sheets)
    return Caps(client, marks=office_js, notes=notes, hide=office_js, freeze=office_js, read_color=False,
                status_bar=False, tables=client not in TABLES_THROW, alert=client not in ALERT_THROWS,
                note_sheets=sent if office_js else frozenset())
