"""A realistic demo ledger: what an accountant would have typed into the input sheets.

`make_demo` builds about 18 months of a small trading company's customer ledger (客户台账) up
to ``as_of``: Customers, Invoices, Receipts, Interactions, Settings, and the bank's 交易明细
export for the month of ``as_of``, which holds receipts the accountant has not entered yet.
Values are as a person types them (yuan floats with 2 decimals, ``datetime.date``, Chinese enum
labels, blank = missing), not the core's typed frames. A few entry mistakes are planted on
purpose and listed in ``planted_problems`` so that the demo shows validation at work.
Deterministic for a seed; hand-written word lists (no Faker), shared with
benchmarks/generate.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from stdnum.cn import uscc

D = dt.timedelta


def _pairs(text: str) -> list[tuple[str, str]]:
    return [tuple(w.split(":")) for w in text.split()]  # type: ignore[misc]


SURNAMES = _pairs("王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 黄:huang 赵:zhao 吴:wu 周:zhou "
                  "徐:xu 孙:sun 马:ma 朱:zhu 胡:hu 郭:guo 何:he 高:gao 林:lin 罗:luo 郑:zheng "
                  "梁:liang 谢:xie 宋:song 唐:tang 韩:han 冯:feng 邓:deng 曹:cao 沈:shen 叶:ye 蒋:jiang")
GIVEN = _pairs("伟:wei 芳:fang 娜:na 敏:min 静:jing 丽:li 强:qiang 磊:lei 军:jun 洋:yang 勇:yong "
               "艳:yan 杰:jie 娟:juan 涛:tao 明:ming 超:chao 霞:xia 平:ping 刚:gang 辉:hui 玲:ling "
               "鹏:peng 华:hua 红:hong 建:jian 文:wen 斌:bin 宇:yu 浩:hao 婷:ting 雪:xue 琳:lin "
               "志:zhi 国:guo 海:hai 晓:xiao 佳:jia 欣:xin 颖:ying")
BRANDS = _pairs("恒昌:hengchang 华信:huaxin 鼎盛:dingsheng 瑞丰:ruifeng 宏达:hongda 金泰:jintai "
                "永信:yongxin 天成:tiancheng 联创:lianchuang 博远:boyuan 嘉禾:jiahe 盛世:shengshi "
                "新源:xinyuan 远航:yuanhang 明辉:minghui 德胜:desheng 万通:wantong 富源:fuyuan "
                "星河:xinghe 海纳:haina 中诚:zhongcheng 荣泰:rongtai 启航:qihang 安泰:antai "
                "伟业:weiye 广源:guangyuan 鑫达:xinda 润泽:runze 锦程:jincheng 正和:zhenghe "
                "宇辰:yuchen 凯胜:kaisheng 同裕:tongyu 顺发:shunfa 恒泰:hengtai 华美:huamei "
                "东升:dongsheng 和丰:hefeng 卓越:zhuoyue 博瑞:borui 泰和:taihe 金桥:jinqiao "
                "祥瑞:xiangrui 晨光:chenguang 银河:yinhe 百川:baichuan 龙腾:longteng 聚源:juyuan")
# city, province, region, telephone area code, administrative division code, districts
CITIES = [tuple(line.split(" ", 5)) for line in """\
杭州 浙江省 华东 0571 330106 西湖区 滨江区 余杭区
宁波 浙江省 华东 0574 330212 鄞州区 北仑区
温州 浙江省 华东 0577 330302 鹿城区 瓯海区
苏州 江苏省 华东 0512 320505 工业园区 吴中区 虎丘区
南京 江苏省 华东 025 320106 鼓楼区 江宁区
无锡 江苏省 华东 0510 320214 新吴区 滨湖区
上海 - 华东 021 310115 浦东新区 闵行区 嘉定区
合肥 安徽省 华东 0551 340104 蜀山区 包河区
青岛 山东省 华东 0532 370211 黄岛区 崂山区
福州 福建省 华东 0591 350102 鼓楼区 仓山区
广州 广东省 华南 020 440106 天河区 番禺区 黄埔区
深圳 广东省 华南 0755 440305 南山区 宝安区 龙岗区
东莞 广东省 华南 0769 441900 长安镇 松山湖
佛山 广东省 华南 0757 440606 顺德区 南海区
北京 - 华北 010 110108 海淀区 朝阳区 大兴区
天津 - 华北 022 120116 滨海新区 西青区
石家庄 河北省 华北 0311 130102 长安区 裕华区
武汉 湖北省 华中 027 420111 洪山区 东西湖区
长沙 湖南省 华中 0731 430104 岳麓区 雨花区
郑州 河南省 华中 0371 410105 金水区 中原区
成都 四川省 西南 028 510107 武侯区 高新区
重庆 - 西南 023 500112 渝北区 九龙坡区
西安 陕西省 西北 029 610113 雁塔区 未央区
沈阳 辽宁省 东北 024 210106 铁西区 浑南区""".splitlines()]
# industry, word in company names, e-mail domain tag, products "name:price:qty_min:qty_max"
INDUSTRIES = [tuple(line.split(" ", 3)) for line in """\
机械制造 机电设备 jd 减速机:6800:1:12 液压泵:4200:1:10 数控机床配件:1850:2:40 轴承组件:320:10:200
电子电器 电子科技 dz 传感器模块:86:50:1000 控制主板:420:20:300 电源适配器:35:100:2000
化工 化工材料 hg 环氧树脂:23500:1:8 工业涂料:260:20:400 塑料助剂:180:20:300
建筑建材 建材 jc 螺纹钢:3900:5:60 防水卷材:36:200:3000 水泥:420:20:300
纺织服装 纺织品 fz 涤纶面料:28:500:8000 工装定制:160:20:600 棉纱:21800:1:6
食品饮料 食品 sp 节日礼盒:198:20:800 饮用水:36:50:1000 调味品:45:50:800
信息技术 信息技术 it 软件服务年费:48000:1:1 实施服务:2500:2:30 运维服务:6000:1:12
物流运输 物流 wl 干线运输:3200:1:30 仓储服务:15000:1:3
医疗器械 医疗器械 yl 监护仪:23800:1:6 一次性耗材:12.5:200:5000 检测试剂:860:5:100
批发零售 商贸 sm 打印纸:185:10:200 办公家具:2600:1:20 办公电脑:4599:1:30
汽车零部件 汽车零部件 qp 刹车片:95:50:1000 滤清器:28:100:2000 汽车线束:260:20:500
包装印刷 包装 bz 瓦楞纸箱:3.2:1000:30000 不干胶标签:0.35:5000:100000 彩盒:1.8:2000:40000""".splitlines()]
PRODUCTS = [[(p, float(a), int(lo), int(hi)) for p, a, lo, hi in (x.split(":") for x in ps.split())]
            for *_, ps in INDUSTRIES]
SUFFIXES = ("有限公司", "股份有限公司", "有限责任公司", "集团有限公司")
SUFFIX_WEIGHTS = (0.6, 0.15, 0.15, 0.1)
TITLES = "总经理 副总经理 采购经理 采购主管 财务经理 财务主管 会计 办公室主任 项目经理 采购专员".split()
OWNERS = "张伟 李娜 王磊 陈静 刘洋".split()
SIZES = ("大型", "中型", "小型", "微型")
MOBILE_PREFIXES = "138 139 186 187 150 151 177 199 135 158 189".split()
ROADS = "人民路 解放路 中山路 建设路 文一西路 科技大道 工业园路 长江路 新华路 滨江大道 创业路".split()
GOV_DEPTS = "教育局 交通运输局 机关事务管理局 城市管理局 卫生健康委员会 市场监督管理局".split()
NOTES = ("重点客户", "开票需备注合同号", "月结", "送货需提前预约", "发票寄财务部")
SUMMARIES = {
    "拜访": ("上门拜访，沟通明年采购计划", "拜访采购部，介绍新产品", "年度合作洽谈"),
    "电话": ("电话催收货款", "确认到货情况", "电话沟通对账差异", "确认下月订单"),
    "邮件": ("发送对账单", "发送报价单", "邮件确认合同条款"),
    "投诉": ("到货延迟，客户投诉", "部分产品质量问题，要求退换", "发票信息有误"),
    "反馈": ("客户反馈包装需改进", "客户建议增加送货频次"),
    "满意度调查": ("年度满意度回访", "季度服务满意度调查"),
    "关怀": ("节日问候", "生日祝福", "赠送新年台历"),
}
INTERACTION_WEIGHTS = (25, 35, 10, 6, 8, 10, 6)
COMPANY = "杭州启明工贸有限公司"
COMPANY_ACCOUNT = "1202021209900088123"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
PAY_DELAYS = {"good": (-5, 7), "slow": (5, 40), "late": (30, 120), "bad": (40, 110)}  # days after due


def make_uscc(prefix: str, division: str, org8: str) -> str:
    """A valid unified social credit code: prefix (91 company, 11 government, 51 association),
    division code, organisation code (8 digits + its GB 11714 check), then the USCC check."""
    c = 11 - sum(int(ch) * w for ch, w in zip(org8, ORG_WEIGHTS)) % 11
    body = prefix + division + org8 + ("X" if c == 10 else "0" if c == 11 else str(c))
    return body + uscc.calc_check_digit(body)


def strip_suffix(name: str) -> str:
    """Company name without its legal form (有限公司...), as banks and people often shorten it."""
    for s in ("股份有限公司", "有限责任公司", "有限公司"):
        if name.endswith(s):
            return name[: -len(s)]
    return name


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{v:,.2f}"
    return v.isoformat() if isinstance(v, dt.date) else str(v)


@dataclass(frozen=True)
class DemoData:
    """The demo ledger's input sheets (canonical column keys, values as typed) and bank file."""

    customers: pd.DataFrame
    invoices: pd.DataFrame
    receipts: pd.DataFrame
    interactions: pd.DataFrame
    settings: dict
    bank: pd.DataFrame
    bank_title: tuple[str, ...] = ()
    planted_problems: list = field(default_factory=list)

    def bank_csv_bytes(self, encoding: str = "gbk") -> bytes:
        """The bank export as the bank gives it: title lines, header, rows, amounts '12,800.00'."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerows([line] for line in self.bank_title)
        w.writerow(list(self.bank.columns))
        w.writerows([_cell(v) for v in row] for row in self.bank.itertuples(index=False))
        return buf.getvalue().encode(encoding)


def _yuan(cents: int) -> float:
    return round(cents / 100, 2)


def _round_down(cents: int, unit: int) -> int:
    return cents // unit * unit


class _Gen:
    """Builds the sheets one after another from one random state, so they agree."""

    def __init__(self, seed: int, as_of: dt.date):
        self.r, self.np = random.Random(seed), np.random.default_rng(seed)
        self.as_of, self.start = as_of, as_of - D(548)
        self.used_refs: set[str] = set()
        self.planted: list[dict] = []
        self.names: set[str] = set()  # company names (without suffix) in use
        self.aliases: set[str] = set()

    def day(self, lo: dt.date, hi: dt.date) -> dt.date:
        return lo + D(self.r.randint(0, max(0, (hi - lo).days)))

    def person(self) -> tuple[str, str, str]:
        s, spy = self.r.choice(SURNAMES)
        g = self.r.sample(GIVEN, self.r.choice((1, 2, 2)))
        return s + "".join(c for c, _ in g), spy, "".join(p for _, p in g)

    def mobile(self) -> str:
        return self.r.choice(MOBILE_PREFIXES) + f"{self.r.randrange(10**8):08d}"

    def account(self) -> str:
        return self.r.choice(("6222", "1202", "3100", "4000", "6217")) + f"{self.r.randrange(10**15):015d}"

    def bank_ref(self, d: dt.date) -> str:
        while (ref := f"HQ{d:%Y%m%d}{self.r.randrange(10**6):06d}") in self.used_refs:
            pass
        self.used_refs.add(ref)
        return ref

    def plant(self, sheet: str, key: str, column: str, what: str) -> None:
        self.planted.append(dict(sheet=sheet, key=key, column=column, what=what))

    # ---------------------------------------------------------------- customers
    def alias(self, *candidates: str) -> str:
        """The first candidate short name no other customer uses (aliases must identify)."""
        pick = next((a for a in candidates if a not in self.aliases), candidates[-1] + str(len(self.aliases)))
        self.aliases.add(pick)
        return pick

    def customer(self, kind: str) -> dict:
        r = self.r
        ind = r.randrange(len(INDUSTRIES))
        word = INDUSTRIES[ind][1]
        while True:  # names are unique (a duplicate entry is planted on purpose, elsewhere)
            city, prov, region, area, div, dists = r.choice(CITIES)
            brand, bpy = r.choice(BRANDS)
            name = (city + brand + word if kind == "企业" else f"{city}市{r.choice(GOV_DEPTS)}" if kind == "政府"
                    else f"{city}市{r.choice(INDUSTRIES)[0]}行业协会")
            if name not in self.names:
                break
        contact, spy, gpy = self.person()
        landline = f"{area}-{r.choice('568')}{r.randint(1, 9)}{r.randrange(10**6):06d}"
        c = dict(type=kind, region=region, contact=contact, status="正常", bank_account=self.account(),
                 notes=r.choice(NOTES) if r.random() < 0.12 else None,
                 address=f"{prov.strip('-')}{city}市{r.choice(dists.split())}{r.choice(ROADS)}{r.randrange(999)}号",
                 phone=self.mobile() if r.random() < 0.85 else landline,
                 birthday=dt.date(r.randint(1965, 1995), r.randint(1, 12), r.randint(1, 28)),
                 _city=city, _div=div, _ind=ind)
        org = f"{r.randrange(10**8):08d}"
        if kind == "企业":
            self.names.add(name)
            short = self.alias(brand + word[:2], city + brand + word[:2])
            if brand not in self.aliases and r.random() < 0.3:
                short += ";" + self.alias(brand)
            c.update(name=name + r.choices(SUFFIXES, SUFFIX_WEIGHTS)[0], aliases=short,
                     industry=INDUSTRIES[ind][0], title=r.choice(TITLES), tax_id=make_uscc("91", div, org),
                     email=f"{spy}{gpy}@{bpy}{INDUSTRIES[ind][2]}.com", _brand=brand, _word=word)
        elif kind == "个人":  # buys gifts and office goods; no tax id, a personal mailbox
            mail = r.choice((f"{r.randrange(10**8, 10**10)}@qq.com", f"{spy}{gpy}{r.randint(60, 99)}@163.com"))
            c.update(name=contact, aliases=None, industry=None, title=None, tax_id=None, _ind=r.choice((5, 9)),
                     email=mail)
        else:
            gov = kind == "政府"
            self.names.add(name)
            c.update(name=name, aliases=None, industry="政府机关" if gov else "社会团体",
                     title=r.choice(TITLES[5:8]), tax_id=make_uscc("11" if gov else "51", div, org), _ind=6 if gov else 9,
                     email=f"{spy}{gpy}@{'gov.cn' if gov else '163.com'}")
        return c

    def customers(self, n: int) -> list[dict]:
        """n ordinary customers, then a branch, a duplicate entry and a prospect: n + 3."""
        r, as_of, start = self.r, self.as_of, self.start
        k_ind, k_gov, k_oth = max(2, n // 20), max(2, n // 35), max(1, n // 60)
        kinds = ["个人"] * k_ind + ["政府"] * k_gov + ["其他"] * k_oth
        kinds += ["企业"] * (n - len(kinds))
        r.shuffle(kinds)
        cs = [self.customer(k) for k in kinds]
        for c, w in zip(cs, self.np.pareto(1.1, len(cs)) + 0.15):  # Pareto sales weights: a few big ones
            c["_w"] = float(w)
            c["created"] = start - D(r.randint(30, 1100)) if r.random() < 0.8 else self.day(start, as_of - D(60))
        a, b, parent = [c for c in cs if c["type"] == "企业"][:3]
        # a look-alike: the same brand and trade in another city
        b_city = next(x for x in CITIES if x[0] + a["_brand"] + a["_word"] not in self.names)
        short = a["_brand"] + a["_word"]
        self.names.add(b_city[0] + short)
        b.update(name=a["name"].replace(a["_city"], b_city[0], 1), aliases=self.alias(b_city[0] + short[:4]),
                 _ind=a["_ind"], industry=a["industry"], tax_id=make_uscc("91", b_city[4], b["tax_id"][8:16]))
        branch = self.customer("企业")  # a branch (分公司) of another customer, with its own code
        bcity = branch["_city"] if branch["_city"] != parent["_city"] else "宁波"
        branch.update(name=f"{parent['name']}{bcity}分公司", aliases=self.alias(f"{parent['_brand']}{bcity}"),
                      _w=0.4, _ind=parent["_ind"], industry=parent["industry"], created=parent["created"] + D(200))
        twisted = parent["name"].replace(parent["_city"], "", 1).replace("有限", f"({parent['_city']})有限", 1)
        dup = dict(parent, name=twisted, contact=self.person()[0], phone=self.mobile(), aliases=None, notes=None,
                   _w=0.0, created=as_of - D(r.randint(20, 60)), bank_account=self.account())
        prospect = dict(self.customer("企业"), _w=0.0, created=as_of - D(r.randint(10, 40)))
        cs += [branch, dup, prospect]
        cs.sort(key=lambda c: c["created"])
        width = max(4, len(str(len(cs))))
        for i, c in enumerate(cs):
            c.update(customer_id=f"C{i + 1:0{width}d}", owner=r.choice(OWNERS), _first=start, _last=as_of,
                     _pay=r.choices(tuple(PAY_DELAYS), (62, 22, 12, 4))[0], _stop=as_of - D(r.randint(99, 200)),
                     updated=self.day(max(c["created"], as_of - D(170)), as_of) if r.random() < 0.85
                     else self.day(c["created"], max(c["created"], as_of - D(200))),  # some stale
                     contract_end=None if c["type"] == "个人" else self.day(as_of - D(200), as_of + D(700)),
                     size=SIZES[0 if c["_w"] > 5 else 1 if c["_w"] > 1.2 else 2 if c["_w"] > 0.4 else 3],
                     payment_terms=None if r.random() < 0.2 or c["type"] == "个人" else r.choice((30, 45, 60, 90)))
            c["_first"] = max(start, c["created"] + D(r.randint(0, 30)))
            if r.random() < 0.04 and c["_w"] > 0:  # stopped buying long ago
                c["status"], c["_last"] = "停用", as_of - D(r.randint(250, 400))
        big = sorted((c for c in cs if c["_w"] > 0 and c["type"] == "企业"), key=lambda c: -c["_w"])
        for c in big[3:8:3]:  # two sizeable customers who stopped paying months ago
            c.update(_pay="bad", status="正常", _last=as_of, _stop=as_of - D(r.randint(100, 150)))
        for c in r.sample([c for c in cs if c["contract_end"]], 5):
            c["contract_end"] = as_of + D(r.randint(1, 30))
        for c in r.sample(cs, 2):  # birthdays in the coming week
            d = as_of + D(r.randint(1, 6))
            c["birthday"] = dt.date(r.randint(1965, 1995), d.month, min(d.day, 28) if d.month == 2 else d.day)
        self.cs, self.dup_of, self.prospect = cs, (parent, dup), prospect
        return cs

    # ---------------------------------------------------------------- invoices
    def sale(self, c: dict, prod: tuple, price: int, scale: float, contract: str | None) -> dict:
        r = self.r
        name, _, lo, hi = prod
        q = lo if hi == lo else max(1, round(math.exp(r.uniform(math.log(lo), math.log(hi + 1))) * scale))
        return dict(date=self.day(c["_first"], c["_last"]), customer_id=c["customer_id"], kind="销售",
                    product=name, quantity=q, _price=price, _cents=q * price, _c=c,
                    contract_no=contract if r.random() < 0.7 else None,
                    notes=r.choice(("加急", "含运费", "样品")) if r.random() < 0.08 else None)

    def invoices(self, cs: list[dict], n: int) -> list[dict]:
        r, as_of = self.r, self.as_of
        active = [c for c in cs if c["_w"] > 0]
        n_cn = max(2, n * 3 // 100)
        share = np.array([c["_w"] for c in active]) ** 0.6
        rows = []
        for i, (c, k) in enumerate(zip(active, self.np.multinomial(n - n_cn - 4, share / share.sum()))):
            prods = r.sample(PRODUCTS[c["_ind"]], min(len(PRODUCTS[c["_ind"]]), r.randint(1, 3)))
            prices = [max(1, round(p[1] * 100 * r.uniform(0.9, 1.15))) for p in prods]  # cents, per customer
            scale = min(5.0, max(0.5, c["_w"] ** 0.4))
            contract = f"HT{c['created'].year}-{i + 1:03d}" if r.random() < 0.4 else None
            for j in (r.randrange(len(prods)) for _ in range(k)):
                rows.append(self.sale(c, prods[j], prices[j], scale, contract))
        sales = list(rows)
        for i in range(n_cn):
            if i % 3 < 2:  # a return or price allowance on one invoice of the same customer
                ref = r.choice(sales)
                k = max(1, int(ref["quantity"] * r.uniform(0.05, 0.6)))
                sign = -1 if r.random() < 0.35 else 1  # people enter 红字 both ways
                rows.append(dict(ref, date=min(as_of, ref["date"] + D(r.randint(3, 40))), kind="红字",
                                 quantity=sign * k, _cents=sign * k * ref["_price"], _ref=ref,
                                 notes=r.choice(("退货", "质量折让"))))
            else:  # a general credit (rebate) naming no invoice
                c = r.choice(active)
                rows.append(dict(date=self.day(as_of - D(300), as_of), customer_id=c["customer_id"], kind="红字",
                                 product="销售返利", quantity=None, _price=None, _cents=r.randint(5, 50) * 10000,
                                 _c=c, contract_no=None, notes="年度返利"))
        recent = [s for s in sales if s["date"] > as_of - D(90)] or sales
        for what in ("unknown", "amount", "due"):  # planted mistakes, recent and unpaid
            rows.append(dict(r.choice(recent), _planted=what, date=self.day(as_of - D(25), as_of)))
        rows.sort(key=lambda x: (x["date"], x["kind"], x["customer_id"]))
        seq: dict = defaultdict(int)
        width = max(4, len(str(n)))
        for x in rows:
            pre, year = "XS" if x["kind"] == "销售" else "HZ", x["date"].year
            seq[pre, year] += 1
            x.update(doc_no=f"{pre}{year}-{seq[pre, year]:0{width}d}", amount=_yuan(x["_cents"]),
                     unit_price=None if x["_price"] is None else x["_price"] / 100,
                     _due=x["date"] + D(x["_c"]["payment_terms"] or 30))
            x["due_date"] = x["_due"] if r.random() < 0.12 else None  # mostly left to the program
            planted = x.get("_planted")
            if planted == "unknown":  # letter O typed for a zero
                cid = x["customer_id"]
                x["customer_id"] = cid.replace("0", "O", 1) if "0" in cid else cid + "X"
                self.plant("invoices", x["doc_no"], "customer_id", "customer does not exist")
            elif planted == "amount":
                x["amount"] = _yuan(x["_cents"] + 900 * (1 + x["_cents"] // 10**6))
                self.plant("invoices", x["doc_no"], "amount", "amount ≠ quantity × unit_price")
            elif planted == "due":
                x["due_date"] = x["date"] - D(r.randint(5, 30))
                self.plant("invoices", x["doc_no"], "due_date", "due date before date")
        for x in rows:  # after numbering: a credit note may come first on the same day
            x["ref_doc"] = x["_ref"]["doc_no"] if "_ref" in x else None
        at = next(i for i in reversed(range(len(rows))) if rows[i]["kind"] == "销售"
                  and "_planted" not in rows[i] and rows[i]["date"] < as_of - D(5))
        twin = rows[at]
        q = twin["quantity"] + 1
        dup = dict(twin, _planted="dup", date=twin["date"] + D(1), quantity=q, _cents=q * twin["_price"],
                   amount=_yuan(q * twin["_price"]), notes=None)
        rows.insert(at + 1, dup)  # typed twice
        self.plant("invoices", twin["doc_no"], "doc_no", "duplicate doc_no")
        return rows

    # ---------------------------------------------------------------- receipts
    def method(self, c: dict, cents: int) -> str:
        x = self.r.random()
        if c["type"] == "个人":
            return "现金" if x < 0.35 else "转账"
        if c["type"] == "企业" and cents >= 5_000_000 and x < 0.25:
            return "票据"
        return "其他" if x > 0.98 else "转账"

    def payments(self, rows: list[dict], n: int) -> tuple[list[dict], list[dict]]:
        """Payment events: n for Receipts, plus the last month's transfers not entered yet."""
        r, as_of = self.r, self.as_of
        credited: dict = defaultdict(int)
        for x in rows:
            if "_ref" in x:
                credited[x["_ref"]["doc_no"]] += abs(x["_cents"])
        sales = [x for x in rows if x["kind"] == "销售" and "_planted" not in x]
        first: dict = {}
        for x in sales:
            first.setdefault(x["customer_id"], x)
        ev: list[dict] = []
        pre = next((x for x in first.values() if x["date"] > self.start + D(60) and x["_cents"] >= 10**6
                    and x["_c"]["type"] == "企业"), None)
        if pre:  # a prepayment ten days before the customer's first invoice
            credited[pre["doc_no"]] += _round_down(pre["_cents"] * 3 // 10, 100000)
            ev.append(dict(c=pre["_c"], date=pre["date"] - D(10), cents=credited[pre["doc_no"]], tag="pre"))
        ev.append(dict(c=self.prospect, date=as_of - D(r.randint(5, 20)), cents=r.randint(1, 5) * 10**6,
                       tag="pre"))  # a deposit from a prospect with no invoice yet
        for x in sales:
            c, net = x["_c"], x["_cents"] - credited[x["doc_no"]]
            if net <= 0 or (c["_pay"] == "bad" and x["date"] > c["_stop"]):
                continue
            pay = max(x["date"], x["_due"] + D(r.randint(*PAY_DELAYS[c["_pay"]])))
            part = _round_down(net * r.randint(3, 7) // 10, 100000)
            if r.random() < 0.05 and part > 0:  # part now, the rest weeks later (or not yet)
                ev.append(dict(c=c, date=pay, cents=part, docs=[x["doc_no"]], tag="part"))
                ev.append(dict(c=c, date=pay + D(r.randint(15, 60)), cents=net - part, docs=[x["doc_no"]],
                               tag="rest"))
            else:
                ev.append(dict(c=c, date=pay, cents=net, docs=[x["doc_no"]], tag="full"))
        ev = [e for e in ev if e["date"] <= as_of]
        for e in ev:
            e["method"] = self.method(e["c"], e["cents"])
        month = as_of.replace(day=1)
        late = [e for e in ev if e["date"] >= month and e["method"] == "转账" and e["tag"] == "full"]
        held = r.sample(late, len(late) * 2 // 3)
        held_ids = {id(e) for e in held}
        body = sorted((e for e in ev if id(e) not in held_ids and e["tag"] != "pre"),
                      key=lambda e: (e["c"]["customer_id"], e["date"]))
        target = n - sum(e["tag"] == "pre" for e in ev)
        joinable = [i for i, (a, b) in enumerate(zip(body, body[1:]), 1)
                    if a["c"] is b["c"] and a["tag"] == b["tag"] == "full" and a["method"] == b["method"]
                    and (b["date"] - a["date"]).days <= 45]
        lumps = min(len(joinable), max(len(body) - target, len(body) // 25))
        for i in sorted(r.sample(joinable, lumps), reverse=True):
            a, b = body[i - 1], body.pop(i)  # a lump sum: one payment for several invoices
            a.update(date=b["date"], cents=a["cents"] + b["cents"], docs=a["docs"] + b["docs"])
        if len(body) > target:  # still too many: some invoices stay unpaid
            body = [body[i] for i in sorted(r.sample(range(len(body)), max(0, target)))]
        while len(body) < target:  # part payments
            big = [e for e in body if e["cents"] >= 20000]
            if not big:
                break
            e = r.choice(big)
            part = _round_down(e["cents"] * r.randint(3, 7) // 10, 10000)
            body.append(dict(e, date=max(e["date"] - D(r.randint(5, 25)), self.start), cents=part, tag="part"))
            e.update(cents=e["cents"] - part, tag="rest")
        over = next((e for e in body if e["tag"] == "full" and len(e["docs"]) == 1 and e["method"] == "转账"), None)
        if over:  # overpaid, rounded up to the next 1,000
            over.update(cents=(over["cents"] // 100000 + 1) * 100000, tag="over")
        return [e for e in ev if e["tag"] == "pre"] + body, held

    def memo(self, e: dict) -> tuple[str | None, str | None]:
        """(memo, applied_to) as the accountant wrote them."""
        r, docs, x = self.r, e.get("docs", []), self.r.random()
        if e["tag"] == "pre":
            return r.choice(("预付款", "定金")), None
        if e["method"] == "票据":
            return f"银行承兑汇票 {r.randrange(10**11, 10**12)}", ",".join(docs) if x < 0.5 else None
        if e["method"] == "现金":
            return "现金收款", None
        if e["tag"] in ("part", "rest"):
            return f"{docs[0]} {'部分货款' if e['tag'] == 'part' else '尾款'}", None
        if len(docs) > 1:
            if x < 0.4:
                return "货款 " + " ".join(docs), None
            return "货款", r.choice((",", "、", " ")).join(docs) if x < 0.7 else None
        if x < 0.6:
            return ("货款 " + docs[0], None) if x < 0.45 else ("货款", docs[0])
        return r.choice(("货款", "付款", None)), None

    def receipts(self, events: list[dict], rows: list[dict]) -> list[dict]:
        r, out = self.r, []
        events.sort(key=lambda e: (e["date"], e["c"]["customer_id"]))
        seq: dict = defaultdict(int)
        width = max(4, len(str(len(events))))
        for e in events:
            c, year = e["c"], e["date"].year
            seq[year] += 1
            memo, applied = self.memo(e)
            blank = c["type"] == "企业" and e["method"] == "转账" and r.random() < 0.03  # customer left blank
            payer = (r.choice((strip_suffix(c["name"]), (c["aliases"] or c["name"]).split(";")[0])) if blank
                     else c["contact"] if e["method"] == "现金" and c["type"] != "个人" else c["name"])
            e["bank_ref"] = self.bank_ref(e["date"]) if e["method"] == "转账" else None
            out.append(dict(receipt_no=f"SK{year}-{seq[year]:0{width}d}", date=e["date"],
                            customer_id=None if blank else c["customer_id"], payer=payer,
                            amount=_yuan(e["cents"]), method=e["method"], memo=memo, applied_to=applied,
                            bank_ref=e["bank_ref"], _e=e))
        owner = {x["doc_no"]: x["customer_id"] for x in rows}
        for rc in out[len(out) // 2:]:  # planted: a neighbouring invoice number, another customer's
            docs = rc["_e"].get("docs", [])
            if len(docs) != 1 or not rc["customer_id"] or rc["applied_to"]:
                continue
            near = [docs[0][:-1] + str((int(docs[0][-1]) + k) % 10) for k in (1, -1)]
            other = next((d for d in near if owner.get(d, rc["customer_id"]) != rc["customer_id"]), None)
            if other:
                rc["applied_to"] = other
                self.plant("receipts", rc["receipt_no"], "applied_to", "applied_to: another customer's invoice")
                break
        return out

    # ---------------------------------------------------------------- bank export
    def bank(self, recorded: list[dict], held: list[dict]) -> tuple[pd.DataFrame, tuple[str, ...]]:
        r, as_of = self.r, self.as_of
        month = as_of.replace(day=1)
        names = {c["name"] for c in self.cs}
        lines = [(rc["date"], rc["payer"], rc["_e"]["c"]["bank_account"], rc["_e"]["cents"], rc["memo"] or "",
                  rc["bank_ref"]) for rc in recorded if rc["bank_ref"] and rc["date"] >= month]
        for e in held:  # not in Receipts yet; some name the payer differently, from another account
            c, x = e["c"], r.random()
            name, acct = c["name"], c["bank_account"]
            if c["type"] == "企业" and x < 0.45:
                branch = f"{c['name']}{r.choice(CITIES)[0]}分公司"
                # the brand without its city (联创建材有限公司) is never certain: a line to confirm
                brand = f"{c['_brand']}{c['_word']}有限公司"
                name = (strip_suffix(name) if x < 0.2 else c["aliases"].split(";")[0] if x < 0.32
                        else branch if x < 0.37 and branch not in names
                        else brand if x < 0.42 and brand not in names else name)
                acct = self.account()
            memo = r.choice((f"货款 {e['docs'][0]}", f"{e['docs'][0]}货款", "货款", "网银转账", ""))
            lines.append((e["date"], name, acct, e["cents"], memo, self.bank_ref(e["date"])))
        d = self.day(month, as_of)  # a stranger, then money going out (ignored by matching)
        lines.append((d, "成都蓝海餐饮管理有限公司", self.account(), 356000, "往来款", self.bank_ref(d)))
        for memo, name, cents in (("房租", "杭州高新物业管理有限公司", 4_500_000), ("代发工资", "", 18_650_000),
                                  ("社保", "杭州市社会保险基金", 3_120_000), ("电费", "国网浙江省电力有限公司", 286_540)):
            d = self.day(month, as_of)
            lines.append((d, name, self.account() if name else "", -cents, memo, self.bank_ref(d)))
        timed = sorted((d, f"{r.randint(8, 17):02d}:{r.randrange(60):02d}:{r.randrange(60):02d}", *rest)
                       for d, *rest in lines)
        balance, rows = 268_435_170, []
        for d, t, name, acct, cents, memo, ref in timed:
            balance += cents
            rows.append({"交易日期": d, "交易时间": t, "对方户名": name, "对方账号": acct,
                         "收入金额": _yuan(cents) if cents > 0 else None,
                         "支出金额": _yuan(-cents) if cents < 0 else None,
                         "余额": _yuan(balance), "摘要": memo, "交易流水号": ref})
        title = ("中国工商银行 账户明细查询",
                 f"账号: {COMPANY_ACCOUNT}  户名: {COMPANY}  币种: 人民币  起止日期: {month} 至 {as_of}")
        return pd.DataFrame(rows), title

    # ---------------------------------------------------------------- interactions
    def interactions(self) -> list[dict]:
        r, as_of, out = self.r, self.as_of, []
        for c in (c for c in self.cs if c["status"] == "正常"):
            hi = as_of - D(r.randint(95, 200)) if r.random() < 0.15 else as_of  # some not contacted for months
            lo = min(hi, max(self.start, c["created"]))
            for _ in range(r.randint(1, 3) + min(6, int(c["_w"]))):
                kind = r.choices(tuple(SUMMARIES), INTERACTION_WEIGHTS)[0]
                d = self.day(lo, hi)
                nxt = d + D(r.randint(7, 45)) if r.random() < 0.3 or kind == "投诉" else None
                is_open = (nxt is not None and nxt >= as_of - D(20) and r.random() < 0.7) or (
                    kind == "投诉" and d > as_of - D(60))
                score = r.choices((1, 2, 3, 4, 5), (2, 4, 14, 45, 35))[0] if kind == "满意度调查" else None
                out.append(dict(date=d, customer_id=c["customer_id"], kind=kind,
                                summary=r.choice(SUMMARIES[kind]), satisfaction=score, next_date=nxt, owner=c["owner"],
                                status="open" if is_open else "closed"))
        for c in r.sample([c for c in self.cs if c["status"] == "正常"], 3):  # follow-ups due in days
            out.append(dict(date=as_of - D(r.randint(3, 20)), customer_id=c["customer_id"], kind="电话",
                            summary="约定下周回访", satisfaction=None, next_date=as_of + D(r.randint(1, 7)),
                            owner=c["owner"], status="open"))
        out.sort(key=lambda x: (x["date"], x["customer_id"]))
        return out


def _frame(rows: list[dict], columns: list[str], ints: tuple[str, ...] = ()) -> pd.DataFrame:
    df = pd.DataFrame([{k: x.get(k) for k in columns} for x in rows], columns=columns)
    for col in ints:  # whole numbers with blanks stay whole numbers
        df[col] = df[col].astype("Int64")
    return df


def make_demo(seed: int = 7, as_of: dt.date = dt.date(2026, 10, 31), customers: int = 200,
              invoices: int = 3000, receipts: int = 2500) -> DemoData:
    """The demo ledger as of ``as_of``.

    Exactly ``customers`` customers (including a branch, a duplicate entry and a prospect
    without invoices; at least 20), ``invoices`` invoice rows and ``receipts`` receipt rows
    (exact unless the invoices cannot yield that many lump sums), and the bank export of
    as_of's month whose new lines are left out of ``receipts``.
    """
    from .core.model import CUSTOMER_COLUMNS, INTERACTION_COLUMNS, INVOICE_COLUMNS, RECEIPT_COLUMNS

    if customers < 20 or invoices < 100 or receipts < 10:
        raise ValueError("the demo needs at least 20 customers, 100 invoices and 10 receipts")
    g = _Gen(seed, as_of)
    cs = g.customers(customers - 3)
    rows = g.invoices(cs, invoices)
    events, held = g.payments(rows, receipts)
    recs = g.receipts(events, rows)
    bank, title = g.bank(recs, held)
    revenue: dict = defaultdict(int)
    for x in rows:
        revenue[x["customer_id"]] += x["_cents"] if x["kind"] == "销售" else 0
    for c in cs:  # about two months of sales, rounded to 10,000; some left blank
        limit = max(1, round(revenue[c["customer_id"]] / 9 / 1e6)) * 10000
        c["credit_limit"] = None if c["type"] == "个人" or g.r.random() < 0.15 else float(limit)
    parent, dup = g.dup_of
    g.plant("customers", dup["customer_id"], "tax_id", f"same tax id as {parent['customer_id']}: likely duplicate")
    bad_phone, bad_tax = g.r.sample([c for c in cs if c["type"] == "企业" and c not in (dup, parent)], 2)
    bad_phone["phone"] = g.mobile()[:10]
    bad_tax["tax_id"] = bad_tax["tax_id"][:-1] + ("0" if bad_tax["tax_id"][-1] != "0" else "1")
    g.plant("customers", bad_phone["customer_id"], "phone", "phone number one digit short")
    g.plant("customers", bad_tax["customer_id"], "tax_id", "tax id check digit wrong")
    settings = {"language": "zh", "company_name": COMPANY, "currency": "CNY", "as_of": as_of.isoformat(),
                "default_terms": 30, "aging_basis": "due_date", "aging_buckets": "30,60,90,180",
                "dunning_levels": "1,31,61", "abc_split": "0.8,0.95", "tier_window_months": 12,
                "auto_fifo": "yes", "match_threshold": 90, "remind_due_days": 7, "remind_contract_days": 30,
                "remind_birthday_days": 7, "remind_no_contact_days": 90, "stale_profile_days": 180,
                "mask_exports": "yes",
                "payment_instructions": f"开户行: 中国工商银行杭州高新支行  账号: {COMPANY_ACCOUNT}  户名: {COMPANY}"}
    return DemoData(customers=_frame(cs, CUSTOMER_COLUMNS, ("payment_terms",)),
                    invoices=_frame(rows, INVOICE_COLUMNS), receipts=_frame(recs, RECEIPT_COLUMNS),
                    interactions=_frame(g.interactions(), INTERACTION_COLUMNS, ("satisfaction",)),
                    settings=settings, bank=bank, bank_title=title, planted_problems=g.planted)
