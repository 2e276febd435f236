"""Dashboard 看板: KPIs and series on a hand-made ledger with hand-computed expectations, the sheet
layout, and a LibreOffice render that shows the native charts are drawn."""

import os
import re
import shutil
import subprocess
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from custledger import ops
from custledger.core.aging import aging
from custledger.core.allocate import allocate, open_items, unapplied_credits
from custledger.core.balances import balances
from custledger.core.dashboard import dashboard, monthly_series, pareto_points
from custledger.core.model import INTERACTION_COLUMNS, Ledger, Settings, empty_frame
from custledger.core.tiers import TierParams, tiers
from custledger.io.filebook import FileBook
from custledger.io.template import build_ledger
from engine_helpers import cn, cust, customers, inv, invoices, rc, receipts

AS_OF = pd.Timestamp("2024-06-20")

CUSTOMERS = [("C1", "甲公司", "张伟"), ("C2", "乙公司", "李娜"), ("C3", "丙公司", ""), ("C4", "丁公司", "张伟")]
INVOICES = [  # doc_no, date, customer, amount, kind, ref_doc
    ("X1", "2023-01-10", "C4", 1000, "invoice", ""),
    ("A1", "2024-03-01", "C1", 10000, "invoice", ""),
    ("A2", "2024-05-15", "C1", 6000, "invoice", ""),
    ("A3", "2024-06-05", "C1", 4000, "invoice", ""),
    ("CN1", "2024-06-12", "C1", 1000, "credit_note", "A2"),
    ("B1", "2024-04-10", "C2", 3000, "invoice", ""),
    ("B2", "2024-06-10", "C2", 2000, "invoice", ""),
    ("D1", "2024-06-18", "C3", 500, "invoice", ""),
    ("Z1", "2024-06-25", "C2", 999, "invoice", ""),  # after as_of: unseen
]
RECEIPTS = [  # receipt_no, date, customer, amount, applied_to
    ("R0", "2023-02-01", "C4", 1000, ""),
    ("R1", "2024-04-01", "C1", 10000, "A1"),
    ("R2", "2024-06-15", "C1", 2000, "A2"),
    ("R3", "2024-06-18", "C2", 3500, ""),
    ("R4", "2024-06-19", "C3", 100, ""),
]


def frames(month=None):
    cs = customers(*[cust(c, name=n, owner=o) for c, n, o in CUSTOMERS])
    iv = invoices(*[(cn(d, t, a, customer_id=c, ref_doc=r) if k == "credit_note" else inv(d, t, a, customer_id=c))
                    for d, t, c, a, k, r in INVOICES])
    rs = receipts(*[rc(n, t, a, customer_id=c, applied_to=ap) for n, t, c, a, ap in RECEIPTS])
    ledger = Ledger(cs, iv, rs, empty_frame(INTERACTION_COLUMNS), Settings(as_of=AS_OF.date()))
    alloc = allocate(iv, rs, AS_OF)
    items = open_items(iv, alloc, AS_OF)
    bal = balances(cs, iv, rs, alloc, AS_OF)
    ag = aging(items, unapplied_credits(iv, rs, alloc, AS_OF), cs, AS_OF)
    ti = tiers(cs, iv, alloc, items, AS_OF, TierParams(), balances=bal)
    return ledger, bal, ag, ti, dashboard(ledger, bal, ag, ti, AS_OF, month)


def kpis(d) -> dict:
    return dict(zip(d.kpis["metric"], d.kpis["value"]))


def test_kpis_hand_computed():
    *_, d = frames()
    k = kpis(d)
    # open at as_of: A2 6000 − 1000 − 2000 = 3000 (due 06-14, 6 days late), A3 4000, B2 2000 − 500, D1 500 − 100
    assert k["total_receivable"] == 890_000
    assert k["net_receivable"] == 890_000 and k["unapplied"] == 0
    assert k["overdue"] == 300_000
    assert k["overdue_share"] == pytest.approx(3000 / 8900)
    # net sales in (03-22, 06-20]: A2 + A3 + B1 + B2 + D1 − CN1 = 14500 (A1 of 03-01 is outside)
    assert k["dso"] == pytest.approx(8900 / 14500 * 90)
    # before June: invoiced X1 + A1 + A2 + B1 = 20000, received R0 + R1 = 11000
    assert k["opening_receivable"] == 900_000
    assert k["month_sales"] == 550_000          # A3 + B2 + D1 − CN1 (Z1 is after as_of)
    assert k["month_received"] == 560_000       # R2 + R3 + R4
    assert k["collection_rate"] == pytest.approx(5600 / (9000 + 5500))
    assert k["opening_receivable"] + k["month_sales"] - k["month_received"] == k["net_receivable"]
    assert k["customers_with_balance"] == 3
    assert k["new_customers"] == 1              # C3: first invoice D1 in June
    assert k["lost_customers"] == 1             # C4: last invoice 2023-01-10, > 365 days
    assert k["month"] == "2024-06" and k["as_of"] == AS_OF


