"""Claims of the linear theory (T1, T1a, T2c, T4, T6) and of its verdict machinery, stated so that
a wrong operator, comparison or constant in ``theory/`` breaks one of them.

Each test states one claim from a docstring or from docs/theorems.md and checks it against an
independent computation (a closed form, numpy/scipy, a hand-built boundary case): the verdict of a
gate on its edge, the twin's cosine to v, the grey-band margin of a rank decision, the T6 slack
``10 tau |u|``, T4's moved bias, the T2c softmax residual, the exact classes' certification, the
default steering strength.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.certificate import Verdict, verdict_from
from theory.class_report import class_certificate
from theory.environments import check_t6
from theory.estimation import check_t4
from theory.gates import decide
from theory.linear import equivalence_class
from theory.linear_evidence import unit
from theory.rank import BADLY_SCALED, check_column_scaling, decide_rank_from_singular_values
from theory.softmax_shift import check_t2c, ones_in_range
from theory.steering import Steering

from .strategies import ranked_matrices, split_vectors

# ---------------------------------------------------------------------------------------------
# verdicts from margins (certificate, gates)


def test_verdict_from_a_margin_at_or_above_one_is_decided():
    """verdict_from: margin None or >= 1 decides (holds / violated); below 1 it is undecided."""
    for margin in (None, 1.0, 2.0, math.inf):
        assert verdict_from(True, margin) is Verdict.HOLDS
        assert verdict_from(False, margin) is Verdict.VIOLATED
    for margin in (0.0, 0.5, 1.0 - 1e-12):
        assert verdict_from(True, margin) is Verdict.UNDECIDED
        assert verdict_from(False, margin) is Verdict.UNDECIDED


def test_a_need_with_margin_exactly_one_is_cleared():
    """decide: a margin m >= 1 means cleared, so a need at exactly 1 lets the claims decide."""
    verdict, margin, reason = decide({"claim": 3.0}, {"rank": 1.0})
    assert verdict is Verdict.HOLDS and margin == 1.0 and reason == ""
    verdict, _, _ = decide({"claim": 0.5}, {"rank": 1.0})
    assert verdict is Verdict.VIOLATED
    verdict, _, reason = decide({"claim": 3.0}, {"rank": np.nextafter(1.0, 0.0)})
    assert verdict is Verdict.UNDECIDED and "rank" in reason


# ---------------------------------------------------------------------------------------------
# class report (T1a twin's cosine)


@settings(max_examples=20)
@given(
    ranked_matrices(max_dim=6, min_rank=1, full_rank=False).flatmap(
        lambda M: st.tuples(st.just(M), split_vectors(M, row=True, ker=True))
    ),
    st.sampled_from([1e3, 1e6]),
)
def test_class_certificate_twin_cosine_is_the_cosine_of_an_orthogonal_twin(Mv, size):
    """T1a: the reported twin cosine is <twin, v> / (|twin| |v|), zero up to round-off, any |v|."""
    M, v = Mv
    v = size * v / np.linalg.norm(v)  # large |v|: a product of norms in place of a quotient shows
    cert = class_certificate(M.L, v)
    if cert.verdict is Verdict.UNDECIDED or "orthogonal_twin" not in cert.witness:
        return
    twin = cert.witness["orthogonal_twin"]
    direct = float(twin @ v) / (np.linalg.norm(twin) * np.linalg.norm(v))
    assert cert.cosine is not None and -1.0 <= cert.cosine <= 1.0
    assert abs(cert.cosine - direct) <= 1e-12
    assert abs(cert.cosine) <= 1e-9


def test_class_certificate_of_v_in_ker_l_has_a_zero_twin_and_no_cosine():
    """T1a: for v in ker L the twin is 0 (it steers like v); its cosine to v is undefined: None."""
    L = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    v = np.array([0.0, 0.0, 2.0])
    cert = class_certificate(L, v)
    assert np.array_equal(cert.witness["orthogonal_twin"], np.zeros(3))
    assert cert.cosine is None


# ---------------------------------------------------------------------------------------------
# linear evidence, exact classes


@settings(max_examples=20)
@given(st.integers(1, 6), st.integers(0, 2**32 - 1), st.sampled_from([1e-6, 1.0, 1e6]))
def test_unit_is_a_unit_vector_of_the_span(k, seed, scale):
    """unit(rng, basis) has norm 1 and lies in span(basis), whatever the scale of the basis."""
    rng = np.random.default_rng(seed)
    basis = scale * rng.standard_normal((k + 2, k))
    u = unit(np.random.default_rng(seed + 1), basis)
    assert abs(np.linalg.norm(u) - 1.0) <= 1e-12
    coef = np.linalg.lstsq(basis, u, rcond=None)[0]
    assert np.linalg.norm(basis @ coef - u) <= 1e-9


def test_exact_classes_are_always_certified():
    """An exact (sympy) class is a proof: its rank is certified, whatever L is."""
    for L, v in (
        (sympy.Matrix([[1, 2, 3], [2, 4, 6]]), sympy.Matrix([1, 0, 0])),
        (sympy.zeros(2, 3), sympy.Matrix([1, 1, 1])),
        (sympy.eye(3), sympy.Matrix([0, 0, 0])),
    ):
        cls = equivalence_class(L, v)
        assert cls.certified is True
        assert cls.rank == L.rank()


# ---------------------------------------------------------------------------------------------
# rank decisions


@settings(max_examples=30)
@given(
    st.lists(st.floats(1e-6, 10.0) | st.just(0.0), min_size=1, max_size=6),
    st.floats(1e-5, 1.0),
)
def test_user_tolerance_margin_is_the_grey_band_closed_form(values, tau):
    """Margin = min(s_r / sqrt(tau s_1), (tau / 10) / s_{r+1}) with a user's tau; >= 1 iff
    certified (docs/theorems.md section 3)."""
    s = sorted(values, reverse=True)
    dec = decide_rank_from_singular_values(s, (len(s), len(s)), tol=tau)
    kept = [x for x in s if x > tau]
    dropped = [x for x in s if x <= tau]
    candidates = []
    if kept:
        candidates.append(kept[-1] / math.sqrt(tau * s[0]))
    if dropped and dropped[0] > 0:
        candidates.append((tau / 10) / dropped[0])
    expected = min(candidates, default=math.inf)
    assert dec.rank == len(kept)
    assert dec.margin == pytest.approx(expected, rel=1e-12)
    assert dec.certified == (dec.margin >= 1)


def test_user_tolerance_value_just_under_the_cut_is_undecided_with_its_margin():
    """A dropped value in (tau / 10, tau] is in the lower grey band: undecided, margin
    (tau / 10) / s_{r+1} < 1."""
    dec = decide_rank_from_singular_values([1.0, 1e-3], (2, 2), tol=5e-3)
    assert dec.rank == 1 and not dec.certified
    assert dec.margin == pytest.approx(5e-4 / 1e-3, rel=1e-12)


def test_column_norms_spread_by_exactly_badly_scaled_keep_the_normwise_decision():
    """Column norms spread by BADLY_SCALED exactly (not more) keep the normwise rank; by more,
    the column-equilibrated re-decision (here: a grey-band value) makes it undecided."""
    L = np.array([[BADLY_SCALED, 1.0], [0.0, 1e-13]])  # column norms 1e4 and 1.0, exactly
    norms = np.linalg.norm(L, axis=0)
    assert norms.max() == BADLY_SCALED * norms.min()
    cls = equivalence_class(L, np.array([1.0, 1.0]))
    assert cls.certified and cls.rank == 1
    dec = decide_rank_from_singular_values(np.linalg.svd(L, compute_uv=False), L.shape)
    assert check_column_scaling(L, dec) is dec
    spread = np.array([[1.5 * BADLY_SCALED, 1.0], [0.0, 1e-13]])
    assert not equivalence_class(spread, np.array([1.0, 1.0])).certified


# ---------------------------------------------------------------------------------------------
# T6: the common-null-direction witness is held to 10 tau |u| plus round-off


def test_t6_witness_change_is_held_to_ten_tau_times_its_norm():
    """check_t6: v and v + u must agree in every environment to within 10 tau |u| plus round-off;
    a claimed u moving one environment by 15 tau |u| is not verified (undecided), by 5 tau |u| it
    is (violated: v is not identifiable)."""
    readouts = [np.array([[1.0, 0.0, 0.0]]), np.array([[0.0, 1.0, 0.0]])]
    v = np.array([1.0, 2.0, 3.0])
    tau = 1e-6
    for factor, verdict in ((15.0, Verdict.UNDECIDED), (5.0, Verdict.VIOLATED)):
        u = np.array([factor * tau, 0.0, 1.0])
        u = u / np.linalg.norm(u)  # |u| = 1; environment 0 moves by u[0], about factor * tau
        cert = check_t6(readouts, v, tol=tau, witness=u)
        assert cert.residual_tolerance == pytest.approx(10 * tau * np.linalg.norm(u), rel=1e-12)
        assert cert.residual == pytest.approx(abs(u[0]), rel=1e-9)
        assert cert.verdict is verdict, (factor, cert.reason)


# ---------------------------------------------------------------------------------------------
# T4: the probe's bias moves with the member


def _centred_rank_one_activations():
    rng = np.random.default_rng(3)
    return rng.standard_normal((6, 1)) @ rng.standard_normal((1, 3)) + np.array([1.0, -2.0, 0.5])


def test_t4_default_bias_is_zero_and_the_member_bias_is_minus_u_dot_mean():
    """check_t4 with the default bias b = 0 reports the member bias -<u, mean h>, u = w' - w."""
    H = _centred_rank_one_activations()
    w = np.array([0.3, -0.7, 1.1])
    cert = check_t4(H, w)
    member = cert.witness["member"]
    u = member - w
    assert cert.witness["member_bias"][0] == pytest.approx(-float(u @ H.mean(axis=0)), abs=1e-12)
    # and the scores really are unchanged: H w + 0 = H w' + b'
    np.testing.assert_allclose(H @ w, H @ member + cert.witness["member_bias"][0], atol=1e-10)


