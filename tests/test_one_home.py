"""One home per rule: each rule is written once and every caller uses that one (issue 13)."""

from __future__ import annotations

from custledger.core import allocate, parse, validate


def test_list_splitting_is_one_function():
    assert validate.split_list is parse.split_list
    assert allocate.split_targets is parse.split_list
    assert parse.split_list(" A1,A2;A3、A4，A5；A6 A7\tA8\u3000A9  A1 ,, ") == [f"A{i}" for i in range(1, 10)]
    assert parse.split_list(None) == [] and parse.split_list("") == []


def test_aliases_split_on_ascii_and_full_width_semicolons_only():
    assert parse.split_aliases("甲公司; 甲厂；Acme Trading ;;") == ["甲公司", "甲厂", "Acme Trading"]
    assert parse.split_aliases(None) == [] and parse.split_aliases(float("nan")) == []
    assert parse.split_aliases("甲、乙") == ["甲、乙"]  # 、 is not an alias separator


def test_column_letters_are_one_pair_of_functions():
    from custledger.io import xlsxpatch_marks
    assert xlsxpatch_marks.col_letters is parse.col_letter
    for i in (0, 25, 26, 701, 702, 16_383):
        assert parse.col_index(parse.col_letter(i)) == i
    assert [parse.col_letter(i) for i in (0, 25, 26, 701, 16_383)] == ["A", "Z", "AA", "ZZ", "XFD"]
    assert xlsxpatch_marks.parse_ref("$xfd$1048576") == (1_048_575, 16_383)


def test_cents_as_text_is_format_cents_everywhere():
    import pandas as pd

    from custledger.core import invariants, money
    from custledger.io import ics
    values = [0, 5, -5, 100, -100001, 123456789, 10**15 - 1]
    series = money.format_cents_series(pd.Series(values + [None], dtype="Int64"))
    assert list(series) == [money.format_cents(v, thousands=False) for v in values] + [""]
    assert list(series[:3]) == ["0.00", "0.05", "-0.05"]
    assert [invariants._fmt(v) for v in values] == list(series[:-1])
    assert ics._money(123456789) == "1,234,567.89" and ics._money(pd.NA) == "" and ics._money(None) == ""


def test_format_checks_follow_the_schemas_kind_not_the_column_name(tmp_path, monkeypatch):
    """A field whose x-kind is phone is checked as a phone whatever its key (here: contact)."""
    import dataclasses

    import openpyxl

    from custledger.core.load import load
    from custledger.io.reader import read_book

    real = validate.sheet

    def sheet(key):
        spec = real(key)
        if key != "customers":
            return spec
        fields = tuple(dataclasses.replace(f, kind="phone") if f.key == "contact" else f for f in spec.fields)
        return dataclasses.replace(spec, fields=fields)

    monkeypatch.setattr(validate, "sheet", sheet)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户档案"
    ws.append(["客户编号", "客户名称", "联系人", "电话"])
    ws.append(["C1", "甲公司", "12345", "13812345678"])
    wb.create_sheet("销售单据").append(["单据编号", "日期", "客户编号", "金额"])
    ws = wb.create_sheet("参数")
    ws.append(["参数", "值"])
    ws.append(["as_of", "2026-10-31"])
    wb.save(tmp_path / "l.xlsx")
    p = validate.validate(load(read_book(tmp_path / "l.xlsx"))).problems
    assert p.loc[p["code"] == "phone_invalid", "cell"].tolist() == ["C2"]


def test_the_month_is_parsed_by_one_function():
    import datetime as dt

    import pandas as pd
    import pytest

    from custledger.core.dashboard import month_period
    from custledger.core.statements import month_bounds
    for value in ("2026-10", " 2026-10 ", "2026-10-15", "2026-10-15 00:00:00", dt.date(2026, 10, 3),
                  pd.Timestamp("2026-10-31"), pd.Period("2026-10", freq="M")):
        assert parse.parse_month(value) == "2026-10"
        assert month_bounds(value) == (pd.Timestamp("2026-10-01"), pd.Timestamp("2026-10-31"))
        assert month_period(value, "2020-01-01") == pd.Period("2026-10", freq="M")
    assert parse.parse_month("2026-1") == "2026-01"
    for bad in ("2026-13", "2026-00", "10/2026", "", "2026", "abc", None):
        with pytest.raises(ValueError):
            parse.parse_month(bad)
        with pytest.raises(ValueError):
            month_bounds(bad)


def test_no_module_imports_another_modules_private_names():
    """Shared helpers are public (core/frames.py for the column helpers): no `from .x import _y`."""
    import ast
    from pathlib import Path

    root = Path(parse.__file__).resolve().parents[1]
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("custledger")):
                offenders += [f"{path.relative_to(root)}: {a.name}" for a in node.names if a.name.startswith("_")]
    assert offenders == []


def test_cents_as_text_of_a_whole_column_is_format_cents_of_each():
    import random

    import pandas as pd

    from custledger.core import money
    rng = random.Random(1)
    values = [rng.choice([0, 5, -5, 99, -99, 100, -100, 101, -101, 10**15 - 1, -(10**15 - 1),
                          rng.randint(-10**12, 10**12)]) for _ in range(3000)]
    series = pd.Series(values + [None] * 7, dtype="Int64").sample(frac=1, random_state=3)
    got = money.format_cents_series(series)
    assert got.index.equals(series.index) and got.dtype == object
    assert list(got) == ["" if v is pd.NA else money.format_cents(v, thousands=False) for v in series]
