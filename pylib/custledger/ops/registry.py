"""The step registry, loaded on demand: a step's module is imported when the step is asked for.

Each step lives in ops/<name>.py and registers itself with ``@step(name)``. Importing every
step module on every run cost ~0.2 s (openpyxl, xlsxwriter, the template and render modules)
for a ``validate`` that needs none of them, so ``STEPS`` imports ``custledger.ops.<name>`` the
first time ``name`` is looked up. A known step whose module does not register it is an error
(ImportError or LookupError), never a step silently missing; iterating the registry loads
every known step.
"""

from __future__ import annotations

import importlib


class StepRegistry(dict):
    """{step name: function}; names in ``known`` are imported from ops/<name>.py on first use."""

    def __init__(self, known, modules=None):
        super().__init__()
        self.known = tuple(known)
        self.modules = dict(modules or {})   # step -> module name where it is not the step's

    def _load(self, name) -> bool:
        if not dict.__contains__(self, name) and name in self.known:
            module = f"{__package__}.{self.modules.get(name, name)}"
            importlib.import_module(module)
            if not dict.__contains__(self, name):
                raise LookupError(f"{module} does not register the step {name!r}")
        return dict.__contains__(self, name)

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
