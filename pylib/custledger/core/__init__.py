"""Pure rules over pandas DataFrames: no file, Excel or xlwings I/O in here."""
