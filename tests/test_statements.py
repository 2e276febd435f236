"""Monthly statements (对账单): core figures (DESIGN.md "Statements"), files, the step, PDFs.

The invariant is checked for every statement of a generated ledger (the demo data), and the
closing balance against a balance computed independently from the raw frames at month end.
"""

import datetime as dt
import os
import shutil
import subprocess
import zipfile
from collections import defaultdict

import openpyxl
import pandas as pd
import pytest

from custledger.core.allocate import allocate
from custledger.core.balances import balances
from custledger.core.errors import LedgerError
from custledger.core.mask import mask, maybe_mask
from custledger.core.statements import month_bounds, month_statements
from custledger.demo_data import make_demo
from custledger.io import pdf
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from custledger.ops.pipeline import prepare
from custledger.render.build_templates import FILES, REPO_TEMPLATES, build_all
from custledger.render.statement import render_statements
from engine_helpers import cn, inv, invoices, receipts
from filled import read_named

MONTH = "2026-10"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = make_demo(seed=5, customers=40, invoices=500, receipts=400)
    path = tmp_path_factory.mktemp("ledger") / "台账.xlsx"
    build_ledger(path, "zh", data={"customers": d.customers, "invoices": d.invoices, "receipts": d.receipts,
                                   "interactions": d.interactions}, settings=d.settings)
    return path, prepare(FileBook(path)).ledger


@pytest.fixture(scope="module")
def statements(demo):
    _, led = demo
    s = led.settings
    return month_statements(led.customers, led.invoices, led.receipts, MONTH, buckets=s.aging_buckets,
                            basis=s.aging_basis, auto_fifo=s.auto_fifo)


def _independent_balance(led, end) -> dict:
    """invoices − credit notes − receipts dated ≤ end, per customer, by a plain loop."""
    out = defaultdict(int)
    for cid, date, kind, amount in zip(led.invoices["customer_id"], led.invoices["date"], led.invoices["kind"],
                                       led.invoices["amount"]):
        if date <= end:
            out[str(cid)] += -abs(int(amount)) if kind == "credit_note" else int(amount)
    for cid, date, amount in zip(led.receipts["customer_id"], led.receipts["date"], led.receipts["amount"]):
        if date <= end:
            out[str(cid)] -= int(amount)
    return out


def test_month_bounds():
    assert month_bounds("2026-02") == (pd.Timestamp("2026-02-01"), pd.Timestamp("2026-02-28"))
    assert month_bounds("2024-02")[1] == pd.Timestamp("2024-02-29")
    assert month_bounds(dt.date(2026, 12, 15)) == (pd.Timestamp("2026-12-01"), pd.Timestamp("2026-12-31"))
    for bad in ("2026-13", "2026/10", "", "26-1"):
        with pytest.raises(ValueError):
            month_bounds(bad)


def test_invariant_for_every_statement(statements):
    s = statements.summary
    assert len(s) > 20
    assert (s["closing"] == s["opening"] + s["invoiced"] - s["credited"] - s["received"]).all()
    assert (s["closing"] == s["outstanding"] - s["unapplied"]).all()      # Balances: balance = outstanding − unapplied
    assert (s["total"] == s["outstanding"]).all()
    assert s["customer_id"].tolist() == sorted(s["customer_id"].tolist())


def test_closing_equals_balances_at_month_end(demo, statements):
    _, led = demo
    end = statements.end
    independent = _independent_balance(led, end)
    alloc = allocate(led.invoices, led.receipts, as_of=end, auto_fifo=led.settings.auto_fifo)
    bal = balances(led.customers, led.invoices, led.receipts, alloc, as_of=end).set_index("customer_id")
    for cid, closing, opening in zip(statements.summary["customer_id"], statements.summary["closing"],
                                     statements.summary["opening"]):
        assert closing == independent[cid] == bal.loc[cid, "balance"]
    before = _independent_balance(led, statements.start - pd.Timedelta(days=1))
    assert dict(zip(statements.summary["customer_id"], statements.summary["opening"])) == \
        {c: before[c] for c in statements.summary["customer_id"]}
    # every customer with a non-zero balance at month end has a statement
    assert {c for c, v in independent.items() if v} <= set(statements.summary["customer_id"])


