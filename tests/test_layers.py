"""The house's one-way flow is checked on every test run: an import that points up a floor fails here."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_module_imports_a_floor_above_its_own():
    lint = shutil.which("lint-imports")
    assert lint, "import-linter is part of the test extras: pip install -e '.[test]'"
    proc = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout, proc.stdout[-2000:]


def test_every_contract_names_real_modules():
    # A contract over a renamed module would pass vacuously; import-linter refuses unknown modules,
    # so also check the layers the contracts name still exist as packages or modules.
    import tomllib
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    names = {n.strip() for c in contracts for layer in c.get("layers", []) + c.get("modules", [])
             for n in layer.replace("|", ":").split(":")}
    for name in names:
        path = ROOT / name.replace(".", "/")
        assert path.is_dir() or path.with_suffix(".py").is_file(), name
