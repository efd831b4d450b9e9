from referees.verdicts import parse_pairwise, parse_ranking


def test_explicit_tokens_and_last_verdict_wins():
    assert parse_pairwise("[[A]]") == "A"
    assert parse_pairwise("At first [[A]] seemed right but on reflection [[B]]") == "B"
    assert parse_pairwise("[[tie]]") == "TIE"
    assert parse_pairwise("[[ Draw ]]") == "TIE"


def test_json_and_loose_forms():
    assert parse_pairwise('{"winner": "B", "reason": "cites the page"}') == "B"
    assert parse_pairwise('Thinking... {"verdict": "tie"}') == "TIE"
    assert parse_pairwise("Verdict: A") == "A"
    assert parse_pairwise("The winner is B.") == "B"
    assert parse_pairwise("  b. ") == "B"
    # the token after the JSON is the later verdict
    assert parse_pairwise('{"winner": "A"} ... final: [[B]]') == "B"


def test_garbage_is_none_not_a_verdict():
    for junk in (None, "", "I like both answers", "Answer A: Paris\nAnswer B: Rome", "[[maybe]]",
                 "{not json", '{"winner": "Z"}', "\x00\x01", "AB", "[[AB]]", "A or B"):
        assert parse_pairwise(junk) is None, junk


def test_ranking_forms():
    assert parse_ranking("[[C>A>B]]", ["A", "B", "C"]) == [["C"], ["A"], ["B"]]
    assert parse_ranking("ranking [[b = a > c]]", ["A", "B", "C"]) == [["B", "A"], ["C"]]
    assert parse_ranking('{"ranking": ["B", "C", "A"]}', ["A", "B", "C"]) == [["B"], ["C"], ["A"]]
    assert parse_ranking("[[A>B>C]] no wait [[C>B>A]]", ["A", "B", "C"]) == [["C"], ["B"], ["A"]]


def test_incomplete_or_repeated_rankings_are_rejected():
    labels = ["A", "B", "C"]
    for junk in ("[[A>B]]", "[[A>A>B]]", "[[A>B>D]]", "[[A>B>C>D]]", "C then A then B", "", None):
        assert parse_ranking(junk, labels) is None, junk
