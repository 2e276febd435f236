"""Stops (Ctrl+C, SIGTERM) around the end of a run: the move of staged files finishes before a
stop takes effect, whichever thread the signal lands on; once the run is in place the command's
own process ends with the run's code, not by the signal."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "pylib")}


def _py(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60)


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_stop_after_the_run_is_in_place_does_not_end_the_process_by_the_signal(sig):
    out = _py(f"""
import os, signal, sys, threading
import custledger.cli as cli
cli._OWN_PROCESS = True
cli._hold_stops()
# from another thread too: a process-directed signal may land on any thread
t = threading.Thread(target=os.kill, args=(os.getpid(), signal.{sig})); t.start(); t.join()
os.kill(os.getpid(), signal.{sig})
print("finished")
sys.exit(1)
""")
    assert out.returncode == 1 and out.stdout.strip() == "finished", (out.returncode, out.stderr)


def test_in_process_callers_keep_their_handlers():
    import custledger.cli as cli

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    cli._hold_stops()   # not the command's own process: nothing changes
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_a_stop_during_the_move_comes_after_it_even_from_another_thread():
    out = _py("""
import os, signal, threading
from custledger.ops.staging import _signals_held
moved = []
try:
    with _signals_held():
        t = threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGINT)); t.start(); t.join()
        for i in range(200000):   # time for the handler to run, were it not deferred
            pass
        moved.append("all")
    print("not stopped")
except KeyboardInterrupt:
    print("stopped after", moved)
""")
    assert out.stdout.strip() == "stopped after ['all']", (out.stdout, out.stderr)
