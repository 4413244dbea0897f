"""Claims on the one set of input checks (``theory.validation``), stated by their error messages:

- a sequence of ints (or of reals) is refused, naming what it must be, when given a string,
  bytes or a set (a set is not a sequence: it has no order, so ``xs[i]`` has no meaning);
- an array with the wrong number of dimensions is refused with the shape it must have: ``(d,)``
  for a vector, ``(m, d)`` for a matrix.
"""

from __future__ import annotations

import numpy as np
import pytest

from theory.validation import InputError, as_float_array, as_int_tuple, as_real_tuple


@pytest.mark.parametrize("xs", ["12", b"12", {1, 2}, frozenset({3})])
def test_an_int_sequence_is_not_a_string_bytes_or_a_set(xs):
    with pytest.raises(InputError, match=r"^xs must be a sequence of ints, got"):
        as_int_tuple("xs", xs)
    with pytest.raises(InputError, match=r"^xs must be a sequence of real numbers, got"):
        as_real_tuple("xs", xs)


def test_an_int_sequence_accepts_a_list_a_tuple_and_a_1d_array():
    for xs in ([1, 2], (1, 2), np.array([1, 2])):
        assert as_int_tuple("xs", xs) == (1, 2)


@pytest.mark.parametrize(
    ("ndim", "given", "shape"),
    [(1, np.ones((2, 2)), r"\(d,\)"), (2, np.ones(3), r"\(m, d\)"), (3, np.ones(3), "3 dim")],
)
def test_the_wrong_number_of_dimensions_names_the_expected_shape(ndim, given, shape):
    with pytest.raises(InputError, match=rf"x must have {ndim} dimension\(s\) {shape}"):
        as_float_array("x", given, ndim)
