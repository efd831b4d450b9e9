import asyncio

import pytest

from arena.engine.family import FamilyOptionError, create_family
from tests.referees.ctxkit import make_ctx, variant
from tournaments.families.trivia import cloze, scoring
from tournaments.families.trivia.family import NO_ANSWER, QA_SCHEMA, parse_answer, parse_qa, truth_ranks
from tournaments.families.trivia.pages import LocalPages, Page
from tournaments.kit.extract import FormatError
from tests.support.spy import spy_on

QA = "Question: Which mould did Fleming notice in 1928?\nAnswer: Penicillium"


def test_parse_question_answer_forms():
    assert parse_qa(QA) == ("Which mould did Fleming notice in 1928?", "Penicillium")
    assert parse_qa('{"question": "In which year was the Eiffel Tower finished?", "answer": 1889}') == \
        ("In which year was the Eiffel Tower finished?", "1889")
    # what a 135M model writes: a lead-in, quotes, "the answer is"
    assert parse_qa('A question would be: "Which river has the largest delta?"\nThe answer is: "Danube"') == \
        ("Which river has the largest delta?", "Danube")
    assert parse_qa("The question is: What colour is chlorophyll?") == ("What colour is chlorophyll?", NO_ANSWER)
    assert parse_qa('The question is: What is the answer to the question "Which antibiotic came first?"') == \
        ("Which antibiotic came first?", NO_ANSWER)
    assert parse_qa("Question: Who beat Kasparov in 1997? Answer: Deep Blue.") == ("Who beat Kasparov in 1997?", "Deep Blue")


@pytest.mark.parametrize("junk", ["", "   ", "I cannot do that.", "Question: Why?", "Question: " + "x" * 400 + "?"])
def test_unusable_questions_raise_format_error(junk):
    with pytest.raises(FormatError):
        parse_qa(junk)


def test_answers_and_heuristic_truth():
    assert parse_answer("Answer: Paris.") == "Paris."
    with pytest.raises(FormatError):
        parse_answer("  \n ")
    assert truth_ranks(["It is Penicillium.", "Aspergillus"], "Penicillium") == [0, 1]
    assert truth_ranks(["Penicillium", "penicillium!"], "Penicillium") is None  # both right: no truth
    assert truth_ranks(["x", "y"], NO_ANSWER) is None


def trivia_ctx(authors, referees=("r1",), meta=(), p1="Penicillium", p2="Aspergillus", **kw):
    vs = [variant("p1", "constant", text=p1), variant("p2", "constant", text=p2),
          variant("r1", "script", script=["B", "A"]), variant("r2", "constant", text="A"),
          variant("m1", "script", script=["A", "B"]), *authors]
    return make_ctx(vs, referees=referees, meta_referees=meta, authors=tuple(a.name for a in authors),
                    players=("p1", "p2"), family="trivia", **kw)


def test_a_match_rates_authors_and_players_and_records_accuracy():
    authors = [variant("a1", "constant", text=QA), variant("a2", "constant", text="Question: What is it?\nAnswer: it")]
    fam = create_family("trivia", {"questions": 2})
    ctx = trivia_ctx(authors, referees=("r1", "r2"), meta=("m1",))
    res = asyncio.run(fam.play(ctx))
    sets = {(rs.role, rs.criterion): rs for rs in res.ranked_sets}
    q = sets[("author", "question")]
    assert {e.variant for e in q.entries} == {"a1", "a2"} and q.rated
    assert q.prompt[0]["content"].startswith("Write a quiz question")  # the authoring prompt: a preference pair for authors
    outcome = res.outcome
    assert outcome.rated and {e.variant for e in outcome.entries} == {"p1", "p2"}
    answers = [rs for rs in res.ranked_sets if rs.criterion == "answer"]
    assert len(answers) == 3 and not any(rs.rated for rs in answers)  # 2 authored + the page's; via the outcome
    assert ("referee", "judging") in sets  # meta-referees ranked r1 vs r2
    assert res.details["page"]["origin"] == "builtin"
    roles = {c.role for c in ctx.calls}
    assert roles == {"author", "player", "referee", "meta-referee"}
    # r1 always prefers the answer shown second in the first order, i.e. seat 1: wrong on the a1 question
    assert res.details["referee_accuracy"]["r1"] == [0, 1]
    assert res.details["referee_accuracy"]["r2"] == [0, 1]  # a tie where the truth has a winner


