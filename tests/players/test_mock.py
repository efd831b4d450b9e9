"""The scripted players pick from a call's closed choices, whether the family passed them as
choices or as a format constraint."""
import asyncio

from arena.records import Constraint, SamplingParams, Variant
from players.base import Request
from players.mock import create

MOVES = ("a1", "b2", "c3", "d4")


def _answers(kind: str, **req) -> list[str]:
    backend = create(Variant("m", f"mock/{kind}"))
    return [asyncio.run(backend.complete(Request([{"role": "user", "content": "move?"}],
                                                 SamplingParams(seed=s), **req))).text for s in range(20)]


def test_random_and_first_pick_from_a_choices_constraint_when_no_choices_are_given():
    picked = _answers("random", constraint=Constraint(choices=MOVES))
    assert set(picked) <= set(MOVES) and len(set(picked)) > 1
    assert set(_answers("first", constraint=Constraint(choices=MOVES))) == {"a1"}


def test_explicit_choices_still_win_and_a_schema_constraint_is_free_text():
    assert set(_answers("first", choices=("x",), constraint=Constraint(choices=MOVES))) == {"x"}
    assert set(_answers("first", constraint=Constraint.json_schema({"type": "object"}))) == {"ok"}
