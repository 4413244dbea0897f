"""T8's recovery error: the Amari index of P = W A is 0 exactly on scaled permutations (the
ambiguity T8 leaves), positive elsewhere, tan(theta) on a plane rotation; block Amari reads only
its block; column alignment undoes permutation, sign and scale."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.amari import align_columns, amari_index, block_amari_index, match_rows
from theory.rotations import plane_rotation

from .t8_strategies import mixing_matrices, scaled_permutations


@given(scaled_permutations())
def test_amari_index_is_zero_for_scaled_permutations(P):
    assert amari_index(P) == 0.0


@given(scaled_permutations(k_max=6).filter(lambda P: P.shape[0] >= 2), st.data())
def test_amari_index_is_positive_off_scaled_permutations(P, data):
    k = P.shape[0]
    support = np.argwhere(P != 0)
    i = data.draw(st.integers(0, k - 1))
    off = [j for j in range(k) if j != support[i][1]]
    j = data.draw(st.sampled_from(off))
    Q = P.copy()
    Q[i, j] = data.draw(st.floats(1e-3, 10.0)) * np.abs(P).max()
    value = amari_index(Q)
    assert 0.0 < value <= 1.0


@given(st.integers(2, 5), st.data())
def test_amari_index_is_invariant_to_permutation_sign_and_global_scale(k, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    P = rng.standard_normal((k, k))
    rows, cols = data.draw(st.permutations(range(k))), data.draw(st.permutations(range(k)))
    signs = np.array(
        data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=k * k, max_size=k * k))
    )
    scale = data.draw(st.floats(1e-3, 1e3))
    Q = (scale * P * signs.reshape(k, k))[np.ix_(rows, cols)]
    assert amari_index(Q) == pytest.approx(amari_index(P), rel=1e-9, abs=1e-15)
    assert 0.0 <= amari_index(P) <= 1.0


@given(scaled_permutations(), st.data())
def test_amari_zero_set_is_invariant_to_row_and_column_scaling(P, data):
    k = P.shape[0]
    r = np.array(data.draw(st.lists(st.floats(0.01, 100.0), min_size=k, max_size=k)))
    c = np.array(data.draw(st.lists(st.floats(0.01, 100.0), min_size=k, max_size=k)))
    assert amari_index(r[:, None] * P * c[None, :]) == 0.0


def test_amari_value_is_not_invariant_to_row_scaling():
    """The standard index is not: scaling a row changes the column term. (Stated so nobody relies
    on it; T8 only applies it to P = W A with unit-variance sources.)"""
    P = np.array([[1.0, 0.5], [0.5, 1.0]])
    assert amari_index(np.diag([1.0, 2.0]) @ P) != pytest.approx(amari_index(P))


@given(st.floats(0.0, math.pi / 4))
def test_amari_index_of_a_plane_rotation_is_tan_theta(theta):
    assert amari_index(plane_rotation(theta)) == pytest.approx(math.tan(theta), abs=1e-12)


def test_amari_index_by_hand():
    # each row and each column contributes (1 + 1/2)/1 - 1 = 1/2; total 2 / (2 n (n - 1)) = 2/4
    assert amari_index([[1.0, 0.5], [0.5, 1.0]]) == pytest.approx(0.5)
    assert amari_index([[3.0]]) == 0.0


@given(st.floats(math.pi / 12, math.pi / 4), st.integers(0, 2**32 - 1))
def test_block_amari_reads_only_the_block(theta, seed):
    rng = np.random.default_rng(seed)
    P = np.eye(4)
    P[np.ix_([2, 3], [2, 3])] = plane_rotation(theta)
    perm = rng.permutation(4)
    P = P[perm] * rng.choice([-1.0, 1.0], 4)[:, None]  # estimated rows come in any order and sign
    assert block_amari_index(P, [2, 3]) == pytest.approx(math.tan(theta), rel=1e-9)
    assert block_amari_index(P, [0, 1]) == 0.0


@given(scaled_permutations())
def test_match_rows_inverts_a_scaled_permutation(P):
    perm = match_rows(P)
    assert np.all(P[perm, np.arange(P.shape[0])] != 0)


@given(mixing_matrices(k_min=1, k_max=5), st.data())
def test_align_columns_undoes_permutation_sign_and_scale(A, data):
    k = A.shape[1]
    perm = np.array(data.draw(st.permutations(range(k))))
    signs = np.array(data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=k, max_size=k)))
    scales = np.array(data.draw(st.lists(st.floats(0.1, 10.0), min_size=k, max_size=k)))
    E = A[:, perm] * signs * scales
    al = align_columns(E, A)
    np.testing.assert_array_equal(perm[al.permutation], np.arange(k))
    np.testing.assert_allclose(al.cosines, 1.0, atol=1e-12)
    np.testing.assert_allclose(
        al.aligned / np.linalg.norm(al.aligned, axis=0), A / np.linalg.norm(A, axis=0), atol=1e-12
    )


def test_bad_amari_input_is_rejected():
    with pytest.raises(ValueError, match="P"):
        amari_index(np.ones((2, 3)))
    with pytest.raises(ValueError, match="P"):
        amari_index(np.array([[1.0, 0.0], [0.0, 0.0]]))  # a zero row: the index is undefined
    with pytest.raises(ValueError, match="block"):
        block_amari_index(np.eye(3), [0, 3])
    with pytest.raises(ValueError, match="block"):
        block_amari_index(np.eye(3), [1, 1])
    with pytest.raises(ValueError, match="block"):
        block_amari_index(np.eye(3), [True, False])
