from tournaments.formats.round_robin import match_id, round_robin, seat_orders


def test_two_seat_round_robin_meets_every_pair_in_both_orders():
    sched = round_robin("t", "chess", ["a", "b", "c"], seats=2, rounds=2, seed=1)
    assert len(sched) == 3 * 2 * 2  # pairs x orders x rounds
    seatings = [m.seats for m in sched if m.round == 0]
    assert sorted(seatings) == sorted([("a", "b"), ("b", "a"), ("a", "c"), ("c", "a"), ("b", "c"), ("c", "b")])
    assert [m.seq for m in sched] == list(range(len(sched)))


def test_k_seat_groups_rotate_so_everyone_takes_every_seat():
    sched = round_robin("t", "social", ["a", "b", "c", "d"], seats=3, rounds=1, seed=1)
    assert len(sched) == 4 * 3  # C(4,3) groups x 3 rotations
    for group_seats in {frozenset(m.seats) for m in sched}:
        orders = [m.seats for m in sched if frozenset(m.seats) == group_seats]
        for seat in range(3):
            assert sorted(o[seat] for o in orders) == sorted(group_seats)
    assert seat_orders(["x", "y"]) == [("x", "y"), ("y", "x")]


def test_ids_and_seeds_are_deterministic_and_distinct():
    a = round_robin("t", "chess", ["a", "b"], 2, 3, seed=5)
    b = round_robin("t", "chess", ["a", "b"], 2, 3, seed=5)
    assert [(m.match_id, m.seed) for m in a] == [(m.match_id, m.seed) for m in b]
    assert len({m.match_id for m in a}) == len(a)
    other_seed = round_robin("t", "chess", ["a", "b"], 2, 3, seed=6)
    assert [m.match_id for m in a] == [m.match_id for m in other_seed]  # ids name the cell...
    assert [m.seed for m in a] != [m.seed for m in other_seed]  # ...the seed changes the play
    assert match_id("t", "chess", ["a", "b"], 0, 0) != match_id("t2", "chess", ["a", "b"], 0, 0)


def test_a_match_is_named_by_its_cell_not_by_the_player_list_or_the_rounds():
    small = round_robin("t", "social", ["a", "b", "c"], 3, 1, seed=5, key="k")
    grown = round_robin("t", "social", ["d", "c", "a", "b"], 3, 2, seed=5, key="k")
    cells = lambda s: {(m.seats, m.round, m.match_id, m.seed) for m in s}
    assert cells(small) <= cells(grown)  # another player, another round, another list order: same matches
    assert {m.match_id for m in round_robin("t", "social", ["a", "b", "c"], 3, 1, seed=5, key="other")}.isdisjoint(
        m.match_id for m in small)  # the family's key (its options, the panel...) names the match too
    redefined = round_robin("t", "social", ["a", "b", "c"], 3, 1, seed=5, key="k", seat_keys={"a": "v2"})
    assert {m.match_id for m in redefined}.isdisjoint(m.match_id for m in small)  # so does a seat's definition
    other_tournament = round_robin("t2", "social", ["a", "b", "c"], 3, 1, seed=5, key="k")
    assert [m.seed for m in other_tournament] == [m.seed for m in small]  # the seed comes from the cell
    assert {m.match_id for m in other_tournament}.isdisjoint(m.match_id for m in small)
