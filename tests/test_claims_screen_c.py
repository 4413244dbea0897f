"""Claims on T3(c), T8 and the engine that the mutation screen found unstated, each checked against
the mathematics or a documented contract:

- check_t3c's gates are tolerance / |deviation|: slopes against slope_tol (default 0.2, the
  certificate's tolerance; the null slope one-sided, fitted over changes above round-off), the
  first-order coefficient against FIRST_ORDER_TOL = 1e-2, the KL ratio against 1e-2 at the
  smallest step and 0.5 at every step; holds iff every gate is >= 1;
- ``decide`` and ``refute`` refuse a negative or NaN gate margin (margins are >= 0);
- ``IcaFit.sources`` is ``(H - mean) W^T``: the fitted rows give centred sources of unit variance,
  and ``mean + mixing y`` is sent back to y (``W A = I``);
- an IcaFit is frozen: its verdict-bearing fields cannot be overwritten;
- seeds must fit scikit-learn's 32-bit random_state: 2^32 - 1 is accepted, 2^32 is an InputError;
- documented defaults equal the values passed explicitly (and differ from a neighbour): check_t8's
  seed 0 and max_iter 1000, fit_ica's max_iter 1000, check_t8_twin's alpha 1e-3 (its tolerance)
  and angle pi/4 (R rotates the first Gaussian plane by pi/4), check_t8_rate's seeds range(5)
  (the sampler is called with exactly the seeds 0..4 at each size);
- ``sharded_factor`` over a one-device mesh is a square root of J^T J (D = 1 in
  R^T R = sum_j R_j^T R_j), the one-device engine's Gram matrix.
"""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings

from synthetic.sources import gaussian_mask, mix, mixture_sampler, random_mixing, source_sampler
from theory.certificate import Verdict
from theory.first_order import fitted_slope
from theory.gates import decide, refute
from theory.ica import fit_ica
from theory.independence import check_t8, check_t8_rate, check_t8_twin
from theory.jacobian import EngineOptions, local_spectrum, square_root_factor
from theory.jacobian_sharding import prompt_mesh, sharded_factor
from theory.local import check_t3c
from theory.observations import behaviour
from theory.rotations import plane_rotation
from theory.validation import InputError

from .test_jacobian_engine import random_problems

# ---------------------------------------------------------------------------------------------
# T3(c): every gate is tolerance / |deviation| with the documented tolerances


def _ratio(tol: float, dev: float) -> float:
    return math.inf if dev == 0 else tol / dev


@settings(max_examples=3, deadline=None)  # each example runs two spectra and ~30 forward passes
@given(random_problems(shapes=[(2, 3, 5, 4)], max_alphas=1))
def test_t3c_gates_are_the_documented_tolerances_over_the_deviations(drawn):
    """Default slope_tol = 0.2: slope >= 2 - 0.2 (null, over the steps whose change exceeds
    ROUNDOFF_CHANGE max(|B(v)|, 1) = 64 eps max(|B(v)|, 1)) and |slope - 1| <= 0.2 (row); the
    first-order coefficient |B(v + eps u) - B(v)| / (eps |J u|) held to 1e-2 of 1 at the smallest
    step; the KL ratio to 1e-2 at the smallest step and 0.5 at every step. Holds iff the rank is
    certified and every gate is >= 1."""
    problem, v = drawn.problem, drawn.v
    cert = check_t3c(problem, v, "trait")
    d = {k: np.asarray(x) if isinstance(x, list) else x for k, x in cert.details.items()}
    gates, eps = d["gate_margins"], d["eps"]
    assert cert.tolerance == 0.2
    assert cert == check_t3c(problem, v, "trait", slope_tol=0.2)
    expected = {}
    loglog = lambda changes: float(  # the documented floor at 1e-300 before the log
        np.polyfit(np.log(eps), np.log(np.maximum(changes, 1e-300)), 1)[0]
    )
    if "null_changes" in d:  # one-sided (O(eps^2)), fitted where the change beats round-off
        ch = d["null_changes"]
        floor = 64 * np.finfo(float).eps * max(np.linalg.norm(behaviour(problem, v, "trait")), 1)
        seen = ch > floor
        slope = (
            float(np.polyfit(np.log(eps[seen]), np.log(ch[seen]), 1)[0])
            if seen.sum() >= 2
            else math.inf
        )
        assert d["null_slope"] == pytest.approx(slope, rel=1e-9, abs=1e-12)
        expected["null_slope"] = _ratio(0.2, max(0.0, 2.0 - slope))
    spec = local_spectrum(problem, v, "trait")
    if "outside_changes" in d:
        u_out = cert.witness["u_out"]
        assert d["outside_slope"] == pytest.approx(
            loglog(d["outside_changes"]), rel=1e-9, abs=1e-12
        )
        expected["outside_slope"] = _ratio(0.2, abs(d["outside_slope"] - 1.0))
        ratio = d["outside_changes"][0] / eps[0] / spec.norm_of_image(u_out)
        assert d["first_order_ratio"] == pytest.approx(ratio, rel=1e-12)
        expected["first_order"] = _ratio(1e-2, abs(d["first_order_ratio"] - 1.0))
    expected["kl"] = _ratio(1e-2, abs(d["kl_ratio"] - 1.0))
    expected["kl_all"] = _ratio(0.5, float(np.max(np.abs(d["kl_ratios"] - 1.0))))
    assert d["kl_ratio"] == d["kl_ratios"][0]
    np.testing.assert_array_equal(eps, np.sort(eps))  # ascending: index 0 is the smallest step
    assert set(gates) - {"symmetry"} == set(expected)
    for name, m in expected.items():
        assert gates[name] == pytest.approx(m, rel=1e-12), name
    if cert.verdict is Verdict.HOLDS:
        assert min(gates.values()) >= 1
    if spec.decision.certified and min(gates.values()) >= 1:
        assert cert.verdict is Verdict.HOLDS


