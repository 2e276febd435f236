"""Run by tests/test_lite.py in a fresh interpreter: the xlwings Lite scripts (lite/main.py), each
on the Office.js payload it is given, with every module the pinned Pyodide cannot import made
unimportable before anything else is imported. Prints JSON: the actions of each run, what a run
raised (it must raise nothing: failures are messages), and which blocked modules were asked for.

    python lite_blocked_run.py job.json      (job: tops, exts, label, main, payload, runs)
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "pylib")]

import pyodide_env  # noqa: E402  (standard library only)

job = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
blocker = pyodide_env.Blocker(job["tops"], job["exts"], job["label"]).install()
before = set(sys.modules)

import importlib.util  # noqa: E402
import os  # noqa: E402
import traceback  # noqa: E402

os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"   # the remote engine, for this test only
import xlwings as xw  # noqa: E402

xw.script = lambda **kw: (lambda fn: fn)              # Lite's decorator only registers the script
spec = importlib.util.spec_from_file_location("lite_main", job["main"])
main = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main)

payload = json.loads(Path(job["payload"]).read_text(encoding="utf-8"))
out = {"actions": {}, "raised": {}}
for name, kwargs in job["runs"]:
    book = xw.Book(json=json.loads(json.dumps(payload)))
    try:
        getattr(main, name)(book, **kwargs)
    except BaseException:  # noqa: BLE001 - reported to the test, which fails on it
        out["raised"][name] = traceback.format_exc()
    out["actions"][name] = book.json()["actions"]
out["refused"] = sorted(set(blocker.refused))
out["imported_blocked"] = sorted(m for m in set(sys.modules) - before
                                 if m.split(".")[0] in blocker.tops or m in blocker.exts)
print(json.dumps(out, default=str))
