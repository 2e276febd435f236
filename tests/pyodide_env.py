"""Test helpers: what the Pyodide of xlwings Lite can install and import, from its lock file.

The pinned version is pyproject.toml ``[tool.custledger] pyodide``; .ci/setup fetches
``pyodide-lock.json`` from the npm package ``pyodide`` of that version into tests/.cache (no
network in tests). Outside CI a missing lock file skips the tests that need it; in CI
(``CI=true``) it fails them.

What installs in Pyodide: a package the lock lists (Pyodide's own builds) or a pure-Python wheel
(``py3-none-any``) from PyPI. This module reads only the standard library at import, so that a
subprocess can install the import blocker before anything else is imported.
"""

from __future__ import annotations

import importlib.machinery
import importlib.metadata as md
import json
import os
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "pylib" / "custledger" / "lite" / "requirements.txt"

# Installed here as compiled wheels, but published on PyPI with a pure-Python wheel too (checked
# with `pip download NAME --platform any --only-binary=:all:`); in Pyodide that wheel installs,
# without the extension modules (xlwings' xlwingslib is only its calamine file reader).
PURE_WHEEL_ON_PYPI = {"xlwings"}


def version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["tool"]["custledger"]["pyodide"]


def lock_path() -> Path:
    return ROOT / "tests" / ".cache" / f"pyodide-{version()}" / "pyodide-lock.json"


def load_lock() -> dict:
    """The lock file, or a skip (a failure in CI) saying how to fetch it."""
    import pytest

    path = lock_path()
    if not path.is_file():
        text = f"{path.relative_to(ROOT)} missing: run .ci/setup (npm pack pyodide@{version()})"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(text)
        pytest.skip(text)
    return json.loads(path.read_text(encoding="utf-8"))


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def marker_env(lock: dict) -> dict:
    """PEP 508 marker values inside that Pyodide (what micropip evaluates)."""
    full = lock["info"]["python"]
    return {"sys_platform": "emscripten", "platform_system": "Emscripten", "os_name": "posix",
            "platform_machine": "wasm32", "implementation_name": "cpython",
            "platform_python_implementation": "CPython", "python_full_version": full,
            "python_version": ".".join(full.split(".")[:2]), "extra": ""}


def _extension_modules(dist) -> list[str]:
    """Dotted names of the extension modules (compiled files) a distribution installed."""
    out = []
    for f in dist.files or []:
        name = f.name
        suffix = next((s for s in importlib.machinery.EXTENSION_SUFFIXES if name.endswith(s)), None)
        if suffix is None:
            continue
        parts = [*f.parts[:-1], name[: -len(suffix)]]
        if all(p.isidentifier() for p in parts):       # not a vendored lib in pkg.libs/
            out.append(".".join(parts))
    return out


def _top_levels(dist) -> set[str]:
    tops = set()
    for f in dist.files or []:
        first = f.parts[0]
        if first.endswith((".dist-info", ".data")) or first in ("..", "__pycache__"):
            continue
        stem = first.split(".")[0] if len(f.parts) == 1 else first
        if stem.isidentifier() and not stem.startswith("__editable__"):
            tops.add(stem)
    return tops


def missing_compiled(lock: dict) -> tuple[set[str], set[str]]:
    """(top-level modules, extension modules) installed here that the pinned Pyodide cannot
    import: every module of a compiled distribution the lock lacks (rapidfuzz, fastexcel,
    msoffcrypto's compiled deps...), and the extension modules of a distribution that
    Pyodide installs from its pure-Python wheel instead (PURE_WHEEL_ON_PYPI)."""
    locked = {canonical(n) for n in lock["packages"]}
    provided = {imp for p in lock["packages"].values() for imp in p.get("imports", [])}
    tops: set[str] = set()
    exts: set[str] = set()
    for dist in md.distributions():
        name = canonical(dist.metadata["Name"] or "")
        compiled = _extension_modules(dist)
        if not compiled or name in locked:
            continue
        if name in PURE_WHEEL_ON_PYPI:
            exts.update(compiled)
        else:
            tops.update(t for t in _top_levels(dist) if t not in provided)
    return tops, exts


