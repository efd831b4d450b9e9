"""Secrets drill: runs with fake keys in the standard variables (OPENAI_API_KEY, ANTHROPIC_API_KEY,
<SERVICE>_API_KEY) against local servers that check them, reject wrong ones while echoing them
back (as some providers do), fail now and then, and in one case return a key inside a model
answer. Afterwards no key, nor a fragment of one, is in any byte under the run directory (the
SQLite database, its WAL and shm files), in the exports, or in anything the commands printed.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fault_server import FaultServer

REPO = Path(__file__).resolve().parents[2]
OPENAI_KEY = "sk-test-DRILL-openai-7f3a9c2e1b5d"
ANTHROPIC_KEY = "sk-ant-test-DRILL-anthropic-4d8e2f1a9c"
SERVICE_KEY = "drillsvc-SECRET-9a8b7c6d5e4f"  # no sk- prefix: only exact scrubbing can catch it
WRONG_KEY = "sk-test-DRILL-revoked-0c1d2e3f4a"
SECRETS = [OPENAI_KEY, ANTHROPIC_KEY, SERVICE_KEY, WRONG_KEY,
           "DRILL-openai-7f3a", "DRILL-anthropic-4d8e", "SECRET-9a8b7c", "DRILL-revoked-0c1d"]
LEGAL = re.compile(r"Legal columns:\s*([\d ]+)\s*$")


def mover(body: dict) -> str:
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    content = users[-1].get("content", "") if users else ""
    if isinstance(content, list):
        content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
    found = LEGAL.search(content)
    return found.group(1).split()[0] if found else "2"


def leaky(body: dict) -> str:
    """A server that puts the caller's key in its answer (a reflecting proxy, a hostile host)."""
    return f"{mover(body)} (billed to key {SERVICE_KEY})"


def _arena(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "arena.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=180, env=env)


def test_no_key_reaches_the_store_the_exports_or_the_screen(tmp_path):
    import os
    env = {**os.environ, "OPENAI_API_KEY": OPENAI_KEY, "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
           "DRILLSVC_API_KEY": SERVICE_KEY, "REVOKED_KEY": WRONG_KEY}
    with FaultServer(reply=mover, api_key=OPENAI_KEY, failure_rate=0.2, failure_kinds=("500", "429", "drop"),
                     retry_after=0.05, seed=2) as openai_srv, \
            FaultServer(reply=mover, api_key=ANTHROPIC_KEY) as anthropic_srv, \
            FaultServer(reply=leaky, api_key=SERVICE_KEY) as service_srv:
        cfg = tmp_path / "t.toml"
        cfg.write_text(f"""
[tournament]
name = "secrets"
families = ["connect-four"]
players = ["gpt", "claude", "svc", "revoked", "claude-revoked"]
max_attempts = 8

[families.connect-four]
rows = 4
cols = 4
connect = 3

[[variants]]
name = "gpt"
model = "openai/gpt-drill"
base_url = "{openai_srv.openai_url}"

[[variants]]
name = "claude"
model = "anthropic/claude-drill"
base_url = "{anthropic_srv.url}"

[[variants]]
name = "svc"
model = "openai-api/drillsvc/model"
base_url = "{service_srv.openai_url}"

[[variants]]
name = "revoked"
model = "openai/gpt-drill"
base_url = "{openai_srv.openai_url}"
api_key_env = "REVOKED_KEY"

[[variants]]
name = "claude-revoked"
model = "anthropic/claude-drill"
base_url = "{anthropic_srv.url}"
api_key_env = "REVOKED_KEY"
""")
        run_dir = tmp_path / "run"
        outputs = [_arena("run", str(cfg), "--run-dir", str(run_dir), "--display", "plain", env=env)]
        echoed = [h.get("authorization", "") + h.get("x-api-key", "") for h in openai_srv.headers]
        echoed += [h.get("x-api-key", "") for h in anthropic_srv.headers]

    assert any(WRONG_KEY in h for h in echoed) and any(OPENAI_KEY in h for h in echoed)  # keys did go over the wire
    assert outputs[0].returncode == 4, outputs[0].stderr  # the revoked variants' matches failed
    assert "401" in outputs[0].stdout  # ... with the provider's reason shown
    import sqlite3
    db = sqlite3.connect(run_dir / "arena.sqlite")
    first_match = db.execute("SELECT id FROM matches WHERE status='failed' LIMIT 1").fetchone()[0]
    leaked_answers = db.execute("SELECT COUNT(*) FROM calls WHERE response LIKE '%billed to key%'").fetchone()[0]
    db.close()
    assert leaked_answers > 0  # the leaky server's answers were stored, without the key
    exports = tmp_path / "exports"
    exports.mkdir()
    outputs += [
        _arena("show", first_match, "--run-dir", str(run_dir), env=env),
        _arena("ratings", "--run-dir", str(run_dir), env=env),
        _arena("export", "matches", "--run-dir", str(run_dir), "--out", str(exports / "matches.jsonl"), env=env),
        _arena("export", "dpo", "--run-dir", str(run_dir), "--out", str(exports / "pairs.jsonl"), env=env),
    ]
    assert all(o.returncode == 0 for o in outputs[1:]), [o.stderr for o in outputs[1:]]

    files = [p for p in [*run_dir.rglob("*"), *exports.rglob("*")] if p.is_file()]
    assert {p.name for p in files} >= {"arena.sqlite", "matches.jsonl", "pairs.jsonl"}
    for path in files:
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret!r} found in {path.name}"
    for out in outputs:
        for secret in SECRETS:
            assert secret not in out.stdout and secret not in out.stderr, secret


