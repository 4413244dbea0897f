"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 9, I):

- The trait rows are d s_i / d v for every prompt, whatever the prompt chunk: with a chunk that
  does not divide N (the last chunk padded with weight-0 repeats) they equal the unchunked rows,
  the rows of one prompt at a time and the Jacobian of the trait scores computed directly. The
  padding must contribute exactly nothing, also for a prompt-independent ``downstream`` written
  as a product over the prompt axis (here with the identity), whose backward pass meets every
  prompt's cotangent.
- ``kernel_split`` of a badly scaled L (column norms spread 1e5, so the split is decided
  column-equilibrated too) decides v exactly in ker L, exactly in row(L), and with both parts
  clearly nonzero, as the exact split says: the equilibrated round-off floor ``16 d eps`` is
  round-off, not a band that calls every part zero.
- Both zero-or-not decisions of ``kernel_split`` have the round-off floor ``16 d eps``: for a
  badly scaled L whose column-equilibrated form is perfectly conditioned (so the floor, not the
  Wedin term ``max(m, d) eps s_1 / s_r``, binds there), a kernel part of v of relative size
  ``f d eps`` is round-off (k = 0, margin 16 / f) for f <= 16 and in the grey band above it.
- ``allowed_residual`` is ``max(1e-10, 10 tau / s_1)`` with s_1 the largest singular value of L,
  whatever its size: for a rank-one L whose second singular value is exactly 0, for a one-row L
  (a single singular value), and for s_1 < 1; it is unchanged when L and tau are scaled together.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy

from theory.jacobian import trait_rows
from theory.linear import EPS, UndecidedRankError, equivalence_class, kernel_split
from theory.linear_evidence import allowed_residual, prepare
from theory.local_problem import LocalProblem


def _through_prompt_identity(x):
    """A prompt-independent map (row i of the output depends only on row i of the input),
    written as a matrix product over the prompt axis."""
    return jnp.tanh(jnp.einsum("nm,mtd->ntd", jnp.eye(x.shape[0]), x))


def _trait_problem(seed: int = 0) -> LocalProblem:
    rng = np.random.default_rng(seed)
    N, T, d, V = 5, 3, 4, 6
    return LocalProblem(
        _through_prompt_identity,
        rng.standard_normal((N, T, d)),
        rng.standard_normal((d, V)),
        b_u=rng.standard_normal(V),
        positions=(0, 2),
        alphas=(0.5, 1.0),
        plus=[0, 1],
        minus=[2, 3],
    )


def _trait_jacobian(problem: LocalProblem, v: np.ndarray) -> np.ndarray:
    """d s_i / d v in (alpha, prompt) order, straight from the definition of the trait score."""
    h = jnp.asarray(problem.stream)
    mask = jnp.asarray(problem.mask)
    w_u, b_u = jnp.asarray(problem.w_u), jnp.asarray(problem.b_u)
    plus, minus = list(problem.plus), list(problem.minus)
    lse = jax.scipy.special.logsumexp

    def scores(vec, alpha):
        y = jnp.stack([jnp.tanh(h[i] + alpha * mask[:, None] * vec) for i in range(h.shape[0])])
        z = y[:, -1, :] @ w_u + b_u
        return lse(z[:, plus], axis=-1) - lse(z[:, minus], axis=-1)

    vec = jnp.asarray(v)
    return np.concatenate([np.asarray(jax.jacfwd(scores)(vec, a)) for a in problem.alphas])


