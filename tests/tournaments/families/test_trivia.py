import asyncio

import pytest

from arena.engine.family import FamilyOptionError, create_family
from tests.referees.ctxkit import make_ctx, variant
from tournaments.families.trivia.family import NO_ANSWER, parse_answer, parse_qa, truth_ranks
from tournaments.kit.extract import FormatError

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
    assert len(answers) == 2 and not any(rs.rated for rs in answers)  # rated only through the outcome
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
    res = asyncio.run(create_family("trivia", {}).play(trivia_ctx([variant("bad", "constant", text="...")])))
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
    res = asyncio.run(create_family("trivia", {"questions": 2}).play(trivia_ctx(authors)))
    assert not res.outcome.exportable  # every question's answer stitched together answers no one prompt
    answers = [rs for rs in res.ranked_sets if rs.criterion == "answer"]
    assert answers and all(rs.exportable and rs.ranked_by == "referees:r1" for rs in answers)
    assert all(rs.ranked_by for rs in res.ranked_sets)
