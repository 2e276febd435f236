"""The command line's declarations, without importing typer.

cli.py declares its commands with ``Commands.command``, ``Option`` and ``Argument`` — the same
calls, arguments and meaning as typer's, recorded here as plain data — so that an ordinary
invocation read by cli_fast.py runs without typer (and click) ever being imported: ~12 ms of
every run (issue 12). ``Commands.typer()`` builds the real typer application from the same
declarations, once, for everything cli_fast leaves to typer (help, errors, the xl group) and for
callers that want ``cli.app``: each callback is handed to typer with a signature whose defaults
are the equivalent ``typer.Option`` / ``typer.Argument``.

``Exit`` ends a command with a code: a SystemExit, which typer and click pass through unchanged
(click's own Exit would need click imported), and ``echo`` prints a line as click.echo does for
text.
"""

from __future__ import annotations

import functools
import inspect
import sys
from typing import Any


class Declared:
    """A declared parameter default: typer.Option / typer.Argument's arguments, kept as given."""

    __slots__ = ("kind", "default", "param_decls", "kwargs")

    def __init__(self, kind: str, default, param_decls: tuple, kwargs: dict) -> None:
        self.kind, self.default, self.param_decls, self.kwargs = kind, default, param_decls, kwargs

    def to_typer(self):
        import typer

        make = typer.Option if self.kind == "option" else typer.Argument
        return make(self.default, *self.param_decls, **self.kwargs)


# Typed as typer's are (Any), so that `flag: bool = Option(False, "--flag")` reads as it does there.
def Option(default: Any = ..., *param_decls: str, **kwargs: Any) -> Any:  # typer's name
    return Declared("option", default, param_decls, kwargs)


def Argument(default: Any = ..., **kwargs: Any) -> Any:  # typer's name
    return Declared("argument", default, (), kwargs)


class Exit(SystemExit):
    """End the command with ``code`` (typer.Exit's role)."""

    def __init__(self, code: int = 0) -> None:
        super().__init__(code)


def echo(message: str = "", err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(f"{message}\n")
    stream.flush()


class _Command:
    __slots__ = ("name", "callback")

    def __init__(self, name: str | None, callback) -> None:
        self.name, self.callback = name, callback


class Commands:
    """A recorded typer.Typer: ``command()`` and ``add_typer()`` as typer's; ``registered_commands``
    (name, callback) as typer keeps them, for cli_fast."""

    registered_callback = None

    def __init__(self, **typer_options) -> None:
        self.typer_options = typer_options
        self.registered_commands: list[_Command] = []
        self.groups: list[tuple[Commands, str]] = []
        self._app = None

    def command(self, name: str | None = None):
        def register(fn):
            self.registered_commands.append(_Command(name, fn))
            return fn
        return register

    def add_typer(self, group: Commands, name: str) -> None:
        self.groups.append((group, name))

    def typer(self):
        """The typer application of these declarations (built on first use, then the same one)."""
        if self._app is None:
            import typer

            app = typer.Typer(**self.typer_options)
            for c in self.registered_commands:
                app.command(c.name)(_typer_callback(c.callback))
            for group, name in self.groups:
                app.add_typer(group.typer(), name=name)
            self._app = app
        return self._app


def _typer_callback(fn):
    """``fn`` with typer's parameter objects as its signature's defaults (typer reads the
    signature; the body is the command's own)."""
    sig = inspect.signature(fn)
    params = [p.replace(default=p.default.to_typer()) if isinstance(p.default, Declared) else p
              for p in sig.parameters.values()]

    @functools.wraps(fn)
    def callback(*args, **kwargs):
        return fn(*args, **kwargs)

    callback.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    return callback
