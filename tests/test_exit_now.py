"""The `custledger` program (cli.console: the console script and python -m custledger.cli) ends
without the interpreter's teardown (cli._exit_now). What a normal exit does that matters must
still happen — output flushed, atexit handlers run, the run's exit code kept — and a live
thread or a non-int code takes the ordinary exit."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path


def _run(tmp_path: Path, body: str, *argv: str) -> subprocess.CompletedProcess:
    script = tmp_path / "entry.py"
    script.write_text(textwrap.dedent(body), encoding="utf-8")
    return subprocess.run([sys.executable, str(script), *argv], capture_output=True, text=True, timeout=300)


PRELUDE = """
    import atexit, sys, threading, time
    from pathlib import Path
    mark = Path(sys.argv[1])
    atexit.register(lambda: mark.write_text("atexit ran", encoding="utf-8"))
"""


def test_exit_code_output_and_atexit_kept(tmp_path):
    from custledger.cli import app  # noqa: F401 - the package is importable here
    from custledger.io.template import build_ledger as build

    ledger = tmp_path / "ledger.xlsx"
    build(ledger, lang="en")
    mark = tmp_path / "mark.txt"
    res = _run(tmp_path, PRELUDE + """
    sys.stdout.write("x" * 200000)   # a big unflushed write before the run's own output
    sys.argv = ["custledger", "validate", sys.argv[2], "--json"]
    from custledger.cli import console
    console()
    """, str(mark), str(ledger))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("x" * 200000)
    report = json.loads(res.stdout[200000:])
    assert report["exit_code"] == 0
    assert mark.read_text(encoding="utf-8") == "atexit ran"


def test_failure_code_kept(tmp_path):
    mark = tmp_path / "mark.txt"
    res = _run(tmp_path, PRELUDE + """
    sys.argv = ["custledger", "validate", str(Path(sys.argv[1]).with_name("missing.xlsx"))]
    from custledger.cli import console
    console()
    """, str(mark))
    assert res.returncode == 2
    assert res.stderr.strip() and "Traceback" not in res.stderr
    assert mark.read_text(encoding="utf-8") == "atexit ran"


def test_live_thread_takes_the_ordinary_exit(tmp_path):
    """A thread still running when the command ends: Python waits for it, and so do we."""
    mark = tmp_path / "mark.txt"
    done = tmp_path / "thread.txt"
    res = _run(tmp_path, PRELUDE + """
    done = Path(sys.argv[2])
    def late():
        time.sleep(0.5)
        done.write_text("thread finished", encoding="utf-8")
    threading.Thread(target=late).start()
    sys.argv = ["custledger", "validate", str(Path(sys.argv[1]).with_name("missing.xlsx"))]
    from custledger.cli import console
    console()
    """, str(mark), str(done))
    assert res.returncode == 2
    assert done.read_text(encoding="utf-8") == "thread finished"
    assert mark.read_text(encoding="utf-8") == "atexit ran"


def test_exit_now_returns_for_what_it_cannot_end_plainly():
    from custledger.cli import _exit_now

    assert _exit_now(SystemExit("a message, not a code")) is None   # Python prints it, exits 1


def test_teardown_is_skipped(tmp_path):
    """The point of it: module teardown (here a global's finalizer) does not run after the run."""
    mark = tmp_path / "mark.txt"
    gone = tmp_path / "teardown.txt"
    res = _run(tmp_path, PRELUDE + """
    class Witness:
        def __init__(self, path):
            self.path = path
        def __del__(self):
            self.path.write_text("torn down", encoding="utf-8")
    witness = Witness(Path(sys.argv[2]))
    sys.argv = ["custledger", "validate", str(Path(sys.argv[1]).with_name("missing.xlsx"))]
    from custledger.cli import console
    console()
    """, str(mark), str(gone))
    assert res.returncode == 2
    assert mark.read_text(encoding="utf-8") == "atexit ran"
    assert not gone.exists()
