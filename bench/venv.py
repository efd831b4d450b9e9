"""The benchmark's own environment for the reference engines (Inspect AI, TextArena).

They are installed from the package index into `.bench-env/` at the repo root on first use
(`python -m venv` + `pip install`), never into the arena's environment: their pins must not
move ours, and ours must not slow them down.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.common import REPO, Unavailable

ENV_DIR = REPO / ".bench-env"
# import name -> distribution; `openai` for Inspect's openai-api provider (bench/overhead.py)
PACKAGES = {"inspect_ai": "inspect-ai", "textarena": "textarena", "openai": "openai"}


def python() -> str:
    return str(ENV_DIR / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))


def _importable(module: str) -> bool:
    if not Path(python()).exists():
        return False
    return subprocess.run([python(), "-c", f"import {module}"], capture_output=True, timeout=120).returncode == 0


def ensure(module: str) -> str:
    """The venv interpreter with `module` importable; installs on first use. Raises Unavailable."""
    if _importable(module):
        return python()
    if not Path(python()).exists():
        print(f"bench: creating {ENV_DIR.name}/ for the reference engines (first run only)", file=sys.stderr)
        made = subprocess.run([sys.executable, "-m", "venv", str(ENV_DIR)], capture_output=True, text=True)
        if made.returncode != 0:
            raise Unavailable(f"python -m venv failed: {made.stderr.strip()[-200:]}")
    missing = [dist for mod, dist in PACKAGES.items() if not _importable(mod)]
    print(f"bench: pip install {' '.join(missing)} into {ENV_DIR.name}/ (first run only)", file=sys.stderr)
    try:
        pip = subprocess.run([python(), "-m", "pip", "install", "--quiet", *missing], capture_output=True,
                             text=True, timeout=900)
    except subprocess.TimeoutExpired:
        raise Unavailable(f"pip install {' '.join(missing)} took longer than 15 minutes") from None
    if pip.returncode != 0:
        lines = [ln for ln in pip.stderr.strip().splitlines() if ln.startswith("ERROR")] or pip.stderr.splitlines()
        raise Unavailable(f"pip could not install {PACKAGES.get(module, module)}: "
                          f"{(lines or ['unknown error'])[-1][:200]}")
    if not _importable(module):
        raise Unavailable(f"{module} installed but does not import in {ENV_DIR.name}/")
    return python()
