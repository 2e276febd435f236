"""Customer tiers 客户分级: ABC, RFM scores and segments, classes, credit grade, core, lifecycle.

Everything is computed as of ``as_of``; nothing dated after it is seen. Rules (DESIGN.md
"Tiers"; where it is silent, the choice is stated here):

**Window** 统计区间 = (as_of − tier_window_months calendar months, as_of]: the start day is
excluded (as_of 2024-06-30, 12 months → 2023-07-01 … 2024-06-30).

* revenue 销售额 = invoices − credit notes dated in the window (by document date, integer
  cents); monetary = revenue.
* frequency 购买次数 = number of invoices (not credit notes) dated in the window.
* recency_days = as_of − date of the last invoice in the window; NA when there is none.

**ABC**: customers by revenue descending, ties by customer_id (text, code point order).
share = revenue / P, P = sum of the positive revenues (so a negative revenue has a negative
share); cum_share = running sum of the *positive* revenues up to and including the customer,
÷ P (it reaches 1 at the last positive customer and stays there). A customer is A while the
cum_share of the customers before it is < abc_split[0], then B while it is < abc_split[1],
else C (so the first customer is always A, and one whose predecessors sum exactly to the split
is already past it); revenue ≤ 0 → C. The comparison is exact (integers). P = 0 → share and
cum_share NaN, everyone C. Rows come out in this order.

**RFM scores 1–5** (only *scored* customers, those with ≥ 1 invoice in the window; others
get NA): each customer's mid-rank percentile among the n scored customers,
pct = (number with a smaller value + ½ · number with an equal value) / n, and
score = ⌈5 · pct⌉, i.e. 1 for pct in (0, 0.2], 2 for (0.2, 0.4], … 5 for (0.8, 1]. Equal
values get the same score; n distinct values split evenly (n = 5 → 1,2,3,4,5); if everyone
ties, everyone gets 3. Values ranked: R = −recency_days (fewer days is better), F =
frequency, M = monetary. Computed exactly in integers: ⌈5·(r_min + r_max − 1) / (2n)⌉ with
r_min/r_max the lowest/highest 1-based rank of the value's ties.

**RFM segments** (the eight 客户价值 groups of Chinese practice): each of R, F, M is *high*
when the customer's score is ≥ the mean score of the scored customers (at the mean counts as
high: an all-tied population is not "below average"), else *low*; compared exactly. M high:
重要价值 important_value (R↑F↑), 重要发展 important_development (R↑F↓), 重要保持
important_retention (R↓F↑), 重要挽留 important_winback (R↓F↓); M low: the 一般 general_*
counterparts. Unscored → "none".

**Classes** 高/中/低 for frequency (from f_score) and value (from m_score): score ≥
class_high_min_score (4) → high, ≥ class_medium_min_score (3) → medium, else low; an unscored
customer has no purchases in the window and is low in both.

**Credit grade and suggested_limit**: see core/credit.py.

**Core customer** 核心客户: abc in core_abc (A), credit grade at least core_min_grade (A, i.e.
AAA/AA/A), and lifecycle new or active.

**Lifecycle** from all invoices (not credit notes) dated ≤ as_of, whatever the window:
prospect 潜在 = none ever; new 新 = the first one is at most new_days (90) days before as_of;
else by days since the last one: ≤ active_days (180) → active 活跃, ≤ lost_days (365) →
dormant 沉睡, more → lost 流失.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from custledger.core.credit import GRADE_RANK, GRADES, compare, credit_grades, suggested_limits

from ..schema import outputs
from .errors import LedgerError


class TierParamsError(LedgerError, ValueError):
    """Tier thresholds that contradict each other: a ValueError (as before) carrying a message
    code, so the note that the defaults were used is worded in the workbook's language."""

TIERS_COLUMNS = [
    "customer_id", "name", "revenue", "share", "cum_share", "abc", "recency_days", "frequency",
    "monetary", "r_score", "f_score", "m_score", "rfm_segment", "frequency_class",
    "value_class", "avg_days_late", "credit_grade", "suggested_limit", "core", "lifecycle",
]

# Canonical segment key → (zh, en) label; the labels live in schema/outputs.json (enums).
SEGMENT_LABELS = {k: (v["zh"], v["en"]) for k, v in outputs()["enums"]["rfm_segment"].items()}

