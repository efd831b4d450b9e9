"""The authored-task pipeline: authors propose, a check keeps the usable work, a panel ranks, the best is played."""
import asyncio
import random

import pytest

from arena.engine.gateway import CallFailed
from arena.records import AUTHOR, Variant
from tests.referees.ctxkit import make_ctx, variant
from tournaments.kit.authored import Authored, propose, rank_proposals
from tournaments.kit.extract import FormatError
from tournaments.kit.reask import Attempted


def check(text: str, author: str) -> str:
    if not text.startswith("TASK"):
        raise FormatError("start with TASK")
    return f"{author}: {text}"


def test_usable_work_is_ranked_by_the_panel_and_unusable_work_below_it():
    ctx = make_ctx([variant("a1", "constant", text="TASK one"), variant("a2", "constant", text="TASK two"),
                    variant("a3", "constant", text="nonsense"), variant("ref", "constant", text="A")],
                   referees=("ref",))
    prompt = [{"role": "user", "content": "Write a task."}]
    failures, details, sets = [], {}, []

    async def go():
        attempts = await propose(ctx, ["a1", "a2", "a3"], prompt, check, max_tokens=20, retries=1,
                                 what="task", failures=failures)
        return await rank_proposals(
            ctx, attempts, prompt=prompt, task="Tasks", rubric="Better tasks win.", criterion="task",
            render=str, meta_task="Rank tasks", meta=False, failures=failures, details=details, sets=sets,
            scored=True)

    authored = asyncio.run(go())
    assert [a.value for a in authored.valid] == ["a1: TASK one", "a2: TASK two"]
    assert [f.kind for f in failures] == ["unparseable", "unparseable"]
    assert authored.panel is not None and details["panels"][0]["criterion"] == "task"
    # a referee that always answers "A" ties every pair (its two seat orders disagree)
    (author_set,) = sets
    assert author_set.role == AUTHOR and author_set.criterion == "task"
    assert [(e.variant, e.rank, e.score) for e in author_set.entries] == [("a1", 0, 0.5), ("a2", 0, 0.5),
                                                                          ("a3", 1, 0.0)]
    assert authored.order() == [0, 1]
    assert authored.best(random.Random(0)).variant in ("a1", "a2")
    # the panel ordered none of the usable work: every pair is usable over unusable, verified by the check
    assert [e.verified for e in author_set.entries] == [True, True, False]


def test_a_panels_order_of_the_usable_work_is_not_claimed_as_verified():
    ctx = make_ctx([variant("a1", "constant", text="TASK one"), variant("a2", "constant", text="TASK two"),
                    variant("a3", "constant", text="nonsense"), variant("ref", "script", script=["A", "B"])],
                   referees=("ref",))
    prompt = [{"role": "user", "content": "Write a task."}]
    sets = []

    async def go():
        attempts = await propose(ctx, ["a1", "a2", "a3"], prompt, check, max_tokens=20, retries=0,
                                 what="task", failures=[])
        return await rank_proposals(ctx, attempts, prompt=prompt, task="Tasks", rubric="Better tasks win.",
                                    criterion="task", render=str, meta_task="Rank tasks", meta=False, failures=[],
                                    details={}, sets=sets)

    asyncio.run(go())
    (author_set,) = sets
    # the referee preferred the first task in both seat orders: a judgement, not an execution
    assert [(e.variant, e.rank) for e in author_set.entries] == [("a1", 0), ("a2", 1), ("a3", 2)]
    assert author_set.ranked_by.startswith("execution+referees:ref")
    assert not any(e.verified for e in author_set.entries)


def test_an_author_whose_call_fails_fails_the_match_once_the_other_authors_have_answered():
    # A failed call is not unusable work: ranking the others without it would rate a task set nobody
    # finished writing, so the CallFailed reaches the runner (match failed, replayed by a re-run).
    ctx = make_ctx([Variant("dead", "mock/fail", options={"kind": "fatal"}), variant("a1", "constant", text="TASK")])
    failures = []
    with pytest.raises(CallFailed, match="author dead: mock/fail"):
        asyncio.run(propose(ctx, ["dead", "a1"], [{"role": "user", "content": "Write a task."}], check,
                            max_tokens=20, retries=1, what="task", failures=failures))
    assert failures == []  # not recorded as a format failure
    assert sorted((c.variant, c.error is None) for c in ctx.calls) == [("a1", True), ("dead", False)]


def test_one_usable_proposal_is_played_without_a_panel_or_an_author_ranking():
    only = Authored([Attempted("a1", value="x", text="x"), Attempted("a2", text="bad")])
    assert only.ranks() == [0] and only.order() == [0] and only.best(random.Random(0)).variant == "a1"
    sets = []
    asyncio.run(rank_proposals(make_ctx([]), [Attempted("a1", value="x", text="x")], prompt=[], task="t", rubric="r",
                               criterion="task", render=str, meta_task="m", meta=False, failures=[], details={},
                               sets=sets))
    assert sets == []
