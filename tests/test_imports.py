"""A run imports what its steps need (issue 12): the step registry loads ops/<name>.py on first
use, and a `validate` does not pay for the statement, letter and template machinery."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from custledger import ops
from custledger.io.template import build_ledger
from custledger.ops.registry import StepRegistry

HEAVY = ("openpyxl", "custledger.render.statement", "custledger.render.letter", "custledger.render.template_fill",
         "custledger.ops.statements", "custledger.ops.letters", "custledger.ops.dashboard", "custledger.ops.card")


def test_every_step_of_the_order_is_registered():
    from custledger.operations import ALL_STEPS

    for name in ALL_STEPS:   # the close's order, and the steps that run alone (send, owner packs)
        assert name in ops.STEPS and callable(ops.STEPS[name]), name
    assert set(ops.STEPS) == set(ALL_STEPS) and len(ops.STEPS) == len(ALL_STEPS)
    assert "nonsense" not in ops.STEPS and ops.STEPS.get("nonsense") is None


def test_a_module_that_does_not_register_its_step_is_an_error():
    reg = StepRegistry(["registry"])          # ops/registry.py exists but registers no step
    with pytest.raises(LookupError):
        "registry" in reg
    with pytest.raises(ModuleNotFoundError):
        StepRegistry(["no_such_step"]).get("no_such_step")


def _modules_after(args) -> dict:
    code = ("import json, sys\nfrom custledger.cli import app\ntry:\n    app(sys.argv[1:], standalone_mode=False)\n"
            "except SystemExit:\n    pass\nprint(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_validate_imports_no_template_or_statement_modules(tmp_path):
    p = tmp_path / "台账.xlsx"
    build_ledger(p, "zh", data={"customers": pd.DataFrame({"customer_id": ["C1"], "name": ["甲公司"]})},
                 settings={"as_of": "2026-10-31"})
    mods = _modules_after(["validate", p, "--json"])
    assert "custledger.core.validate" in mods            # it did run
    assert not [m for m in HEAVY if m in mods]
    mods = _modules_after(["letters", p, "--json"])
    assert "custledger.ops.letters" in mods and "custledger.ops.statements" in mods
