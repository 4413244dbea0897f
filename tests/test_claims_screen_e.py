"""Claims of T2a/T2b, T3(a)/(b), ``LocalProblem`` and the exact NSP(k), each stated so that a wrong
operator, comparison or constant in the function breaks it:

- T3(a): the neighbours sit at distance radius * max(|v|, 1) from v: on a model whose rank is
  constant exactly on a ball of radius rho around v, the certificate holds iff that distance < rho;
- T3(b): dim [v] >= bound_dim = d - min(N|A|, d) >= 0, with equality when the bound is attained;
- LocalProblem: token ids of S+ and S- lie in [0, V - 1]; a stream that is not (N, T, d) with
  N >= 1 is refused with an InputError (never another exception);
- documented defaults: shift c = 5, the T2a tolerance 1e-12 and the T2b floor 1e-3;
- NSP(k): the two exact methods agree (same worst ratio, same verdict, l1-normalised kernel
  vectors in ker A, the same one up to sign when the worst ratio is finite) on Gaussian A and on
  kernels with entries spread over orders of magnitude;
- NSP(k) at a user tolerance tau: a singular value <= tau counts as zero (theory.rank), so columns
  of normalised norm exactly tau are zero columns and a coordinate vector is a witness.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from theory.certificate import Verdict
from theory.local import check_t3b, spectrum_certificate
from theory.local_problem import LocalProblem
from theory.norm_symmetry import check_t2a, check_t2b, layernorm, rmsnorm, shift_change
from theory.sparse import null_space_property
from theory.validation import InputError

# ---------------------------------------------------------------------------------------------
# T3(a): where the neighbours of the constant-rank check are drawn

RHO = 0.1  # radius of the ball around the centre on which the rank is d - 1


def _ball_downstream(p, h):
    """y = (q(h) h_0, h_1, ..., h_{d-1}) with q = relu(|h - c|^2 - rho^2)^2 (C^1). With c_0 = 0:
    on the ball |h - c| < rho, dy/dh kills e_0 (rank d - 1); off its closure,
    dy_0/dh_0 = q + 4 relu(.) h_0^2 >= q > 0 (rank d)."""
    q = jnp.maximum(jnp.sum((h - p["c"]) ** 2, axis=-1, keepdims=True) - p["rho"] ** 2, 0.0) ** 2
    return jnp.concatenate([q * h[..., :1], h[..., 1:]], axis=-1)


def _ball_problem(centre: np.ndarray) -> LocalProblem:
    params = {"c": jnp.asarray(centre), "rho": jnp.asarray(RHO)}
    fn = jax.tree_util.Partial(_ball_downstream, params)
    # zero stream, one position, alpha = 1: the downstream map sees h = v
    w_u = np.random.default_rng(0).standard_normal((3, 4))
    return LocalProblem(fn, np.zeros((1, 1, 3)), w_u)


@pytest.mark.parametrize(
    ("centre", "radius"),
    [
        ((0.0, 6.0, 8.0), 0.005),  # |v| = 10: distance 0.05 < rho
        ((0.0, 6.0, 8.0), 0.05),  # |v| = 10: distance 0.5 > rho
        ((0.0, 0.3, 0.4), 0.05),  # |v| = 0.5 < 1: distance radius = 0.05 < rho
        ((0.0, 0.3, 0.4), 0.2),  # |v| = 0.5 < 1: distance radius = 0.2 > rho
    ],
)
def test_t3a_neighbours_sit_at_radius_times_the_norm_of_v(centre, radius):
    """spectrum_certificate draws its neighbours at distance radius * max(|v|, 1): the rank is
    d - 1 = 2 on the open ball of radius rho around v and 3 off it, so every neighbour has the rank
    of v (holds) iff radius * max(|v|, 1) < rho, and none has (undecided) otherwise."""
    v = np.array(centre)
    distance = radius * max(float(np.linalg.norm(v)), 1.0)
    inside = distance < RHO
    cert = spectrum_certificate(_ball_problem(v), v, "logits", neighbours=3, radius=radius)
    assert cert.rank == 2 and cert.dim == 1
    assert cert.details["neighbour_ranks"] == [2 if inside else 3] * 3
    if inside:
        assert cert.verdict is Verdict.HOLDS and cert.reason == ""
    else:
        assert cert.verdict is Verdict.UNDECIDED
        assert "not constant" in cert.reason


# ---------------------------------------------------------------------------------------------
# T3(b): the dimension bound


@pytest.mark.parametrize(
    ("n_prompts", "alphas", "d"),
    [(2, (1.0, 2.0), 3), (1, (1.0, 2.0), 3), (1, (0.5, 2.0), 5), (1, (1.0,), 4)],
)
def test_t3b_dimension_is_at_least_the_bound_and_equals_it_when_attained(n_prompts, alphas, d):
    """The trait Jacobian has N|A| rows, so rank <= min(N|A|, d) and dim [v] = d - rank >=
    d - min(N|A|, d) = bound_dim >= 0 (a dimension is never negative: the bound is 0 when
    N|A| >= d); when the bound is attained (rank = min(N|A|, d)) the dimension equals it."""
    rng = np.random.default_rng(7)
    V = 6
    problem = LocalProblem(
        lambda x: x,
        rng.standard_normal((n_prompts, 2, d)),
        rng.standard_normal((d, V)),
        alphas=alphas,
        plus=[0, 1],
        minus=[2, 3],
    )
    pairs = n_prompts * len(alphas)
    cert = check_t3b(problem, rng.standard_normal(d))
    det = cert.details
    assert det["pairs"] == det["bound_rank"] == pairs
    assert det["bound_dim"] == d - min(pairs, d) >= 0
    assert cert.rank <= pairs and cert.dim >= det["bound_dim"]
    assert det["bound_attained"] is (cert.rank == min(pairs, d))
    assert det["bound_attained"]  # generic weights: the rows are independent
    assert cert.dim == det["bound_dim"]
    assert det["locally_identifiable"] is (cert.dim == 0)
    assert cert.verdict is Verdict.HOLDS


# ---------------------------------------------------------------------------------------------
# LocalProblem: the contract of its inputs


def _tiny(**kw) -> LocalProblem:
    rng = np.random.default_rng(1)
    args = dict(stream=rng.standard_normal((1, 2, 3)), w_u=rng.standard_normal((3, 5)))
    args.update(kw)
    return LocalProblem(lambda x: x, **args)


def test_token_ids_lie_in_the_vocabulary():
    """S+ and S- are sets of token ids 0..V-1 (V = 5 columns of w_u): V - 1 is the last valid id,
    V and beyond are refused (for S+ and S- alike), as are negative ids."""
    problem = _tiny(plus=[0, 4], minus=[1, 3])
    assert problem.plus == (0, 4) and problem.minus == (1, 3)
    for name in ("plus", "minus"):
        for bad in ([5], [6], [-1]):
            with pytest.raises(InputError, match=name):
                _tiny(**{name: bad})


@pytest.mark.parametrize(
    "stream",
    [1.0, np.ones(3), np.ones((2, 3)), np.zeros((0, 3)), np.ones((1, 1, 2, 3))],
)
def test_a_stream_that_is_not_three_dimensional_is_an_input_error(stream):
    """stream must be (N, T, d): any other shape is refused with an InputError naming stream
    (not an IndexError or other crash on the way)."""
    with pytest.raises(InputError, match="stream"):
        _tiny(stream=stream, w_u=np.ones((3, 5)))


def test_a_stream_without_prompts_is_refused_as_such():
    """N >= 1: a (0, T, d) stream is an empty prompt set, refused with a message that says so."""
    with pytest.raises(InputError, match="at least one prompt"):
        _tiny(stream=np.zeros((0, 2, 3)))


# ---------------------------------------------------------------------------------------------
# T2a / T2b: documented defaults (shift c = 5, tol 1e-12, floor 1e-3)

_RNG = np.random.default_rng(11)
_H = _RNG.standard_normal(6)
_W = _RNG.standard_normal((4, 6))
_V = _RNG.standard_normal(6)


def _rms_run(x):
    return rmsnorm(_H + x) @ _W.T


def _ln_run(x):
    return layernorm(_H + x) @ _W.T


# B(x) = x - mean(x) 1 + t mean(x) e_0 moves by t c |e_0| under x -> x + c 1; with mean v = 0 and
# |v| = 1 the relative change at c = 5 is 5 t = 1.5e-3: between the floor 1e-3 and 2e-3
_T = 3e-4
_V0 = np.array([1.0, -1.0, 0.0, 0.0]) / math.sqrt(2.0)


def _slight_run(x):
    x = np.asarray(x, dtype=np.float64)
    return x - x.mean() + _T * x.mean() * np.eye(x.size)[0]


def _cert(c):
    return (c.verdict, c.margin, c.tolerance, c.residual, c.details["relative_change"])


def _t2b_slight(**kw):
    return _cert(check_t2b({"s": _slight_run}, _V0, **kw))


DEFAULTS = [
    pytest.param(lambda **kw: shift_change(_rms_run, _V, **kw), "shift", 5.0, 10.0, id="shift"),
    pytest.param(
        lambda **kw: _cert(check_t2a({"rms": _rms_run}, _V, **kw)), "shift", 5.0, 10.0, id="t2a-c"
    ),
    pytest.param(
        lambda **kw: _cert(check_t2a({"ln": _ln_run}, _V, **kw)), "tol", 1e-12, 2e-12, id="t2a-tol"
    ),
    pytest.param(
        lambda **kw: _cert(check_t2b({"rms": _rms_run}, _V, **kw)), "shift", 5.0, 10.0, id="t2b-c"
    ),
    pytest.param(_t2b_slight, "floor", 1e-3, 2e-3, id="t2b-floor"),
]


@pytest.mark.parametrize(("fn", "name", "value", "neighbour"), DEFAULTS)
def test_documented_defaults(fn, name, value, neighbour):
    """Leaving the argument out is passing its documented value; a neighbouring value differs."""
    assert fn() == fn(**{name: value})
    assert fn() != fn(**{name: neighbour})


def test_t2b_default_floor_separates_a_change_of_1_5e_3():
    """floor 1e-3 (default): a relative change of 1.5e-3 is a clear difference (holds, margin
    1.5); with floor 2e-3 it is not (violated, margin 2e-3 / 1.5e-3)."""
    change = shift_change(_slight_run, _V0)
    assert change == pytest.approx(5 * _T, rel=1e-9)
    cert = check_t2b({"s": _slight_run}, _V0)
    assert cert.verdict is Verdict.HOLDS and cert.tolerance == 1e-3
    assert cert.margin == pytest.approx(1.5, rel=1e-9)
    strict = check_t2b({"s": _slight_run}, _V0, floor=2e-3)
    assert strict.verdict is Verdict.VIOLATED
    assert strict.margin == pytest.approx(2e-3 / (5 * _T), rel=1e-9)


# ---------------------------------------------------------------------------------------------
# NSP(k): the two exact methods


def _assert_methods_agree(A: np.ndarray, k: int) -> None:
    circ = null_space_property(A, k, decision_tol=1e-6)
    lp = null_space_property(A, k, method="lp", decision_tol=1e-6)
    assert circ.verdict is lp.verdict is not Verdict.UNDECIDED
    w_c, w_l = circ.details["worst_ratio"], lp.details["worst_ratio"]
    n_c, n_l = circ.witness["kernel_vector"], lp.witness["kernel_vector"]
    for n in (n_c, n_l):
        assert np.abs(n).sum() == pytest.approx(1.0, abs=1e-12)  # on the unit l1 sphere
        assert np.linalg.norm(A @ n) <= 1e-9 * np.linalg.norm(A, 2)  # in ker A
    if math.isinf(w_c):  # a kernel vector supported on k entries: any such one is a maximiser
        assert math.isinf(w_l)
        for n in (n_c, n_l):
            assert np.sort(np.abs(n))[: A.shape[1] - k].sum() <= 1e-12
    else:  # a unique maximiser (up to sign) for generic A
        assert w_l == pytest.approx(w_c, rel=1e-6)
        assert min(np.abs(n_c - n_l).max(), np.abs(n_c + n_l).max()) <= 1e-6


@pytest.mark.parametrize(
    ("seed", "shape"), [(0, (2, 5)), (1, (3, 6)), (2, (4, 7)), (3, (3, 7)), (4, (5, 7))]
)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_nsp_methods_agree_on_gaussian_matrices(seed, shape, k):
    """max_{n in ker A, |S| <= k} |n_S|_1 / |n_{S^c}|_1 is one number: the circuit enumeration and
    the LPs over supports and sign patterns both find it (to the LP's tolerance), and both report
    a maximising kernel vector on the unit l1 sphere (for generic A with a finite worst ratio the
    maximiser is unique up to sign, so the two are the same), with the same verdict."""
    _assert_methods_agree(np.random.default_rng(seed).standard_normal(shape), k)


@pytest.mark.parametrize(("p", "k", "seed"), [(4, 2, 448), (5, 2, 21), (6, 2, 255), (5, 3, 2918)])
def test_nsp_methods_agree_on_kernels_with_uneven_entries(p, k, seed):
    """As above, for A whose kernel is spanned by two vectors with entries spread over orders of
    magnitude (rows scaled by squared exponential draws): the maximising circuit must be found
    by the LP of its own support S and sign pattern (the LP objective is <s, n_S>, unweighted)."""
    rng = np.random.default_rng(seed)
    kernel = rng.standard_normal((p, 2)) * rng.exponential(1.0, (p, 1)) ** 2
    A = scipy.linalg.null_space(kernel.T).T  # (p - 2, p) with ker A = span(kernel)
    assert np.linalg.norm(A @ kernel) <= 1e-12 * np.linalg.norm(kernel)
    _assert_methods_agree(A, k)


def test_nsp_columns_at_the_user_tolerance_count_as_zero():
    """theory.rank: singular values <= tau count as zero. With tol = 1, every column of
    A = [1 1 1] (normalised norm exactly 1) is a zero column to that tolerance, so a coordinate
    vector e_j is a kernel vector with |n_S|_1 / |n_{S^c}|_1 = inf for S = {j}: NSP(1) is violated
    (whereas at the default tolerance the worst ratio is 1, undecided)."""
    A = np.array([[1.0, 1.0, 1.0]])
    cert = null_space_property(A, 1, tol=1.0)
    assert cert.verdict is Verdict.VIOLATED
    assert cert.details["worst_ratio"] == math.inf
    n = cert.witness["kernel_vector"]
    assert np.count_nonzero(n) == 1 and np.abs(n).sum() == 1.0
    default = null_space_property(A, 1)
    assert default.verdict is Verdict.UNDECIDED
    assert default.details["worst_ratio"] == pytest.approx(1.0, rel=1e-12)
