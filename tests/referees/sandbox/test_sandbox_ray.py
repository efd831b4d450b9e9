"""The sandbox on a local Ray cluster: the same runs give the same results as at home, on a worker
node; a run without a cluster never loads Ray; a bad address or a missing cluster is one line."""
import subprocess
import sys
from pathlib import Path

import pytest

from referees.sandbox import run_python_sync
from tests.support.ray_cluster import local_cluster

ray = pytest.importorskip("ray")
REPO = Path(__file__).resolve().parents[3]

PROGRAMS = {
    "ok": "print(sum(range(10)))",
    "error": "import sys\nprint('partial')\nsys.exit(3)",
    "exception": "raise ValueError('boom')",
    "timeout": "while True:\n    pass",
    "network": "import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=1)",
    "stdin": "print(input()[::-1])",
}


def test_sandbox_ray_without_a_cluster_is_refused(tmp_path):
    from arena import cluster as arena_cluster
    from referees.sandbox import remote
    assert arena_cluster.connected() is None  # runs before the module's cluster exists
    with pytest.raises(arena_cluster.ClusterError, match='sandbox = "ray" needs a cluster'):
        remote.place(None, "ray")
    assert remote.place(None, "auto") == "local" and not remote.active()


@pytest.fixture(scope="module")
def cluster():
    with local_cluster({"num_cpus": 1}) as (c, _):
        yield c


def _summary(result):
    return (result.status, result.exit_code, result.stdout, result.isolation)


def test_programs_run_on_a_worker_node_with_the_verdicts_they_get_at_home(cluster):
    from arena import cluster as arena_cluster
    from referees.sandbox import remote
    home = {name: run_python_sync(code, timeout_s=2, stdin="abc\n") for name, code in PROGRAMS.items()}
    assert remote.place(cluster.address, "auto") == "ray"
    try:
        away = {name: run_python_sync(code, timeout_s=2, stdin="abc\n") for name, code in PROGRAMS.items()}
    finally:
        remote.use_cluster(False)
    alive = {n["NodeID"] for n in ray.nodes() if n["Alive"] and n["Resources"].get("CPU")}
    for name in PROGRAMS:
        assert _summary(away[name]) == _summary(home[name]), name
        assert home[name].node is None and away[name].node in alive, name
    assert home["timeout"].status == "timeout" and home["ok"].stdout == "45\n"
    assert "node" not in home["ok"].to_dict() and away["ok"].to_dict()["node"] == away["ok"].node
    assert arena_cluster.connected().nodes == 2


def _arena(tmp_path, *args, toml=""):
    cfg = tmp_path / "t.toml"
    cfg.write_text('[tournament]\nfamilies = ["predict-output"]\nplayers = ["a", "b"]\n' + toml +
                   '[[variants]]\nname = "a"\nmodel = "mock/random"\n[[variants]]\nname = "b"\nmodel = "mock/first"\n')
    code = ("import sys; from arena.cli import main; rc = main(sys.argv[1:]); "
            "print('RAY LOADED' if 'ray' in sys.modules else 'NO RAY'); sys.exit(rc)")
    return subprocess.run([sys.executable, "-c", code, "run", str(cfg), "--run-dir", str(tmp_path / "r"),
                           "--display", "none", *args], cwd=REPO, capture_output=True, text=True, timeout=120)


def test_a_run_without_a_cluster_never_imports_ray(tmp_path):
    proc = _arena(tmp_path)
    assert proc.returncode == 0, proc.stderr[-500:]
    assert proc.stdout.strip().endswith("NO RAY")


def test_a_bad_cluster_address_or_setting_is_one_line_not_a_hang(tmp_path):
    for args, toml, said in [(("--ray", "127.0.0.1:9"), "", "cannot reach the Ray cluster at 127.0.0.1:9"),
                             (("--ray", "nowhere"), "", "not an address"),
                             ((), 'sandbox = "ray"\n', 'sandbox = "ray" needs a cluster'),
                             ((), 'sandbox = "elsewhere"\n', "sandbox")]:
        proc = _arena(tmp_path, *args, toml=toml)
        err = proc.stderr.strip()
        assert proc.returncode == 2 and said in err and len(err.splitlines()) == 1, (args, toml, proc.stderr[-600:])
