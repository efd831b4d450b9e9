"""What `arena loop` and `arena run` play with no config: sized for the signal (issue 13)."""
from __future__ import annotations

from arena.config import load_config, parse_config
from arena.training.loop import LOOP_DEFAULT


def _configs():
    return {"loop": parse_config(LOOP_DEFAULT, "<loop default>"), "run": load_config(None)}


def test_the_default_loop_and_run_have_two_referees_so_predict_output_referees_are_rated():
    # a referee's accuracy against the executed truth is a rated match only with 2+ referees judging
    for which, cfg in _configs().items():
        assert "predict-output" in cfg.families, which
        refs = cfg.referees
        assert len(refs) >= 2 and not set(refs) & set(cfg.players), which  # seated players never judge
        assert all(cfg.variants[r].provider == "local" for r in refs), which  # likelihood verdicts need local
        # two ways of judging, not one twice: under one method and two system prompts they ranked
        # every pair alike, so no referee match was decisive
        chosen = cfg.family_options["predict-output"]["referee_methods"]
        assert sorted(chosen) == sorted(refs) and len(set(chosen.values())) == len(refs), which


def test_the_default_run_has_two_authors_in_every_predict_output_match():
    # with only the seated models as authors, a match with `random` seated had one proposal, never ranked
    cfg = load_config(None)
    assert len(cfg.authors) == 2 and set(cfg.authors) <= set(cfg.players)
    assert all(cfg.variants[a].provider == "local" for a in cfg.authors)


def test_the_last_tournament_rates_the_lineage_only_in_a_few_rounds():
    from arena.training.loop import RATING_ROUNDS, rating_config, with_variant
    cfg = parse_config(LOOP_DEFAULT, "<loop default>")
    child = cfg.variants["smol-cold"].__class__("smol-cold-g1", "local/smollm2-135m")
    grown = with_variant(cfg, child)
    rating = rating_config(grown, ["smol-cold", "smol-cold-g1"], RATING_ROUNDS)
    # the child against its ancestors, not the sampling sibling's old pairings again: 2 seat orders x rounds
    assert rating.players == ("smol-cold", "smol-cold-g1") and rating.rounds == RATING_ROUNDS < cfg.rounds
    assert rating.name != cfg.name and rating.referees == cfg.referees and rating.families == cfg.families
    assert rating_config(grown, ["smol-cold", "smol-cold-g1"], None) is grown  # None: the whole tournament again
