"""The operations: read -> core -> write, one step per button or command.

``run(book, steps)`` (pipeline.py) reads the book once, validates, runs the steps in their
fixed order over the clean ledger and writes every generated sheet in one save. Each step lives
in its own module here and registers itself with ``@step(name)``; the command line, the
RunPython buttons and xlwings Lite all go through ``run`` with a book adapter.
"""

from . import validate  # noqa: F401  (registers the step)
from . import changes  # noqa: F401  (registers the step: runs in every run that writes)
from . import aging, letters, reconcile, tiers  # noqa: F401  (register the steps)
from . import statements  # noqa: F401  (registers the step)
from . import card, dashboard, reminders  # noqa: F401  (register the steps)
from .pipeline import STEP_ORDER, STEPS, Report, Run, run, step

__all__ = ["run", "Run", "Report", "step", "STEPS", "STEP_ORDER"]
