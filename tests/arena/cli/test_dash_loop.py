"""The Loop screen watches a real `arena loop` generation by generation: one row per generation
with its checkpoint, pairs exported / trained on, training steps and loss, the paired held-out lift
with its interval, REGRESSION, and the minutes it took (generation.json, beside train.json and
eval.json). The loop is launched from the command line, in this process, on the scripted "lines"
family of tests/arena/training/test_train.py (1 optimizer step, 1 task per evaluation set): minutes
on 2 cores (9.5 at a load average of 8); it runs only with the training extras."""
from __future__ import annotations

import asyncio
import json

import pytest

pytest.importorskip("textual")

from textual.widgets import DataTable, Static  # noqa: E402

from arena import plugins  # noqa: E402
from arena.cli import main  # noqa: E402
from arena.cli.dash.app import DashApp  # noqa: E402
from tests.arena.cli.test_dash import text_of, type_into, until  # noqa: E402
from tests.arena.training.test_train import needs_extras  # noqa: E402


@needs_extras
def test_the_loop_screen_shows_each_generation_of_a_loop_run_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setitem(plugins.registered(plugins.FAMILIES), "lines", "tests.arena.training.test_train:create_lines")
    cfg = tmp_path / "loop.toml"
    cfg.write_text('[tournament]\nname = "t"\nfamilies = ["lines"]\nplayers = ["smol-cold", "smol-warm"]\n')
    run_dir = tmp_path / "runs" / "mine"
    assert main(["loop", str(cfg), "--run-dir", str(run_dir), "--display", "none", "--max-steps", "1",
                 "--batch-size", "1", "--grad-accum", "1", "--no-embeddings", "--eval-tasks", "1", "--no-guard",
                 "--eval", "none"]) == 0
    gen = run_dir / "loop" / "gen1"
    summary = json.loads((gen / "generation.json").read_text())
    trained = json.loads((gen / "train.json").read_text())
    report = json.loads((gen / "eval.json").read_text())
    pairs = len((gen / "pairs.jsonl").read_text().splitlines())
    assert summary["exported"] == pairs and summary["variant"] == "smol-cold-g1" and summary["seconds"] > 0
    lift = report["diffs"]["child"]["predict-output similarity"]

    async def watch():
        app = DashApp(tmp_path / "runs", refresh_s=0.2)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("l")
            screen = app.screen
            await type_into(pilot, "#run_dir", "mine")
            table = screen.query_one("#gens", DataTable)
            await until(pilot, lambda: table.row_count == 1, 10, "the generation row")
            row = [str(c) for c in table.get_row_at(0)]
            assert row[:4] == ["1", "smol-cold-g1", f"{pairs}/{trained['pairs_used']}",
                               f"{trained['steps']} {trained['metrics']['train_loss']:.3f}"]
            assert row[4] == f"{lift['mean']:+.2f} [{lift['lo']:+.2f}, {lift['hi']:+.2f}]"
            assert row[5] == ("REGRESSION" if any(f.startswith("REGRESSION") for f in report["findings"]) else "")
            assert row[6] == f"{summary['seconds'] / 60:.1f}"
            findings = text_of(screen.query_one("#findings", Static))
            assert "gen 1 (done)" in findings and report["findings"][0][:30] in findings
    asyncio.run(watch())
