"""Reading back a filled statement or letter by its defined names (shared by the tests)."""

import openpyxl


def read_named(path) -> tuple[dict, dict]:
    """(named cell -> value, named range -> values) of the first sheet of a filled document."""
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    cells, ranges = {}, {}
    for name, d in wb.defined_names.items():
        ref = d.attr_text.split("!")[1].replace("$", "")
        if ":" in ref:
            ranges[name] = [c.value for row in ws[ref] for c in row]
        else:  # a one-row table region is a single cell
            cells[name] = ws[ref].value
            ranges[name] = [ws[ref].value]
    return cells, ranges
