"""The one dense-ranking rule."""
from referees.aggregate import dense_ranks


def test_dense_ranks_share_ties_and_leave_no_gaps():
    assert dense_ranks([0.5, 1.0, 0.5, 0.0]) == [1, 0, 1, 2]  # higher scores are better by default
    assert dense_ranks([(0, 2), (1, 0), (0, 1), (0, 2)], lower_is_better=True) == [1, 2, 0, 1]
    assert dense_ranks([]) == [] and dense_ranks([3]) == [0]
