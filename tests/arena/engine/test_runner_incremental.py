"""Growing a tournament plays only the new matches: a player, a family or rounds added to a finished
tournament keep its matches, and the ratings equal those of a fresh tournament with the same matches.
Changing what a match is (a family option, the seed) starts a new tournament and says so."""
from __future__ import annotations

import copy
import sqlite3

from arena.config import parse_config
from arena.engine.runner import run
from arena.engine.store import Store

BASE = {
    "tournament": {"name": "grow", "families": ["connect-four"], "players": ["a", "b", "c"], "rounds": 1,
                   "seed": 3},
    "families": {"connect-four": {"rows": 4, "cols": 4, "connect": 3}},  # random players win and lose
    "variants": [{"name": n, "model": "mock/random"} for n in ("a", "b", "c", "d")],
}


def cfg(**tournament):
    data = copy.deepcopy(BASE)
    data["tournament"].update(tournament)
    return data


def ratings(run_dir):
    s = Store(run_dir, create=False)
    try:
        return sorted((r.variant, r.role, r.family, round(r.mu, 9), round(r.sigma, 9), r.matches, r.wins,
                       r.losses, r.draws) for r in s.ratings())
    finally:
        s.close()


def stored(run_dir):
    db = sqlite3.connect(run_dir / "arena.sqlite")
    try:
        return db.execute("SELECT tournament_id, family, seats, round, seed, status FROM matches "
                          "ORDER BY family, seats, round").fetchall()
    finally:
        db.close()


def test_an_added_player_plays_only_its_pairings_and_rates_like_a_fresh_tournament(tmp_path):
    grown, fresh = tmp_path / "grown", tmp_path / "fresh"
    first = run(parse_config(cfg()), grown)
    assert (first.finished, first.total) == (6, 6)  # 3 pairs x 2 seat orders

    # d first in the list: its matches come before the stored ones in the schedule, so the ratings
    # equal only when the stored matches are replayed in the new schedule's order.
    four = cfg(players=["d", "a", "b", "c"])
    again = run(parse_config(four), grown)

    assert again.tournament_id == first.tournament_id
    assert (again.finished, again.skipped, again.total) == (6, 6, 12)  # d's 3 pairs x 2 orders only
    assert len({r[0] for r in stored(grown)}) == 1
    alone = run(parse_config(four), fresh)
    assert alone.finished == 12
    assert [r[1:] for r in stored(grown)] == [r[1:] for r in stored(fresh)]  # the same matches and seeds
    assert ratings(grown) == ratings(fresh)


def test_a_player_listed_elsewhere_in_the_list_is_the_same_tournament(tmp_path):
    run(parse_config(cfg()), tmp_path)
    again = run(parse_config(cfg(players=["c", "a", "b"])), tmp_path)
    assert (again.finished, again.skipped) == (0, 6)


def test_rounds_one_then_two_plays_only_round_two(tmp_path):
    grown, fresh = tmp_path / "grown", tmp_path / "fresh"
    first = run(parse_config(cfg()), grown)
    second = run(parse_config(cfg(rounds=2)), grown)
    assert second.tournament_id == first.tournament_id
    assert (second.finished, second.skipped, second.total) == (6, 6, 12)
    run(parse_config(cfg(rounds=2)), fresh)
    assert ratings(grown) == ratings(fresh)


def test_an_added_family_plays_only_that_family(tmp_path):
    run(parse_config(cfg()), tmp_path)
    data = cfg(families=["connect-four", "chess"])
    data["families"]["chess"] = {"max_plies": 6}  # its own options do not change the other family's matches
    again = run(parse_config(data), tmp_path)
    assert (again.finished, again.skipped) == (6, 6)


