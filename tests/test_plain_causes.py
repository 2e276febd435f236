"""Reasons worded from messages.json, not English prose from Python or the system (issue 13):
contradicting tier settings, and an invoice export that cannot be read."""

import dataclasses
import re
from types import SimpleNamespace

import pytest

from custledger.core.errors import LedgerError
from custledger.core.model import Settings
from custledger.core.tiers import TierParams
from custledger.io.invoicefile import read_invoice_file
from custledger.ops.needs import tier_params

ENGLISH_WORD = re.compile(r"\b(?:must|need|got|one of|neither|not an|damaged|field|quote)\b", re.I)


@pytest.mark.parametrize("extra", [
    {"new_days": 200, "active_days": 100, "lost_days": 300},       # new > active
    {"active_days": 400, "lost_days": 300},                        # active >= lost
    {"core_min_grade": "Z"},
])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_contradicting_tier_settings_note_in_the_workbook_language(extra, lang):
    settings = dataclasses.replace(Settings(), extra=extra)
    with pytest.raises(ValueError):            # still a ValueError for callers that catch it
        TierParams.from_settings(settings)
    run = SimpleNamespace(settings=settings, lang=lang, notes=[])
    params = tier_params(run)
    assert params == TierParams.from_settings(dataclasses.replace(settings, extra={}))   # the defaults
    (note,) = run.notes
    if lang == "zh":
        assert not ENGLISH_WORD.search(note), note
        assert "默认" in note
    else:
        assert "defaults" in note and "{" not in note


@pytest.mark.parametrize("name, data, zh_part", [
    ("broken.xlsx", b"PK\x03\x04 not really a zip", "已损坏"),
    ("fake.xlsx", b"plain text that claims to be a workbook", "已损坏"),
    ("latin.csv", "发票号码,金额\n".encode("utf-16-le")[:-1] + b"\xff\xfe\x00\xd8", "UTF-8"),
    ("quote.csv", ("发票号码,金额\n" + "1," + '"' + "x" * 200_000 + "\n").encode("utf-8"), None),
])
def test_unreadable_invoice_file_reason_is_a_message(tmp_path, name, data, zh_part):
    path = tmp_path / name
    path.write_bytes(data)
    try:
        read_invoice_file(path)
    except LedgerError as exc:
        zh, en = exc.message("zh"), exc.message("en")
        assert not ENGLISH_WORD.search(zh.replace(name, "")), zh
        if zh_part:
            assert zh_part in zh
        assert "{" not in zh and "{" not in en
    else:   # a file the reader can take (the long quoted field in a csv the parser accepted)
        assert name == "quote.csv"
