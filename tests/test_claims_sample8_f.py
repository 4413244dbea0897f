"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 8, F):

- ``align_columns`` flips the sign of a matched column only where its cosine is negative: an
  orthogonal match (cos = 0) keeps its sign, so ``aligned`` is that estimated column unchanged.
- ``plain`` turns any array-like into Python lists: a JAX array in a certificate's details reads
  back as the list of its values.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from theory.amari import align_columns
from theory.certificate import plain


def test_an_orthogonal_match_is_not_flipped():
    planted = np.eye(2)
    estimated = np.array([[1.0, 2.0], [0.0, 0.0]])  # both along e_1: e_2 gets a cos-0 match
    al = align_columns(estimated, planted)
    assert sorted(al.permutation.tolist()) == [0, 1]
    assert al.cosines.tolist() == [1.0, 0.0]
    np.testing.assert_array_equal(al.signs, [1.0, 1.0])
    np.testing.assert_array_equal(al.aligned, estimated[:, al.permutation])
    flipped = align_columns(-estimated, planted)
    assert flipped.signs[0] == -1.0 and flipped.signs[1] == 1.0


def test_plain_turns_a_jax_array_into_a_list():
    out = plain({"x": jnp.array([1.0, 2.5]), "n": jnp.array(3), "y": [jnp.array([[True]])]})
    assert out == {"x": [1.0, 2.5], "n": 3, "y": [[[True]]]}
    assert type(out["x"][0]) is float and type(out["n"]) is int
