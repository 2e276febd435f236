"""Why a file could not be read is worded from messages.json in the message's language (one home:
core/errors.file_cause), never the system's English strerror or an exception's text: the export
and SMTP password files, an email template, a bank file, and the export's own save."""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from custledger.core.errors import LedgerError, file_cause
from custledger.io.bankfile import read_bank_file
from custledger.ops.export import _write_atomic, export_password
from custledger.ops.send import smtp_password
from custledger.render.email_body import read_template

ROOT = Path(__file__).resolve().parents[1]
# What Python and the system say (strerror, exception names and texts): none of it may be shown
SYSTEM_TEXT = re.compile(r"No such file|directory|Permission|denied|codec|decode|byte|position|Errno|Error\b|"
                         r"space left|invalid|\bstart\b", re.I)
# the system's own English, as it would reach an English message
ENGLISH_SYSTEM = re.compile(r"No such file|Is a directory|Permission denied|codec|can't decode|\[Errno|"
                            r"No space left|Read-only file system|[A-Za-z]+Error\b")
HAN = re.compile(r"[\u4e00-\u9fff]")

# (case, the cause's Chinese words, its English words)
CASES = {
    "missing": ("文件不存在", "does not exist"),
    "folder": ("文件夹", "folder"),
    "not_utf8": ("UTF-8 编码", "not UTF-8 text"),
    "no_permission": ("没有权限", "no permission"),
}


def _make(tmp_path: Path, case: str, monkeypatch) -> Path:
    """A path that cannot be read for ``case`` (the permission case is made by the system's own
    PermissionError: tests run as root here, where chmod blocks nothing)."""
    path = tmp_path / "input.txt"
    if case == "folder":
        path.mkdir()
    elif case == "not_utf8":
        path.write_bytes("密码123\n".encode("gbk"))
    elif case == "no_permission":
        path.write_text("x\n", encoding="utf-8")
        real = Path.read_text

        def refuse(self, *a, **k):
            if self == path:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
            return real(self, *a, **k)

        monkeypatch.setattr(Path, "read_text", refuse)
    return path


def _assert_worded(exc: LedgerError, path: Path, case: str) -> None:
    zh_words, en_words = CASES[case]
    zh, en = exc.message("zh"), exc.message("en")
    # the path is the user's: what is left is the message and its cause
    zh_rest, en_rest = zh.replace(str(path), "<p>"), en.replace(str(path), "<p>")
    assert not SYSTEM_TEXT.search(zh_rest), zh
    assert zh_words in zh_rest, zh
    assert en_words in en_rest and not HAN.search(en_rest) and not ENGLISH_SYSTEM.search(en_rest), en
    assert "{" not in zh + en
    assert isinstance(exc.params["detail"], LedgerError)   # worded where it is shown, in its language


READERS = {
    "export_password_file": lambda p: export_password(p, environ={}, interactive=False),
    "smtp_password_file": lambda p: smtp_password(p, environ={}, interactive=False),
    "email_template_bad": read_template,
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("code", list(READERS))
def test_an_unreadable_file_says_why_in_the_messages_language(tmp_path, monkeypatch, code, case):
    path = _make(tmp_path, case, monkeypatch)
    with pytest.raises(LedgerError) as err:
        READERS[code](path)
    assert err.value.code == code
    _assert_worded(err.value, path, case)


def test_a_template_without_its_subject_line_says_so_in_both_languages(tmp_path):
    path = tmp_path / "email_statement.txt"
    path.write_text("您好 {customer_name}\n", encoding="utf-8")
    with pytest.raises(LedgerError) as err:
        read_template(path)
    zh, en = err.value.message("zh"), err.value.message("en")
    assert err.value.code == "email_template_bad"
    assert "第一行" in zh and "Subject:" in zh
    assert "first line" in en and "Subject:" in en and not HAN.search(en.replace(str(path), ""))


@pytest.mark.parametrize("case", ["missing", "folder"])
def test_a_bank_file_that_cannot_be_opened_says_why_in_the_workbooks_language(tmp_path, monkeypatch, case):
    path = _make(tmp_path, case, monkeypatch)
    got = read_bank_file(path)
    (problem,) = got.records()
    assert problem.code == "bank_cannot_open" and not got.ok and isinstance(got.cause, OSError)
    zh_words, en_words = CASES[case]
    zh, en = problem.text("zh"), problem.text("en")
    assert zh_words in zh and not SYSTEM_TEXT.search(zh.replace(path.name, "")), zh
    assert en_words in en and not HAN.search(en) and not ENGLISH_SYSTEM.search(en), en


def test_the_exports_own_save_names_its_cause_and_keeps_it_chained(tmp_path, monkeypatch):
    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))

    monkeypatch.setattr("custledger.ops.export.os.replace", full)
    out = tmp_path / "out.xlsx"
    with pytest.raises(LedgerError) as err:
        _write_atomic(out, b"data")
    zh, en = err.value.message("zh"), err.value.message("en")
    assert err.value.code == "save_failed" and "磁盘空间已满" in zh and not SYSTEM_TEXT.search(zh), zh
    assert "disk is full" in en and not HAN.search(en) and not ENGLISH_SYSTEM.search(en), en
    assert isinstance(err.value.__cause__, OSError)                    # CUSTLEDGER_DEBUG=1 shows it
    assert not out.exists() and list(tmp_path.iterdir()) == []        # no temp file left


