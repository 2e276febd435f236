"""Generate a large customer-ledger workbook for benchmarks.

    python benchmarks/generate.py --customers 20000 --invoices 1000000 --receipts 800000 \
        --out benchmarks/data/large.xlsx [--seed 1]
    python benchmarks/generate.py --small            # 2,000 / 100,000 / 80,000

Sheets 客户档案, 销售单据, 回款记录 and 参数 with Chinese headers, values as a person would
type them: dates as date cells, amounts as numbers, ids and phone/account numbers as text.
The data are built column-wise with numpy (names from the demo's word lists) and written with
xlsxwriter in constant_memory mode. Deterministic for a seed. The ledger is consistent enough
to exercise the whole pipeline: Pareto-distributed customers, quantity × unit price = amount,
credit notes (红字) naming an earlier invoice of the same customer, receipts paying on time,
late, in lump sums naming several invoices (memo or 核销单据), in parts, or not at all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from custledger import demo_data as W

S = np.strings
EPOCH = np.datetime64("1899-12-30", "D")  # Excel's day 0 (1900 date system)
PRESETS = {"small": (2_000, 100_000, 80_000), "large": (20_000, 1_000_000, 800_000)}
CUSTOMER_HEADERS = [
    ("customer_id", "客户编号"), ("name", "客户名称"), ("aliases", "别名"), ("type", "客户类型"),
    ("industry", "行业"), ("region", "地区"), ("size", "规模"), ("contact", "联系人"), ("title", "职位"),
    ("phone", "电话"), ("email", "邮箱"), ("address", "地址"), ("tax_id", "统一社会信用代码"),
    ("bank_account", "银行账号"), ("credit_limit", "信用额度"), ("payment_terms", "账期(天)"),
    ("owner", "负责人"), ("birthday", "生日"), ("contract_end", "合同到期日"), ("status", "状态"),
    ("created", "建档日期"), ("updated", "更新日期"), ("notes", "备注"),
]
INVOICE_HEADERS = [
    ("doc_no", "单据编号"), ("date", "日期"), ("customer_id", "客户编号"), ("kind", "类型"),
    ("product", "产品/服务"), ("quantity", "数量"), ("unit_price", "单价"), ("amount", "金额"),
    ("due_date", "到期日"), ("ref_doc", "关联单据"), ("contract_no", "合同编号"), ("notes", "备注"),
]
RECEIPT_HEADERS = [
    ("receipt_no", "收款编号"), ("date", "日期"), ("customer_id", "客户编号"), ("payer", "付款方"),
    ("amount", "金额"), ("method", "方式"), ("memo", "摘要"), ("applied_to", "核销单据"),
    ("bank_ref", "银行流水号"),
]
DATE_COLS = {"birthday", "contract_end", "created", "updated", "date", "due_date"}
MONEY_COLS = {"credit_limit", "amount", "unit_price"}


def _u(items) -> np.ndarray:
    return np.array(list(items), dtype=np.str_)


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    return _join(S.zfill(values.astype(np.int64).astype(np.str_), width))


def _join(*parts) -> np.ndarray:
    """Element-wise concatenation, narrowed to the longest result (numpy adds the widths)."""
    out = np.asarray(parts[0])
    for p in parts[1:]:
        out = S.add(out, p)
    return out.astype(f"<U{max(1, int(S.str_len(out).max(initial=0)))}")


def _serial(days: np.ndarray) -> np.ndarray:
    """datetime64[D] -> Excel serial day number (float, NaN for NaT)."""
    out = (days - EPOCH).astype("timedelta64[D]").astype(np.float64)
    out[np.isnat(days)] = np.nan
    return out


def _uscc(prefix: np.ndarray, division: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Valid unified social credit codes, check digits computed vectorized (see demo_data)."""
    n = len(prefix)
    org = rng.integers(0, 10, size=(n, 8))
    c = 11 - (org * np.array(W.ORG_WEIGHTS)).sum(axis=1) % 11
    org_check = np.where(c == 10, 29, np.where(c == 11, 0, c))  # 'X' is index 29 of the alphabet
    head = _digit_matrix(S.add(prefix, division))
    body = np.concatenate([head, org, org_check[:, None]], axis=1)
    check = (31 - (body * np.array(W.USCC_WEIGHTS)).sum(axis=1) % 31) % 31
    alphabet = np.array(list(W.USCC_ALPHABET))
    chars = alphabet[np.concatenate([body, check[:, None]], axis=1)]
    return chars.view(f"<U{chars.shape[1]}").ravel()