# (M high, R high, F high) → segment key
_SEGMENTS = {
    (True, True, True): "important_value", (True, True, False): "important_development",
    (True, False, True): "important_retention", (True, False, False): "important_winback",
    (False, True, True): "general_value", (False, True, False): "general_development",
    (False, False, True): "general_retention", (False, False, False): "general_winback",
}


def _coerce(value, default):
    if isinstance(default, tuple):
        items = value.replace("，", ",").split(",") if isinstance(value, str) else list(value)
        kind = type(default[0]) if default else str
        return tuple(_num(x, kind) for x in items)
    return _num(value, type(default))


def _num(x, kind):
    if kind is str:
        return str(x).strip()
    v = float(str(x).strip())
    return int(v) if kind is int and v == int(v) else v


def _schema(key: str, kind=None):
    """settings.json's default for a Settings key (core/settings.schema_default); a tier threshold
    (kept as text there) converted like a typed-in value, ``kind`` an example of its type."""
    from .settings import schema_default

    value = schema_default(key)
    return value if kind is None else _coerce(value, kind)


@dataclass(frozen=True)
class TierParams:
    """Every threshold of the tier rules; each becomes a Settings row with this default.

    abc_split                  cum_share bounds of A and B (before-share < bound)
    tier_window_months         window length in calendar months, start day excluded
    class_high_min_score       f/m score from which the class is high (高)
    class_medium_min_score     f/m score from which the class is medium (中)
    new_days                   first invoice at most this many days ago → new
    active_days                last invoice at most this many days ago → active
    lost_days                  last invoice more than this many days ago → lost (between: dormant)
    late_days_bounds/late_points       avg days late bands → points (one more point than bounds)
    late_points_unknown        points when no invoice was settled in the window
    overdue_share_bounds/overdue_points     overdue share bands → points
    credit_used_bounds/credit_used_points   exposure / credit limit bands → points
    credit_used_points_no_limit             points when the customer has no credit limit
    grade_min_points           least points for AAA, AA, A, BBB, BB, B (below: C)
    limit_months               suggested limit in months of average revenue, AAA..C
    limit_round                suggested limit rounded half-up to this many cents (1,000 yuan)
    core_abc                   ABC classes a core customer may have
    core_min_grade             worst credit grade a core customer may have
    """

    # A parameter that is a Settings key takes settings.json's default (the one home, see
    # _schema); the others are not settable from the workbook and are written here only.
    abc_split: tuple[float, float] = _schema("abc_split")
    tier_window_months: int = _schema("tier_window_months")
    class_high_min_score: int = _schema("class_high_min_score", 0)
    class_medium_min_score: int = _schema("class_medium_min_score", 0)
    new_days: int = _schema("new_days", 0)
    active_days: int = _schema("active_days", 0)
    lost_days: int = _schema("lost_days", 0)
    late_days_bounds: tuple[int, ...] = _schema("late_days_bounds", (0,))
    late_points: tuple[int, ...] = _schema("late_points", (0,))
    late_points_unknown: int = 16
    overdue_share_bounds: tuple[float, ...] = _schema("overdue_share_bounds", (0.0,))
    overdue_points: tuple[int, ...] = _schema("overdue_points", (0,))
    credit_used_bounds: tuple[float, ...] = _schema("credit_used_bounds", (0.0,))
    credit_used_points: tuple[int, ...] = _schema("credit_used_points", (0,))
    credit_used_points_no_limit: int = 20
    grade_min_points: tuple[int, ...] = _schema("grade_min_points", (0,))
    limit_months: tuple[float, ...] = _schema("limit_months", (0.0,))
    limit_round: int = 100_000
    core_abc: tuple[str, ...] = ("A",)
    core_min_grade: str = _schema("core_min_grade", "")

    def __post_init__(self):
        a, b = self.abc_split
        if not 0 < a <= b <= 1:
            raise TierParamsError("tier_rule_abc_split", value=f"{a}, {b}")
        if self.tier_window_months < 1:
            raise TierParamsError("tier_rule_window", value=self.tier_window_months)
        if not self.new_days <= self.active_days < self.lost_days:
            raise TierParamsError("tier_rule_days", new=self.new_days, active=self.active_days, lost=self.lost_days)
        if self.core_min_grade not in GRADE_RANK:
            raise TierParamsError("tier_rule_core_grade", value=self.core_min_grade, grades="/".join(GRADES))

    @classmethod
    def from_settings(cls, settings, **overrides) -> TierParams:
        """From model.Settings: abc_split, tier_window_months, and any TierParams field found
        in ``settings.extra`` (numbers, or comma-separated text for the tuple fields)."""
        values: dict = {"abc_split": tuple(settings.abc_split),
                  "tier_window_months": int(settings.tier_window_months)}
        extra = getattr(settings, "extra", None) or {}
        for f in fields(cls):
            if f.name in extra and extra[f.name] not in (None, ""):
                values[f.name] = _coerce(extra[f.name], getattr(cls, f.name))
        values.update(overrides)
        return cls(**values)