def test_kpis_of_an_earlier_month():
    *_, d = frames("2024-05")
    k = kpis(d)
    assert k["opening_receivable"] == 300_000   # 14000 invoiced − 11000 received before May
    assert k["month_sales"] == 600_000 and k["month_received"] == 0
    assert k["collection_rate"] == 0 and k["new_customers"] == 0
    assert d.monthly["month"].iloc[-1] == "2024-05"


def test_monthly_series_aging_distribution_pareto_top_and_owners():
    ledger, bal, ag, ti, d = frames()
    m = d.monthly
    assert m["month"].tolist() == [f"2023-{i:02d}" for i in range(7, 13)] + [f"2024-{i:02d}" for i in range(1, 7)]
    assert dict(zip(m["month"], m["sales"])) | {} == {**{x: 0 for x in m["month"]}, "2024-03": 1_000_000,
                                                     "2024-04": 300_000, "2024-05": 600_000, "2024-06": 550_000}
    assert dict(zip(m["month"], m["collections"])) == {**{x: 0 for x in m["month"]}, "2024-04": 1_000_000,
                                                       "2024-06": 560_000}

    a = d.aging_dist.set_index("bucket")
    assert a.index.tolist() == ["not_due", "1-30", "31-60", "61-90", "91-180", ">180"]
    assert a["amount"].tolist() == [590_000, 300_000, 0, 0, 0, 0]
    assert a["share"].sum() == pytest.approx(1.0)

    # revenue in the tier window: C1 19000, C2 5000, C3 500, C4 0
    p = d.pareto
    assert p["customer_share"].tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert p["revenue_share"].tolist() == pytest.approx([0, 19000 / 24500, 24000 / 24500, 1])

    assert d.top["customer_id"].tolist() == ["C1", "C2", "C3"]
    assert d.top["rank"].tolist() == [1, 2, 3]
    assert d.top["revenue"].tolist() == [1_900_000, 500_000, 50_000]
    assert d.top["balance"].tolist() == [700_000, 150_000, 40_000]

    assert d.by_owner.to_dict("list") == {"owner": ["张伟", "李娜", ""], "receivable": [700_000, 150_000, 40_000],
                                          "overdue": [300_000, 0, 0], "customers": [1, 1, 1]}


def test_pareto_is_thinned_and_monotone():
    rev = pd.Series(np.arange(1, 1001, dtype="int64") * 100)
    p = pareto_points(rev, 51)
    assert len(p) <= 51 and p.iloc[0].tolist() == [0, 0] and p.iloc[-1].tolist() == pytest.approx([1, 1])
    assert (np.diff(p["customer_share"]) > 0).all() and (np.diff(p["revenue_share"]) >= 0).all()
    assert pareto_points(pd.Series([0, -5], dtype="int64")).to_dict("list") == {"customer_share": [0.0],
                                                                               "revenue_share": [0.0]}


def test_monthly_series_for_one_customer_and_as_of():
    ledger, *_ = frames()
    s = monthly_series(ledger.invoices, ledger.receipts, "2024-06", AS_OF, 3, customer_id="C2")
    assert s.to_dict("list") == {"month": ["2024-04", "2024-05", "2024-06"], "sales": [300_000, 0, 200_000],
                                 "collections": [0, 0, 350_000]}


def test_empty_ledger_does_not_break():
    cs = customers()
    e = invoices()
    r = receipts()
    ledger = Ledger(cs, e, r, empty_frame(INTERACTION_COLUMNS), Settings(as_of=AS_OF.date()))
    alloc = allocate(e, r, AS_OF)
    items = open_items(e, alloc, AS_OF)
    bal = balances(cs, e, r, alloc, AS_OF)
    ag = aging(items, unapplied_credits(e, r, alloc, AS_OF), cs, AS_OF)
    ti = tiers(cs, e, alloc, items, AS_OF, TierParams(), balances=bal)
    d = dashboard(ledger, bal, ag, ti, AS_OF)
    k = kpis(d)
    assert k["total_receivable"] == 0 and np.isnan(k["dso"]) and np.isnan(k["collection_rate"])
    assert d.top.empty and d.by_owner.empty and len(d.monthly) == 12


# --------------------------------------------------------------------------- the sheet

def ledger_file(path):
    yuan = [a for *_, a, _, _ in INVOICES]
    build_ledger(path, "zh", data={
        "customers": pd.DataFrame(CUSTOMERS, columns=["customer_id", "name", "owner"]),
        "invoices": pd.DataFrame({"doc_no": [x[0] for x in INVOICES], "date": [x[1] for x in INVOICES],
                                  "customer_id": [x[2] for x in INVOICES], "amount": [float(a) for a in yuan],
                                  "kind": [x[4] for x in INVOICES], "ref_doc": [x[5] for x in INVOICES]}),
        "receipts": pd.DataFrame({"receipt_no": [x[0] for x in RECEIPTS], "date": [x[1] for x in RECEIPTS],
                                  "customer_id": [x[2] for x in RECEIPTS], "amount": [float(x[3]) for x in RECEIPTS],
                                  "applied_to": [x[4] for x in RECEIPTS]}),
    }, settings={"as_of": AS_OF.strftime("%Y-%m-%d")})
    return path


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    p = ledger_file(tmp_path_factory.mktemp("dash") / "台账.xlsx")
    report = ops.run(FileBook(p), ["validate", "dashboard"])
    assert report.exit_code == 0, report
    assert report.summary["open_invoices"] == "8,900.00"
    return p


