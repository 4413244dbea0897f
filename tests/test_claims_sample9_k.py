"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 9, K):

- ``LocalProblem``'s ``plus`` and ``minus`` are token *sets* S+ and S- of the trait score: a
  list that names a token twice is refused with an InputError naming the field (a repeated token
  would count twice in the trait score), while distinct, disjoint tokens are accepted as given.
"""

from __future__ import annotations

import numpy as np
import pytest

from theory.local_problem import LocalProblem
from theory.validation import InputError


def _problem(plus, minus) -> LocalProblem:
    rng = np.random.default_rng(0)
    stream = rng.standard_normal((2, 3, 4))
    w_u = rng.standard_normal((4, 6))
    return LocalProblem(lambda h: h, stream, w_u, plus=plus, minus=minus)


def test_distinct_disjoint_trait_token_sets_are_accepted():
    p = _problem([1, 4], np.array([0, 5, 2]))
    assert p.plus == (1, 4)
    assert p.minus == (0, 5, 2)


@pytest.mark.parametrize(
    ("plus", "minus", "name"),
    [
        ([1, 1], [2], "plus"),
        ([1], [2, 3, 2], "minus"),
        (np.array([3, 0, 3]), [5], "plus"),
    ],
)
def test_trait_token_sets_refuse_a_repeated_token(plus, minus, name):
    with pytest.raises(InputError, match=rf"{name} must not repeat an entry"):
        _problem(plus, minus)