def midrank_scores(values: np.ndarray) -> np.ndarray:
    """Scores 1–5: ⌈5 · pct⌉ with pct = (smaller + ½·equal) / n (see module docstring)."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    s = pd.Series(values)
    lo = s.rank(method="min").to_numpy(dtype=np.int64)
    hi = s.rank(method="max").to_numpy(dtype=np.int64)
    return (5 * (lo + hi - 1) + 2 * n - 1) // (2 * n)


# "no date" in the per-customer max of (date − as_of) in days; far below any real date and
# safe to negate.
_NONE = -(10**12)


def _with_dates(df: pd.DataFrame | None, cols) -> pd.DataFrame | None:
    """Date columns as datetime64 (an empty frame built with object columns has none)."""
    if df is None:
        return None
    fix = {c: pd.to_datetime(df[c]) for c in cols
           if c in df.columns and not pd.api.types.is_datetime64_any_dtype(df[c])}
    return df.assign(**fix) if fix else df


def _sum_by(code: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, code, values)
    return out


def tiers(customers: pd.DataFrame, invoices: pd.DataFrame, allocations: pd.DataFrame,
          open_items: pd.DataFrame, as_of: pd.Timestamp, params: TierParams | None = None,
          balances: pd.DataFrame | None = None) -> pd.DataFrame:
    """The Tiers sheet: one row per customer (Customers, plus any customer_id found only in
    Invoices), in ABC order, columns TIERS_COLUMNS. Rules in the module docstring.

    ``allocations`` (receipt_no, credit_kind, doc_no, customer_id, amount, rule, date) and
    ``open_items`` (doc_no, customer_id, date, due_date, amount, applied, open) come from the
    allocation run; ``balances`` (customer_id, balance) is optional, for credit used.
    """
    params = params or TierParams()
    as_of = pd.Timestamp(as_of).normalize()
    invoices = _with_dates(invoices, ("date", "due_date"))
    allocations = _with_dates(allocations, ("date",))
    open_items = _with_dates(open_items, ("date", "due_date"))
    start = as_of - pd.DateOffset(months=params.tier_window_months)

    cust_ids = customers["customer_id"].astype(object).to_numpy() if len(customers) else \
        np.array([], dtype=object)
    inv = invoices.loc[invoices["date"] <= as_of]
    ids = pd.Index(cust_ids).drop_duplicates()
    extra = pd.Index(inv["customer_id"].astype(object).unique()).difference(ids, sort=False)
    ids = ids.append(extra) if len(extra) else ids
    n = len(ids)
    names = pd.Series(customers["name"].to_numpy() if len(customers) else [],
                      index=pd.Index(cust_ids), dtype=object)
    names = names[~names.index.duplicated()].reindex(ids).fillna("").to_numpy()

    code = ids.get_indexer(inv["customer_id"])
    is_inv = (inv["kind"] == "invoice").to_numpy()
    amount = inv["amount"].to_numpy(dtype=np.int64)
    dates = inv["date"].to_numpy()
    in_win = dates > start.to_datetime64()

    # --- window measures ---------------------------------------------------------------
    signed = np.where(is_inv, amount, -np.abs(amount))
    revenue = _sum_by(code[in_win], signed[in_win], n)
    win_inv = in_win & is_inv
    frequency = np.bincount(code[win_inv], minlength=n).astype(np.int64)
    as_of64 = as_of.to_datetime64()
    day = np.timedelta64(1, "D")
    # last / first invoice dates as integer days since as_of (≤ 0), via max/min per customer
    rel = ((dates - as_of64) // day).astype(np.int64)
    last_win = np.full(n, _NONE)
    np.maximum.at(last_win, code[win_inv], rel[win_inv])
    scored = frequency > 0
    recency = pd.array(np.where(scored, -last_win, 0), dtype="Int64")
    recency[~scored] = pd.NA

    last_any = np.full(n, _NONE)
    first_any = np.zeros(n, dtype=np.int64)
    np.maximum.at(last_any, code[is_inv], rel[is_inv])
    np.minimum.at(first_any, code[is_inv], rel[is_inv])
    ever = np.bincount(code[is_inv], minlength=n) > 0

    # --- ABC -----------------------------------------------------------------------------
    order = pd.DataFrame({"rev": revenue, "id": ids.to_numpy(dtype=object)}) \
        .sort_values(["rev", "id"], ascending=[False, True], kind="stable").index.to_numpy()
    rev_o = revenue[order]
    pos = np.maximum(rev_o, 0)
    total_pos = int(pos.sum())
    cum = np.cumsum(pos)
    before = cum - pos
    if total_pos > 0:
        tp = np.full(n, total_pos, dtype=np.int64)
        a_ok = compare(before, tp, params.abc_split[0]) < 0
        b_ok = compare(before, tp, params.abc_split[1]) < 0
        abc = np.where(rev_o <= 0, "C", np.where(a_ok, "A", np.where(b_ok, "B", "C")))
        share = rev_o / total_pos
        cum_share = cum / total_pos
    else:
        abc = np.full(n, "C", dtype=object)
        share = np.full(n, np.nan)
        cum_share = np.full(n, np.nan)

    # --- RFM scores and segments -----------------------------------------------------------
    r_score = np.zeros(n, dtype=np.int64)
    f_score = np.zeros(n, dtype=np.int64)
    m_score = np.zeros(n, dtype=np.int64)
    if scored.any():
        r_score[scored] = midrank_scores(last_win[scored])  # later last invoice = fewer days
        f_score[scored] = midrank_scores(frequency[scored])
        m_score[scored] = midrank_scores(revenue[scored])
    k = int(scored.sum())
    segment = np.full(n, "none", dtype=object)
    if k:
        # score ≥ mean  ⇔  score·k ≥ Σ scores (exact)
        hi_r = r_score * k >= r_score[scored].sum()
        hi_f = f_score * k >= f_score[scored].sum()
        hi_m = m_score * k >= m_score[scored].sum()
        for (m_, r_, f_), key in _SEGMENTS.items():
            segment[scored & (hi_m == m_) & (hi_r == r_) & (hi_f == f_)] = key

    def klass(score):
        return np.where(score >= params.class_high_min_score, "high",
                        np.where(score >= params.class_medium_min_score, "medium", "low"))

    freq_class = np.where(scored, klass(f_score), "low")
    value_class = np.where(scored, klass(m_score), "low")

    # --- lifecycle -------------------------------------------------------------------------
    since_last = np.where(ever, -last_any, 0)
    since_first = np.where(ever, -first_any, 0)
    lifecycle = np.select(
        [~ever, since_first <= params.new_days, since_last <= params.active_days,
         since_last <= params.lost_days],
        ["prospect", "new", "active", "dormant"], default="lost").astype(object)

    # --- credit ------------------------------------------------------------------------------
    cr = credit_grades(pd.Series(ids.to_numpy(dtype=object)), customers, inv, allocations,
                       open_items, as_of, params, balances=balances)
    grade = cr["credit_grade"].to_numpy(dtype=object)
    limit = suggested_limits(revenue, grade, params)

    worst = GRADE_RANK[params.core_min_grade]
    grade_ok = np.array([g in GRADE_RANK and GRADE_RANK[g] <= worst for g in grade], dtype=bool)

    def opt_int(a):
        arr = pd.array(a, dtype="Int64")
        arr[~scored] = pd.NA
        return arr

    out = pd.DataFrame({
        "customer_id": ids.to_numpy(dtype=object),
        "name": names,
        "recency_days": recency,
        "frequency": frequency,
        "r_score": opt_int(r_score),
        "f_score": opt_int(f_score),
        "m_score": opt_int(m_score),
        "rfm_segment": segment,
        "frequency_class": freq_class,
        "value_class": value_class,
        "avg_days_late": cr["avg_days_late"].to_numpy(),
        "credit_grade": cr["credit_grade"].array,
        "suggested_limit": limit,
        "lifecycle": lifecycle,
    }).take(order).reset_index(drop=True)
    out["revenue"] = rev_o
    out["monetary"] = rev_o
    out["share"] = share
    out["cum_share"] = cum_share
    out["abc"] = abc
    out["core"] = np.isin(abc, list(params.core_abc)) & grade_ok[order] & \
        np.isin(out["lifecycle"].to_numpy(dtype=object), ["new", "active"])
    return out[TIERS_COLUMNS]

