"""The ledger keeps its identity (issue 11, items 3, 5 and the lock files of 6).

A symlinked ledger is written through the link (the link stays a link); the mode (600 stays
600) and the owner and group are kept, on the ledger and on its backups; a read-only ledger is
refused in one line unless --out; a part with a DTD is refused before anything is written; no
lock file is left beside a ledger, a missing path or a refused one.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from pathlib import Path

import pytest

from custledger import ops
from custledger.core.errors import LedgerError
from custledger.io import safe
from custledger.io.bankfile import read_bank_file
from custledger.io.filebook import FileBook
from test_security import cli, refused_in_one_line, rewrite, small_ledger

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symlinks, modes and owners: POSIX")


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def sheets_of(p: Path) -> set:
    with zipfile.ZipFile(p) as zf:
        return {n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")}


def locks(folder: Path) -> list:
    return sorted(p.name for p in folder.rglob("*.custledger.lock"))


@pytest.fixture
def ledger(tmp_path):
    return small_ledger(tmp_path / "ledger.xlsx")


def test_a_symlinked_ledger_is_written_through_the_link(ledger, tmp_path):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    real = real_dir / "账本.xlsx"
    ledger.rename(real)
    link = tmp_path / "link.xlsx"
    link.symlink_to(real)
    before = len(sheets_of(real))
    res = cli("validate", link)
    assert res.returncode == 0, res.stderr
    assert link.is_symlink() and Path(os.readlink(link)) == real   # the link stays a link
    assert len(sheets_of(real)) > before                              # the real ledger got the results
    assert not [p for p in tmp_path.rglob("*") if ".custledger-" in p.name]  # no temp left anywhere


def test_mode_600_is_kept_on_the_ledger_its_backups_and_a_copy(ledger, tmp_path):
    os.chmod(ledger, 0o600)
    info = ops.run(FileBook(ledger), ["validate"])
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o600
    backup = Path(info.backup)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert not stat.S_IMODE(backup.parent.stat().st_mode) & 0o077  # the backup folder is private too
    copy = tmp_path / "copy.xlsx"
    ops.run(FileBook(ledger, out=copy), ["validate"])
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600                 # an --out copy as private as the ledger
    os.chmod(ledger, 0o640)
    ops.run(FileBook(ledger), ["validate"])
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o640


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file away needs root")
def test_owner_and_group_are_kept(ledger):
    os.chown(ledger, 12345, 23456)
    ops.run(FileBook(ledger), ["validate"])
    st = ledger.stat()
    assert (st.st_uid, st.st_gid) == (12345, 23456)
    backup = max(safe.backup_dir(ledger).iterdir())
    assert (backup.stat().st_uid, backup.stat().st_gid) == (12345, 23456)


def test_a_read_only_ledger_is_refused_unless_out(ledger, tmp_path):
    os.chmod(ledger, 0o444)
    before = digest(ledger)
    res = cli("validate", ledger)
    refused_in_one_line(res, "read-only", "--out")
    assert digest(ledger) == before and stat.S_IMODE(ledger.stat().st_mode) == 0o444
    assert not safe.backup_dir(ledger).exists() and locks(tmp_path) == []
    with pytest.raises(LedgerError) as err:
        ops.run(FileBook(ledger), ["validate"])
    assert err.value.code == "file_readonly"
    out = tmp_path / "results.xlsx"
    res = cli("validate", ledger, "--out", out)
    assert res.returncode == 0, res.stderr
    assert digest(ledger) == before and len(sheets_of(out)) > len(sheets_of(ledger))


def test_a_read_only_symlink_target_is_refused(ledger, tmp_path):
    link = tmp_path / "link.xlsx"
    link.symlink_to(ledger)
    os.chmod(ledger, 0o400)
    refused_in_one_line(cli("validate", link), "read-only")
    assert link.is_symlink()


# ---- DTDs, in any XML part (OPC forbids them) ---------------------------------------------------

def _dtd(data: bytes) -> bytes:
    return data.replace(b"?>", b"?>\n<!DOCTYPE x SYSTEM \"http://127.0.0.1:9/x.dtd\">", 1)


def _renamed_sheet_with_dtd(src: Path, dst: Path) -> Path:
    """The second sheet's part renamed sheet2.dat (rels and content types follow it), with a DTD:
    calamine follows the rels and reads it; a check by file suffix alone would not look."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            name, data = info.filename, zin.read(info)
            if name == "xl/worksheets/sheet2.xml":
                name, data = "xl/worksheets/sheet2.dat", _dtd(data)
            elif name in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
                data = data.replace(b"worksheets/sheet2.xml", b"worksheets/sheet2.dat")
            zout.writestr(name, data)
    return dst


