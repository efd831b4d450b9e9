"""`arena export soft`: each answer's win probability against the rest of its ranked set (SPPO-style)."""
import json
from pathlib import Path

import pytest

from arena.cli import main
from arena.records import PLAYER, Entry, RankedSet
from arena.training.soft import export_soft, win_rates
from tests.arena.training.test_export import U, commit, families, make_run  # noqa: F401 - fixture
from arena.engine.store import Store


def read(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_win_rates_count_ties_half_and_average_one_half():
    rates = win_rates([0, 1, 1, 2])
    assert rates == [1.0, 0.5, 0.5, 0.0]
    assert sum(win_rates([0, 0, 1])) / 3 == pytest.approx(0.5)


def test_sampled_set_becomes_one_row_with_every_answer(tmp_path):
    run = make_run(tmp_path / "run")
    store = Store(run)
    # two variants, three samples each, scored against a real output
    sampled = RankedSet(PLAYER, U("What does print(2**3) print?"), [
        Entry("a", "8", 0, 1.0, 0, verified=True), Entry("a", "6", 2, 0.2, 0), Entry("a", "8", 0, 1.0, 0),
        Entry("b", "9", 1, 0.5, 1), Entry("b", "", 3, 0.0, 1), Entry("b", "16", 2, 0.2, 1)], ranked_by="execution")
    commit(store, "t1", "quiz", 9, [sampled])
    store.close()
    stats = export_soft(run, tmp_path / "soft.jsonl")
    rows = read(tmp_path / "soft.jsonl")
    row = next(r for r in rows if r["match_id"] == "t1-m9")
    # the empty answer is no answer; five remain, ranks 0, 2, 0, 1, 2
    assert [r["content"] for r in row["responses"]] == ["8", "6", "8", "9", "16"]
    assert [r["win_rate"] for r in row["responses"]] == [0.875, 0.125, 0.875, 0.5, 0.125]
    assert row["responses"][0]["verified"] is True and row["ranked_by"] == "execution"
    # ties, chess games and identical-only sets are skipped as in the DPO export
    assert stats.skipped["all-tied sets"] == 1
    assert stats.skipped["sets not exportable (whole games or transcripts)"] == 1
    assert all(r["role"] != "x" for r in rows) and stats.sets == len(rows)


def test_cli_writes_soft_targets_and_rejects_a_bad_role(tmp_path, capsys):
    run = make_run(tmp_path / "run")
    assert main(["export", "soft", "--run-dir", str(run), "--out", str(tmp_path / "s.jsonl"), "--role", "player"]) == 0
    rows = read(tmp_path / "s.jsonl")
    assert rows and {r["role"] for r in rows} == {PLAYER}
    assert main(["export", "soft", "--run-dir", str(run), "--out", str(tmp_path / "t.jsonl"), "--role", "judge"]) != 0
    assert "unknown role 'judge'" in capsys.readouterr().err