def test_running_balance_per_line(statements):
    s = statements.summary.set_index("customer_id")
    lines = statements.lines
    assert ((lines["date"] >= statements.start) & (lines["date"] <= statements.end)).all()
    for cid, part in lines.groupby("customer_id", sort=False):
        assert part["date"].is_monotonic_increasing
        expected = s.loc[cid, "opening"] + (part["debit"] - part["credit"]).cumsum()
        assert part["balance"].tolist() == expected.tolist()
        assert part["balance"].iloc[-1] == s.loc[cid, "closing"]
        assert s.loc[cid, "lines"] == len(part)
        assert part["debit"][part["kind"] == "invoice"].sum() == s.loc[cid, "invoiced"]


def test_month_edges_and_order():
    invs = invoices(inv("A1", "2026-09-30", "100"), inv("A2", "2026-10-01", "50"), inv("A3", "2026-10-31", "20"),
                    inv("A4", "2026-11-01", "999"), cn("R1", "2026-10-05", "-10", ref_doc="A1"),
                    inv("B1", "2026-08-01", "70", customer_id="C2"))
    recs = receipts({"receipt_no": "S1", "date": "2026-10-05", "amount": "40"},
                    {"receipt_no": "S0", "date": "2026-10-05", "amount": "5"},
                    {"receipt_no": "Z1", "date": "2026-08-02", "amount": "70", "customer_id": "C2"})
    cust = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "name": ["甲", "乙", "丙"]})
    ms = month_statements(cust, invs, recs, MONTH)
    s = ms.summary.set_index("customer_id")
    assert list(s.index) == ["C1"]          # C2 settled with no activity, C3 nothing at all
    assert s.loc["C1", ["opening", "invoiced", "credited", "received", "closing"]].tolist() == \
        [10000, 7000, 1000, 4500, 11500]
    lines = ms.lines
    assert lines["doc_no"].tolist() == ["A2", "R1", "S0", "S1", "A3"]   # same day: credit note, then receipts by number
    assert lines["balance"].tolist() == [15000, 14000, 13500, 9500, 11500]
    assert lines["memo"].tolist()[1] == "A1"


def test_aging_at_month_end_not_as_of(statements, demo):
    _, led = demo
    s = statements.summary
    buckets = ["not_due", *statements.buckets]
    assert (s[buckets].sum(axis=1) == s["total"]).all()
    assert (s["overdue"] == s["total"] - s["not_due"]).all()


def test_masking_rules():
    assert mask("13812345678", "phone") == "138****5678"
    assert mask("0571-88886666", "phone") == "057*-****6666"
    assert mask("11010519900307123X", "id") == "110***********123X"
    assert mask("6222 0212 3456 1234", "bank") == "6222 **** **** 1234"
    assert mask("12345678", "bank") == "****5678"
    assert mask("zhang@example.com", "email") == "z***@example.com"
    assert mask("1234567", "phone") == "****567"
    assert mask(None, "phone") == "" and mask(float("nan"), "phone") == ""
    assert maybe_mask("13812345678", "phone", False) == "13812345678"
    with pytest.raises(ValueError):
        mask("1", "nope")


def test_templates_are_not_stale(tmp_path):
    build_all(tmp_path)
    for name in FILES.values():
        with zipfile.ZipFile(tmp_path / name) as new, zipfile.ZipFile(REPO_TEMPLATES / name) as old:
            assert sorted(new.namelist()) == sorted(old.namelist()), name
            for part in new.namelist():
                assert new.read(part) == old.read(part), f"{name}:{part} is stale: run " \
                    "python -m custledger.render.build_templates"




