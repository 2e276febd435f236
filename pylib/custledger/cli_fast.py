"""The command line's quick way in: run a plainly written command without typer's set-up.

typer (0.29) builds the whole click command tree and a pydantic TypeAdapter for every parameter
of the invoked command before it runs (pydantic imported for it): ~0.1 s of every run, a tenth
of a `validate` of a small firm's ledger (issue 12). Every custledger command takes only paths,
text and on/off flags, so an ordinary invocation — the command, its arguments and its options
as declared in cli.py — is read here straight from the same declarations (the callback's
signature and its cli_decl Option / Argument defaults, or typer's own in the typer application
built from them) and the command is called directly; typer is not even imported.

Anything else goes to typer as before, so help, errors and their wording stay typer's own:
--help or -h, no arguments, an unknown command or option, a missing or surplus argument, a
value that starts with "-", an empty value, ``--``, the xl sub-commands, a path that exists but
cannot be read (typer's "is not readable"), and any parameter declared with a feature this
reader does not know (envvar, callback, prompt, choices, path checks...). A test checks that
for every command the values reaching the callback are the ones typer hands it.
"""

from __future__ import annotations

import inspect
import os
import sys
import typing
from pathlib import Path

# ParameterInfo attributes a supported parameter may set; any other set to a non-default value
# (envvar, callback, parser, exists, resolve_path...) sends the command to typer.
_PLAIN = {"default", "param_decls", "help", "show_default", "metavar", "rich_help_panel", "hidden"}


class _Param:
    __slots__ = ("name", "kind", "option", "default", "is_path")

    def __init__(self, name, kind, option, default, is_path):
        self.name, self.kind, self.option, self.default, self.is_path = name, kind, option, default, is_path


def _kind(hint) -> tuple[str, bool] | None:
    """("flag" | "value", is a path) for bool, str, Path and their Optional; None otherwise."""
    args = typing.get_args(hint)
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            return None
        hint = rest[0]
    if hint is bool:
        return "flag", False
    if hint is str:
        return "value", False
    if hint is Path:
        return "value", True
    return None


def _plain_info(info, base) -> bool:
    return all(k in _PLAIN or v == getattr(base, k, v) for k, v in vars(info).items())


def _declared(d):
    """("option" | "argument", param_decls, default) of a parameter's default — cli_decl's
    Option / Argument, or typer's own OptionInfo / ArgumentInfo (the typer application built from
    them) — or None when it is neither or sets more than the plain attributes."""
    from .cli_decl import Declared

    if isinstance(d, Declared):
        return None if set(d.kwargs) - _PLAIN else (d.kind, d.param_decls, d.default)
    if not type(d).__module__.startswith("typer"):
        return None
    from typer.models import ArgumentInfo, OptionInfo

    for cls, kind in ((OptionInfo, "option"), (ArgumentInfo, "argument")):
        if isinstance(d, cls):
            return (kind, d.param_decls or (), d.default) if _plain_info(d, cls()) else None
    return None


def command_params(callback) -> list[_Param] | None:
    """The callback's parameters as this reader understands them; None if any is beyond it."""
    try:
        hints = typing.get_type_hints(callback)
    except Exception:  # noqa: BLE001 - an annotation that does not evaluate: typer decides
        return None
    out = []
    for name, p in inspect.signature(callback).parameters.items():
        kind = _kind(hints.get(name))
        if kind is None or p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            return None
        d = p.default
        if d is inspect.Parameter.empty:
            if kind[0] != "value":
                return None
            out.append(_Param(name, "arg", (), ..., kind[1]))
            continue
        declared = _declared(d)
        if declared is None:
            return None  # a plain default (typer makes it an option of its own naming), or more
        what, param_decls, default = declared
        if what == "option":
            decls = [x for x in param_decls if isinstance(x, str)]
            if not decls or any("/" in x or not x.startswith("--") for x in decls) \
                    or default is ... or (kind[0] == "flag" and default is not False):
                return None
            out.append(_Param(name, kind[0], tuple(decls), default, kind[1]))
        else:
            if kind[0] != "value" or param_decls:
                return None
            out.append(_Param(name, "arg", (), default, kind[1]))
    return out


def _commands(app) -> dict:
    """Command name -> callback, as typer names them (the function name, _ as -)."""
    return {(c.name or c.callback.__name__.lower().replace("_", "-")): c.callback
            for c in app.registered_commands if c.callback is not None}


def parse(app, argv: list[str]):
    """(callback, keyword arguments) for ``argv`` (without the program name), or None when
    typer should handle it."""
    if not argv or getattr(app, "registered_callback", None) is not None:
        return None
    callback = _commands(app).get(argv[0])
    if callback is None:
        return None
    params = command_params(callback)
    if params is None:
        return None
    by_option = {o: p for p in params for o in p.option}
    positional = [p for p in params if p.kind == "arg"]
    values: dict = {}
    given_args: list = []
    tokens = list(argv[1:])
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if tok.startswith("-") and tok != "-":
            name, eq, inline = tok.partition("=")
            p = by_option.get(name)
            if p is None:
                return None                 # --help, -h, --, an unknown option: typer says
            if p.kind == "flag":
                if eq:
                    return None
                values[p.name] = True
                continue
            if eq:
                value = inline
            elif i < len(tokens):
                value, i = tokens[i], i + 1
            else:
                return None
            if not value or value.startswith("-"):
                return None
            values[p.name] = value          # given twice: the last one, as click does
        else:
            if not tok:
                return None
            given_args.append(tok)
    if len(given_args) > len(positional):
        return None
    for p, v in zip(positional, given_args):
        values[p.name] = v
    kwargs = {}
    for p in params:
        v = values.get(p.name, p.default)
        if v is ...:
            return None                     # a required argument is missing
        if p.is_path and v is not None:
            v = Path(v)
            if os.path.exists(v) and not os.access(v, os.R_OK):
                return None                 # typer: "... is not readable"
        kwargs[p.name] = v
    return callback, kwargs


def run(app, argv: list[str]) -> bool:
    """Run ``argv`` the quick way if it can be read here (then exit, as typer would); False
    when typer should handle it."""
    found = parse(app, argv)
    if found is None:
        return False
    from .cli_decl import echo

    callback, kwargs = found
    try:
        callback(**kwargs)      # ends with cli_decl.Exit (a SystemExit) or returns
    except (EOFError, KeyboardInterrupt):
        echo(err=True)
        echo("Aborted!", err=True)   # click's standalone mode says the same
        sys.exit(1)
    sys.exit(0)