def _digit_matrix(strings: np.ndarray) -> np.ndarray:
    """Equal-length digit strings -> (n, width) int matrix."""
    width = int(S.str_len(strings).max())
    codes = strings.astype(f"<U{width}").view(np.uint32).reshape(len(strings), width)
    return codes.astype(np.int64) - ord("0")


def customers(n: int, rng: np.random.Generator, as_of: np.datetime64) -> dict:
    cities, inds = W.CITIES, W.INDUSTRIES
    # brands: the demo's, and their first and second characters recombined (48 x 48)
    brands = list({a[0] + b[1]: pa + pb for a, pa in W.BRANDS for b, pb in W.BRANDS}.items())
    kind = rng.choice(4, n, p=[0.9, 0.05, 0.03, 0.02])  # 企业 个人 政府 其他
    space = len(cities) * len(brands) * len(inds)
    combo = rng.permutation(space)[np.arange(n) % space]  # company names unique while they last
    ci, bi, ii = combo // (len(brands) * len(inds)), combo // len(inds) % len(brands), combo % len(inds)
    again = np.arange(n) // space  # beyond the name space: branches
    city = _u(c[0] for c in cities)[ci]
    brand = _u(b for b, _ in brands)[bi]
    word = _u(i[1] for i in inds)[ii]
    suffix = _u(W.SUFFIXES)[rng.choice(len(W.SUFFIXES), n, p=W.SUFFIX_WEIGHTS)]
    sur = rng.integers(len(W.SURNAMES), size=n)
    g1, g2 = rng.integers(len(W.GIVEN), size=(2, n))
    two = rng.random(n) < 0.7
    contact = _join(_u(s for s, _ in W.SURNAMES)[sur], _u(g for g, _ in W.GIVEN)[g1],
                    np.where(two, _u(g for g, _ in W.GIVEN)[g2], ""))
    branch = _join(_u(c[0] for c in cities)[again % len(cities)], "第", again.astype(np.str_), "分公司")
    company = _join(city, brand, word, suffix, np.where(again > 0, branch, ""))
    districts = [c[5].split() for c in cities]
    ndist = np.array([len(d) for d in districts])
    dist = np.array([d + [d[0]] * (3 - len(d)) for d in districts])[ci, rng.integers(0, 1 << 20, size=n) % ndist[ci]]
    gov = _join(city, "市", dist, _u(W.GOV_DEPTS)[rng.integers(len(W.GOV_DEPTS), size=n)])
    assoc = _join(city, "市", _u(i[0] for i in inds)[ii], "行业协会")
    name = np.select([kind == 0, kind == 1, kind == 2], [company, contact, gov], assoc)
    ids = S.add("C", _digits(np.arange(1, n + 1), max(5, len(str(n)))))
    mobile = S.add(_u(W.MOBILE_PREFIXES)[rng.integers(len(W.MOBILE_PREFIXES), size=n)],
                   _digits(rng.integers(0, 10**8, size=n), 8))
    landline = _join(_u(c[3] for c in cities)[ci], "-", _digits(rng.integers(51, 90, size=n), 2),
                     _digits(rng.integers(0, 10**6, size=n), 6))
    spy = _u(p for _, p in W.SURNAMES)[sur]
    gpy = _join(_u(p for _, p in W.GIVEN)[g1], np.where(two, _u(p for _, p in W.GIVEN)[g2], ""))
    email = _join(spy, gpy, "@", _u(p for _, p in brands)[bi], _u(i[2] for i in inds)[ii], ".com")
    road = _u(W.ROADS)[rng.integers(len(W.ROADS), size=n)]
    address = _join(_u(c[1].strip("-") for c in cities)[ci], city, "市", dist, road,
                    rng.integers(1, 999, size=n).astype(np.str_), "号")
    prefix = np.where(kind == 0, "91", np.where(kind == 2, "11", "51"))
    tax = np.where(kind == 1, "", _uscc(prefix, _u(c[4] for c in cities)[ci], rng))
    w = rng.pareto(1.1, n) + 0.15
    created = as_of - 548 - rng.integers(30, 1100, size=n)
    terms = rng.choice(np.array([30, 45, 60, 90, np.nan]), n, p=[0.35, 0.15, 0.2, 0.1, 0.2])
    birthday = np.datetime64("1965-01-01") + rng.integers(0, 365 * 30, size=n)
    return {
        "customer_id": ids, "name": name,
        "aliases": np.where(kind == 0, _join(city, brand, S.slice(word, 0, 2)), ""),
        "type": _u(["企业", "个人", "政府", "其他"])[kind],
        "industry": np.select([kind == 0, kind == 2, kind == 3],
                              [_u(i[0] for i in inds)[ii], "政府机关", "社会团体"], ""),
        "region": _u(c[2] for c in cities)[ci],
        "size": _u(W.SIZES)[3 - np.digitize(w, [0.4, 1.2, 5])],
        "contact": contact, "title": _u(W.TITLES)[rng.integers(len(W.TITLES), size=n)],
        "phone": np.where(rng.random(n) < 0.85, mobile, landline), "email": email, "address": address,
        "tax_id": tax, "bank_account": S.add("6222", _digits(rng.integers(0, 10**15, size=n), 15)),
        "credit_limit": np.maximum(1, np.round(w * 5)) * 50000.0, "payment_terms": terms,
        "owner": _u(W.OWNERS)[rng.integers(len(W.OWNERS), size=n)],
        "birthday": birthday, "contract_end": as_of + rng.integers(-200, 700, size=n),
        "status": np.where(rng.random(n) < 0.96, "正常", "停用"),
        "created": created, "updated": np.maximum(created, as_of - rng.integers(0, 260, size=n)),
        "notes": np.full(n, ""),
        "_w": w, "_pay": rng.choice(4, n, p=[0.62, 0.22, 0.12, 0.04]),
        "_short": _join(city, brand, word, np.where(suffix == "集团有限公司", "集团", "")), "_kind": kind, "_ind": ii,
    }