def test_failed_author_is_a_format_failure_not_a_crash():
    authors = [variant("a1", "constant", text=QA), variant("bad", "constant", text="no idea")]
    res = asyncio.run(create_family("trivia", {}).play(trivia_ctx(authors)))
    assert [(f.variant, f.role, f.kind) for f in res.failures] == [("bad", "author", "unparseable")]
    assert not any(rs.role == "author" for rs in res.ranked_sets)  # one question: nothing to rank
    assert res.outcome is not None and len(res.details["questions"]) == 1


def test_no_question_at_all_gives_an_unrated_outcome():
    res = asyncio.run(create_family("trivia", {"page_questions": 0}).play(
        trivia_ctx([variant("bad", "constant", text="...")])))
    assert not res.outcome.rated and "no answer ranking" in res.summary


def test_seats_write_the_questions_when_nobody_else_can():
    vs = [variant("p1", "constant", text=QA), variant("p2", "constant", text=QA), variant("r1", "random")]
    ctx = make_ctx(vs, referees=("r1",), players=("p1", "p2"))
    res = asyncio.run(create_family("trivia", {}).play(ctx))
    assert [q["author"] for q in res.details["questions"]] == ["p1", "p2"]


def test_page_source_failure_falls_back_and_says_why():
    class Down:
        kind = "wikipedia"

        async def random_page(self, rng):
            raise OSError("network unreachable")

    fam = create_family("trivia", {})
    fam.source = Down()
    res = asyncio.run(fam.play(trivia_ctx([variant("a1", "constant", text=QA)])))
    assert "network unreachable" in res.details["page_fallback"] and res.details["page"]["origin"] == "builtin"


def test_unknown_options_are_rejected():
    with pytest.raises(FamilyOptionError, match="unknown option"):
        create_family("trivia", {"question": 2})
    with pytest.raises(FamilyOptionError, match="meta must be bool"):
        create_family("trivia", {"meta": "yes"})


def test_stitched_answer_logs_are_never_exported_and_every_set_says_who_ranked_it():
    authors = [variant("a1", "constant", text=QA), variant("a2", "constant", text="Question: What is it?\nAnswer: it")]
    res = asyncio.run(create_family("trivia", {"questions": 2, "page_questions": 0}).play(trivia_ctx(authors)))
    assert not res.outcome.exportable  # every question's answer stitched together answers no one prompt
    answers = [rs for rs in res.ranked_sets if rs.criterion == "answer"]
    assert answers and all(rs.exportable and rs.ranked_by == "referees:r1" for rs in answers)
    assert all(rs.ranked_by for rs in res.ranked_sets)


# -- graded by closeness to a reference the page confirms (issue 13: trivia was unrated without referees) --

PAGE = Page("Penicillin", "Alexander Fleming noticed in 1928 that a mould, later identified as Penicillium, killed "
                          "the bacteria around it. Howard Florey and Ernst Chain turned it into a medicine.", "test")


def graded(p1, p2, authors, options=None, referees=(), **kw):
    fam = create_family("trivia", {"questions": len(authors), "page_questions": 0, **(options or {})})
    fam.source = LocalPages("test", [PAGE])
    ctx = trivia_ctx(authors, referees=referees, p1=p1, p2=p2, **kw)
    return ctx, asyncio.run(fam.play(ctx))


def test_closeness_needs_a_reference_the_page_confirms():
    assert scoring.verified("Penicillium", "Which mould did Fleming notice?", PAGE.text)
    assert not scoring.verified("Aspergillus", "Which mould did Fleming notice?", PAGE.text)  # not on the page
    assert not scoring.verified("Fleming", "What did Fleming notice?", PAGE.text)  # the question gives it away
    assert not scoring.verified(NO_ANSWER, "Which mould did Fleming notice?", PAGE.text)
    assert scoring.closeness("It is Penicillium.", "Penicillium") == 1.0  # filler words carry no fact
    assert scoring.closeness("Aspergillus", "Penicillium") == 0.0
    # naming every guess at once cannot buy the win: precision falls
    assert scoring.closeness("Penicillium Aspergillus Mucor Rhizopus", "Penicillium") == 0.4
    assert 0 < scoring.closeness("Ernst", "Ernst Chain") < 1


