"""`arena run`'s live view and the ETA both views show: variant names (not backend keys), match
ids, elapsed time, an ETA weighted by each family's measured match times, running vs queued,
and a frame that fits 80x24."""
from __future__ import annotations

import json

from arena.cli import main
from arena.cli.dash.progress import LIVE_NAME, eta_seconds
from arena.engine.store import Store

MOCK = """
[tournament]
name = "view"
families = ["chess", "connect-four"]
players = ["random", "first", "second"]
[[variants]]
name = "second"
model = "mock/first"
[families.chess]
max_plies = 12
"""


def simulate(durations: list[tuple[str, float]], parallel: int) -> list[tuple[str, float, float]]:
    """(family, started, finished) of matches played `parallel` at a time, in schedule order."""
    free = [0.0] * parallel
    out = []
    for family, seconds in durations:
        free.sort()
        start = free[0]
        free[0] = start + seconds
        out.append((family, start, start + seconds))
    return out


def test_the_eta_weights_each_family_by_its_measured_match_times():
    # 20 quick chess matches then 6 slow trivia ones, two at a time; trivia was timed in an earlier
    # tournament of the store. Counting matches alone says ~45 s left after 8 chess matches; the
    # truth is ~66 s.
    schedule = [("chess", 5.0)] * 20 + [("trivia", 20.0)] * 6
    played = simulate(schedule, 2)
    end = max(e for _, _, e in played)
    totals = {"chess": 20, "trivia": 6}
    history = [("trivia", 0.0, 20.0)]
    for n in (4, 8, 16, 20, 23):
        done = sorted(played, key=lambda r: r[2])[:n]
        now = done[-1][2]
        eta = eta_seconds(done, totals, since=0.0, now=now, history=history, in_flight=min(2, 26 - n))
        truth = end - now
        assert abs(eta - truth) <= 0.25 * truth + 5, (n, eta, truth)
    unweighted = (26 - 8) / (8 / sorted(played, key=lambda r: r[2])[7][2])  # the old matches/second rule
    assert abs(unweighted - (end - 20.0)) > 0.25 * (end - 20.0)


def test_the_eta_is_unknown_only_before_the_first_match_and_zero_when_done():
    assert eta_seconds([], {"chess": 4}, since=0.0, now=10.0) is None
    assert eta_seconds([("chess", 0.0, 2.0)], {"chess": 4}, since=0.0, now=2.0) == 6.0  # one at a time
    assert eta_seconds([("chess", 0.0, 2.0)] * 4, {"chess": 4}, since=0.0) == 0.0


def test_the_run_view_names_variants_shows_ids_and_timing_and_fits_80x24(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")
    cfg = tmp_path / "t.toml"
    cfg.write_text(MOCK)
    run_dir = tmp_path / "run"
    assert main(["run", str(cfg), "--run-dir", str(run_dir), "--display", "rich"]) == 0
    out = capsys.readouterr().out
    frame = out.split("\n")
    top = max(i for i, line in enumerate(frame) if line.startswith("╭"))
    bottom = max(i for i, line in enumerate(frame) if line.startswith("╰"))
    assert top < bottom and bottom - top + 1 <= 24  # the whole last frame, top to bottom
    assert all(len(line) <= 80 for line in frame[top:bottom + 1])
    assert "mock|" not in out and "random" in out and "second, first" not in out
    assert "first, second" in out  # two variants on one model: both named on its row
    assert "elapsed" in out and "ETA 0m00s" in out
    store = Store(run_dir, create=False)
    try:
        ids = [m["id"][:10] for m in store.iter_matches()]
    finally:
        store.close()
    assert any(i in out for i in ids)
    live = json.loads((run_dir / LIVE_NAME).read_text())  # what a dashboard in another process reads
    assert live["running"] is False and live["finished"] == len(ids)
    assert {tuple(m["variants"]) for m in live["models"]} == {("random",), ("first", "second")}