def invoices(cust: dict, n: int, rng: np.random.Generator, as_of: np.datetime64) -> dict:
    nc = len(cust["customer_id"])
    p = cust["_w"] ** 0.6
    c = rng.choice(nc, n, p=p / p.sum())
    date = np.sort(as_of - rng.integers(0, 548, size=n))  # sorted by date: numbers follow dates
    prods = W.PRODUCTS
    width = max(len(x) for x in prods)
    pad = [x + [x[0]] * (width - len(x)) for x in prods]
    pname = np.array([[q[0] for q in x] for x in pad])
    pprice = np.array([[q[1] for q in x] for x in pad])
    plo = np.array([[q[2] for q in x] for x in pad])
    phi = np.array([[q[3] for q in x] for x in pad])
    nprod = np.array([len(x) for x in prods])
    ind = np.where(cust["_kind"][c] == 0, cust["_ind"][c], np.where(cust["_kind"][c] == 2, 6, 9))
    j = rng.integers(0, 1 << 30, size=n) % nprod[ind]
    price = np.maximum(1, np.round(pprice[ind, j] * 100 * rng.uniform(0.9, 1.15, n))).astype(np.int64)
    lo, hi = plo[ind, j], phi[ind, j]
    scale = np.clip(cust["_w"][c] ** 0.4, 0.5, 5.0)
    q = np.exp(rng.uniform(np.log(lo), np.log(hi + 1))) * scale
    qty = np.where(hi == lo, lo, np.maximum(1, np.round(q))).astype(np.int64)
    product = pname[ind, j]
    # credit notes: 3% of rows; each credits part of the previous invoice of the same customer
    credit = rng.random(n) < 0.03
    order = np.lexsort((np.arange(n), c))
    prev = np.full(n, -1)
    same = c[order[1:]] == c[order[:-1]]
    prev[order[1:][same]] = order[:-1][same]
    credit &= prev >= 0
    ref = np.where(credit, prev, -1)
    credit &= ~credit[np.maximum(ref, 0)] | (ref < 0)  # never a credit note on a credit note
    ref = np.where(credit, ref, -1)
    r0 = np.maximum(ref, 0)
    qty = np.where(credit, np.maximum(1, (qty[r0] * rng.uniform(0.05, 0.6, n)).astype(np.int64)), qty)
    price = np.where(credit, price[r0], price)
    product = np.where(credit, product[r0], product)
    cents = qty * price
    year = date.astype("datetime64[Y]").astype(np.int64) + 1970
    seq = pd.DataFrame({"g": year * 2 + credit}).groupby("g").cumcount().to_numpy() + 1
    doc = _join(np.where(credit, "HZ", "XS"), year.astype("<U4"), "-", _digits(seq, max(4, len(str(n)))))
    terms = np.nan_to_num(cust["payment_terms"][c], nan=30).astype(np.int64)
    due = date + terms
    explicit = rng.random(n) < 0.1
    contract = rng.random(n) < 0.3
    return {
        "doc_no": doc, "date": date, "customer_id": cust["customer_id"][c],
        "kind": np.where(credit, "红字", "销售"), "product": product, "quantity": qty.astype(np.float64),
        "unit_price": price / 100, "amount": cents / 100,
        "due_date": np.where(explicit, due, np.datetime64("NaT")), "ref_doc": np.where(credit, doc[r0], ""),
        "contract_no": np.where(contract, _join("HT", year.astype("<U4"), "-", S.slice(cust["customer_id"][c], 1, None)),
                                ""),
        "notes": np.full(n, ""),
        "_c": c, "_cents": cents, "_credit": credit, "_ref": ref, "_due": due,
    }