def test_fitted_slope_is_the_least_squares_log_log_slope():
    """changes = c eps^p exactly gives slope p."""
    eps = np.geomspace(1e-5, 1e-2, 7)
    assert fitted_slope(eps, 3.0 * eps**2) == pytest.approx(2.0, abs=1e-9)


# ---------------------------------------------------------------------------------------------
# gates: margins are >= 0


@pytest.mark.parametrize("bad", [-0.5, -math.inf, math.nan])
@pytest.mark.parametrize("where", ["claims", "needs", "holds_needs", "refute"])
def test_a_negative_or_nan_gate_margin_is_refused(bad, where):
    """A margin is evidence / threshold >= 0; a negative or NaN one is a caller's bug and raises."""
    with pytest.raises(ValueError, match="margins are >= 0"):
        if where == "refute":
            refute({"ok": 2.0, "bad": bad})
        else:
            decide(**{"claims": {"ok": 2.0}, where: {"bad": bad}})


# ---------------------------------------------------------------------------------------------
# theory.ica

ICA_DATA = mix(random_mixing(3, 3, seed=7), ("laplace", "uniform", "bimodal"), 2000, seed=7)
OFFSET = np.array([5.0, -3.0, 2.0])  # a non-zero mean, so H - mean and H + mean differ


@pytest.fixture(scope="module")
def ica_fit():
    return fit_ica(ICA_DATA.H + OFFSET)


