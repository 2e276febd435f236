"""The step registry, loaded on demand: a step's module is imported when the step is asked for.

Each step lives in ops/<name>.py and registers itself with ``@step(name)``. Importing every
step module on every run cost ~0.2 s (openpyxl, xlsxwriter, the template and render modules)
for a ``validate`` that needs none of them, so ``STEPS`` imports ``custledger.ops.<name>`` the
first time ``name`` is looked up. A known step whose module does not register it is an error
(ImportError or LookupError), never a step silently missing; iterating the registry loads
every known step.

A step's function carries its declaration (``STEP_ATTR``: the name it registers), set by
:meth:`StepRegistry.register`. A module is imported once, so a step removed from the registry
(a test's monkeypatch.delitem) would never come back by importing again: a look-up of a known
step that is missing re-registers it from its imported module's declaration instead.
``registered`` reports the registry as it is, without that repair (pipeline.check_registry).
"""

from __future__ import annotations

import importlib
import sys

STEP_ATTR = "custledger_step"   # on a step's function: the step name it declares


class StepRegistry(dict):
    """{step name: function}; names in ``known`` are imported from ops/<name>.py on first use."""

    def __init__(self, known, modules=None):
        super().__init__()
        self.known = tuple(known)
        self.modules = dict(modules or {})   # step -> module name where it is not the step's

    def register(self, name, fn):
        """Step ``name`` is ``fn``: the function is marked with its declaration (STEP_ATTR)."""
        setattr(fn, STEP_ATTR, name)
        dict.__setitem__(self, name, fn)
        return fn

    def _module(self, name) -> str:
        return f"{__package__}.{self.modules.get(name, name)}"

    def registered(self, name) -> bool:
        """``name`` is in the registry now, its module imported first (no repair from the
        module's declaration: a step deleted from the registry is reported missing)."""
        if not dict.__contains__(self, name) and name in self.known:
            importlib.import_module(self._module(name))
        return dict.__contains__(self, name)

    def _load(self, name) -> bool:
        """``registered``, repaired: a known step still missing after its module's import (imported
        before, its step since removed) is registered again from the module's declaration."""
        if not self.registered(name) and name in self.known:
            module = self._module(name)
            self._redeclare(name, sys.modules[module])
            if not dict.__contains__(self, name):
                raise LookupError(f"{module} does not register the step {name!r}")
        return dict.__contains__(self, name)

    def _redeclare(self, name, module) -> None:
        """Register ``name`` again from the function of ``module`` that declares it (imported
        before: importing again runs nothing)."""
        for obj in vars(module).values():
            if callable(obj) and getattr(obj, STEP_ATTR, None) == name:
                dict.__setitem__(self, name, obj)
                return

    def _load_all(self) -> None:
        for name in self.known:
            self._load(name)

    def __contains__(self, name) -> bool:
        return self._load(name)

    def __getitem__(self, name):
        self._load(name)
        return dict.__getitem__(self, name)

    def get(self, name, default=None):
        return dict.__getitem__(self, name) if self._load(name) else default

    def __iter__(self):
        self._load_all()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._load_all()
        return dict.__len__(self)

    def keys(self):
        self._load_all()
        return dict.keys(self)

    def values(self):
        self._load_all()
        return dict.values(self)

    def items(self):
        self._load_all()
        return dict.items(self)

    def __repr__(self) -> str:
        self._load_all()
        return dict.__repr__(self)