def test_t4_claimed_member_is_reported_with_its_bias_even_when_h_has_full_rank():
    """check_t4(member=w'): the claimed member is re-scored and reported with bias
    b - <w' - w, mean h>, also when the class is {w} (full-rank centred H): violated."""
    rng = np.random.default_rng(4)
    H = rng.standard_normal((8, 3))
    w = np.array([0.3, -0.7, 1.1])
    claimed = w + np.array([0.0, 0.5, 0.0])
    cert = check_t4(H, w, b=0.25, member=claimed)
    assert cert.dim == 0
    np.testing.assert_array_equal(cert.witness["member"], claimed)
    expected_bias = 0.25 - float((claimed - w) @ H.mean(axis=0))
    assert cert.witness["member_bias"][0] == pytest.approx(expected_bias, abs=1e-12)
    assert cert.verdict is Verdict.VIOLATED


# ---------------------------------------------------------------------------------------------
# T2c: the re-run goes through softmax(W (h + w) + b)


def test_t2c_residual_is_the_softmax_residual_of_the_claimed_member():
    """check_t2c: the residual is |p(w) - p(v)| / |p(v) - p(0)| with p(x) = softmax((H + x) W^T + b)
    (the model z = W (h + x) + b), computed here with scipy."""
    rng = np.random.default_rng(5)
    W = rng.standard_normal((4, 3)) @ np.diag([1.0, 1.0, 0.0])  # ker W = span(e_3)
    H = rng.standard_normal((5, 3))
    b = rng.standard_normal(4)
    v = np.array([0.4, -0.3, 0.8])
    claimed = v + np.array([0.2, 0.1, 0.0])  # not a member: it changes the softmax

    def p(x):
        return scipy.special.softmax((H + x) @ W.T + b, axis=-1)

    expected = np.linalg.norm(p(claimed) - p(v)) / np.linalg.norm(p(v) - p(np.zeros(3)))
    cert = check_t2c(W, v, H, b, member=claimed)
    assert cert.residual == pytest.approx(expected, rel=1e-9)
    assert cert.verdict is Verdict.VIOLATED