def receipts(cust: dict, inv: dict, n: int, rng: np.random.Generator, as_of: np.datetime64) -> dict:
    """n receipts paying the invoices: whole, in lump sums of consecutive invoices, or in parts."""
    credit, c = inv["_credit"], inv["_c"]
    net = inv["_cents"].copy()
    np.subtract.at(net, inv["_ref"][credit], inv["_cents"][credit])
    pay_class = cust["_pay"][c]
    lo = np.array([-5, 5, 30, 40])[pay_class]
    hi = np.array([7, 40, 120, 110])[pay_class]
    pay = inv["_due"] + rng.integers(lo, hi + 1)
    pay = np.maximum(pay, inv["date"])
    stopped = (pay_class == 3) & (inv["date"] > as_of - 150)  # bad payers: recent invoices unpaid
    paid = ~credit & (net > 0) & (pay <= as_of) & ~stopped
    idx = np.flatnonzero(paid)
    idx = idx[np.lexsort((pay[idx], c[idx]))]  # by customer, then payment date
    e = len(idx)
    if e >= n:  # lump sums: cut the run of each customer's paid invoices into n receipts
        forced = np.flatnonzero(c[idx[1:]] != c[idx[:-1]]) + 1
        free = np.setdiff1d(np.arange(1, e), forced)
        extra = rng.choice(free, max(0, min(len(free), n - 1 - len(forced))), replace=False)
        starts = np.sort(np.concatenate([[0], forced, extra])).astype(np.int64)
        size = np.diff(np.append(starts, e))
        amount = np.add.reduceat(net[idx], starts)
        keep = np.arange(len(starts))
        if len(starts) > n:  # fewer receipts than customers paying: some pay nothing yet
            keep = np.sort(rng.choice(len(starts), n, replace=False))
        starts, size, amount = starts[keep], size[keep], amount[keep]
        last = idx[starts + size - 1]
        date, cc = pay[last], c[last]
        first_docs = [inv["doc_no"][idx[np.minimum(starts + k, e - 1)]] for k in range(3)]
    else:  # too few invoices: some are paid in several parts
        parts = 1 + np.bincount(rng.choice(e, n - e), minlength=e)
        rows = np.repeat(idx, parts)
        k = pd.Series(rows).groupby(rows).cumcount().to_numpy()
        share = net[rows] // np.repeat(parts, parts)
        amount = np.where(k == np.repeat(parts, parts) - 1, net[rows] - share * (np.repeat(parts, parts) - 1), share)
        date = np.maximum(pay[rows] - 10 * (np.repeat(parts, parts) - 1 - k), inv["date"][rows])
        cc, size = c[rows], np.ones(n, dtype=np.int64)
        first_docs = [inv["doc_no"][rows]] * 3
    m = len(amount)
    order = np.argsort(date, kind="stable")
    amount, date, cc, size = amount[order], date[order], cc[order], size[order]
    first_docs = [d[order] for d in first_docs]
    listed = _join(first_docs[0], np.where(size >= 2, S.add(" ", first_docs[1]), ""),
                   np.where(size >= 3, S.add(" ", first_docs[2]), ""))
    style = rng.random(m)
    method = _u(["转账", "票据", "现金", "其他"])[rng.choice(4, m, p=[0.85, 0.08, 0.04, 0.03])]
    memo = np.where(style < 0.45, S.add("货款 ", listed), np.where(style < 0.6, "货款", ""))
    applied = np.where((style >= 0.45) & (style < 0.75) & (size <= 3), S.replace(listed, " ", ","), "")
    blank = (rng.random(m) < 0.02) & (cust["_kind"][cc] == 0)
    year = date.astype("datetime64[Y]").astype(np.int64) + 1970
    seq = pd.DataFrame({"y": year}).groupby("y").cumcount().to_numpy() + 1
    ymd = S.replace(np.datetime_as_string(date, unit="D"), "-", "")
    ref = _join("HQ", ymd, _digits(rng.permutation(m), 8))
    return {
        "receipt_no": _join("SK", year.astype("<U4"), "-", _digits(seq, max(4, len(str(m))))),
        "date": date, "customer_id": np.where(blank, "", cust["customer_id"][cc]),
        "payer": np.where(blank, cust["_short"][cc], cust["name"][cc]), "amount": amount / 100,
        "method": method, "memo": memo, "applied_to": applied,
        "bank_ref": np.where(method == "转账", ref, ""),
    }


