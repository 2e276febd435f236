"""The command line's quick way in (cli_fast.py) hands every command exactly what typer would,
and leaves to typer everything it does not read plainly (help, errors, unknown options)."""

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from custledger import cli, cli_fast


@pytest.fixture
def captured(monkeypatch):
    """Every command's callback replaced by one that records its keyword arguments."""
    calls: list = []
    for info in cli.app.registered_commands:
        def make(cb):
            @functools.wraps(cb)
            def record(**kwargs):
                calls.append((cb.__name__, kwargs))
            return record
        monkeypatch.setattr(info, "callback", make(info.callback))
    return calls


def _typer_kwargs(calls, argv):
    calls.clear()
    cli.app(argv, standalone_mode=False)
    assert len(calls) == 1, argv
    return calls[0]


def _argvs(name, params, tmp_path):
    """Ways a person writes this command: required arguments only, every option given, options
    before the arguments, --opt=value, an option given twice."""
    args = [str(tmp_path / f"{p.name}.xlsx") if p.is_path else f"v-{p.name}" for p in params if p.kind == "arg"]
    required = [a for a, p in zip(args, [p for p in params if p.kind == "arg"]) if p.default is ...]
    opts, eq = [], []
    for p in params:
        if p.kind == "flag":
            opts.append(p.option[0])
            eq.append(p.option[0])
        elif p.kind == "value":
            value = str(tmp_path / f"{p.name}.csv") if p.is_path else "2026-10"
            opts += [p.option[0], value]
            eq.append(f"{p.option[-1]}={value}")
    twice = []
    values = [p for p in params if p.kind == "value"]
    if values:
        twice = [values[0].option[0], "first", values[0].option[0], "second"]
    return [[name, *required], [name, *args, *opts], [name, *opts, *args], [name, *eq, *args],
            [name, *args, *twice]]


def test_every_command_gets_what_typer_gives_it(captured, tmp_path):
    commands = cli_fast._commands(cli.app)
    assert {"validate", "close", "statements", "import-invoices", "card", "send", "export", "new", "demo"} <= set(commands)
    for name, callback in commands.items():
        params = cli_fast.command_params(callback)
        assert params is not None, f"{name}: read by typer only (cli_fast cannot read its parameters)"
        for argv in _argvs(name, params, tmp_path):
            found = cli_fast.parse(cli.app, argv)
            assert found is not None, argv
            fast_cb, fast_kwargs = found
            typer_name, typer_kwargs = _typer_kwargs(captured, argv)
            assert fast_kwargs == typer_kwargs, argv
            assert {k: type(v) for k, v in fast_kwargs.items()} == {k: type(v) for k, v in typer_kwargs.items()}, argv


@pytest.mark.parametrize("argv", [
    [], ["--help"], ["validate"], ["validate", "--help"], ["validate", "a.xlsx", "-h"], ["validate", "a.xlsx", "b.xlsx"],
    ["validate", "a.xlsx", "--nope"], ["validate", "a.xlsx", "--as-of"], ["validate", "a.xlsx", "--json=1"],
    ["validate", "--", "a.xlsx"], ["validate", "a.xlsx", "--out", "-x"], ["validate", ""], ["xl", "install", "a.xlsx"],
    ["nonsense", "a.xlsx"], ["close", "a.xlsx", "--month", ""], ["card", "a.xlsx"],
])
def test_what_it_does_not_read_goes_to_typer(argv):
    assert cli_fast.parse(cli.app, argv) is None


def test_an_unreadable_existing_path_goes_to_typer(tmp_path):
    p = tmp_path / "a.xlsx"
    p.write_bytes(b"x")
    assert cli_fast.parse(cli.app, ["validate", str(p)]) is not None
    p.chmod(0)
    try:
        import os
        if os.access(p, os.R_OK):
            pytest.skip("running as a user who reads every file (root)")
        assert cli_fast.parse(cli.app, ["validate", str(p)]) is None
    finally:
        p.chmod(0o600)


def test_the_quick_way_runs_the_command_without_pydantic(tmp_path):
    """python -m custledger.cli: exit codes and output as with typer; pydantic never imported."""
    code = ("import sys\nfrom custledger import cli\nsys.argv = ['custledger', *sys.argv[1:]]\n"
            "try:\n    cli.main()\nexcept SystemExit as e:\n"
            "    print('EXIT', e.code, 'pydantic' in sys.modules, file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code, "validate", str(tmp_path / "missing.xlsx"), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert "EXIT 2 False" in out.stderr, out.stderr
    assert str(tmp_path / "missing.xlsx") in out.stderr   # the one-line file_missing message
    # typer still answers what the quick way leaves to it
    out = subprocess.run([sys.executable, "-m", "custledger.cli", "validate", "--nope", "x.xlsx"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "--nope" in out.stderr


def test_new_through_the_quick_way_writes_the_ledger(tmp_path):
    p = tmp_path / "台账.xlsx"
    out = subprocess.run([sys.executable, "-m", "custledger.cli", "new", str(p), "--lang", "en"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(p) and Path(p).exists()
    out = subprocess.run([sys.executable, "-m", "custledger.cli", "validate", str(p), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["exit_code"] == 0


def test_the_quick_way_does_not_import_typer(tmp_path):
    """cli_decl.py: the declarations are plain data; typer (and click) only for what typer reads."""
    from custledger.io.template import build_ledger

    p = tmp_path / "台账.xlsx"
    build_ledger(p, "en")
    code = ("import sys\nfrom custledger import cli\nsys.argv = ['custledger', *sys.argv[1:]]\n"
            "try:\n    cli.main()\nexcept SystemExit as e:\n"
            "    print('EXIT', e.code, sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'click')),"
            " file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code, "validate", str(p), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert "EXIT 0 []" in out.stderr, out.stderr
    assert json.loads(out.stdout)["exit_code"] == 0
    out = subprocess.run([sys.executable, "-c", code, "validate", str(p), "--help"],
                         capture_output=True, text=True, timeout=120)
    assert "EXIT 0 ['typer'" in out.stderr and "--as-of" in out.stdout   # help: typer's own


def test_typer_gets_the_declared_options():
    """The typer application built from cli_decl's declarations: each option with its names,
    default and help as declared."""
    import inspect

    import typer.models

    callbacks = cli_fast._commands(cli.app)
    close = inspect.signature(callbacks["close"]).parameters
    assert isinstance(close["allow_errors"].default, typer.models.OptionInfo)
    assert close["allow_errors"].default.param_decls == ("--allow-errors",)
    assert close["allow_errors"].default.default is False
    assert close["month"].default.help == "Statement month, YYYY-MM."
    assert cli.app is cli.app   # built once
