"""Bank matching: which customer paid each incoming bank line, and which lines are new receipts.

Rules (DESIGN.md "Bank matching"; precision first — an ``auto`` match must not be wrong):

Only credit lines (money in, amount > 0) are matched; debit lines are dropped.

1. **duplicate** — the line is already recorded: its bank_ref is in Receipts.bank_ref; or a
   receipt has the same date, the same amount and the same payer (the receipt's payer, or its
   customer's name, compared as normalized names) where the line or that receipt has no
   bank_ref (two different refs are two payments). Counted one to one: two equal lines and one
   equal receipt give one duplicate and one new line. A bank_ref seen earlier in the same file is
   a duplicate too. receipt_no = the existing receipt's number, customer_id its customer.
2. The customer is looked for level by level, and the first level with any candidate decides:
   ``bank_account`` (the payer account, digits only, ≥ 8 digits and not masked with */x,
   against Customers.bank_account, which may hold several accounts separated by ; , 、 / or
   new lines, and the accounts learnt in Payers) → ``name`` / ``alias`` / ``payer`` (exact:
   NFKC, case and spaces ignored; aliases are the ``;``-separated Customers.aliases, ``payer``
   a payer name learnt in Payers) → ``normalized`` (names.normalize_name: legal-form suffixes
   and punctuation dropped) → ``branch`` (payer "XX有限公司杭州分公司" whose parent is a
   customer) → ``fuzzy`` (a short form, a one-character typo or a score ≥ threshold, see
   below) → ``memo`` (a customer's normalized name, 4+ characters, written in the memo;
   Odoo's "partner name in the communication").
   A customer's *short forms* are its normalized name and aliases with a leading region
   (province, city, county or district; names.region_short_forms) dropped: 联创食品 for
   武汉联创食品有限公司.
3. **auto** only when all of these hold: the level is bank_account, name, alias, payer or
   normalized; exactly one customer qualifies there; the payer's name names no other customer
   at any level — exact, normalized, learnt or as a short form (an account match may be
   confirmed by the names, never contradicted): 联创食品, the alias of one customer and the
   short form of another, is never auto; a match by name alone is not to a person (customer
   type individual/个人: many people share a name); and the line is not a duplicate.
   A **branch** (…北京分公司, …分店, …办事处 after a legal form) is auto, match_by ``branch``,
   when exactly one customer's full name (Customers.name) is its prefix and no other customer
   is named. A line a person confirmed (``confirmed`` maps its :func:`bank_key` to a
   customer_id that exists) is auto too, match_by ``confirmed``; a typed id that is no
   customer_id is kept in confirm_id, noted, and the line is not auto. An account or payer
   name learnt for two customers names both, so it is not certain.
4. **suggested** — candidates exist but one of the conditions fails (ambiguity, a branch whose
   parent is written otherwise, a short form, a typo, fuzzy, memo, a person's name, account and
   name disagree). Up to :data:`MAX_CANDIDATES` candidates, best first ("C001 name; C002
   name"), go into candidate_name and the best one into customer_id. Rank: the best name
   score of any of the candidate's keys against the payer (a short form counts 95, a
   one-character typo of a name or short form of 4+ characters, or the same short form in
   another region, 90), ties by customer_id. A one-character typo is offered whatever the
   threshold. ``note`` says why it is not auto.
5. **unmatched** — no candidate.

score: 100 for bank_account / name / alias / payer / normalized / confirmed / duplicate and an
auto branch, 95 for a suggested branch, the rank score for fuzzy, 90 for memo, 0 for unmatched.
Notes are message codes worded from schema/messages.json in the workbook's language
(``lang``). Learning: :func:`learn_payers` gives the Payers rows a run's confirmations add.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from custledger.core.fuzzy import CharIndex, cdist, within_one_edit
from custledger.core.model import RECEIPT_COLUMNS
from custledger.core.money import to_cents
from custledger.core.names import PARENT_END_RE, name_key, normalize_name, region_short_forms, split_branch
from custledger.core.payers import NameTables, group_ids, merge_ids, name_keys
from custledger.schema import msg

BANK_COLUMNS = [
    "bank_ref", "date", "payer", "payer_account", "amount", "memo", "customer_id", "status",
    "score", "receipt_no", "candidate_name", "match_by", "confirm_id", "note",
]
_INDIVIDUAL = {"individual", "个人", "person"}
_ACCOUNT_SPLIT = re.compile(r"[;,，；、/\n]+")  # not spaces: 6222 0000 1111 2222 is one account
_REF_SAFE = re.compile(r"[^0-9A-Za-z_\-]")
_MIN_ACCOUNT_DIGITS = 8
_MIN_PARTIAL_LEN = 4  # containment only counts for names of 4+ characters (华为 ⊂ 华为终端 does not)
_PARTIAL_WEIGHT = 0.95
_MIN_TYPO_LEN = 4  # a one-character difference only means "typo" in names of 4+ characters
_BRANCH_SCORE = 95
_SHORT_SCORE = 95  # the payer is a customer's name without region and legal form
_TYPO_SCORE = 90   # one character differs, or the same brand in another region
_MEMO_SCORE = 90
MAX_CANDIDATES = 3
_LEARNT_RANK = 101  # ranks a learnt customer above an equal name; never shown as a score


# ---- keys ------------------------------------------------------------------------------

def _str(series: pd.Series) -> pd.Series:
    """Trimmed text, "" for blanks (vectorised: Receipts may have a million rows)."""
    if not isinstance(series.dtype, pd.StringDtype):
        series = series.astype(object)
        series = series.where(series.notna(), "")
    return series.fillna("").astype(str).str.strip()


def _used_numbers(receipts: pd.DataFrame | None, prefix: str) -> set[str]:
    """Receipt numbers already taken that a generated number (prefix…) could collide with."""
    if receipts is None or "receipt_no" not in receipts or receipts.empty:
        return set()
    numbers = _str(receipts["receipt_no"])
    return set(numbers[numbers.str.startswith(prefix)])


def _account_digits(text: str) -> str:
    """Digits of an account number; "" when masked (6222****1234) or too short to identify."""
    if not text or re.search(r"[*xX×]", text):
        return ""
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= _MIN_ACCOUNT_DIGITS else ""


def bank_key(frame: pd.DataFrame) -> pd.Series:
    """Identity of a bank line across runs: its bank_ref (a number read back from a sheet as
    123.0 is "123"), or "YYYY-MM-DD|cents|normalized payer" when it has none. ``amount`` is integer cents; a float column is taken as yuan (as read
    back from the Bank sheet) and converted exactly."""
    if frame.empty:
        return pd.Series([], index=frame.index, dtype="object")
    ref = _str(frame["bank_ref"]) if "bank_ref" in frame else pd.Series("", index=frame.index)
    ref = ref.str.replace(r"^(\d+)\.0$", r"\1", regex=True)  # a numeric ref read back as 123.0
    amount = frame["amount"]
    if pd.api.types.is_float_dtype(amount) or pd.api.types.is_string_dtype(amount) or amount.dtype == object:
        amount = amount.map(lambda v: to_cents(v) if v is not None and v == v else None)
    dates = pd.to_datetime(frame["date"], errors="coerce").dt.strftime("%Y-%m-%d").fillna("")
    payer = _str(frame["payer"]).map(normalize_name)
    fallback = dates + "|" + amount.map(lambda v: "" if v is None else str(int(v))) + "|" + payer
    return ref.where(ref != "", fallback).astype("object")


def collect_confirmations(bank_prev: pd.DataFrame) -> dict[str, str]:
    """{bank_key: customer_id} for the lines of a previous Bank sheet where a person typed a
    customer_id into ``confirm_id``. Existence of the id is checked by :func:`match_bank`."""
    if bank_prev is None or bank_prev.empty or "confirm_id" not in bank_prev:
        return {}
    typed = _str(bank_prev["confirm_id"])
    typed = typed.where(~typed.str.fullmatch(r"\d+\.0"), typed.str[:-2])  # 1001.0 → 1001
    rows = bank_prev[typed != ""]
    return dict(zip(bank_key(rows), typed[typed != ""]))


# ---- customer index ----------------------------------------------------------------------

class _Customers:
    """Look-up tables over Customers and the learnt Payers, built once per run (one pass over
    the names; the character index for similar names and typos is built on first use)."""

    def __init__(self, customers: pd.DataFrame, payers: pd.DataFrame | None = None):
        c = customers.reset_index(drop=True)
        def get(col):
            return _str(c[col]) if col in c else pd.Series("", index=c.index, dtype=object)

        self.ids = get("customer_id")
        keep = self.ids != ""
        c, self.ids = c[keep], self.ids[keep]
        names = get("name")[keep]
        self.name_of = dict(zip(self.ids, names))
        ctype = get("type")[keep].str.casefold()
        self.individual = set(self.ids[ctype.isin(_INDIVIDUAL)])

        accounts = get("bank_account")[keep].str.split(_ACCOUNT_SPLIT).explode()
        acc_digits = accounts.fillna("").map(_account_digits)
        acc_ids = self.ids.reindex(acc_digits.index)

        keys = name_keys(self.ids, names, get("aliases")[keep])  # the payer rule's keys (core/payers.py)
        all_ids, norm, is_name = keys["id"], keys["norm"], keys["is_name"].to_numpy()
        self.exact_is_name = set(keys["exact"][is_name])
        self.by_full_name = group_ids(keys["exact"][is_name], self.ids)
        self.norm_of = dict(zip(self.ids, norm[is_name]))

        # payers learnt from confirmations: an exact level, like an alias (name) or an account
        learnt_exact = learnt_norm = learnt_acc = {}
        self.learnt_keys: set[str] = set()
        self.learnt_ids: dict[str, set] = {}  # learnt exact or normalized payer → customers
        if payers is not None and len(payers):
            p = payers.reset_index(drop=True)
            def pget(col):
                return _str(p[col]) if col in p else pd.Series("", index=p.index, dtype=object)

            pid = pget("customer_id")
            known = pid.isin(set(self.ids))  # a learnt row for a deleted customer teaches nothing
            ptext, pid, pacc = pget("payer")[known], pid[known], pget("payer_account")[known]
            learnt_exact = group_ids(ptext.map(name_key), pid)
            learnt_norm = group_ids(ptext.map(normalize_name), pid)
            learnt_acc = group_ids(pacc.map(_account_digits), pid)
            self.learnt_keys = set(learnt_exact)
            self.learnt_ids = {k: set(v) for k, v in merge_ids(learnt_exact, learnt_norm).items()}
        self.by_account = merge_ids(group_ids(acc_digits, acc_ids), learnt_acc)
        self.accounts_of: dict[str, set] = {}
        for i, a in zip(acc_ids.tolist(), acc_digits.tolist()):
            if a:
                self.accounts_of.setdefault(i, set()).add(a)
        self.names = NameTables.of(keys, learnt_exact, learnt_norm)
        self.by_exact, self.by_norm = self.names.by_exact, self.names.by_norm

        # short forms: normalized names and aliases with a leading region dropped (companies
        # only: a person's name has no region)
        company = ~all_ids.isin(self.individual)
        shorts = norm[company].map(region_short_forms).explode().dropna()
        self.by_short = group_ids(shorts.astype(str), all_ids.reindex(shorts.index))
        # every key that names a customer, for the fuzzy and typo look-ups
        self.keys_of: dict[str, set] = {}
        for table in (self.by_norm, self.by_short):
            for k, ids in table.items():
                for i in ids:
                    self.keys_of.setdefault(i, set()).add(k)
        self.choice_keys = sorted(set(self.by_norm) | set(self.by_short))
        self.choice_ids = [tuple(sorted(set(self.by_norm.get(k, ())) | set(self.by_short.get(k, ()))))
                           for k in self.choice_keys]
        self._index: CharIndex | None = None

    @property
    def index(self) -> CharIndex:
        """Character index over the choice keys, built on first use (most runs leave no line
        for the fuzzy level)."""
        if self._index is None:
            self._index = CharIndex(self.choice_keys)
        return self._index

    def typos(self, queries: list[str]) -> list[list[int]]:
        """Per query, the choice positions of the keys (4+ characters) that differ from it by
        exactly one inserted, deleted or replaced character. Such a key shares all but one
        character with the query, which the character index counts for every key at once;
        only those few are compared."""
        if not queries or not self.choice_keys:
            return [[] for _ in queries]
        ov = self.index.overlap(queries)
        qlen = np.fromiter(map(len, queries), dtype=np.int64, count=len(queries))[:, None]
        clen = self.index.lengths[None, :]
        near = (np.abs(qlen - clen) <= 1) & (ov >= np.maximum(qlen, clen) - 1) & (clen >= _MIN_TYPO_LEN)
        out: list[list[int]] = [[] for _ in queries]
        for i, j in np.argwhere(near):
            key = self.choice_keys[j]
            if key != queries[i] and within_one_edit(key, queries[i]):
                out[i].append(int(j))
        return out


# ---- fuzzy -------------------------------------------------------------------------------

def name_scores(queries: list[str], choices: list[str], score_cutoff: int = 0,
                index: CharIndex | None = None) -> np.ndarray:
    """Similarity 0–100 of normalized names, queries × choices (0 below ``score_cutoff``).

    score = max(ratio, 0.95 × partial_ratio when both names have 4+ characters).

    Why not WRatio/token_set: Chinese names have no spaces, so token scorers degrade to ratio,
    and WRatio only tries the partial score when one name is 1.5× longer than the other —
    "杭州恒昌机电设备" vs "杭州恒昌机电" would score 86. Bank payer names differ from the
    ledger's mostly by a city prefix, an industry word or truncation, i.e. one name contains
    the other: partial_ratio gives that 100, weighted to 95 so it stays below an exact match.
    ratio covers typos in names of equal length. Fuzzy results are only ever *suggested*.
    The scorers are core/fuzzy.py's (rapidfuzz when installed, the same scores without it).
    """
    if not queries or not choices:
        return np.zeros((len(queries), len(choices)), dtype=np.int16)
    out = np.empty((len(queries), len(choices)), dtype=np.int16)
    qlen = np.fromiter((len(q) for q in queries), dtype=np.int32, count=len(queries))
    clen = np.fromiter((len(c) for c in choices), dtype=np.int32, count=len(choices))
    # a rounded score ≥ cutoff needs a raw one ≥ cutoff − 0.5; partial is weighted by 0.95
    cut = max(0.0, score_cutoff - 0.5)
    if index is None and score_cutoff > 0:
        index = CharIndex(choices)
    step = max(1, 2_000_000 // max(1, len(choices)))  # keep each block to ~2M cells
    for start in range(0, len(queries), step):
        q = queries[start:start + step]
        ratio = cdist(q, choices, "ratio", cut, index=index)
        partial = cdist(q, choices, "partial_ratio", min(100.0, cut / _PARTIAL_WEIGHT), index=index)
        long_enough = (qlen[start:start + step, None] >= _MIN_PARTIAL_LEN) & (
            clen[None, :] >= _MIN_PARTIAL_LEN)
        best = np.maximum(ratio, np.where(long_enough, partial * _PARTIAL_WEIGHT, 0))
        best = np.rint(best).astype(np.int16)
        out[start:start + step] = np.where(best >= score_cutoff, best, 0)
    return out


def _rank(payer_norm: str, ids, cust: _Customers, bonus: dict | None = None) -> list[tuple[str, int]]:
    """(customer_id, score) best first: the best name score of any of the customer's keys
    (name, aliases, short forms) against the payer, raised to ``bonus`` where given, then
    customer_id."""
    ids = sorted(set(ids))
    if not ids:
        return []
    keys = sorted({k for i in ids for k in cust.keys_of.get(i, set()) | {cust.norm_of.get(i, "")}})
    row = name_scores([payer_norm], keys)[0] if payer_norm else np.zeros(len(keys), dtype=np.int16)
    of_key = dict(zip(keys, row.tolist()))
    scored = []
    for i in ids:
        s = max((of_key.get(k, 0) for k in cust.keys_of.get(i, set()) | {cust.norm_of.get(i, "")}), default=0)
        scored.append((i, max(int(s), (bonus or {}).get(i, 0))))
    return sorted(scored, key=lambda t: (-t[1], t[0]))


# ---- duplicates --------------------------------------------------------------------------

def _duplicates(df: pd.DataFrame, receipts: pd.DataFrame, cust: _Customers):
    """(is_dup, receipt_no, customer_id) per line, as arrays aligned with df (rule 1)."""
    n = len(df)
    is_dup = np.zeros(n, dtype=bool)
    rno = np.full(n, "", dtype=object)
    rcid = np.full(n, "", dtype=object)
    ref = df["bank_ref"]
    # repeated bank_ref inside the file
    seen_before = (ref != "") & ref.duplicated(keep="first")
    is_dup |= seen_before.to_numpy()
    if receipts is None or receipts.empty:
        return is_dup, rno, rcid
    r = receipts.reset_index(drop=True)
    blank = pd.Series("", index=r.index, dtype=object)
    def col(frame, name):
        return _str(frame[name]) if name in frame else blank.reindex(frame.index)

    r_ref = col(r, "bank_ref")
    wanted = r_ref.isin(set(ref[ref != ""]))
    by_ref = pd.DataFrame({"ref": r_ref[wanted], "no": col(r[wanted], "receipt_no"),
                           "cid": col(r[wanted], "customer_id")})
    by_ref = by_ref[by_ref["ref"] != ""].drop_duplicates("ref")
    hit = ref.map(dict(zip(by_ref["ref"], zip(by_ref["no"], by_ref["cid"]))))
    found = (ref != "") & hit.notna()
    for i in np.flatnonzero(found.to_numpy()):
        is_dup[i] = True
        rno[i], rcid[i] = hit.iat[i]

    # same date, amount and payer; one receipt answers for one line. Only receipts on a
    # (date, amount) of some line are looked at: Receipts may be a long history.
    r_date = pd.to_datetime(r["date"], errors="coerce").dt.normalize()
    r_amount = pd.to_numeric(r["amount"], errors="coerce")
    near = pd.MultiIndex.from_arrays([r_date, r_amount]).isin(
        pd.MultiIndex.from_arrays([df["date"].dt.normalize(), df["amount"]]))
    r, r_date, r_amount, r_ref = r[near], r_date[near], r_amount[near], r_ref[near]
    r_no, r_cid = col(r, "receipt_no"), col(r, "customer_id")
    payer_key = col(r, "payer").map(normalize_name)
    cust_key = r_cid.map(lambda c: cust.norm_of.get(c, ""))
    keys = pd.DataFrame({
        "date": pd.concat([r_date, r_date]), "amount": pd.concat([r_amount, r_amount]),
        "p": pd.concat([payer_key, cust_key]), "no": pd.concat([r_no, r_no]),
        "cid": pd.concat([r_cid, r_cid]), "has_ref": pd.concat([r_ref != "", r_ref != ""]),
    })
    keys = keys[(keys["p"] != "") & keys["date"].notna() & keys["amount"].notna()]
    keys = keys.drop_duplicates(["no", "date", "amount", "p"])
    todo = df.index[~is_dup]
    if keys.empty or len(todo) == 0:
        return is_dup, rno, rcid
    lines = pd.DataFrame({
        "pos": np.arange(n), "date": df["date"].dt.normalize(), "amount": df["amount"],
        "p": df["payer"].map(normalize_name), "has_ref": df["bank_ref"] != "",
    }).loc[todo]
    lines = lines[lines["p"] != ""]
    # lines with a ref may only match receipts without one; lines without a ref match any
    # (lines without a ref first; a receipt used by one line is not used again)
    consumed: set[str] = set()
    for line_has_ref in (False, True):
        pool = keys if not line_has_ref else keys[~keys["has_ref"]]
        pool = pool[~pool["no"].isin(consumed)]
        part = lines[lines["has_ref"] == line_has_ref].copy()
        if part.empty or pool.empty:
            continue
        part["k"] = part.groupby(["date", "amount", "p"]).cumcount()
        pool = pool.sort_values("no").copy()
        pool["k"] = pool.groupby(["date", "amount", "p"]).cumcount()
        merged = part.merge(pool[["date", "amount", "p", "k", "no", "cid"]],
                            on=["date", "amount", "p", "k"], how="inner")
        merged = merged.drop_duplicates("no")  # a receipt reached by payer and by name counts once
        merged = merged.drop_duplicates("pos")
        consumed.update(merged["no"])
        pos = merged["pos"].to_numpy()
        is_dup[pos] = True
        rno[pos] = merged["no"].to_numpy()
        rcid[pos] = merged["cid"].to_numpy()
    return is_dup, rno, rcid


# ---- receipt numbers ---------------------------------------------------------------------

def _assign_receipt_nos(df: pd.DataFrame, used: set[str], prefix: str) -> pd.Series:
    """New receipt numbers for the lines of df, in order: prefix + bank_ref, or
    prefix-YYYYMMDD-NNN (NNN counting that day's lines without a ref); a number already used
    (in Receipts or earlier in this run) gets the next free suffix / sequence number."""
    used = set(used)
    out = pd.Series("", index=df.index, dtype=object)
    ref = df["bank_ref"].map(lambda r: _REF_SAFE.sub("", r))
    with_ref = ref != ""
    base = prefix + ref[with_ref]
    clash = base.isin(used) | base.duplicated(keep="first")
    out[base.index[~clash]] = base[~clash]
    used.update(base[~clash])
    for idx in base.index[clash]:
        k = 2
        while f"{base[idx]}-{k}" in used:
            k += 1
        out[idx] = f"{base[idx]}-{k}"
        used.add(out[idx])
    no_ref = df[~with_ref]
    if not no_ref.empty:
        day = no_ref["date"].dt.strftime("%Y%m%d").fillna("00000000")
        seq = no_ref.groupby(day).cumcount() + 1
        numbers = prefix + "-" + day + "-" + seq.map("{:03d}".format)
        free = ~numbers.isin(used) & ~numbers.duplicated()
        if free.all():
            out[numbers.index] = numbers
            used.update(numbers)
        else:  # walk that day's sequence past the numbers already taken
            next_n: dict[str, int] = {}
            for idx in no_ref.index:
                d = day[idx]
                k = next_n.get(d, 1)
                while f"{prefix}-{d}-{k:03d}" in used:
                    k += 1
                out[idx] = f"{prefix}-{d}-{k:03d}"
                used.add(out[idx])
                next_n[d] = k + 1
    return out


# ---- matching ----------------------------------------------------------------------------

def _credit_lines(lines: pd.DataFrame) -> pd.DataFrame:
    df = lines.copy()
    for col in ("bank_ref", "payer", "payer_account", "memo"):
        df[col] = _str(df[col]) if col in df else ""
    df["date"] = pd.to_datetime(df["date"], errors="coerce").dt.normalize().astype("datetime64[ns]")
    amount = pd.to_numeric(df["amount"], errors="coerce")
    credit = amount > 0
    if "direction" in df:
        credit &= _str(df["direction"]) != "debit"
    df = df[credit.fillna(False).astype(bool)].copy()
    df["amount"] = df["amount"].astype("int64")
    return df.reset_index(drop=True)


def _ids(t) -> tuple:
    return t if isinstance(t, tuple) else ()


def _branch_parents(payer: str, cust: _Customers) -> tuple[str, tuple[str, ...]]:
    """(branch, customers whose full name is the payer's prefix) for a branch payer, ("", ())
    when the payer is no branch. The prefixes tried end where a parent can end (…公司, …集团,
    …厂, …企业) or where split_branch cut the parent off."""
    parent, branch = split_branch(payer)
    if not branch:
        return "", ()
    key = name_key(payer)
    prefixes = {name_key(parent)} | {key[:m.end()] for m in PARENT_END_RE.finditer(key) if m.end() < len(key)}
    ids = {i for p in prefixes for i in cust.by_full_name.get(p, ())}
    return branch, tuple(sorted(ids))


def _listing(ranked: list[tuple[str, int]], cust: _Customers) -> str:
    """"C001 杭州恒昌机电有限公司; C002 …": the candidates a person chooses from."""
    return "; ".join(f"{i} {cust.name_of.get(i, '')}".strip() for i, _ in ranked[:MAX_CANDIDATES])


def match_bank(lines: pd.DataFrame, customers: pd.DataFrame, receipts: pd.DataFrame,
               threshold: int = 90, *, confirmed: dict[str, str] | None = None,
               prefix: str = "BK", payers: pd.DataFrame | None = None, lang: str = "en") -> pd.DataFrame:
    """The Bank frame (columns ``BANK_COLUMNS``) for the credit lines of a bank file, by the
    rules of the module docstring. ``confirmed`` = :func:`collect_confirmations` of the
    previous Bank sheet; ``payers`` = the Payers sheet (payer, payer_account, customer_id);
    ``prefix`` starts the receipt numbers given to auto lines; notes are in ``lang``."""
    threshold = int(min(100, max(0, threshold)))
    df = _credit_lines(lines)
    n = len(df)
    cust = _Customers(customers, payers)

    status = np.full(n, "unmatched", dtype=object)
    cid = np.full(n, "", dtype=object)
    score = np.zeros(n, dtype=np.int64)
    match_by = np.full(n, "", dtype=object)
    notes: list = [None] * n          # (message code, params) per line, worded at the end
    listing = np.full(n, "", dtype=object)
    confirm = np.full(n, "", dtype=object)

    acct = df["payer_account"].map(_account_digits)
    acc_c = acct.map(cust.by_account)
    named = cust.names.lookup(df["payer"])  # exact, then normalized (core/payers.py)
    payer_norm, ex_key, ex_c, nm_c = named.norm_key, named.exact_key, named.exact, named.normalized
    sh_c = payer_norm.map(cust.by_short)
    has_acc = acc_c.notna()

    # every customer the payer's name names at any level (exact, normalized, short form,
    # learnt): a name level is certain only when this is one customer
    name_c = pd.Series([tuple(sorted(set(_ids(a)) | set(_ids(b)) | set(_ids(s))))
                        for a, b, s in zip(ex_c, nm_c, sh_c)], index=df.index, dtype=object)

    level = np.where(has_acc.to_numpy(), "bank_account", named.level)
    cands = acc_c.where(has_acc, named.candidates)
    n_cands = cands.map(lambda t: len(t) if isinstance(t, tuple) else 0).to_numpy()
    n_name = name_c.map(len).to_numpy()

    # account level: auto if one customer and the names do not point elsewhere
    single = n_cands == 1
    first = cands.map(lambda t: t[0] if isinstance(t, tuple) and t else "").to_numpy()
    acc_ok = (level == "bank_account") & single & np.array(
        [k == 0 or c in names for c, names, k in zip(first, name_c, n_name)], dtype=bool)
    # name levels: one customer across every level, and not a person
    name_lvl = np.isin(level, ["exact", "normalized"])
    is_person = np.array([c in cust.individual for c in first], dtype=bool)
    name_ok = name_lvl & single & (n_name == 1) & ~is_person
    auto = acc_ok | name_ok

    learnt = ex_key.isin(cust.learnt_keys) & ~ex_key.isin(cust.exact_is_name)
    by_of_exact = np.where(ex_key.isin(cust.exact_is_name), "name", np.where(learnt, "payer", "alias"))
    match_by[:] = np.where(level == "exact", by_of_exact, level)
    score[level != ""] = 100
    cid[auto] = first[auto]
    status[auto] = "auto"

    # suggested at the exact levels: ambiguity, a person, account vs name disagreement
    for i in np.flatnonzero((level != "") & ~auto):
        pool = cands.iat[i]
        if level[i] != "bank_account" and n_name[i] > len(pool):
            pool = name_c.iat[i]
        # a customer a person confirmed for this payer before comes first among equals
        taught = cust.learnt_ids.get(ex_key.iat[i], set()) | cust.learnt_ids.get(payer_norm.iat[i], set())
        ranked = _rank(payer_norm.iat[i], pool, cust, {c: _LEARNT_RANK for c in taught})
        if level[i] == "bank_account":  # the account's owner first, then whom the name names
            others = [c for c in name_c.iat[i] if c not in pool]
            ranked = ranked + _rank(payer_norm.iat[i], others, cust)
        cid[i], status[i] = ranked[0][0], "suggested"
        listing[i] = _listing(ranked, cust)
        if level[i] == "bank_account" and len(pool) == 1:
            notes[i] = ("bank_note_account_vs_name", {"cid": ranked[0][0], "others": ", ".join(name_c.iat[i])})
        elif len(ranked) > 1:
            notes[i] = ("bank_note_ambiguous", {"n": len(ranked), "ids": ", ".join(i for i, _ in ranked[:5])})
        elif ranked[0][0] in cust.individual:
            held = cust.accounts_of.get(ranked[0][0], set())
            notes[i] = ("bank_note_person_account" if acct.iat[i] and held else "bank_note_person", {})

    # a branch of a customer: auto when exactly one customer's full name is its prefix
    for i in np.flatnonzero(level == ""):
        branch, parents = _branch_parents(df["payer"].iat[i], cust)
        if not branch:
            continue
        other_ids = set(sh_c.iat[i]) - set(parents) if isinstance(sh_c.iat[i], tuple) else set()
        if len(parents) == 1 and not other_ids:
            who = parents[0]
            cid[i], status[i], score[i], match_by[i] = who, "auto", 100, "branch"
            notes[i] = ("bank_note_branch", {"branch": branch, "name": cust.name_of.get(who, who)})
            continue
        parent, _ = split_branch(df["payer"].iat[i])
        pool = set(parents) | set(cust.by_exact.get(name_key(parent), ())) | set(
            cust.by_norm.get(normalize_name(parent), ())) | other_ids
        if pool:
            ranked = _rank(normalize_name(parent), pool, cust)
            cid[i], status[i], score[i], match_by[i] = ranked[0][0], "suggested", _BRANCH_SCORE, "branch"
            listing[i] = _listing(ranked, cust)
            notes[i] = ("bank_note_branch", {"branch": branch,
                                             "name": cust.name_of.get(ranked[0][0], ranked[0][0])})

    # what is left: short forms, one-character typos and similar names, suggested only
    left = np.flatnonzero((status == "unmatched") & (payer_norm != "").to_numpy())
    if len(left) and cust.choice_keys:
        queries = sorted(set(payer_norm.iloc[left]))
        scores = name_scores(queries, cust.choice_keys, score_cutoff=threshold, index=cust.index)
        row_of = {q: j for j, q in enumerate(queries)}
        typos_of = dict(zip(queries, cust.typos(queries)))
        for i in left:
            q = payer_norm.iat[i]
            bonus: dict[str, int] = {}
            for c in _ids(sh_c.iat[i]):  # the payer is a customer's name without its region
                bonus[c] = _SHORT_SCORE
            for s in region_short_forms(q):  # the payer's brand is a customer's brand
                for c in set(cust.by_short.get(s, ())) | set(cust.by_norm.get(s, ())):
                    bonus[c] = max(bonus.get(c, 0), _TYPO_SCORE)
            typo_ids = {c for j in typos_of[q] for c in cust.choice_ids[j]}
            for c in typo_ids:
                bonus[c] = max(bonus.get(c, 0), _TYPO_SCORE)
            hits = np.flatnonzero(scores[row_of[q]] >= max(threshold, 1))
            fuzzy_ids = {c for j in hits for c in cust.choice_ids[j]}
            if not bonus and not fuzzy_ids:
                continue
            ranked = _rank(q, fuzzy_ids | set(bonus), cust, bonus)
            best_id, best = ranked[0]
            cid[i], status[i], score[i], match_by[i] = best_id, "suggested", best, "fuzzy"
            listing[i] = _listing(ranked, cust)
            if _ids(sh_c.iat[i]):
                notes[i] = ("bank_note_short_form", {"n": len(ranked), "ids": ", ".join(c for c, _ in ranked[:5])})
            elif best_id in typo_ids:
                notes[i] = ("bank_note_typo", {"name": cust.name_of.get(best_id, best_id)})
            elif len(ranked) == 1:
                notes[i] = ("bank_note_similar", {})
            else:
                notes[i] = ("bank_note_similar_many", {"n": len(ranked), "ids": ", ".join(c for c, _ in ranked[:5])})

    # a customer's name in the memo: suggested
    left = np.flatnonzero((status == "unmatched") & (df["memo"] != "").to_numpy())
    if len(left):
        names = sorted({k for k in cust.by_norm if len(k) >= _MIN_PARTIAL_LEN}, key=len, reverse=True)
        if names:
            pattern = re.compile("|".join(map(re.escape, names)))
            for i in left:
                m = pattern.search(normalize_name(df["memo"].iat[i]))
                if m:
                    ids = cust.by_norm[m.group(0)]
                    cid[i], status[i], score[i], match_by[i] = ids[0], "suggested", _MEMO_SCORE, "memo"
                    listing[i] = _listing([(c, _MEMO_SCORE) for c in ids], cust)
                    notes[i] = ("bank_note_memo", {})

    # confirmations typed by a person on the previous run
    if confirmed:
        keys = bank_key(df)
        for i in np.flatnonzero(keys.isin(confirmed.keys()).to_numpy()):
            typed = str(confirmed[keys.iat[i]]).strip()
            if typed in cust.name_of:
                cid[i], status[i], score[i], match_by[i] = typed, "auto", 100, "confirmed"
                notes[i] = ("bank_note_confirmed", {})
            else:  # a person disagreed but typed no valid id: nothing is certain any more
                confirm[i] = typed
                notes[i] = ("bank_note_confirm_unknown", {"typed": typed})
                if status[i] == "auto":
                    status[i] = "suggested"

    # duplicates override everything: already recorded
    is_dup, rno, rcid = _duplicates(df, receipts, cust)
    status[is_dup] = "duplicate"
    score[is_dup] = 100
    cid[is_dup] = np.where(rcid[is_dup] != "", rcid[is_dup], cid[is_dup])
    for i in np.flatnonzero(is_dup):
        notes[i] = ("bank_note_in_receipts" if rno[i] != "" else "bank_note_ref_repeated", {})
    match_by[is_dup] = np.where(rno[is_dup] != "", match_by[is_dup], "")
    receipt_no = np.where(is_dup, rno, "").astype(object)

    unmatched = status == "unmatched"
    score[unmatched], match_by[unmatched], cid[unmatched] = 0, "", ""
    # auto and duplicate lines name their customer; a suggested line lists its candidates
    names_out = np.array([cust.name_of.get(c, "") for c in cid], dtype=object)
    suggested = (status == "suggested") & (listing != "")
    names_out[suggested] = listing[suggested]

    out = pd.DataFrame({
        "bank_ref": df["bank_ref"], "date": df["date"], "payer": df["payer"],
        "payer_account": df["payer_account"], "amount": df["amount"].astype("int64"),
        "memo": df["memo"], "customer_id": cid, "status": status, "score": score,
        "receipt_no": receipt_no, "candidate_name": names_out,
        "match_by": match_by, "confirm_id": confirm, "note": [bank_note(t, lang) for t in notes],
    })
    is_auto = out["status"] == "auto"
    if is_auto.any():
        out.loc[is_auto, "receipt_no"] = _assign_receipt_nos(
            out[is_auto], _used_numbers(receipts, prefix), prefix)
    for col in ("bank_ref", "payer", "payer_account", "memo", "customer_id", "status",
                "receipt_no", "candidate_name", "match_by", "confirm_id", "note"):
        out[col] = out[col].astype("object")
    return out[BANK_COLUMNS]


def bank_note(note, lang: str) -> str:
    """The wording of a line's note (message code, params) in ``lang``; "" for none."""
    if not note:
        return ""
    code, params = note
    return msg(code, lang, **params)


def learn_payers(bank_df: pd.DataFrame, payers: pd.DataFrame | None) -> pd.DataFrame:
    """Rows to append to the Payers sheet (columns ``PAYER_COLUMNS`` less ``added``): the payer
    name and account of each line a person confirmed (match_by ``confirmed``), once per
    (payer, account, customer) and only when the Payers sheet does not already hold it."""
    cols = ["payer", "payer_account", "customer_id"]
    rows = bank_df[bank_df["match_by"] == "confirmed"] if len(bank_df) else bank_df
    frame = pd.DataFrame({c: _str(rows[c]) if c in rows else pd.Series(dtype=object) for c in cols})
    frame = frame[(frame["customer_id"] != "") & ((frame["payer"] != "") | (frame["payer_account"] != ""))]
    def key(f):
        return f["payer"].map(name_key) + "|" + f["payer_account"].map(_account_digits) + "|" + f["customer_id"]

    frame = frame[~key(frame).duplicated()]
    if payers is not None and len(payers) and len(frame):
        have = pd.DataFrame({c: _str(payers[c]) if c in payers else "" for c in cols}, index=payers.index)
        frame = frame[~key(frame).isin(set(key(have)))]
    return frame.reset_index(drop=True).astype("object")


def new_receipts(bank_df: pd.DataFrame, receipts: pd.DataFrame, prefix: str = "BK") -> pd.DataFrame:
    """Receipts (RECEIPT_COLUMNS) for the auto lines of a Bank frame: method transfer,
    applied_to "", memo and bank_ref from the line. Their receipt_no is the one match_bank gave,
    unless it is blank or now collides with Receipts, then a fresh one (same scheme)."""
    auto = bank_df[(bank_df["status"] == "auto") & (_str(bank_df["customer_id"]) != "")].copy()
    used = _used_numbers(receipts, prefix)
    if auto.empty:
        frame = pd.DataFrame({c: pd.Series(dtype="object") for c in RECEIPT_COLUMNS})
        frame["date"] = pd.Series(dtype="datetime64[ns]")
        frame["amount"] = pd.Series(dtype="int64")
        return frame
    auto["bank_ref"] = _str(auto["bank_ref"])
    given = _str(auto["receipt_no"]) if "receipt_no" in auto else pd.Series("", index=auto.index)
    taken = _str(receipts["receipt_no"]) if receipts is not None and "receipt_no" in receipts else []
    redo = (given == "") | given.isin(taken) | given.duplicated(keep="first")
    if redo.any():
        given[redo] = _assign_receipt_nos(auto[redo], used | set(given[~redo]), prefix)
    out = pd.DataFrame({
        "receipt_no": given, "date": auto["date"].astype("datetime64[ns]"),
        "customer_id": _str(auto["customer_id"]), "payer": _str(auto["payer"]),
        "amount": auto["amount"].astype("int64"), "method": "transfer",
        "memo": _str(auto["memo"]), "applied_to": "", "bank_ref": auto["bank_ref"],
    }).reset_index(drop=True)
    for col in ("receipt_no", "customer_id", "payer", "method", "memo", "applied_to", "bank_ref"):
        out[col] = out[col].astype("object")
    return out[RECEIPT_COLUMNS]