@settings(max_examples=25)
@given(
    st.integers(1, 6),
    st.integers(1, 5),
    st.sampled_from([0.0, 1e-6, 1e-3]),
    st.floats(1.5, 1e3),
    st.integers(0, 2**32 - 1),
)
def test_t2c_a_readout_decided_zero_has_a_range_without_1(V, d, size, over, seed):
    """When the tolerance decides rank W = 0, range W = {0} and 1_V != 0 is not in it, however
    the tolerance treats the ones column: [1 in range W] is false and T2c's dimension is
    d - 0 + 0 = d, which check_t2c re-runs and confirms (the softmax does not see W here)."""
    rng = np.random.default_rng(seed)
    W = size * rng.standard_normal((V, d))
    tol = over * max(float(np.linalg.norm(W, 2)), 1.0)  # above every singular value and above 1
    assert ones_in_range(W, tol) == (False, True)
    cert = check_t2c(W, rng.standard_normal(d), rng.standard_normal((3, d)), tol=tol)
    assert cert.details["ones_in_range_W"] is False
    assert cert.details["predicted_dim"] == d == cert.dim
    assert cert.verdict is Verdict.HOLDS


# ---------------------------------------------------------------------------------------------
# steering


def test_steering_strength_defaults_to_one():
    """Steering(layer, v): alpha defaults to 1 (the docstring's 'strength (default 1)')."""
    s = Steering(0, np.array([1.0, 2.0]))
    assert s.alpha == 1.0