@pytest.mark.parametrize("chunk", [2, 3, 4])
def test_trait_rows_with_a_padded_chunk_are_the_trait_jacobian(chunk):
    problem = _trait_problem()
    v = np.random.default_rng(1).standard_normal(problem.d)
    expected = _trait_jacobian(problem, v)
    assert problem.n_prompts % chunk != 0
    rows = trait_rows(problem, v, prompt_chunk=chunk)
    assert rows.shape == (len(problem.alphas) * problem.n_prompts, problem.d)
    assert np.all(np.isfinite(rows))
    scale = np.abs(expected).max()
    np.testing.assert_allclose(rows, expected, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(rows, trait_rows(problem, v), rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(
        rows, trait_rows(problem, v, prompt_chunk=1), rtol=0, atol=1e-12 * scale
    )


_BADLY_SCALED_L = np.array([[1e5, 0.0, 0.0], [0.0, 1.0, 0.0]])


@pytest.mark.parametrize(
    "entries",
    [
        ("0", "0", "1"),  # in ker L
        ("1", "1", "0"),  # in row(L)
        ("1/100000", "1", "1"),  # both parts clearly nonzero
    ],
)
def test_kernel_split_of_a_badly_scaled_L_is_decided_as_the_exact_split(entries):
    exact_v = sympy.Matrix([sympy.Rational(e) for e in entries])
    v = np.array([float(e) for e in exact_v])
    cls = equivalence_class(_BADLY_SCALED_L, v)
    assert cls.certified and cls.rank == 2
    assert cls.equilibrated is not None  # the split is decided column-equilibrated as well
    split = kernel_split(cls)
    exact = kernel_split(equivalence_class(sympy.Matrix([[10**5, 0, 0], [0, 1, 0]]), exact_v))
    assert (split.k_zero, split.vid_zero) == (exact.k_zero, exact.vid_zero)
    np.testing.assert_allclose(split.k, np.array([float(x) for x in exact.k]), atol=1e-15)
    assert split.margin is not None and split.margin > 1.0


def _equilibrated_identity_L(d: int = 20, r: int = 4) -> np.ndarray:
    """Rows 1e5 e_1, e_2, ..., e_r: column norms spread 1e5, column-equilibrated it is [I_r | 0]."""
    L = np.zeros((r, d))
    L[0, 0] = 1e5
    L[np.arange(1, r), np.arange(1, r)] = 1.0
    return L


@pytest.mark.parametrize("f", [2.0, 4.0, 12.0])
def test_kernel_part_below_16_d_eps_is_round_off_in_the_equilibrated_split(f):
    L = _equilibrated_identity_L()
    d = L.shape[1]
    v = np.zeros(d)
    v[1] = 1.0
    v[-1] = f * d * EPS  # a kernel part of relative size f d eps
    cls = equivalence_class(L, v)
    assert cls.certified and cls.equilibrated is not None
    split = kernel_split(cls)
    assert split.k_zero and not split.vid_zero
    assert split.margin == pytest.approx(16.0 / f, rel=1e-9)


def test_kernel_part_above_16_d_eps_is_in_the_grey_band_of_the_equilibrated_split():
    L = _equilibrated_identity_L()
    d = L.shape[1]
    v = np.zeros(d)
    v[1] = 1.0
    v[-1] = 30.0 * d * EPS
    with pytest.raises(UndecidedRankError):
        kernel_split(equivalence_class(L, v))


def test_allowed_residual_of_a_rank_one_L_divides_by_its_only_nonzero_singular_value():
    tau = 1e-3
    L = np.array([[3.0, 0.0], [0.0, 0.0]])  # singular values exactly (3, 0)
    cls = prepare(L, np.array([1.0, 1.0]), tau, None)[2]
    assert cls.decision.singular_values[1] == 0.0
    assert allowed_residual(cls) == pytest.approx(max(1e-10, 10 * tau / 3.0), rel=1e-12)
    assert allowed_residual(cls) < 10 * tau  # s_1 = 3, not the fallback 1


def test_allowed_residual_of_a_one_row_L_uses_its_single_singular_value():
    tau = 1e-3
    cls = prepare(np.array([[2.0, 0.0, 0.0]]), np.ones(3), tau, None)[2]
    assert cls.decision.singular_values.size == 1
    assert allowed_residual(cls) == pytest.approx(10 * tau / 2.0, rel=1e-12)
    small = prepare(np.array([[2.0, 0.0, 0.0]]), np.ones(3), 1e-12, None)[2]
    assert allowed_residual(small) == 1e-10  # round-off floor


@pytest.mark.parametrize("c", [0.25, 1.0, 4.0])
def test_allowed_residual_is_invariant_under_scaling_L_and_tau_together(c):
    rng = np.random.default_rng(7)
    L = rng.standard_normal((3, 5))
    L = L / np.linalg.svd(L, compute_uv=False)[0]  # s_1 = 1, so c is s_1 of c L
    tau = 1e-4
    cls = prepare(c * L, np.ones(5), c * tau, None)[2]
    assert cls.decision.singular_values[0] == pytest.approx(c, rel=1e-12)
    assert allowed_residual(cls) == pytest.approx(10 * tau, rel=1e-12)


def test_allowed_residual_of_a_rank_one_L_with_small_s1():
    tau = 1e-3
    L = np.array([[0.5, 0.0], [0.0, 0.0]])  # singular values exactly (1/2, 0)
    cls = prepare(L, np.array([1.0, 1.0]), tau, None)[2]
    assert allowed_residual(cls) == pytest.approx(10 * tau / 0.5, rel=1e-12)
