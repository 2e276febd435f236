"""The column-wise phone and tax-id checks of core/validate.py agree with the one-value checks
(phonenumbers, python-stdnum) they replace, value for value."""

import random

import pandas as pd

from custledger.core.validate import _check_phone, _check_tax_id, phones_valid, tax_ids_valid


def _random_phones(n, seed=7):
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        head = rnd.choice(["13", "14", "15", "16", "17", "18", "19", "10", "11", "12", "179", "1740", "1610"])
        out.append(head + "".join(rnd.choice("0123456789") for _ in range(11 - len(head))))
    out += ["138-1234-5678", "+86 138 1234 5678", "021-88886666", "02188886666", "0571 8888 6666", "12345",
            "abc", "１３８１２３４５６７８", "13812345678 ", "17951234567", "4008001234", "95588", ""]
    return out


def test_phones_agree_with_phonenumbers():
    phones = pd.Series(_random_phones(3000))
    got = phones_valid(phones)
    want = [_check_phone(p) for p in phones]
    assert got.tolist() == want
    assert 0 < sum(want) < len(want)      # both kinds present: the test can fail


def _uscc_with_check(body):
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    w = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    return body + alphabet[(31 - sum(alphabet.index(c) * x for c, x in zip(body, w)) % 31) % 31]


def test_tax_ids_agree_with_stdnum():
    rnd = random.Random(3)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    ids, kinds = [], []
    for i in range(2000):
        body = "".join(rnd.choice("0123456789") for _ in range(8)) + "".join(rnd.choice(alphabet) for _ in range(9))
        code = _uscc_with_check(body) if i % 2 else body + rnd.choice(alphabet)
        if i % 7 == 0:
            code = code.lower()
        if i % 11 == 0:
            code = " " + code[:6] + "-" + code[6:]
        if i % 13 == 0:
            code = code[:10] + "I" + code[11:]          # I is not in the alphabet
        ids.append(code)
        kinds.append(rnd.choice(["company", "individual", None]))
    ids += ["11010519491231002X", "110105194912310021", "9133010MA2", "", "９１３３０１０６７７９１８２９４０Ｘ"]
    kinds += ["individual", "individual", "company", "company", "company"]
    tax, kind = pd.Series(ids, index=range(10, 10 + len(ids))), pd.Series(kinds, index=range(10, 10 + len(ids)))
    got = tax_ids_valid(tax, kind)
    want = [_check_tax_id(t, k) for t, k in zip(ids, kinds)]
    assert got.index.equals(tax.index)
    assert got.tolist() == want
    assert 100 < sum(want) < len(want) - 100


def test_phones_agree_with_phonenumbers_on_unusual_forms_and_repeats():
    # fixed lines with area codes and extensions, +86, spaces and dashes, full-width and mixed
    # digits (a mobile with a full-width digit takes the metadata path), repeated values
    rnd = random.Random(11)
    odd = ["0571-88886666", "0571 8888 6666", "(0571)88886666", "0571-88886666-123", "0571-88886666 ext. 12",
           "010-12345678", "01012345678", "+86 10 1234 5678", "+86-571-8888-6666", "+8613812345678",
           "0086 138 1234 5678", "86 13812345678", "13８12345678", "１３８１２３４５６７８", "138 1234 5678",
           "138-1234-5678", "400-800-1234", "95588", "12345678", "0755-1234567", "021-1234", "+1 202 555 0101",
           "028-60940293", "0757-85363773", "0371-81058635", "17012345678", "14512345678", "19212345678"]
    for _ in range(300):
        area = rnd.choice(["10", "20", "21", "571", "574", "755", "28", "29", "371", "999", "0", "1"])
        local = "".join(rnd.choice("0123456789") for _ in range(rnd.choice([6, 7, 8, 9])))
        odd.append(rnd.choice(["0{a}-{n}", "0{a}{n}", "+86 {a} {n}", "0{a} {n}", "0{a}-{n}-8"]).format(a=area, n=local))
    phones = pd.Series(odd + odd[:40], index=range(100, 100 + len(odd) + 40))
    got = phones_valid(phones)
    assert got.index.equals(phones.index)
    assert got.tolist() == [_check_phone(p) for p in phones]
    assert 0 < sum(got) < len(got)


def test_plain_fixed_lines_agree_with_phonenumbers():
    """0 + a two- or three-digit area code, a dash or not, then 5 to 8 digits: the form
    core/validate reads with the CN metadata (_fixed_national) instead of parsing it, at every
    length around the general and local-only lengths, with area codes of every first digit."""
    from custledger.core.validate import _PLAIN_FIXED_RE

    rnd = random.Random(5)
    phones = []
    for _ in range(3000):
        area = str(rnd.randint(1, 9)) + "".join(rnd.choice("0123456789") for _ in range(rnd.choice([1, 2])))
        local = "".join(rnd.choice("0123456789") for _ in range(rnd.randint(5, 8)))
        phones.append(f"0{area}{rnd.choice(['-', ''])}{local}")
    phones += ["010-12345678", "021-88886666", "0571-8888666", "0755-12345", "0311-123456", "0120-1234567",
               "0179-12345678", "0400-8001234", "0800-8001234", "0950-1234567", "0101-2345678"]
    assert all(_PLAIN_FIXED_RE.fullmatch(p) for p in phones)   # every one takes the metadata path
    s = pd.Series(phones)
    got = phones_valid(s)
    want = [_check_phone(p) for p in phones]
    assert got.tolist() == want
    assert 300 < sum(want) < len(want) - 300
