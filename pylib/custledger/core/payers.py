"""Payer → customer: which customers a payer's name names (the one home of the rule; validation's
look-up of a receipt's customer and bank matching's name levels both use it).

Rule:

* a customer is named by its name and each of its aliases (Customers.aliases, split by
  parse.split_aliases: ``;`` or ``；``), each keyed at two levels: *exact* (names.name_key: NFKC,
  case and spaces ignored) and *normalized* (names.normalize_name: punctuation and legal form
  dropped as well); bank matching adds the payer names a person confirmed (Payers) to both levels;
* a payer's name is looked up exact first, then normalized: the first level at which any
  customer is named decides, and its customers are the candidates (a name two customers share is
  not resolved by looking further);
* the payer *resolves* to a customer only when exactly one candidate is left.

Whole columns at a time: the tables are built in one pass, each distinct payer is keyed once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .names import name_key, normalize_name
from .parse import ALIAS_SPLIT

Tables = dict[str, tuple[str, ...]]


def group_ids(keys: pd.Series, ids: pd.Series) -> Tables:
    """{key: sorted customer ids} ("" keys left out). A dict pass, not a groupby: a ledger
    has ~100,000 names, aliases and short forms, and a groupby per key costs seconds."""
    out: dict[str, list] = {}
    for k, i in zip(keys.tolist(), ids.tolist()):
        if k and isinstance(k, str):
            got = out.get(k)
            if got is None:
                out[k] = [i]
            elif i not in got:
                got.append(i)
    return {k: (v[0],) if len(v) == 1 else tuple(sorted(v)) for k, v in out.items()}


def merge_ids(first: Tables, *more: Tables) -> Tables:
    """Union of {key: sorted ids} tables."""
    out = dict(first)
    for m in more:
        for k, ids in m.items():
            out[k] = tuple(sorted(set(out.get(k, ())) | set(ids)))
    return out


def name_keys(ids: pd.Series, names: pd.Series, aliases: pd.Series) -> pd.DataFrame:
    """One row per name and per alias of each customer (names first, then aliases; a fresh
    0-based index): ``id``, ``text``, ``is_name``, ``exact`` (name_key), ``norm`` (normalize_name).
    ``ids``, ``names`` and ``aliases`` are aligned columns of Customers (trimmed text)."""
    alias = aliases.fillna("").astype(str).str.split(ALIAS_SPLIT).explode().fillna("").str.strip()
    text = pd.concat([names, alias], ignore_index=True)
    return pd.DataFrame({
        "id": pd.concat([ids, ids.reindex(alias.index)], ignore_index=True),
        "text": text,
        "is_name": np.r_[np.ones(len(names), dtype=bool), np.zeros(len(alias), dtype=bool)],
        "exact": text.map(name_key),
        "norm": text.map(normalize_name),
    })


@dataclass(frozen=True)
class NameTables:
    """The two levels of the rule: exact key → customers, normalized key → customers."""

    by_exact: Tables
    by_norm: Tables

    @classmethod
    def of(cls, keys: pd.DataFrame, learnt_exact: Tables | None = None,
           learnt_norm: Tables | None = None) -> NameTables:
        """From :func:`name_keys` rows, with learnt payers' tables merged in at each level."""
        return cls(merge_ids(group_ids(keys["exact"], keys["id"]), learnt_exact or {}),
                   merge_ids(group_ids(keys["norm"], keys["id"]), learnt_norm or {}))

    def lookup(self, payers: pd.Series) -> PayerNames:
        """The rule applied to a column of payer names (trimmed text)."""
        exact_key = payers.map(name_key)
        norm_key = payers.map(normalize_name)
        exact = exact_key.map(self.by_exact)
        normalized = norm_key.map(self.by_norm)
        has_exact = exact.notna().to_numpy()
        level = np.select([has_exact, normalized.notna().to_numpy()], ["exact", "normalized"], "")
        return PayerNames(exact_key, norm_key, exact, normalized, level,
                          exact.where(has_exact, normalized))


@dataclass(frozen=True)
class PayerNames:
    """Per payer: its keys, the customers each level names (a tuple, NaN where none), the
    deciding level ("exact" | "normalized" | "") and that level's candidates."""

    exact_key: pd.Series
    norm_key: pd.Series
    exact: pd.Series
    normalized: pd.Series
    level: np.ndarray
    candidates: pd.Series

    def resolved(self) -> pd.Series:
        """The single candidate's customer_id, "" where none or several."""
        return self.candidates.map(lambda t: t[0] if isinstance(t, tuple) and len(t) == 1 else "")


def resolve_payers(payers: pd.Series, customers: pd.DataFrame) -> pd.Series:
    """customer_id of each payer name by the rule ("" where it names no customer or several),
    looked up once per distinct name. ``customers`` has customer_id, name and aliases."""
    if payers.empty or customers.empty:
        return pd.Series("", index=payers.index, dtype=object)
    aliases = customers["aliases"] if "aliases" in customers else pd.Series("", index=customers.index)
    tables = NameTables.of(name_keys(customers["customer_id"], customers["name"], aliases))
    distinct = pd.Series(payers.unique())
    found = dict(zip(distinct, tables.lookup(distinct).resolved()))
    return payers.map(found).astype(object)