@pytest.mark.parametrize("exc, code", [
    (FileNotFoundError(errno.ENOENT, "No such file or directory"), "cause_not_found"),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory"), "cause_not_found"),
    (PermissionError(errno.EACCES, "Permission denied"), "cause_no_permission"),
    (PermissionError(errno.EPERM, "Operation not permitted"), "cause_no_permission"),
    (IsADirectoryError(errno.EISDIR, "Is a directory"), "cause_is_folder"),
    (OSError(errno.ENOSPC, "No space left on device"), "cause_disk_full"),
    (OSError(errno.EROFS, "Read-only file system"), "cause_read_only"),
    (OSError(errno.ENAMETOOLONG, "File name too long"), "cause_name_too_long"),
    (OSError(errno.EIO, "Input/output error"), "cause_os_error"),
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "cause_connection_refused"),
    (BrokenPipeError(errno.EPIPE, "Broken pipe"), "cause_connection_lost"),
    (TimeoutError("timed out"), "cause_timed_out"),
    (OSError(errno.EHOSTUNREACH, "No route to host"), "cause_unreachable"),
    (OSError("something the system said"), "cause_system"),
    (RuntimeError("anything else"), "cause_system"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "cause_not_utf8"),
])
def test_file_cause_is_a_message_code_never_the_systems_text(exc, code):
    cause = file_cause(exc)
    assert cause.code == code
    said = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
    zh, en = cause.message("zh"), cause.message("en")
    assert HAN.search(zh) and not SYSTEM_TEXT.search(zh), zh
    assert en and not HAN.search(en) and said not in en and not ENGLISH_SYSTEM.search(en), en
    assert "{" not in zh + en
    if code == "cause_os_error":   # a cause without a wording of its own keeps its number (no prose)
        assert str(errno.EIO) in cause.message("zh") and str(errno.EIO) in cause.message("en")
    same = LedgerError("file_missing", path="x")
    assert file_cause(same) is same


@pytest.mark.parametrize("lang, words", [("zh", ("密码文件", "文件不存在")), ("en", ("password file", "does not exist"))])
def test_the_command_line_names_the_cause_in_its_language(tmp_path, lang, words):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "pylib"), "CUSTLEDGER_LANG": lang}
    env.pop("CUSTLEDGER_DEBUG", None)
    missing = tmp_path / "nopass.txt"
    done = subprocess.run([sys.executable, "-m", "custledger.cli", "export", str(tmp_path / "ledger.xlsx"), "--encrypt",
                           "--password-file", str(missing)], env=env, capture_output=True, text=True, timeout=120)
    err = done.stderr.strip()
    rest = err.replace(str(missing), "")
    assert done.returncode == 2 and len(err.splitlines()) == 1, done.stderr
    assert all(w in rest for w in words) and not ENGLISH_SYSTEM.search(rest), err
    assert (not SYSTEM_TEXT.search(rest)) if lang == "zh" else not HAN.search(rest), err


