"""custledger: a customer ledger kept in Excel, with the bookkeeping done in Python.

Layers (dependencies point one way): the ways in (cli, xl, lite) -> ops -> core and io.
core is pure (frames in, frames out); io reads and writes workbooks; schema is the single
source of truth for sheets, columns and labels.
"""

__version__ = "0.1.0"
