"""The summary printed without rich (report_text.py) is, character for character, what rich
prints for it; and wherever rich could print something else, the plain path declines."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table

import custledger.schema
from custledger.report_text import cells, plain_summary

SCHEMA = Path(custledger.schema.__file__).resolve().parent


class _Pipe(io.StringIO):
    def isatty(self):
        return False


class _Tty(io.StringIO):
    def isatty(self):
        return True


def _rich(rows, lines, width=80) -> str:
    out = _Pipe()
    console = Console(file=out, width=width, _environ={})
    table = Table(show_header=False, box=None)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for line in lines:
        console.print(line)
    return out.getvalue()


def _labels() -> dict:
    summary = json.loads((SCHEMA / "outputs.json").read_text(encoding="utf-8"))["summary"]
    return {lang: [v[lang] for v in summary.values() if isinstance(v, dict) and lang in v] for lang in ("zh", "en")}


def _messages() -> list[str]:
    doc = json.loads((SCHEMA / "messages.json").read_text(encoding="utf-8"))
    texts = []

    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, str):
            texts.append(re.sub(r"\{[^{}]*\}", "7", x))
    walk(doc)
    return texts


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_summary_label_prints_as_rich_prints_it(lang):
    labels = _labels()[lang]
    assert labels
    values = ["0", "70", "240", "3000", "2026-10", "是", "yes", "12345678901234"]
    rows = [(label, values[i % len(values)]) for i, label in enumerate(labels)]
    lines = ["→ /tmp/账本 2026.xlsx", "", "a note"]
    plain = plain_summary(rows, lines, stream=_Pipe(), environ={})
    assert plain is not None
    assert plain == _rich(rows, lines)


def test_every_message_prints_as_rich_prints_it_or_is_left_to_rich():
    rows = [("错误", "0"), ("warnings", "3")]
    checked = 0
    for text in _messages():
        plain = plain_summary(rows, [text], stream=_Pipe(), environ={})
        if plain is not None:
            checked += 1
            assert plain == _rich(rows, [text]), text
    assert checked > 20


def test_width_counts_as_rich_counts():
    from rich.cells import cell_len

    for text in [*_labels()["zh"], *_labels()["en"], *_messages(), "→ C:/a b", "（全角）、。"]:
        n = cells(text)
        if n is not None:
            assert n == cell_len(text), text


@pytest.mark.parametrize("rows, lines, env, stream", [
    ([("错误", "0")], [], {}, _Tty()),                         # a terminal: colour, highlighting
    ([("错误", "0")], [], {"FORCE_COLOR": "1"}, _Pipe()),      # colour forced on a pipe
    ([("错误", "0")], ["[bold]x[/bold]"], {}, _Pipe()),          # markup
    ([("错误", "0")], ["see :smile: here"], {}, _Pipe()),         # an emoji code
    ([("错误", "0")], ["x" * 81], {}, _Pipe()),                 # wider than the console: wrapped
    ([("错误", "0")], ["two\nlines"], {}, _Pipe()),
    ([("错误", "0")], ["e\u0301"], {}, _Pipe()),                  # a combining mark
    ([("错误", "0")], [], {"COLUMNS": "x"}, _Pipe()),
    ([("错误", "")], [], {}, _Pipe()),                           # an empty column
    ([], ["a"], {}, _Pipe()),
])
def test_anything_rich_could_print_otherwise_is_left_to_rich(rows, lines, env, stream):
    assert plain_summary(rows, lines, stream=stream, environ=env) is None


def test_columns_sets_the_width_as_for_rich():
    rows, lines = [("错误", "0")], ["y" * 100]
    assert plain_summary(rows, lines, stream=_Pipe(), environ={"COLUMNS": "120"}) == _rich(rows, lines, width=120)
    assert plain_summary(rows, lines, stream=_Pipe(), environ={"COLUMNS": "90"}) is None