@pytest.mark.parametrize("how", ["workbook", "bogus_encoding", "text_before_declaration", "utf16",
                                 "after_a_comment", "renamed_part", "styles"])
def test_any_part_with_a_dtd_is_refused_before_anything_is_written(ledger, tmp_path, how):
    if how == "renamed_part":
        evil = _renamed_sheet_with_dtd(ledger, tmp_path / "evil.xlsx")
    else:
        part, fn = {
            "workbook": ("xl/workbook.xml", _dtd),
            "styles": ("xl/styles.xml", _dtd),
            "bogus_encoding": ("xl/workbook.xml",
                               lambda d: _dtd(d.replace(b'encoding="UTF-8"', b'encoding="x-nonesuch"', 1))),
            "text_before_declaration": ("xl/workbook.xml", lambda d: b" \n" + _dtd(d)),
            "utf16": ("xl/workbook.xml", lambda d: _dtd(d).decode().replace('"UTF-8"', '"UTF-16"').encode("utf-16")),
            "after_a_comment": ("xl/workbook.xml", lambda d: d.replace(b"?>", b"?><!-- <a> --><!DOCTYPE x>", 1)),
        }[how]
        evil = rewrite(ledger, tmp_path / "evil.xlsx", {part: fn})
    before = digest(evil)
    refused_in_one_line(cli("validate", evil), "DTD")
    assert digest(evil) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.xlsx", "ledger.xlsx"]  # no backup, lock, temp
    with pytest.raises(LedgerError) as err:
        FileBook(evil).read()
    assert err.value.code == "file_unsafe"


def test_an_svg_image_is_not_taken_for_a_workbook_part_without_a_dtd(ledger, tmp_path):
    """The check reads parts as XML by content type; a clean XML media part passes."""
    ok = rewrite(ledger, tmp_path / "ok.xlsx", {}, {"xl/media/pic.svg": b'<?xml version="1.0"?><svg/>'})
    assert cli("validate", ok).returncode == 0


# ---- lock files ----------------------------------------------------------------------------------

def test_no_lock_file_is_left_beside_a_ledger_a_missing_path_or_a_refused_one(ledger, tmp_path):
    assert cli("validate", ledger).returncode == 0
    refused_in_one_line(cli("validate", tmp_path / "missing.xlsx"))
    (tmp_path / "folder.xlsx").mkdir()
    refused_in_one_line(cli("validate", tmp_path / "folder.xlsx"))
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    refused_in_one_line(cli("validate", bad))
    assert locks(tmp_path) == []


def test_the_lock_still_excludes_after_its_file_is_removed(ledger):
    """The holder removes the lock file when done; a run that waited on the removed file takes
    the lock anew, and two holders never overlap."""
    with safe.run_lock(ledger):
        lock = ledger.with_name(f".{ledger.name}.custledger.lock")
        assert lock.exists()
        with pytest.raises(LedgerError) as err:
            with safe.run_lock(ledger, wait=0.3):
                pass
        assert err.value.code == "ledger_busy"
    assert not lock.exists()
    with safe.run_lock(ledger, wait=0.3):   # free again
        assert lock.exists()
    assert not lock.exists()


def test_the_dtd_refusal_is_in_the_users_language(ledger, tmp_path):
    evil = rewrite(ledger, tmp_path / "evil.xlsx", {"xl/workbook.xml": _dtd})
    res = cli_lang("zh", "validate", evil)
    assert res.returncode == 2 and "含有 DTD" in res.stderr and "which workbooks never do" not in res.stderr
    bank_problem = read_bank_file(evil).records()[0]
    assert "含有 DTD" in bank_problem.text("zh") and "declares a DTD" in bank_problem.text("en")


def cli_lang(lang, *args):
    import subprocess
    import sys

    from test_security import ENV
    return subprocess.run([sys.executable, "-m", "custledger.cli", *map(str, args)],
                          env={**ENV, "CUSTLEDGER_LANG": lang}, capture_output=True, text=True, timeout=120)
