"""Company and person names, reduced to a key that survives the ways people write them.

Used by bank matching (payer → customer) and by validation's duplicate-customer check, so both
agree on when two names are "the same name".

Rules:

* :func:`name_key` — the *exact* key: NFKC (full-width → half-width), case-folded, all whitespace
  removed. "ＡＢＣ Trading" and "abctrading" have the same exact key; nothing else is dropped.
* :func:`normalize_name` — the *normalized* key: the exact key, then punctuation, symbols and
  brackets removed (their content kept: "恒昌(杭州)机电" → "恒昌杭州机电"), then the legal-form
  suffix removed from the end, repeatedly (股份有限公司, 有限责任公司, 有限公司, 股份公司, 公司,
  有限合伙, and Co., Ltd. / Co.,Ltd / Ltd / Limited / Inc / Corp / Corporation / Company / LLC /
  GmbH / PLC / Pte ...). Words that describe the business, such as 集团 (group), stay: they
  are part of the name ("恒昌集团有限公司" → "恒昌集团"). 分公司 is a branch, not a legal form,
  and is never cut to 分. A legal form that a bank truncated (…有限公, …有限责任公, …股份有限) is
  removed too, because bank systems cut long payer names at a fixed length.
  A branch (see split_branch) keys as its parent's key followed by the branch:
  "恒昌机电有限公司杭州分公司" and "恒昌机电公司(杭州分公司)" both → "恒昌机电杭州分公司".
  If removing suffixes would leave nothing, the name without punctuation is the key.
* :func:`split_branch` — "XX有限公司杭州分公司" / "XX公司(杭州分公司)" / "XX Co., Ltd. Shanghai
  Branch" → (parent, branch).
* :func:`region_short_forms` — a normalized key with its leading region dropped: "武汉联创食品"
  → ("联创食品",); "浙江省杭州市恒昌机电" → ("杭州市恒昌机电", "恒昌机电"). A region is a
  province, city, county or district of schema/regions.json, written in full (杭州市, 西湖区)
  or without its 省/市/区/县/自治区… ending (杭州, 西湖); up to three are dropped one after the
  other, longest first, and every step is a short form while two or more characters remain.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache, lru_cache
from importlib import resources

# Legal-form suffixes, Chinese. Longest first so 股份有限公司 is not cut as 有限公司 + 股份.
_ZH_SUFFIXES = tuple(sorted((
    "股份有限公司", "有限责任公司", "有限公司", "股份公司", "有限合伙", "合伙企业", "公司",
    # truncated by a bank's fixed-width payer field
    "股份有限公", "有限责任公", "有限责任", "股份有限", "有限公",
), key=len, reverse=True))

# Legal-form words, English (whole words at the end of the name, after punctuation is gone).
_EN_SUFFIX_WORDS = {
    "co", "ltd", "limited", "inc", "incorporated", "corp", "corporation", "company", "llc",
    "gmbh", "plc", "pte", "pty", "lp", "llp", "ag", "sa", "bv", "srl", "kk",
}

# Branch markers: a unit of a company that pays with the parent's name in front of it.
_BRANCH_MARKERS = ("分公司", "分厂", "分店", "办事处", "营业部", "分部", "分所", "分行", "支行")
_PARENT_END_RE = re.compile(r"(公司|集团|厂|企业)")
PARENT_END_RE = _PARENT_END_RE  # where a parent company's name can end (bank branch rule)
_BRACKETED_TAIL_RE = re.compile(r"^(?P<parent>.+?)\s*[(\[（【]\s*(?P<branch>[^()\[\]（）【】]+)\s*[)\]）】]$")
_EN_BRANCH_RE = re.compile(r"^(?P<parent>.+?)[\s,]+(?P<branch>[^\s,][\w\s]*\bbranch)$", re.IGNORECASE)

_WS_RE = re.compile(r"\s+")


def _nfkc(text) -> str:
    if text is None:
        return ""
    if isinstance(text, float) and text != text:  # NaN from pandas
        return ""
    return unicodedata.normalize("NFKC", str(text))


def name_key(name) -> str:
    """Exact key: NFKC, case-folded, whitespace removed. Nothing else changes."""
    return _WS_RE.sub("", _nfkc(name).casefold())


def _strip_punct(text: str) -> str:
    """Punctuation and symbols (P*, S* categories, incl. brackets) become spaces."""
    return "".join(" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in text)


def _strip_suffixes(words: list[str]) -> list[str]:
    """Drop legal-form suffixes at the end, repeatedly (see the module docstring)."""
    words = [w for w in words if w]
    changed = True
    while words and changed:
        changed = False
        last = words[-1]
        if last in _EN_SUFFIX_WORDS and len(words) > 1:
            words.pop()
            changed = True
            continue
        for suffix in _ZH_SUFFIXES:
            if last == suffix and len(words) == 1:
                return words  # the whole name is a legal form: keep it
            if last.endswith(suffix) and len(last) > len(suffix):
                # 分公司 is a branch: keep it whole.
                if suffix == "公司" and last.endswith("分公司"):
                    break
                words[-1] = last[: -len(suffix)]
                changed = True
                break
            if last == suffix and len(words) > 1:
                words.pop()
                changed = True
                break
    return words


def normalize_name(name) -> str:
    """Normalized key of a company or person name (rule in the module docstring).

    >>> normalize_name("杭州恒昌机电有限公司")
    '杭州恒昌机电'
    >>> normalize_name("ACME Trading Co., Ltd.")
    'acmetrading'
    >>> normalize_name("恒昌（杭州）机电股份有限公司")
    '恒昌杭州机电'
    """
    return _normalize(_nfkc(name).strip())


@lru_cache(maxsize=1 << 16)  # payer and customer names repeat: each is worked out once
def _normalize(text: str) -> str:
    if not text:
        return ""
    parent, branch = split_branch(text)
    if branch:
        # a branch keys as parent + branch, whatever legal form the parent was written with
        return normalize_name(parent) + "".join(_strip_punct(branch.casefold()).split())
    text = text.casefold()
    words = _strip_punct(text).split()
    plain = "".join(words)
    key = "".join(_strip_suffixes(words))
    return key or plain


def split_branch(name) -> tuple[str, str]:
    """Split a branch's name into (parent company, branch); (name, "") when it is no branch.

    A branch is a name ending in a branch marker (分公司, 分厂, 分店, 办事处, 营业部, 分部, 分所,
    分行, 支行, or the English word Branch) that follows a recognisable parent: a legal form
    (…公司, …集团, …厂, …企业) or a bracket: "XX有限公司杭州分公司" → ("XX有限公司", "杭州分公司"),
    "XX公司(杭州分公司)" → ("XX公司", "杭州分公司"), "ACME Co., Ltd. Shanghai Branch" →
    ("ACME Co., Ltd.", "Shanghai Branch"). Without a recognisable parent ("恒昌杭州分公司") the
    city cannot be told from the brand, so the name is returned whole with no branch.
    Text is NFKC-normalised and trimmed; case is kept.
    """
    text = _nfkc(name).strip()
    if not text:
        return "", ""
    m = _BRACKETED_TAIL_RE.match(text)
    if m and m.group("branch").strip().endswith(_BRANCH_MARKERS):
        return m.group("parent").strip(), m.group("branch").strip()
    if text.endswith(_BRANCH_MARKERS):
        # the parent ends at the last legal form before the marker: 集团有限公司 stays whole
        marker = next(mk for mk in _BRANCH_MARKERS if text.endswith(mk))
        head = text[: -len(marker)]
        ends = [m.end() for m in _PARENT_END_RE.finditer(head)]
        if ends:
            cut = ends[-1]
            return head[:cut].strip(), (head[cut:] + marker).strip()
        return text, ""
    m = _EN_BRANCH_RE.match(text)
    if m:
        return m.group("parent").strip().rstrip(",").strip(), m.group("branch").strip()
    return text, ""


# ---- regions -----------------------------------------------------------------------------

# Endings of division names, longest first; what is left (2+ characters) is how company names
# usually write the place: 杭州市 → 杭州, 西湖区 → 西湖, 延边朝鲜族自治州 → 延边.
_REGION_ENDINGS = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区", "新区",
                   "省", "市", "区", "县", "旗", "盟")
_PROVINCE_STEMS = {"广西壮族自治区": "广西", "宁夏回族自治区": "宁夏", "新疆维吾尔自治区": "新疆"}
_MAX_REGIONS = 3  # province, city, district: 浙江省杭州市西湖区…


def _stem(name: str) -> str:
    if name in _PROVINCE_STEMS:
        return _PROVINCE_STEMS[name]
    for end in _REGION_ENDINGS:
        if name.endswith(end) and len(name) > len(end):
            name = name[: -len(end)]
            break
    if "族" in name:  # …朝鲜族 / …藏族羌族: the place is the part before the first people's name
        name = name[:2]
    return name


@cache
def _regions() -> tuple[frozenset, int]:
    """Every way a region is written at the start of a name (full name and stem), and the
    longest such length."""
    with resources.files("custledger.schema").joinpath("regions.json").open("r", encoding="utf-8") as fh:
        doc = json.load(fh)
    names = {n for level in ("provinces", "cities", "counties") for n in doc[level]}
    forms = {f for n in names for f in (n, _stem(n)) if len(f) >= 2}
    return frozenset(forms), max(map(len, forms))


@lru_cache(maxsize=1 << 16)
def region_short_forms(key: str) -> tuple[str, ...]:
    """The normalized key ``key`` with one, two or three leading regions dropped (rule in the
    module docstring); () when it starts with no region or too little would remain."""
    forms, longest = _regions()
    out = []
    rest = key
    for _ in range(_MAX_REGIONS):
        for n in range(min(longest, len(rest) - 2), 1, -1):
            if rest[:n] in forms:
                rest = rest[n:]
                out.append(rest)
                break
        else:
            break
    return tuple(out)
