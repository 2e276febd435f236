"""ops/staging.commit: staged files go in place only at commit; a new folder is the staging
folder renamed, an existing folder keeps its other files and gets the staged ones replaced."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from custledger.ops import staging


@dataclass
class _Run:
    staged: list = field(default_factory=list)


def _stage(run, folder: Path, files: dict) -> Path:
    temp = staging.stage(run, folder)
    for name, text in files.items():
        (temp / name).write_text(text, encoding="utf-8")
    return temp


def test_a_new_folder_is_the_staging_folder_renamed(tmp_path):
    run = _Run()
    folder = tmp_path / "ledger_statements" / "2026-10"
    temp = _stage(run, folder, {"a.xlsx": "A", "b.xlsx": "B"})
    assert not folder.exists()   # nothing in place before the commit
    staging.commit(run)
    assert sorted(p.name for p in folder.iterdir()) == ["a.xlsx", "b.xlsx"]
    assert (folder / "a.xlsx").read_text(encoding="utf-8") == "A"
    assert not temp.exists() and run.staged == []
    assert [p for p in folder.parent.iterdir() if staging.MARK in p.name] == []


def test_an_existing_folder_keeps_its_other_files(tmp_path):
    folder = tmp_path / "ledger_letters" / "2026-10-31"
    folder.mkdir(parents=True)
    (folder / "old.xlsx").write_text("kept", encoding="utf-8")
    (folder / "a.xlsx").write_text("earlier run", encoding="utf-8")
    run = _Run()
    _stage(run, folder, {"a.xlsx": "new", "b.xlsx": "B"})
    staging.commit(run)
    got = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}
    assert got == {"old.xlsx": "kept", "a.xlsx": "new", "b.xlsx": "B"}
    assert [p for p in folder.parent.iterdir() if staging.MARK in p.name] == []


def test_a_folder_made_after_staging_is_filled_file_by_file(tmp_path):
    """The folder appears between staging and commit (another run, a person): its files stay."""
    run = _Run()
    folder = tmp_path / "out"
    _stage(run, folder, {"a.xlsx": "A"})
    folder.mkdir()
    (folder / "mine.txt").write_text("a person's", encoding="utf-8")
    staging.commit(run)
    assert sorted(p.name for p in folder.iterdir()) == ["a.xlsx", "mine.txt"]


def test_a_discarded_run_puts_nothing_in_place(tmp_path):
    run = _Run()
    folder = tmp_path / "out"
    temp = _stage(run, folder, {"a.xlsx": "A"})
    staging.discard(run)
    assert not folder.exists() and not temp.exists()


def test_a_refused_rename_falls_back_to_moving_each_file(tmp_path, monkeypatch):
    run = _Run()
    folder = tmp_path / "out"
    _stage(run, folder, {"a.xlsx": "A", "b.xlsx": "B"})

    def refuse(src, dst):
        raise PermissionError(13, "refused")

    monkeypatch.setattr(os, "rename", refuse)
    staging.commit(run)
    assert sorted(p.name for p in folder.iterdir()) == ["a.xlsx", "b.xlsx"]
    assert [p for p in tmp_path.iterdir() if staging.MARK in p.name] == []