def test_fewer_rounds_rate_only_the_current_definition(tmp_path):
    """Ratings are those of the tournament as it is now defined: a round dropped from the config no
    longer counts (its matches stay stored), exactly as a fresh one-round tournament."""
    grown, fresh = tmp_path / "grown", tmp_path / "fresh"
    run(parse_config(cfg(rounds=2)), grown)
    back = run(parse_config(cfg(rounds=1)), grown)
    assert (back.finished, back.skipped, back.total) == (0, 6, 6)
    assert len(stored(grown)) == 12
    run(parse_config(cfg(rounds=1)), fresh)
    assert ratings(grown) == ratings(fresh)
    # every other reader of ranked sets (Bradley-Terry, the report, the export) sees the same matches
    from arena.engine.bradley_terry import fit
    fits = []
    for d in (grown, fresh):
        s = Store(d, create=False)
        try:
            fits.append(sorted((r.variant, round(r.strength, 9), r.matches) for r in fit(s, bootstrap=20)))
        finally:
            s.close()
    assert fits[0] == fits[1]
    # and the round comes back when the config asks for it again, without a replay
    again = run(parse_config(cfg(rounds=2)), grown)
    assert (again.finished, again.skipped) == (0, 12)


def test_a_changed_family_option_is_a_new_tournament_and_says_so(tmp_path):
    first = run(parse_config(cfg()), tmp_path)
    data = cfg()
    data["families"]["connect-four"]["rows"] = 5
    said: list[str] = []
    second = run(parse_config(data), tmp_path, notify=said.append)
    assert second.tournament_id != first.tournament_id
    assert second.finished == 6
    assert len(said) == 1
    assert "family option connect-four.rows changed (4 -> 5)" in said[0]
    assert f"this is a new tournament {second.tournament_id}" in said[0]
    assert f"the old one ({first.tournament_id}) stays in the store" in said[0]
    # Back to the first option: the first tournament again, nothing to play.
    said.clear()
    back = run(parse_config(cfg()), tmp_path, notify=said.append)
    assert (back.tournament_id, back.finished, back.skipped) == (first.tournament_id, 0, 6)
    assert said == []


def test_a_changed_seed_is_a_new_tournament_and_says_so(tmp_path):
    run(parse_config(cfg()), tmp_path)
    said: list[str] = []
    second = run(parse_config(cfg(seed=4)), tmp_path, notify=said.append)
    assert second.finished == 6
    assert len(said) == 1 and said[0].startswith("seed changed (3 -> 4): this is a new tournament")


def test_a_resumed_partial_growth_ends_like_a_fresh_run(tmp_path):
    grown, fresh = tmp_path / "grown", tmp_path / "fresh"
    run(parse_config(cfg()), grown)
    four = cfg(players=["a", "b", "c", "d"], rounds=2)
    part = run(parse_config(four), grown, max_matches=5)  # a crash part-way through the growth
    assert part.finished == 5
    rest = run(parse_config(four), grown)
    assert (rest.finished, rest.skipped, rest.total) == (24 - 11, 11, 24)
    run(parse_config(four), fresh)
    assert ratings(grown) == ratings(fresh)


def test_a_loop_like_growth_replays_nothing_already_played(tmp_path):
    """What `arena loop` does between generations: the new checkpoint joins as a player (a variant
    declared at run time); its tournament plays only the new checkpoint's pairings."""
    import dataclasses

    from arena.records import Variant
    base = parse_config(cfg(players=["a", "b"]))
    played = [run(base, tmp_path).finished]
    current = base
    for gen in (1, 2):
        v = Variant(f"a-g{gen}", "mock/random")
        current = dataclasses.replace(current, variants={**current.variants, v.name: v},
                                      players=current.players + (v.name,))
        played.append(run(current, tmp_path).finished)
    assert played == [2, 4, 6]  # 2 players: 1 pair; then 2 and 3 new pairs, 2 seat orders each


def test_a_tournament_stored_by_an_older_arena_is_left_as_it_is(tmp_path):
    import json
    first = run(parse_config(cfg()), tmp_path)
    db = sqlite3.connect(tmp_path / "arena.sqlite")
    config = json.loads(db.execute("SELECT config FROM tournaments").fetchone()[0])
    del config["identity"]  # what an arena before identities stored
    db.execute("UPDATE tournaments SET id='grow-old', config=?", (json.dumps(config),))
    db.execute("UPDATE matches SET tournament_id='grow-old'")
    db.commit()
    db.close()
    said: list[str] = []
    again = run(parse_config(cfg()), tmp_path, notify=said.append)
    assert again.tournament_id == first.tournament_id and again.finished == 6
    assert said == [(f"tournament grow-old was stored by an older arena: this is a new tournament "
                     f"{first.tournament_id}; the old one (grow-old) stays in the store")]
