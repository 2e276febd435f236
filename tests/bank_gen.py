"""Generated ledgers with bank-matching traps, and the truth to measure matching against.

:func:`make_case` draws, from one seed, a ledger of ~240 customers and a bank file of credit
lines, each line labelled with the customer who really paid (or None: a stranger) and whether
the payer's name or account *can* identify that customer with certainty. Everything is drawn
per seed — the brands (two characters from a pool), the cities (with or without 市, with or
without the province), the industries, the legal forms, people's names, accounts — and the
traps are drawn in proportion rather than listed, so no rule can be fitted to a fixed set:

* the same brand in several cities (武汉联创食品有限公司 / 厦门联创食品有限责任公司), one of them
  with the brand as its alias (联创食品): a payer 联创食品 is either;
* brands one character apart (锦城 / 锦程), and payers that misspell a customer's brand by one
  character;
* branches: a payer "<customer's full name><city>分公司" (certain when exactly one customer's
  full name is its prefix), a branch that is a customer itself, a branch whose parent is
  written with another legal form (not certain);
* accounts on file (certain, whatever the name says), unknown accounts;
* aliases, legal forms written differently (有限责任公司 for 有限公司, brackets, spaces);
* people (个人 customers) — a name alone is never certain; another person of the same name;
* strangers: the brand of a customer in another city, unrelated companies.

"Certain" is decided from what the generator knows (who shares a brand, whose name is whose
prefix), not from the matcher's rules.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pandas as pd

_BRAND_CHARS = ("联创鼎盛胜锦城程华美恒昌瑞丰泰和嘉禾金源顺发永信安达宏远博通天宇新兴广益"
                "汇通正大兴隆富康佳利明辉中诚凯旋海纳长青银河万通祥云聚德荣盛东升鑫隆百川")
_WORDS = ("食品", "科技", "机电", "建材", "物流", "纺织品", "医药", "电子", "贸易", "化工", "包装",
          "餐饮管理", "汽车零部件", "信息技术", "环保设备", "家具", "印刷", "五金")
_FORMS = ("有限公司", "有限责任公司", "股份有限公司")
_CITIES = (("武汉", "湖北"), ("厦门", "福建"), ("成都", "四川"), ("杭州", "浙江"), ("苏州", "江苏"),
           ("南京", "江苏"), ("宁波", "浙江"), ("温州", "浙江"), ("广州", "广东"), ("深圳", "广东"),
           ("佛山", "广东"), ("东莞", "广东"), ("长沙", "湖南"), ("郑州", "河南"), ("西安", "陕西"),
           ("合肥", "安徽"), ("青岛", "山东"), ("济南", "山东"), ("沈阳", "辽宁"), ("大连", "辽宁"),
           ("福州", "福建"), ("昆明", "云南"), ("南昌", "江西"), ("石家庄", "河北"), ("无锡", "江苏"),
           ("常州", "江苏"), ("绍兴", "浙江"), ("泉州", "福建"), ("贵阳", "贵州"), ("太原", "山西"))
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华建国玉兰志红"


@dataclass
class Case:
    customers: pd.DataFrame   # customer_id, name, aliases, type, bank_account
    lines: pd.DataFrame       # bank lines (bank_ref, date, payer, payer_account, amount, direction, memo)
    truth: pd.Series          # customer_id who paid, or None
    certain: pd.Series        # the payer's name or account identifies truth with certainty
    kind: pd.Series           # what the line is (for the printed breakdown)


class _Gen:
    def __init__(self, seed: int):
        self.r = random.Random(seed)
        r = self.r
        self.chars = r.sample(_BRAND_CHARS, 40)
        self.cities = r.sample(_CITIES, 20)
        self.words = r.sample(_WORDS, 12)
        self.accounts: set[str] = set()
        self.rows: list[dict] = []
        self.names: set[str] = set()
        self.places: set[tuple] = set()  # (city, brand, industry): one company each

    def account(self) -> str:
        while True:
            a = self.r.choice(("6222", "6217", "3100", "4000")) + "".join(
                self.r.choice("0123456789") for _ in range(15))
            if a not in self.accounts:
                self.accounts.add(a)
                return a

    def brand(self) -> str:
        return "".join(self.r.sample(self.chars, 2))

    def city_text(self, city: tuple) -> str:
        x = self.r.random()
        return city[0] if x < 0.7 else city[0] + "市" if x < 0.9 else f"{city[1]}省{city[0]}市"

    def add(self, **row) -> dict | None:
        if row["name"] in self.names:
            return None
        self.names.add(row["name"])
        row.setdefault("aliases", "")
        row.setdefault("type", "company")
        row.setdefault("bank_account", self.account() if self.r.random() < 0.7 else "")
        row["customer_id"] = f"G{len(self.rows) + 1:04d}"
        self.rows.append(row)
        return row

    def company(self, brand=None, word=None, city=None, form=None) -> dict | None:
        r = self.r
        brand = brand or self.brand()
        word = word or r.choice(self.words)
        city = city or r.choice(self.cities)
        form = form or r.choice(_FORMS)
        if (city[0], brand, word) in self.places:
            return None
        self.places.add((city[0], brand, word))
        name = f"{self.city_text(city)}{brand}{word}{form}"
        return self.add(name=name, _brand=brand, _word=word, _city=city[0], _form=form)


def _typo(gen: _Gen, brand: str) -> str:
    pos = gen.r.randrange(2)
    other = gen.r.choice([c for c in gen.chars if c not in brand])
    return brand[:pos] + other + brand[pos + 1:]


def make_case(seed: int, n_customers: int = 240, n_lines: int = 320) -> Case:
    gen = _Gen(seed)
    r = gen.r
    # ---- customers
    while len(gen.rows) < n_customers * 0.55:
        gen.company()
    companies = list(gen.rows)
    for c in r.sample(companies, int(len(companies) * 0.35)):  # the same brand in another city
        city = r.choice([x for x in gen.cities if x[0] != c["_city"]])
        gen.company(c["_brand"], c["_word"], city)
    for c in r.sample(companies, int(len(companies) * 0.12)):  # a brand one character apart
        gen.company(_typo(gen, c["_brand"]), c["_word"], r.choice(gen.cities))
    companies = [c for c in gen.rows if "_brand" in c]
    for c in r.sample(companies, int(len(companies) * 0.06)):  # a branch that is a customer
        city = r.choice([x for x in gen.cities if x[0] != c["_city"]])
        gen.add(name=f"{c['name']}{city[0]}分公司", _parent=c["customer_id"], _brand=c["_brand"],
                _word=c["_word"], _city=city[0], _form="")
    while len(gen.rows) < n_customers:  # people
        name = r.choice(_SURNAMES) + "".join(r.choice(_GIVEN) for _ in range(r.randint(1, 2)))
        gen.add(name=name, type="individual", bank_account=gen.account() if r.random() < 0.5 else "")
    # aliases: the brand (2 characters) or brand + industry, the latter often shared
    for c in r.sample([c for c in gen.rows if "_brand" in c and "_parent" not in c], int(n_customers * 0.25)):
        c["aliases"] = c["_brand"] + c["_word"] if r.random() < 0.6 else c["_brand"]
    customers = pd.DataFrame(gen.rows)

    by_key: dict[str, list[str]] = {}  # brand + industry → customers using it (name or alias)
    alias_of: dict[str, list[str]] = {}
    for c in gen.rows:
        if "_brand" in c and "_parent" not in c:
            by_key.setdefault(c["_brand"] + c["_word"], []).append(c["customer_id"])
        for a in filter(None, c["aliases"].split(";")):
            alias_of.setdefault(a, []).append(c["customer_id"])
    full_names = {c["name"]: c["customer_id"] for c in gen.rows}
    companies = [c for c in gen.rows if "_brand" in c and "_parent" not in c]
    people = [c for c in gen.rows if c["type"] == "individual"]

    # ---- bank lines
    lines: list[tuple] = []   # payer, account, truth, certain, kind

    def line(payer, acct, truth, certain, kind):
        lines.append((payer, acct, truth, certain, kind))

    def unique_brand(c) -> bool:
        return len(by_key.get(c["_brand"] + c["_word"], ())) == 1 and c["_brand"] + c["_word"] not in alias_of

    kinds = [("full", 30), ("form", 10), ("account", 14), ("alias", 9), ("branch", 7), ("brand_only", 7),
             ("shared_alias", 5), ("typo", 7), ("person", 4), ("parent_form", 2), ("stranger_brand", 3),
             ("stranger", 2)]
    names, weights = zip(*kinds)
    for kind in r.choices(names, weights, k=n_lines):
        c = r.choice(companies)
        cid = c["customer_id"]
        if kind == "full":  # the registered name (a branch customer's too)
            c = r.choice(gen.rows)
            line(c["name"], "", c["customer_id"], c["type"] != "individual", kind)
        elif kind == "form":  # the same name, written with another legal form or spacing
            other = r.choice([f for f in _FORMS if f != c["_form"]])
            payer = c["name"][: -len(c["_form"])] + (other if r.random() < 0.6 else " " + c["_form"])
            if payer in full_names and full_names[payer] != cid:
                continue
            line(payer, "", cid, True, kind)
        elif kind == "account":  # the account on file, whatever the name
            c = r.choice([x for x in gen.rows if x["bank_account"]])
            short = "" if "_parent" in c else c.get("_brand", "") + c.get("_word", "")
            payer = r.choice((c["name"], c["name"][:10], short))
            line(payer or c["name"], c["bank_account"], c["customer_id"], True, kind)
        elif kind == "alias":
            with_alias = [x for x in gen.rows if x["aliases"]]
            c = r.choice(with_alias)
            a = c["aliases"]
            certain = len(alias_of[a]) == 1 and len(by_key.get(a, [c["customer_id"]])) <= 1 and a not in full_names
            # an alias that is also another customer's brand is the trap below, not certain
            line(a, "", c["customer_id"], certain and set(by_key.get(a, [c["customer_id"]])) == {c["customer_id"]},
                 kind)
        elif kind == "branch":  # a branch of a customer, paying with the parent's full name first
            city = r.choice(gen.cities)[0]
            payer = f"{c['name']}{city}{r.choice(('分公司', '分公司', '分店', '办事处'))}"
            if payer in full_names:
                continue
            prefixes = [n for n in full_names if payer.startswith(n) and n != payer]
            line(payer, "", cid, len(prefixes) == 1, kind)
        elif kind == "brand_only":  # the city left out: never certain
            line(c["_brand"] + c["_word"] + r.choice(_FORMS), "", cid, False, kind)
        elif kind == "shared_alias":  # 联创食品: one customer's alias, another's brand
            shared = [k for k in alias_of if len(set(alias_of[k]) | set(by_key.get(k, ()))) > 1]
            if not shared:
                continue
            k = r.choice(shared)
            who = r.choice(sorted(set(alias_of[k]) | set(by_key.get(k, ()))))
            line(k, "", who, False, kind)
        elif kind == "typo":  # one character of the brand mistyped (by the bank or the ledger)
            core = c["_brand"] + c["_word"]
            pos = r.randrange(len(core))  # anywhere in brand and industry: 锦城/锦程, 食品/食吕
            wrong = core[:pos] + r.choice([ch for ch in gen.chars if ch != core[pos]]) + core[pos + 1:]
            payer = c["name"].replace(core, wrong, 1)
            if payer in full_names or any(x.get("_brand", "") + x.get("_word", "") == wrong for x in gen.rows):
                continue
            line(payer, "", cid, False, kind)
        elif kind == "person":  # a person's name: never certain without the account
            p = r.choice(people)
            if r.random() < 0.6:
                line(p["name"], "", p["customer_id"], False, kind)
            else:  # another person of the same name, from another account
                line(p["name"], gen.account(), None, False, "stranger_person")
        elif kind == "parent_form":  # a branch whose parent is written with another legal form
            other = r.choice([f for f in _FORMS if f != c["_form"]])
            payer = c["name"][: -len(c["_form"])] + other + r.choice(gen.cities)[0] + "分公司"
            if payer in full_names or any(payer.startswith(n) for n in full_names):
                continue
            line(payer, "", cid, False, kind)
        elif kind == "stranger_brand":  # the same brand in a city where no customer uses it
            used = {x["_city"] for x in gen.rows if x.get("_brand") == c["_brand"]}
            city = r.choice([x for x in gen.cities if x[0] not in used])
            payer = f"{city[0]}{c['_brand']}{c['_word']}{r.choice(_FORMS)}"
            if payer in full_names:
                continue
            line(payer, gen.account(), None, False, kind)
        else:  # a company the ledger does not know
            brand, word = gen.brand(), r.choice(_WORDS)
            if any(x.get("_brand") == brand and x.get("_word") == word for x in gen.rows):
                continue
            line(f"{r.choice(gen.cities)[0]}{brand}{word}{r.choice(_FORMS)}", "", None, False, kind)
    n = len(lines)
    frame = pd.DataFrame({
        "bank_ref": [f"S{seed}-{i:05d}" for i in range(n)],
        "date": pd.Timestamp("2026-10-01") + pd.to_timedelta([i % 28 for i in range(n)], unit="D"),
        "payer": [x[0] for x in lines], "payer_account": [x[1] for x in lines],
        "amount": [r.randint(100, 5_000_000) for _ in range(n)], "direction": "credit", "memo": "",
    })
    truth = pd.Series([x[2] for x in lines], dtype=object)
    keep = ["customer_id", "name", "aliases", "type", "bank_account"]
    return Case(customers[keep], frame, truth, pd.Series([x[3] for x in lines]), pd.Series([x[4] for x in lines]))


def measure(case: Case, bank: pd.DataFrame) -> dict:
    """auto precision, recall (auto and right) on certain lines, and the share of uncertain
    lines whose true customer is offered (customer_id or one of the candidates)."""
    truth = case.truth.reset_index(drop=True)
    auto = bank["status"] == "auto"
    right = bank["customer_id"] == truth
    offered = pd.Series([bool(t) and (cid == t or any(part.split(" ")[0] == t for part in str(cands).split("; ")))
                         for t, cid, cands in zip(truth, bank["customer_id"], bank["candidate_name"])])
    certain = case.certain.reset_index(drop=True) & truth.notna()
    uncertain = ~case.certain.reset_index(drop=True) & truth.notna()
    return {
        "lines": len(bank), "auto": int(auto.sum()),
        "wrong_auto": int((auto & ~right).sum()),
        "precision": float((auto & right).sum() / max(1, auto.sum())),
        "certain": int(certain.sum()), "recall_certain": float((auto & right & certain).sum() / max(1, certain.sum())),
        "uncertain": int(uncertain.sum()), "offered_uncertain": float((offered & uncertain).sum() / max(1, uncertain.sum())),
    }
