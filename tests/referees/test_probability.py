"""Probability verdicts: reading P(A) vs P(B) from top log-probabilities and combining both seat orders."""
import math

import pytest

from referees.probability import both_orders, decide, label_share, likelihood_p, order_reading, token_label


def test_verdict_tokens_are_read_with_spaces_brackets_and_case():
    assert [token_label(t) for t in ("A", " B", "[A", "(b", "**A", " A.", "B:")] == ["A", "B", "A", "B", "A", "A", "B"]
    assert [token_label(t) for t in ("Answer", "AB", "C", " ", "", "T")] == [None] * 6


def test_label_share_normalises_over_the_two_labels_and_sums_spellings():
    lp = {"A": math.log(0.3), " A": math.log(0.1), "B": math.log(0.2), "The": math.log(0.4)}
    assert label_share([lp]) == pytest.approx(0.4 / 0.6)
    # the first position without either label (an opening bracket) is skipped
    assert label_share([{"[[": -0.1, "Answer": -3.0}, {"B": math.log(0.9), "A": math.log(0.1)}]) == pytest.approx(0.1)
    assert label_share([{"B": -0.5}]) == 0.0 and label_share([{"a": -2.0}]) == 1.0
    assert label_share([{"The": -0.1}]) is None and label_share(None) is None and label_share([]) is None


def test_both_orders_cancels_position_bias():
    # a referee that says "A" with 0.8 whatever is shown first has no preference: p = 0.5, a tie
    p = both_orders(0.8, 0.8)
    assert p == pytest.approx(0.5) and decide(p) == 0
    # it prefers i in both orders: P(A | i first) = 0.9, P(A | j first) = 0.3
    p = both_orders(0.9, 0.3)
    assert p == pytest.approx(0.8) and decide(p) == 1
    assert decide(both_orders(0.2, 0.7)) == -1
    assert both_orders(None, 0.3) is None and decide(None) is None
    assert decide(0.51) == 0 and decide(0.53) == 1  # abstain band around a coin


def test_order_readings_say_what_each_order_alone_preferred():
    assert order_reading(0.9) == 1 and order_reading(0.1) == -1 and order_reading(0.5) == 0
    assert order_reading(None) is None


def test_likelihood_p_is_logistic_of_the_mean_difference():
    assert likelihood_p(-1.0, -1.0) == 0.5
    assert likelihood_p(-0.5, -2.0) == pytest.approx(1 / (1 + math.exp(-1.5)))
    assert likelihood_p(-1.0, -math.inf) == 1.0 and likelihood_p(-math.inf, -1.0) == 0.0