def build(n_customers: int, n_invoices: int, n_receipts: int, seed: int = 1,
          as_of: dt.date = dt.date(2026, 10, 31)) -> dict:
    """Column arrays of the three sheets, keyed by canonical column keys."""
    rng = np.random.default_rng(seed)
    day = np.datetime64(as_of, "D")
    cust = customers(n_customers, rng, day)
    inv = invoices(cust, n_invoices, rng, day)
    rec = receipts(cust, inv, n_receipts, rng, day)
    return {"customers": cust, "invoices": inv, "receipts": rec}


def _write_sheet(wb, name: str, headers: list, cols: dict, fmt: dict, chunk: int = 50_000,
                 formulas: list | None = None) -> int:
    """``formulas``: (header, template with {r} for the 1-based row) columns after the data, as
    an accountant adds SUMIF/SUMIFS columns to their own ledger."""
    ws = wb.add_worksheet(name)
    formulas = formulas or []
    for j, (key, label) in enumerate(headers):
        ws.write_string(0, j, label, fmt["header"])
        ws.set_column(j, j, 12 if key in DATE_COLS else 14)
    for k, (label, _) in enumerate(formulas):
        ws.write_string(0, len(headers) + k, label, fmt["header"])
    plan = []  # (column, values, writer, format)
    for j, (key, _) in enumerate(headers):
        v = cols[key]
        if key in DATE_COLS:
            plan.append((j, _serial(v), ws.write_number, fmt["date"]))
        elif v.dtype.kind == "f":
            plan.append((j, v, ws.write_number, fmt["money"] if key in MONEY_COLS else None))
        else:
            plan.append((j, v, ws.write_string, None))
    n = len(cols[headers[0][0]])
    for lo in range(0, n, chunk):  # Python objects for one chunk at a time: memory stays flat
        part = [(j, [None if x != x or x == "" else x for x in v[lo:lo + chunk].tolist()], w, f)
                for j, v, w, f in plan]
        for i in range(min(chunk, n - lo)):  # xlsxwriter writes cell by cell, rows in order
            r = lo + i + 1
            for j, values, write, f in part:
                x = values[i]
                if x is not None:  # blank cells are not written
                    write(r, j, x, f)
            for k, (_, template) in enumerate(formulas):
                ws.write_formula(r, len(headers) + k, template.format(r=r + 1), fmt["money"])
    return n


