"""The loop steers the predict-output curriculum between generations: the solve rates per tier of
the matches a generation played pick the next generation's tier centre (a real scripted
tournament through the runner and the store; no training needed to decide it)."""
from __future__ import annotations

from arena.config import parse_config
from arena.engine.runner import run
from arena.training.loop import tier_step

WRONG = "```\nnothing like it\n```"


def config(center: float):
    return parse_config({
        "tournament": {"name": "cur", "families": ["predict-output"], "players": ["c1", "c2"], "rounds": 2, "seed": 3},
        "families": {"predict-output": {"tier_center": center, "meta_judging": False}},
        "variants": [{"name": n, "model": "mock/constant", "text": WRONG} for n in ("c1", "c2")]})


def test_solve_rates_of_a_generation_move_the_next_tier_centre(tmp_path):
    cfg = config(1.0)
    summary = run(cfg, tmp_path / "run")
    assert summary.finished == 4
    nxt, step = tier_step(cfg, tmp_path / "run", summary.tournament_id, "c1")
    # nobody solved anything: the next generation plays easier programs, and says so
    assert step["center"] == 1.0 and step["next_center"] == 0.5 and step["matches"] == 4
    assert step["solve_rates"] and set(step["solve_rates"].values()) == {0.0}
    assert set(step["solve_rates"]) <= {0, 1, 2}
    # the centre is part of the next generation's config, so its matches are other matches (replay stays exact)
    assert nxt.family_options["predict-output"]["tier_center"] == 0.5 and nxt.tournament_id != cfg.tournament_id
    assert cfg.family_options["predict-output"]["tier_center"] == 1.0  # the played config is unchanged
    # a generation that played no match of the tournament leaves the centre where it is
    same, idle = tier_step(cfg, tmp_path / "run", summary.tournament_id, "nobody")
    assert idle["next_center"] == 1.0 and idle["matches"] == 0 and same.tournament_id == cfg.tournament_id
    # again from the store: the same decision (a resumed loop decides as the first run did)
    assert tier_step(cfg, tmp_path / "run", summary.tournament_id, "c1")[1] == step


def test_a_fixed_tier_or_a_loop_without_predict_output_is_left_alone(tmp_path):
    cfg = parse_config({"tournament": {"name": "c", "families": ["chess"], "players": ["random", "first"]}})
    assert tier_step(cfg, tmp_path, "any", "random") == (cfg, None)
    fixed = config(1.0)
    fixed.family_options["predict-output"]["tier"] = 0
    assert tier_step(fixed, tmp_path, "any", "c1") == (fixed, None)
