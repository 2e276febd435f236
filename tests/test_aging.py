"""Aging buckets, the Overdue list and dunning levels (DESIGN.md "Aging")."""

import pandas as pd
import pytest

from custledger.core.aging import aging, bucket_index, bucket_labels, dunning_level, overdue
from custledger.core.allocate import allocate, open_items, unapplied_credits
from engine_helpers import cn, cust, customers, inv, invoices, rc, receipts

D = pd.Timestamp
AS_OF = D("2024-07-01")


def due_days_ago(doc_no, days, amount=100, customer_id="C1"):
    """An invoice whose due date is `days` days before AS_OF (negative: not yet due)."""
    due = AS_OF - pd.Timedelta(days=days)
    date = due - pd.Timedelta(days=30)
    return inv(doc_no, date.strftime("%Y-%m-%d"), amount, customer_id, due_date=due.strftime("%Y-%m-%d"))


def run(I, R=None, C=None, **kw):
    R = receipts() if R is None else R
    C = customers(cust("C1", contact="王五", phone="13800000000", owner="张三"), cust("C2")) if C is None else C
    a = allocate(I, R, AS_OF)
    oi, ua = open_items(I, a, AS_OF), unapplied_credits(I, R, a, AS_OF)
    aging_kw = {k: v for k, v in kw.items() if k != "dunning_levels"}
    return aging(oi, ua, C, AS_OF, **aging_kw), overdue(oi, C, AS_OF, **kw)


def test_bucket_labels_from_the_bounds():
    assert bucket_labels() == ["1-30", "31-60", "61-90", "91-180", ">180"]
    assert bucket_labels((15, 45)) == ["1-15", "16-45", ">45"]
    assert bucket_labels([7]) == ["1-7", ">7"]
    for bad in [(), (0, 30), (30, 30), (60, 30)]:
        with pytest.raises(ValueError):
            bucket_labels(bad)