def test_ica_sources_are_the_centred_whitened_unmixed_rows(ica_fit):
    """sources(H) = (H - mean) W^T: on the fitted rows (whiten="unit-variance") the sources are
    centred with identity covariance; row by row they are W (h - mean); and mean + A y maps back
    to y (W A = I)."""
    H = ICA_DATA.H + OFFSET
    S = ica_fit.sources(H)
    np.testing.assert_allclose(ica_fit.mean, H.mean(axis=0), atol=1e-10)
    np.testing.assert_allclose(S.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(np.cov(S.T, bias=True), np.eye(3), atol=1e-8)
    for i in (0, 17, 1999):
        np.testing.assert_allclose(
            S[i], ica_fit.unmixing @ (H[i] - ica_fit.mean), rtol=1e-12, atol=1e-12
        )
    y = np.random.default_rng(3).standard_normal((5, 3))
    np.testing.assert_allclose(
        ica_fit.sources(ica_fit.mean + y @ ica_fit.mixing.T), y, rtol=1e-9, atol=1e-9
    )


def test_an_ica_fit_is_frozen(ica_fit):
    """A fit's convergence record cannot be rewritten after the fact."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        ica_fit.converged = not ica_fit.converged
    with pytest.raises(dataclasses.FrozenInstanceError):
        ica_fit.n_iter = 0


TWIN_LAWS = ("laplace", "gaussian", "gaussian")
TWIN_A = random_mixing(3, 3, seed=1)


def _twin(**kw):
    return check_t8_twin(TWIN_A, gaussian_mask(TWIN_LAWS), source_sampler(TWIN_LAWS), **kw)


@pytest.mark.parametrize(
    "call",
    [
        lambda seed: fit_ica(ICA_DATA.H[:400], seed=seed),
        lambda seed: check_t8(ICA_DATA.H[:400], seed=seed),
        lambda seed: _twin(n_samples=200, seed=seed),
    ],
    ids=["fit_ica", "check_t8", "check_t8_twin"],
)
def test_seeds_must_fit_scikit_learns_32_bits(call):
    """scikit-learn's random_state takes [0, 2^32 - 1]: the top seed is accepted, 2^32 is an
    InputError naming the seed (not a scikit-learn error from deep inside)."""
    call(2**32 - 1)
    with pytest.raises(InputError, match="seed"):
        call(2**32)


# ---------------------------------------------------------------------------------------------
# documented defaults: leaving the argument out is passing its documented value

T8_H = mix(random_mixing(3, 3, seed=5), ("laplace", "uniform", "gaussian"), 1000, seed=5).H


def _rate(seeds=None):
    A = random_mixing(2, 2, seed=3)
    inner = mixture_sampler(A, ("laplace", "uniform"))
    calls = []

    def sampler(n, seed):
        calls.append((int(n), int(seed)))
        return inner(n, seed)

    sizes = np.array([200, 400])
    kw = {} if seeds is None else {"seeds": seeds}
    return check_t8_rate(A, sampler, sizes, **kw), sorted(calls)


@pytest.mark.parametrize(
    "default, explicit, neighbour",
    [
        (lambda: check_t8(T8_H), lambda: check_t8(T8_H, seed=0), lambda: check_t8(T8_H, seed=1)),
        (
            lambda: check_t8(T8_H),
            lambda: check_t8(T8_H, max_iter=1000),
            lambda: check_t8(T8_H, max_iter=1001),
        ),
        (
            lambda: fit_ica(T8_H).summary(),
            lambda: fit_ica(T8_H, max_iter=1000).summary(),
            lambda: fit_ica(T8_H, max_iter=1001).summary(),
        ),
        (
            lambda: _twin(n_samples=300),
            lambda: _twin(n_samples=300, alpha=1e-3),
            lambda: _twin(n_samples=300, alpha=2e-3),
        ),
        (
            lambda: _twin(n_samples=300),
            lambda: _twin(n_samples=300, angle=math.pi / 4),
            lambda: _twin(n_samples=300, angle=math.pi / 5),
        ),
        (lambda: _rate()[0], lambda: _rate(range(5))[0], lambda: _rate(range(6))[0]),
    ],
    ids=[
        "check_t8 seed 0",
        "check_t8 max_iter 1000",
        "fit_ica max_iter 1000",
        "twin alpha 1e-3",
        "twin angle pi/4",
        "rate seeds range(5)",
    ],
)
def test_defaults_are_the_documented_values(default, explicit, neighbour):
    """The result with the argument left out is the result with its documented value, and a
    neighbouring value gives another result (so the comparison can fail)."""
    d = default()
    assert d == explicit()
    assert d != neighbour()


def test_twin_defaults_state_their_values():
    """check_t8_twin: tolerance = alpha = 1e-3, and R rotates the first Gaussian plane by pi/4
    (identity elsewhere)."""
    cert = _twin(n_samples=300)
    assert cert.tolerance == cert.details["alpha"] == 1e-3
    R = cert.witness["R"]
    expected = np.eye(3)
    expected[1:, 1:] = plane_rotation(math.pi / 4)
    np.testing.assert_allclose(R, expected, rtol=0, atol=1e-15)


def test_rate_medians_are_over_the_seeds_zero_to_four():
    """check_t8_rate's default seeds are range(5): the sampler is called once per (size, seed)
    with exactly the seeds 0..4 at each size."""
    _, calls = _rate()
    assert calls == [(n, s) for n in (200, 400) for s in range(5)]


# ---------------------------------------------------------------------------------------------
# the sharded factor on one device


@settings(max_examples=3, deadline=None)  # each example compiles the engine for a new shape (JAX)
@given(random_problems(shapes=[(3, 2, 6, 9)], max_alphas=2))
def test_sharded_factor_on_one_device_is_a_square_root_of_the_gram(drawn):
    """R^T R = sum_j R_j^T R_j = J^T J with D = 1: the factor over a one-device mesh has the
    one-device engine's Gram matrix (logits and probs)."""
    problem, v = drawn.problem, drawn.v
    d = problem.d
    opt = EngineOptions(devices=1)
    for channel in ("logits", "probs"):
        r_u = jnp.asarray(scipy.linalg.qr(problem.w_u.T, mode="r")[0][: min(problem.vocab, d)])
        R = sharded_factor(
            problem,
            jnp.asarray(v),
            channel,
            problem.jax_args(channel),
            r_u,
            2,
            opt,
            prompt_mesh(1),
        )
        one = square_root_factor(problem, v, channel, opt)
        gram, ref = R.T @ R, one.T @ one
        assert R.shape == (d, d)
        np.testing.assert_allclose(gram, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