@pytest.mark.parametrize("outcome, zh_words, en_words", [
    ("timeout", "秒内未完成(1 个文件)", "not done within"),
    ("exit", "退出码 77", "exit code 77"),
    ("nothing", "1 个文件未生成,例如 a.pdf", "1 file(s) not made, e.g. a.pdf"),
])
def test_a_libreoffice_failure_is_worded_in_the_messages_language(tmp_path, monkeypatch, outcome, zh_words, en_words):
    from custledger.io import pdf

    (tmp_path / "a.xlsx").write_bytes(b"PK")
    said = "Error: source file could not be loaded"   # what LibreOffice prints: English, kept in the chain

    def run(cmd, **kw):
        if outcome == "timeout":
            raise subprocess.TimeoutExpired(cmd, kw["timeout"])
        return subprocess.CompletedProcess(cmd, 77 if outcome == "exit" else 0, "", said)

    monkeypatch.setattr(pdf, "find_soffice", lambda: "soffice")
    monkeypatch.setattr(pdf.subprocess, "run", run)
    with pytest.raises(LedgerError) as err:
        pdf.convert([tmp_path / "a.xlsx"], tmp_path / "out")
    zh, en = err.value.message("zh"), err.value.message("en")
    assert err.value.code == "libreoffice_failed"
    assert zh_words in zh and not re.search(r"\b[a-z]{3,}\b", zh.replace("a.pdf", "")), zh   # no English word
    assert en_words in en and said not in en and not HAN.search(en), en
    if outcome == "exit":
        assert said in str(err.value.__cause__)                        # CUSTLEDGER_DEBUG=1 shows it


# ---- the ledger's own read (io/reader.py): calamine's and zipfile's words stay in the chain ----

@pytest.mark.parametrize("damage", ["xml", "crc"])
def test_a_damaged_sheet_is_worded_in_the_messages_language(tmp_path, damage):
    import zipfile

    from custledger.io.reader import read_book, sheet_parts
    from test_security import rewrite, small_ledger

    src = small_ledger(tmp_path / "ok.xlsx")
    part = sheet_parts(src)["销售单据"]
    bad = tmp_path / "bad.xlsx"
    if damage == "xml":   # a sheet whose XML breaks off: calamine refuses it
        rewrite(src, bad, {part: lambda b: b[:b.index(b"<sheetData>") + 40]})
    else:                 # the sheet's bytes changed behind its checksum
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w", zipfile.ZIP_STORED) as zout:
            for info in zin.infolist():
                zout.writestr(info.filename, zin.read(info))
        data = bytearray(bad.read_bytes())
        at = data.index(b"<sheetData>", data.index(part.encode()))
        data[at + 30] ^= 0x01
        bad.write_bytes(bytes(data))
    with pytest.raises(LedgerError) as err:
        read_book(bad)
    zh, en = err.value.message("zh"), err.value.message("en")
    assert err.value.code in ("sheet_unreadable", "file_corrupt_detail"), err.value.code
    assert "损坏" in zh and not ENGLISH_SYSTEM.search(zh), zh
    assert not re.search(r"[A-Za-z]{3,}", zh.split(":", 1)[-1].replace("Excel", "")), zh   # no English but the name Excel
    assert "damaged" in en and not ENGLISH_SYSTEM.search(en), en
    assert err.value.__cause__ is not None, err.value.params   # what the reader met, for CUSTLEDGER_DEBUG=1


def test_an_os_error_that_reaches_the_command_line_is_worded(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from custledger import cli, ops

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(tmp_path / "x.xlsx"))

    ledger = tmp_path / "台账.xlsx"
    ledger.write_bytes(b"PK")
    monkeypatch.setattr(ops, "run", denied)
    monkeypatch.setenv("CUSTLEDGER_LANG", "zh")
    monkeypatch.delenv("CUSTLEDGER_DEBUG", raising=False)
    res = CliRunner().invoke(cli.app, ["validate", str(ledger)])
    err = res.stderr if hasattr(res, "stderr") else res.output
    assert res.exit_code == 2 and "没有权限" in err and not ENGLISH_SYSTEM.search(err), err