def test_rendered_files_read_back(demo, statements, tmp_path):
    _, led = demo
    paths = render_statements(statements, led.customers, led.settings, tmp_path, issued=dt.date(2026, 10, 31),
                              names=True, processes=1)
    assert len(paths) == len(statements.summary) and all(p.exists() for p in paths)
    assert len({p.name.casefold() for p in paths}) == len(paths)
    s = statements.summary
    for k in (0, len(paths) // 2, len(paths) - 1):
        row = s.iloc[k]
        cells, ranges = read_named(paths[k])
        assert cells["customer_id"] == row["customer_id"] and cells["customer_name"] == row["name"]
        assert round(cells["closing"] * 100) == row["closing"] and round(cells["opening"] * 100) == row["opening"]
        assert cells["company_name"] == led.settings.company_name
        assert cells["payment_instructions"] == led.settings.payment_instructions
        assert "相符" in cells["confirm_block"] and "不符" in cells["confirm_block"]
        n = int(row["lines"]) + 2  # opening and closing rows around the documents
        balances_col = ranges["line_balance"]
        assert len(balances_col) == n
        assert round(balances_col[0] * 100) == row["opening"] and round(balances_col[-1] * 100) == row["closing"]
        assert round(ranges["aging_amount"][-1] * 100) == row["total"]
        phone = led.customers.set_index("customer_id").loc[row["customer_id"], "phone"]
        if isinstance(phone, str) and len(phone) == 11:
            assert cells["customer_phone"] == phone[:3] + "****" + phone[-4:]


def test_statements_step_writes_sheet_with_links(demo, tmp_path):
    from custledger import ops

    src, led = demo
    path = tmp_path / src.name
    shutil.copy(src, path)
    report = ops.run(FileBook(path), ["statements"], month=MONTH, ledger_path=path, allow_errors=True)
    folder = tmp_path / "台账_statements" / MONTH
    files = sorted(folder.glob("*.xlsx"))
    assert report.summary["statements"] == len(files) > 20
    assert set(map(str, report.files)) == set(map(str, files))
    wb = openpyxl.load_workbook(path)
    ws = wb["对账单汇总"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["客户编号", "客户名称", "期间"] and header[-1] == "文件"
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(files)
    end = month_bounds(MONTH)[1]
    independent = _independent_balance(led, end)
    for r in rows:
        assert round(r[7] * 100) == independent[r[0]]
    link = ws.cell(2, len(header)).hyperlink
    assert link is not None and link.target.replace("\\", "/").startswith(f"台账_statements/{MONTH}/")
    assert (tmp_path / link.target.replace("\\", "/")).exists()


def test_missing_month_is_a_clear_error(demo, tmp_path):
    from custledger import ops

    src, _ = demo
    path = tmp_path / "x.xlsx"
    shutil.copy(src, path)
    with pytest.raises(LedgerError):
        ops.run(FileBook(path), ["statements"], ledger_path=path, write=False, allow_errors=True)


def test_missing_libreoffice_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "find_soffice", lambda: None)
    with pytest.raises(LedgerError) as err:
        pdf.convert([tmp_path / "a.xlsx"])
    assert "LibreOffice" in err.value.message("zh")


def test_batches_respect_command_length(tmp_path):
    files = [tmp_path / (f"{i:04d}_" + "长" * 60 + ".xlsx") for i in range(400)]
    batches = pdf._batches(files, 2, 500)
    assert sorted(f for b in batches for f in b) == sorted(files)
    assert all(sum(len(str(f)) + 3 for f in b) + 500 <= pdf.MAX_COMMAND for b in batches)
    assert len(batches) < 20


@pytest.mark.libreoffice
def test_pdf_batch_and_png_render(demo, statements, tmp_path, monkeypatch):
    if pdf.find_soffice() is None:
        pytest.skip("LibreOffice not installed")
    _, led = demo
    paths = render_statements(statements, led.customers, led.settings, tmp_path / "x", processes=1)[:4]
    calls = []
    real = pdf._run_one
    monkeypatch.setattr(pdf, "_run_one", lambda *a, **k: calls.append(len(a[1])) or real(*a, **k))
    pdfs = pdf.convert(paths, tmp_path / "pdf", "pdf")
    assert calls == [4]                      # one LibreOffice process for the whole batch
    assert len(pdfs) == 4 and all(p.read_bytes()[:5] == b"%PDF-" for p in pdfs)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdfs[0]), "-"], capture_output=True, text=True).stdout
        assert "对账单" in text and led.settings.company_name in text
    pngs = pdf.convert(paths[:1], tmp_path / "png", "png")
    assert pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and pngs[0].stat().st_size > 10_000
    keep = os.environ.get("CUSTLEDGER_KEEP_PNG")
    if keep:
        shutil.copy(pngs[0], keep)