# -- credentials in the config: refused when it is read, never echoed -------------------------------------------
PASSWORD = "hunter2-DRILL-pw-5e6f"
PASTED = "drillsvc-PASTED-key-1a2b3c4d"  # a key pasted where the variable's name belongs


def _variant_config(body: str) -> str:
    return f'[tournament]\nfamilies = ["connect-four"]\nplayers = ["v", "first"]\n[[variants]]\nname = "v"\n{body}\n'


CREDENTIAL_CONFIGS = {
    "openai-base-url": f'model = "openai-api/drillsvc/m"\nbase_url = "http://admin:{PASSWORD}@127.0.0.1:9/v1"',
    "openai-base-urls": f'model = "openai-api/drillsvc/m"\nbase_urls = ["http://127.0.0.1:9/v1", '
                        f'"https://u:{PASSWORD}@example.com/v1"]',
    "openai-user-only": f'model = "openai/gpt-x"\nbase_url = "https://{PASSWORD}@example.com/v1"',
    "anthropic-base-url": f'model = "anthropic/claude-x"\nbase_url = "https://admin:{PASSWORD}@example.com"',
    "wrong-type-with-credentials": f'model = "openai-api/drillsvc/m"\nbase_url = ["http://admin:{PASSWORD}@h/v1"]',
    "not-http-with-credentials": f'model = "openai-api/drillsvc/m"\nbase_url = "ftp://admin:{PASSWORD}@h/v1"',
    "key-in-api-key-env": f'model = "openai/gpt-x"\napi_key_env = "{PASTED}"',
    "sk-key-in-api-key-env": f'model = "anthropic/claude-x"\napi_key_env = "sk-ant-{PASTED}"',
}


def _assert_refused_without_echo(code: int, capsys, run_dir: Path) -> str:
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2 and err.startswith("arena: ") and "\n" not in err, (code, err)
    for secret in (PASSWORD, PASTED, "PASTED-key", "DRILL-pw"):
        assert secret not in captured.out + captured.err, err
    for path in (p for p in run_dir.rglob("*") if p.is_file()) if run_dir.exists() else ():
        assert PASSWORD.encode() not in path.read_bytes() and PASTED.encode() not in path.read_bytes(), path
    return err


@pytest.mark.parametrize("case", sorted(CREDENTIAL_CONFIGS))
def test_credentials_in_the_config_are_refused_and_never_echoed(case, tmp_path, capsys, monkeypatch):
    from arena.cli import main
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    cfg = tmp_path / "c.toml"
    cfg.write_text(_variant_config(CREDENTIAL_CONFIGS[case]))
    run_dir = tmp_path / "run"
    err = _assert_refused_without_echo(main(["run", str(cfg), "--run-dir", str(run_dir), "--display", "none"]),
                                       capsys, run_dir)
    assert ("credential" in err or "api_key_env" in err), err


def test_a_base_url_with_credentials_from_the_environment_is_refused(tmp_path, capsys, monkeypatch):
    from arena.cli import main
    monkeypatch.setenv("DRILLSVC_BASE_URL", f"http://admin:{PASSWORD}@127.0.0.1:9/v1")
    cfg = tmp_path / "c.toml"
    cfg.write_text(_variant_config('model = "openai-api/drillsvc/m"'))
    run_dir = tmp_path / "run"
    err = _assert_refused_without_echo(main(["run", str(cfg), "--run-dir", str(run_dir), "--display", "none"]),
                                       capsys, run_dir)
    assert "DRILLSVC_BASE_URL" in err and "credential" in err