def test_sheet_layout_header_row_and_charts(written):
    wb = openpyxl.load_workbook(written)
    ws = wb["看板"]
    assert [ws["A1"].value, ws["B1"].value] == ["指标", "数值"]
    assert ws["A2"].value == "基准日"
    labels = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, 17)}
    assert labels["应收账款合计"] == 8900 and labels["本月回款"] == 5600 and labels["本月新客户"] == 1
    assert labels["逾期占比"] == pytest.approx(3000 / 8900)
    assert [ws["D1"].value, ws["E1"].value, ws["F1"].value] == ["月份", "净销售额", "回款"]
    assert ws["D13"].value == "2024-06" and ws["E13"].value == 5500 and ws["F13"].value == 5600
    assert ws["H2"].value == "未到期" and ws["H3"].value == "1-30天" and ws["I3"].value == 3000
    assert ws["O1"].value == "排名" and ws["P2"].value == "C1"
    assert ws["V2"].value == "张伟" and ws["V4"].value == "(未指定)"
    assert "DSO" in ws["A1"].comment.text
    with zipfile.ZipFile(written) as z:
        charts = sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        xml = "".join(z.read(n).decode("utf-8") for n in charts)
    assert len(charts) == 3
    assert "<c:barChart>" in xml and "<c:lineChart>" in xml and "<c:scatterChart>" in xml
    assert "看板" in xml  # the charts read their data from the Dashboard sheet itself


# --------------------------------------------------------------------------- LibreOffice render

def only_sheet(src, dst, name):
    """A copy of the workbook where every other sheet is hidden and has no print area, so that
    the PDF holds the one sheet."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/workbook.xml":
                text = data.decode("utf-8")
                names = re.findall(r'<sheet [^>]*name="([^"]*)"', text)
                idx = names.index(name)
                text = re.sub(r"<sheet [^>]*/>", lambda m: m.group(0) if f'name="{name}"' in m.group(0)
                              or " state=" in m.group(0)   # already (very) hidden: _snapshot
                              else m.group(0).replace("<sheet ", '<sheet state="hidden" ', 1), text)
                text = re.sub(r'<definedName name="_xlnm.Print_Area" localSheetId="(\d+)">[^<]*</definedName>',
                              lambda m: m.group(0) if int(m.group(1)) == idx else "", text)
                text = text.replace("<workbookView ", f'<workbookView activeTab="{idx}" firstSheet="{idx}" ', 1)
                data = text.encode("utf-8")
            zout.writestr(item, data)


def read_ppm(path) -> np.ndarray:
    raw = path.read_bytes()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", raw)
    w, h = int(m.group(1)), int(m.group(2))
    return np.frombuffer(raw[m.end():m.end() + w * h * 3], dtype=np.uint8).reshape(h, w, 3)


def near(img: np.ndarray, hex_color: str, tol: int = 20) -> np.ndarray:
    """Mask of the pixels within tol of a colour on every channel."""
    rgb = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)])
    return np.abs(img.astype(int) - rgb).max(axis=2) <= tol


@pytest.mark.libreoffice
def test_dashboard_renders_with_charts(written, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice or not shutil.which("pdftoppm"):
        pytest.skip("LibreOffice headless or pdftoppm not installed")
    one = tmp_path / "dashboard.xlsx"
    only_sheet(written, one, "看板")
    env = {**os.environ, "HOME": str(tmp_path)}
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(one)], check=True, capture_output=True, timeout=180, env=env)
    pdf = tmp_path / "dashboard.pdf"
    assert pdf.exists()
    subprocess.run(["pdftoppm", "-r", "72", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True,
                   timeout=60)
    page = next(tmp_path.glob("page*.ppm"))
    img = read_ppm(page)
    h, w, _ = img.shape
    # coloured (not white, not grey) pixels, and those of each chart's own colours
    spread = img.max(axis=2).astype(int) - img.min(axis=2).astype(int)
    assert (spread > 60).sum() > 0.005 * h * w
    colours = {"#2E75B6": 500,   # sales columns (and the not-due aging bar)
               "#C00000": 50,    # collections line and markers
               "#70AD47": 100,   # the 1-30 days aging bar
               "#ED7D31": 40}    # the Pareto curve
    masks = {c: near(img, c) for c in colours}
    for c, least in colours.items():
        assert masks[c].sum() > least, c
    # they are drawn in the chart area, below the KPI table and the blocks' headers
    drawn = np.logical_or.reduce(list(masks.values()))
    assert drawn[h // 5:].sum() > 0.95 * drawn.sum()