def _requires(dist_or_lines, env: dict) -> list[str]:
    """Canonical names of the requirements (Requires-Dist lines) that apply in ``env``."""
    from packaging.requirements import Requirement

    out = []
    for line in dist_or_lines or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(env):
            out.append(canonical(req.name))
    return out


def _installed() -> dict:
    return {canonical(d.metadata["Name"] or ""): d for d in md.distributions()}


def lite_roots(lock: dict) -> list[str]:
    """What a Lite workbook installs: the lines of lite/requirements.txt and custledger's own
    dependencies (pyproject.toml) as micropip evaluates their markers in Pyodide."""
    lines = [ln.split("#", 1)[0].strip() for ln in REQUIREMENTS.read_text(encoding="utf-8").splitlines()]
    with open(ROOT / "pyproject.toml", "rb") as fh:
        deps = tomllib.load(fh)["project"]["dependencies"]
    env = marker_env(lock)
    return _requires([ln for ln in lines if ln], env) + _requires(deps, env)


def lite_install_set(lock: dict) -> dict:
    """Every distribution that install brings (name -> "lock" | "pure" | "compiled" |
    "missing"), dependencies followed: the lock's ``depends`` for its packages, the installed
    dist's Requires-Dist otherwise."""
    env, installed = marker_env(lock), _installed()
    packages = {canonical(n): p for n, p in lock["packages"].items()}
    kinds: dict = {}
    todo = list(lite_roots(lock))
    while todo:
        name = todo.pop()
        if name in kinds:
            continue
        if name in packages:
            kinds[name] = "lock"
            todo += [canonical(d) for d in packages[name].get("depends", [])]
        elif name in installed:
            dist = installed[name]
            kinds[name] = "pure" if is_pure_wheel(dist) or name in PURE_WHEEL_ON_PYPI else "compiled"
            todo += _requires(dist.requires, env)
        else:
            kinds[name] = "missing"
    return kinds


def lite_blocked(lock: dict) -> tuple[set[str], set[str]]:
    """(top-level modules, extension modules) the Lite path cannot import: those of every
    installed distribution that the Lite install does not bring, of every compiled one the lock
    lacks (``missing_compiled``), and xlwings' extension modules."""
    kinds = lite_install_set(lock)
    installed = _installed()
    packages = {canonical(n): p for n, p in lock["packages"].items()}
    allowed = {imp for n in kinds if n in packages for imp in packages[n].get("imports", [])}
    allowed |= {t for n in kinds if n not in packages and n in installed for t in _top_levels(installed[n])}
    tops, exts = missing_compiled(lock)
    for name, dist in installed.items():
        if name not in kinds and name != "custledger":
            tops |= _top_levels(dist) - allowed
    return tops - set(sys.stdlib_module_names) - {"custledger"}, exts


def is_pure_wheel(dist) -> bool:
    """The installed wheel's tags (its WHEEL file) are all py*-none-any."""
    text = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]
    return bool(tags) and all(t.split("-")[1:] == ["none", "any"] for t in tags)


class Blocker:
    """A meta-path finder that makes the given modules unimportable, as in that Pyodide."""

    def __init__(self, tops, exts, label: str):
        self.tops, self.exts, self.label = set(tops), set(exts), label
        self.refused: list[str] = []

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.tops or fullname in self.exts:
            self.refused.append(fullname)
            raise ModuleNotFoundError(f"No module named {fullname!r} (not in {self.label})", name=fullname)
        return None

    def install(self) -> Blocker:
        """First on the meta path. Modules that site's .pth hooks imported at start-up stay;
        the runner reports any blocked module imported after this."""
        sys.meta_path.insert(0, self)
        return self
