"""The literal xlwings Lite wrappers (lite/main.py) hold no rule of their own: each binds one
operation of OPERATIONS, and its form fields are exactly what the operation needs from a person
(docs/decisions.md, "Lite scripts stay literal")."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import xlwings

from custledger.operations import OPERATIONS

MAIN = Path(__file__).resolve().parents[1] / "pylib" / "custledger" / "lite" / "main.py"
FORM_FIELD = {"customer": "customer_id", "month": "month"}  # needs a person types in Lite


def test_every_wrapper_binds_one_operation_with_the_form_fields_it_needs(monkeypatch):
    seen: dict = {}

    def script(**kw):
        def wrap(fn):
            seen[fn.__name__] = (fn, kw)
            return fn
        return wrap

    monkeypatch.setattr(xlwings, "script", script)
    spec = importlib.util.spec_from_file_location("lite_main_ops", MAIN)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert list(seen) == list(OPERATIONS)
    for op, (fn, kw) in seen.items():
        params = list(inspect.signature(fn).parameters)
        assert params == ["book", *(FORM_FIELD[n] for n in OPERATIONS[op].needs if n in FORM_FIELD)], op
        assert kw["button"] == mod.button(op) and fn.__doc__, op
        assert f'xl.run_button("{op}", book, lite=True' in inspect.getsource(fn), op