def test_a_right_answer_beats_a_wrong_one_without_any_referee():
    ctx, res = graded("It is Penicillium", "Aspergillus", [variant("a1", "constant", text=QA)])
    assert res.outcome.rated and [e.rank for e in res.outcome.entries] == [0, 1]
    assert res.outcome.ranked_by == "closeness" and [e.score for e in res.outcome.entries] == [1.0, 0.0]
    answers = [rs for rs in res.ranked_sets if rs.criterion == "answer"]
    assert len(answers) == 1 and answers[0].exportable and not answers[0].rated
    assert answers[0].ranked_by == "closeness" and [e.rank for e in answers[0].entries] == [0, 1]
    assert res.details["grading"][0]["verified"] is True
    assert not any(c.role == "referee" for c in ctx.calls)


def test_equal_answers_tie_and_an_unconfirmed_reference_grades_nothing():
    _, res = graded("Penicillium", "penicillium!", [variant("a1", "constant", text=QA)])
    assert res.outcome.rated and [e.rank for e in res.outcome.entries] == [0, 0]  # really equal: a tie
    wrong_ref = "Question: Which mould did Fleming notice in 1928?\nAnswer: Aspergillus"
    _, res = graded("Penicillium", "Aspergillus", [variant("a1", "constant", text=wrong_ref)])
    assert res.details["grading"][0]["verified"] is False  # the page does not say so: no truth, no referee
    assert not res.outcome.rated and "no answer ranking" in res.summary


def test_samples_put_every_answer_of_every_seat_in_one_set():
    ctx, res = graded("Penicillium", "Aspergillus", [variant("a1", "constant", text=QA)], samples=3)
    answers = [rs for rs in res.ranked_sets if rs.criterion == "answer"][0]
    assert [e.variant for e in answers.entries] == ["p1"] * 3 + ["p2"] * 3
    assert len([c for c in ctx.calls if c.role == "player"]) == 6
    assert [e.score for e in res.outcome.entries] == [1.0, 0.0]


def test_no_player_prompt_shows_a_reference_answer():
    ctx, res = graded("Penicillium", "Aspergillus", [variant("a1", "constant", text=QA)], {"page_questions": 1})
    blank = res.details["page_questions"][0]
    references = ["Penicillium", blank["answer"]]
    player_prompts = [m["content"] for c in ctx.calls if c.role == "player" for m in c.messages]
    assert len(player_prompts) == 4 and not any(r in p for r in references for p in player_prompts)


def test_the_page_writes_a_verified_fill_in_question_that_decides_alone():
    import random
    q, ref = cloze.cloze(PAGE.text, random.Random(3))
    assert cloze.BLANK in q and ref in PAGE.text and ref not in q
    assert cloze.cloze("no names or numbers here at all, just a long lower-case sentence.", random.Random(1)) is None
    # no author: the page's question alone rates the players, by closeness to the blanked words
    fam = create_family("trivia", {"questions": 1})
    fam.source = LocalPages("test", [PAGE])
    ctx = trivia_ctx([variant("bad", "constant", text="...")], referees=())
    asked = asyncio.run(fam.play(ctx)).details["page_questions"][0]
    fam = create_family("trivia", {"questions": 1})
    fam.source = LocalPages("test", [PAGE])
    res = asyncio.run(fam.play(trivia_ctx([variant("bad", "constant", text="...")], referees=(),
                                          p1=asked["answer"], p2="no idea")))
    assert res.outcome.rated and res.outcome.ranked_by == "closeness"
    assert [e.rank for e in res.outcome.entries] == [0, 1]


def test_the_authored_pair_is_asked_under_a_json_schema_unless_unconstrained():
    for constrained in (True, False):
        fam = create_family("trivia", {"questions": 1, "constrained": constrained})
        fam.source = LocalPages("test", [PAGE])
        ctx = trivia_ctx([variant("a1", "constant", text='{"question": "Which mould did Fleming see?", '
                                                          '"short_answer": "Penicillium"}')])
        requests = spy_on(ctx, "a1")
        res = asyncio.run(fam.play(ctx))
        assert res.details["questions"][0]["answer"] == "Penicillium"
        seen = [r.constraint for r in requests]
        assert (seen[0] == QA_SCHEMA) is constrained and (seen[0] is None) is not constrained
