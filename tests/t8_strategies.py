"""Composite hypothesis strategies for the T8 tests: well-conditioned mixing matrices, law
assignments with a chosen number of Gaussian sources, rotations of the Gaussian block (float and
exact rational), integer matrices of full column rank, scaled permutations."""

from __future__ import annotations

import math

import numpy as np
import sympy
from hypothesis import strategies as st

from synthetic.sources import NON_GAUSSIAN_LAWS

MAX_CONDITION = 5.0


@st.composite
def mixing_matrices(draw, k_min: int = 2, k_max: int = 3, k: int | None = None):
    """A (d, k), d in {k, k+1}, A = U diag(sigma) V^T with sigma in [1, MAX_CONDITION]: full column
    rank with condition number <= MAX_CONDITION by construction."""
    k = draw(st.integers(k_min, k_max)) if k is None else k
    d = k + draw(st.integers(0, 1))
    sigma = np.array(draw(st.lists(st.floats(1.0, MAX_CONDITION), min_size=k, max_size=k)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    U, _ = np.linalg.qr(rng.standard_normal((d, k)))
    V, _ = np.linalg.qr(rng.standard_normal((k, k)))
    return (U * sigma) @ V.T


@st.composite
def law_assignments(draw, k: int, n_gaussian: int):
    """k law names with exactly ``n_gaussian`` Gaussian ones at drawn positions."""
    laws = [draw(st.sampled_from(NON_GAUSSIAN_LAWS)) for _ in range(k)]
    for i in draw(st.permutations(range(k)))[:n_gaussian]:
        laws[i] = "gaussian"
    return tuple(laws)


@st.composite
def block_rotations(draw, g: int):
    """A g x g rotation of the Gaussian block: a plane rotation by theta in [pi/12, 5 pi/12] in a
    drawn coordinate plane of the block. Its Amari index is tan(min(theta, pi/2 - theta)) >=
    tan(pi/12) on that plane, so A R is never A up to permutation and scale."""
    theta = draw(st.floats(math.pi / 12, 5 * math.pi / 12))
    i, j = draw(st.permutations(range(g)))[:2]
    Q = np.eye(g)
    c, s = math.cos(theta), math.sin(theta)
    Q[i, i], Q[i, j], Q[j, i], Q[j, j] = c, -s, s, c
    return Q, theta


@st.composite
def integer_full_rank(draw, k: int):
    """Integer (k+1) x k matrix of full column rank: [L U; r] with L unit lower triangular and U
    upper triangular with nonzero diagonal, so the top block has det = prod diag(U) != 0."""
    ints = st.integers(-3, 3)
    L = sympy.eye(k)
    U = sympy.zeros(k, k)
    for i in range(k):
        U[i, i] = draw(st.sampled_from([-3, -2, -1, 1, 2, 3]))
        for j in range(i + 1, k):
            U[i, j] = draw(ints)
            L[j, i] = draw(ints)
    row = sympy.Matrix([draw(st.lists(ints, min_size=k, max_size=k))])
    return sympy.Matrix.vstack(L * U, row)


@st.composite
def pythagorean_rotations(draw):
    """Exact rational rotation [[c, -s], [s, c]] with (c, s) = ((m^2-q^2), 2mq)/(m^2+q^2),
    m > q >= 1."""
    q = draw(st.integers(1, 6))
    m = draw(st.integers(q + 1, 8))
    h = m * m + q * q
    c, s = sympy.Rational(m * m - q * q, h), sympy.Rational(2 * m * q, h)
    return sympy.Matrix([[c, -s], [s, c]])


@st.composite
def scaled_permutations(draw, k_max: int = 6):
    """A k x k matrix with one nonzero (scale in [0.01, 100], either sign) per row and column."""
    k = draw(st.integers(1, k_max))
    perm = draw(st.permutations(range(k)))
    scales = draw(st.lists(st.floats(0.01, 100.0), min_size=k, max_size=k))
    signs = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=k, max_size=k))
    P = np.zeros((k, k))
    P[np.arange(k), perm] = np.array(scales) * np.array(signs)
    return P