@pytest.mark.parametrize("days, label", [
    (-5, "not_due"), (0, "not_due"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"),
    (90, "61-90"), (91, "91-180"), (180, "91-180"), (181, ">180"), (4000, ">180"),
])
def test_aging_bucket_boundaries(days, label):
    ag, _ = run(invoices(due_days_ago("A1", days)))
    row = ag.iloc[0]
    columns = ["not_due"] + bucket_labels()
    assert {c: int(row[c]) for c in columns if row[c]} == {label: 10000}
    assert row["total"] == 10000 and row["overdue"] == (0 if label == "not_due" else 10000)


def test_gnucash_g1_bucket_edges_coincide():
    # GnuCash G1 (report date D, leading date = due date): due >= D Current; D-30 <= due < D
    # "0-30"; D-60 <= due < D-30 "31-60"; ... Our not_due / 1-30 / 31-60 are the same sets.
    I = invoices(due_days_ago("CUR", 0, 1), due_days_ago("E30a", 1, 2), due_days_ago("E30b", 30, 4),
                 due_days_ago("E60a", 31, 8), due_days_ago("E60b", 60, 16), due_days_ago("E90", 61, 32))
    row = run(I)[0].iloc[0]
    assert (row["not_due"], row["1-30"], row["31-60"], row["61-90"]) == (100, 600, 2400, 3200)


def test_due_today_is_not_due_and_basis_invoice_date_counts_from_the_date():
    I = invoices(inv("A1", "2024-06-01", 100, due_date="2024-07-01"))  # due today, dated 30 days ago
    ag, od = run(I)
    assert ag.iloc[0]["not_due"] == 10000 and od.empty
    ag, od = run(I, basis="invoice_date")
    assert ag.iloc[0]["1-30"] == 10000 and ag.iloc[0]["overdue"] == 10000
    assert od["days_overdue"].tolist() == [30]
    with pytest.raises(ValueError):
        run(I, basis="posting_date")


def test_custom_buckets_give_their_own_columns():
    I = invoices(due_days_ago("A1", 15), due_days_ago("A2", 16), due_days_ago("A3", 46))
    ag, od = run(I, buckets=(15, 45))
    assert list(ag.columns) == ["customer_id", "name", "not_due", "1-15", "16-45", ">45", "total", "overdue",
                                "unapplied"]
    assert ag.iloc[0][["1-15", "16-45", ">45"]].tolist() == [10000, 10000, 10000]
    assert od.set_index("doc_no")["bucket"].to_dict() == {"A1": "1-15", "A2": "16-45", "A3": ">45"}


def test_only_open_amounts_are_aged_and_unapplied_has_its_own_column():
    # ERPNext E4c: an advance is not aged; it shows in its own column.
    I = invoices(due_days_ago("A1", 40, 100), due_days_ago("A2", 10, 100), due_days_ago("B1", 5, 50, "C2"))
    R = receipts(rc("R1", "2024-06-30", 60, applied_to="A1"), rc("R2", "2024-06-30", 80, "C2"),
                 rc("R3", "2024-08-01", 100))  # after as_of: left out
    ag, _ = run(I, R)
    c1, c2 = ag.iloc[0], ag.iloc[1]
    assert (c1["31-60"], c1["1-30"], c1["total"], c1["overdue"], c1["unapplied"]) == (4000, 10000, 14000, 14000, 0)
    assert (c2["1-30"], c2["total"], c2["unapplied"]) == (0, 0, 3000)


def test_a_row_for_every_customer_with_an_invoice_or_a_credit():
    I = invoices(due_days_ago("A1", 5, 100, "C1"), cn("K3", "2024-06-01", 20, "C3"))
    R = receipts(rc("R1", "2024-06-30", 100, "C1"), rc("R4", "2024-06-30", 1, "C4"))
    C = customers(cust("C1"), cust("C2"), cust("C3"), cust("C4"))
    ag, _ = run(I, R, C)
    assert ag["customer_id"].tolist() == ["C1", "C3", "C4"]  # C2 has no documents
    assert ag["total"].tolist() == [0, 0, 0]
    assert ag["unapplied"].tolist() == [0, 2000, 100]
    assert ag["name"].tolist() == ["Name C1", "Name C3", "Name C4"]


def test_overdue_list_most_urgent_first_with_dunning_levels():
    I = invoices(due_days_ago("A3", 31, 50), due_days_ago("A1", 31, 80), due_days_ago("A2", 31, 80),
                 due_days_ago("A4", 1, 10), due_days_ago("A5", 0, 10), due_days_ago("A6", 61, 5),
                 due_days_ago("A7", 30, 500), due_days_ago("B1", 200, 1, "C2"))
    R = receipts(rc("R1", "2024-06-01", 500, applied_to="A7"))  # A7 is closed: not listed
    _, od = run(I, R)
    assert od["doc_no"].tolist() == ["B1", "A6", "A1", "A2", "A3", "A4"]
    assert od["days_overdue"].tolist() == [200, 61, 31, 31, 31, 1]
    assert od["dunning_level"].tolist() == [3, 3, 2, 2, 2, 1]
    assert od["bucket"].tolist() == [">180", "61-90", "31-60", "31-60", "31-60", "1-30"]
    a1 = od[od["doc_no"] == "A1"].iloc[0]
    assert (a1["name"], a1["contact"], a1["phone"], a1["owner"]) == ("Name C1", "王五", "13800000000", "张三")
    assert (a1["amount"], a1["outstanding"]) == (8000, 8000)
    assert list(od.columns) == ["doc_no", "customer_id", "name", "date", "due_date", "amount", "outstanding",
                                "days_overdue", "bucket", "dunning_level", "contact", "phone", "owner"]


def test_overdue_outstanding_is_the_open_amount_and_sums_to_aging_overdue():
    I = invoices(due_days_ago("A1", 45, 100), due_days_ago("A2", 3, 100), due_days_ago("A3", -3, 100))
    R = receipts(rc("R1", "2024-06-30", 30, applied_to="A1"))
    ag, od = run(I, R)
    assert od.set_index("doc_no")["outstanding"].to_dict() == {"A1": 7000, "A2": 10000}
    assert od["outstanding"].sum() == ag["overdue"].sum() == 17000


def test_dunning_level_counts_thresholds_reached():
    assert dunning_level([0, 1, 30, 31, 60, 61, 400]).tolist() == [0, 1, 1, 2, 2, 3, 3]
    assert dunning_level([5, 10, 11], (10,)).tolist() == [0, 1, 1]
    assert dunning_level([7], (14, 7)).tolist() == [1]  # unsorted thresholds are fine
    I = invoices(due_days_ago("A1", 20), due_days_ago("A2", 40))
    _, od = run(I, dunning_levels=(15, 40, 90))
    assert od.set_index("doc_no")["dunning_level"].to_dict() == {"A1": 1, "A2": 2}


def test_bucket_index_vector():
    assert bucket_index(pd.Series([-1, 0, 1, 30, 31, 181]).to_numpy()).tolist() == [-1, -1, 0, 0, 1, 4]
