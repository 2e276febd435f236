"""The operations: read -> core -> write, one step per button or command.

``run(book, steps)`` (pipeline.py) reads the book once, validates, runs the steps in their
fixed order over the clean ledger and writes every generated sheet in one save. Each step lives
in its own module here, ops/<name>.py, and registers itself with ``@step(name)``; ``STEPS``
imports that module the first time the step is asked for (ops/registry.py), so a run imports
only what its steps need. The command line, the RunPython buttons and xlwings Lite all go
through ``run`` with a book adapter.
"""

from ..operations import OPERATIONS, RunOptions
from .pipeline import STEP_ORDER, STEPS, Report, Run, check_registry, run, step

__all__ = ["run", "Run", "Report", "step", "STEPS", "STEP_ORDER", "OPERATIONS", "RunOptions", "check_registry"]