# The user's own formula ledger (issue 12): balances and overdue amounts by SUMIF/SUMIFS over
# whole columns, and a running total per customer on every invoice, as accountants build them.
CUSTOMER_FORMULAS = [
    ("销售合计", "SUMIF(销售单据!$C:$C,$A{r},销售单据!$H:$H)"),
    ("回款合计", "SUMIF(回款记录!$C:$C,$A{r},回款记录!$E:$E)"),
    ("应收余额", "X{r}-Y{r}"),
    ("逾期30天以上", 'SUMIFS(销售单据!$H:$H,销售单据!$C:$C,$A{r},销售单据!$I:$I,"<"&(参数!$B$2-30))'),
]
INVOICE_FORMULAS = [
    ("客户累计销售", 'SUMIFS($H:$H,$C:$C,$C{r},$B:$B,"<="&$B{r})'),
    ("客户累计回款", 'SUMIFS(回款记录!$E:$E,回款记录!$C:$C,$C{r},回款记录!$B:$B,"<="&$B{r})'),
]


def write_xlsx(path: Path, data: dict, as_of: dt.date, formulas: bool = False) -> None:
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    fmt = {"header": wb.add_format({"bold": True}), "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
           "money": wb.add_format({"num_format": "#,##0.00"})}
    _write_sheet(wb, "客户档案", CUSTOMER_HEADERS, data["customers"], fmt,
                 formulas=CUSTOMER_FORMULAS if formulas else None)
    _write_sheet(wb, "销售单据", INVOICE_HEADERS, data["invoices"], fmt,
                 formulas=INVOICE_FORMULAS if formulas else None)
    _write_sheet(wb, "回款记录", RECEIPT_HEADERS, data["receipts"], fmt)
    ws = wb.add_worksheet("参数")
    rows = [("参数", "值"), ("基准日", as_of.isoformat()), ("公司名称", W.COMPANY), ("语言", "zh"),
            ("默认账期(天)", "30")]
    for i, (k, v) in enumerate(rows):
        ws.write_string(i, 0, k, fmt["header"] if i == 0 else None)
        if i == 1 and formulas:   # the formulas compare dates: as_of as a date cell
            ws.write_number(i, 1, float(_serial(np.array([np.datetime64(as_of, "D")]))[0]), fmt["date"])
        else:
            ws.write_string(i, 1, v, fmt["header"] if i == 0 else None)
    wb.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=PRESETS["large"][0])
    ap.add_argument("--invoices", type=int, default=PRESETS["large"][1])
    ap.add_argument("--receipts", type=int, default=PRESETS["large"][2])
    ap.add_argument("--small", action="store_true", help="2,000 customers / 100,000 invoices / 80,000 receipts")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 10, 31))
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--formulas", action="store_true",
                    help="add the SUMIF/SUMIFS columns of an accountant's own formula ledger")
    a = ap.parse_args(argv)
    if a.small:
        a.customers, a.invoices, a.receipts = PRESETS["small"]
    out = a.out or Path(__file__).parent / "data" / ("small.xlsx" if a.small else "large.xlsx")
    t0 = time.perf_counter()
    data = build(a.customers, a.invoices, a.receipts, a.seed, a.as_of)
    t1 = time.perf_counter()
    write_xlsx(out, data, a.as_of, formulas=a.formulas)
    t2 = time.perf_counter()
    counts = {k: len(v[next(iter(v))]) for k, v in data.items()}
    print(f"{out}: customers {counts['customers']:,}  invoices {counts['invoices']:,}  "
          f"receipts {counts['receipts']:,}  {out.stat().st_size / 1e6:.1f} MB  "
          f"build {t1 - t0:.1f} s  write {t2 - t1:.1f} s  total {t2 - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
