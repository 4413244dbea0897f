"""Claims of the linear evidence, T3(b), T2b, LayerNorm and the exact NSP(k) budget, each stated
so that a wrong operator or constant breaks it:

- ``undecided_certificate``: the reason passed is the reason given; without one, the reason names
  the matrix whose rank was not certified;
- ``allowed_residual`` = max(1e-10, 10 tau / s_1) (its docstring) at a user tolerance tau;
- ``split_tolerance`` is a relative round-off: at least d eps, far below 1e-6 on a well-conditioned
  class, and growing with the Wedin bound ``split_error``;
- T3(b) with a ``spectrum`` passed in: it must be the spectrum of this v *and* this channel; a
  wrong channel or a wrong v alone is refused with an InputError;
- T3(b) holds iff the re-run margin is >= 1: with the top of the grey band 1 / 1.5 of the smallest
  row singular value (margin 1.5) it holds;
- T2b holds iff every change is *more than* the floor: a change exactly equal to it is violated;
- ``layernorm`` is (h - mean h) / sqrt(var h + eps) with the documented default eps = 1e-5;
- NSP(k) by circuits examines sum_{s <= rank A + 1} C(p, s) column subsets: exactly that budget
  passes, one less is refused with an InputError.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory.certificate import Verdict
from theory.jacobian import LocalProblem, local_spectrum
from theory.linear import EPS, equivalence_class, split_error
from theory.linear_evidence import allowed_residual, split_tolerance, undecided_certificate
from theory.local import check_t3b
from theory.norm_symmetry import check_t2b, layernorm, shift_change
from theory.sparse import null_space_property
from theory.validation import InputError

# ---------------------------------------------------------------------------------------------
# linear evidence


def _class(tol=None, cond=10.0, seed=0):
    rng = np.random.default_rng(seed)
    q1, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    q2, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    s = np.array([1.0, 1.0 / math.sqrt(cond), 1.0 / cond])
    L = q1 @ np.diag(s) @ q2[:3, :]
    return equivalence_class(L, rng.standard_normal(5), tol)


def test_undecided_certificate_reason():
    """The reason passed in is the certificate's reason; the default names the matrix."""
    cls = _class()
    given = undecided_certificate("T1", "claim", cls, reason="split of v in its grey band")
    assert given.verdict is Verdict.UNDECIDED
    assert given.reason == "split of v in its grey band"
    default = undecided_certificate("T1", "claim", cls, matrix="M")
    assert isinstance(default.reason, str) and "rank of M not certified" in default.reason


@pytest.mark.parametrize("tau", [1e-3, 2e-2, 1e-12])
def test_allowed_residual_is_ten_tau_over_s1(tau):
    """At a user tolerance tau the residual allowed is max(1e-10, 10 tau / s_1)."""
    cls = _class(tol=tau, cond=10.0)
    s1 = float(cls.decision.singular_values[0])
    assert math.isclose(allowed_residual(cls), max(1e-10, 10.0 * tau / s1), rel_tol=1e-12)


def test_split_tolerance_is_a_relative_round_off():
    """split_tolerance is a relative round-off: >= d eps, < 1e-6 for a condition number of 10,
    and it grows with the Wedin bound (condition 1e6 gives a larger one than condition 10)."""
    well = _class(cond=10.0)
    ill = _class(cond=1e6)
    assert well.certified and ill.certified
    assert well.d * EPS <= split_tolerance(well) < 1e-6
    assert split_error(ill) > split_error(well)
    assert split_tolerance(ill) > split_tolerance(well)
    assert split_tolerance(ill) >= split_error(ill)


# ---------------------------------------------------------------------------------------------
# T3(b): the spectrum passed in and the re-run margin


def _trait_problem(d=4):
    rng = np.random.default_rng(11)
    problem = LocalProblem(
        lambda x: x,
        rng.standard_normal((1, 2, d)),
        rng.standard_normal((d, 6)),
        alphas=(1.0, 2.0),
        plus=[0, 1],
        minus=[2, 3],
    )
    return problem, rng.standard_normal(d)


def test_t3b_refuses_a_spectrum_of_another_channel_or_another_v():
    """The spectrum must be local_spectrum(problem, v, "trait"): a spectrum of v in another
    channel is refused, and so is a trait spectrum of another v."""
    problem, v = _trait_problem()
    vec = problem.vector(v)
    other_channel = local_spectrum(problem, vec, "logits")
    with pytest.raises(InputError, match="for this v and channel"):
        check_t3b(problem, v, spectrum=other_channel)
    other_v = local_spectrum(problem, problem.vector(2.0 * v + 1.0), "trait")
    with pytest.raises(InputError, match="for this v and channel"):
        check_t3b(problem, v, spectrum=other_v)
    own = local_spectrum(problem, vec, "trait")
    assert check_t3b(problem, v, spectrum=own).verdict is Verdict.HOLDS


def test_t3b_holds_at_a_rerun_margin_between_one_and_two():
    """With tau = s_r^2 / (2.25 s_1) the top of the grey band sqrt(tau s_1) is s_r / 1.5: the
    rank is certified, the row basis re-runs to |J u| >= s_r = 1.5 band_top and the null basis to
    round-off, so the re-run margin is 1.5 >= 1 and T3(b) holds."""
    problem, v = _trait_problem()
    s = local_spectrum(problem, problem.vector(v), "trait").decision.singular_values
    r = 2  # N |A| = 2 < d
    tau = float(s[r - 1]) ** 2 / (2.25 * float(s[0]))
    cert = check_t3b(problem, v, tol=tau)
    ratio = cert.details["row_jvp_min"] / cert.details["band_top"]
    assert 1.0 < ratio < 2.0 and math.isclose(ratio, 1.5, rel_tol=1e-6)
    assert cert.rank == r
    assert cert.verdict is Verdict.HOLDS, cert.reason
    assert 1.0 <= cert.margin < 2.0


# ---------------------------------------------------------------------------------------------
# T2b at its floor; LayerNorm


def _rms_like(x):
    x = np.asarray(x, dtype=np.float64)
    return np.array([x[0] ** 2 + 0.3 * x[1], x[1] - x[2] * x[0]])


def test_t2b_change_equal_to_the_floor_is_not_more_than_it():
    """Holds iff every change is more than the floor: at floor = the change it is violated,
    just below it holds."""
    v = np.array([0.7, -0.2, 1.1])
    change = shift_change(_rms_like, v)
    assert 0 < change < math.inf
    at = check_t2b({"m": _rms_like}, v, floor=change)
    assert at.verdict is Verdict.VIOLATED
    below = check_t2b({"m": _rms_like}, v, floor=change * (1 - 1e-9))
    assert below.verdict is Verdict.HOLDS


@pytest.mark.parametrize("scale", [1e-3, 1.0])
def test_layernorm_formula_and_default_eps(scale):
    """layernorm(h) = (h - mean h) / sqrt(var h + 1e-5): the default eps is 1e-5 (visible on a
    small h, where eps is comparable to the variance)."""
    h = scale * np.random.default_rng(3).standard_normal((2, 5))
    c = h - h.mean(axis=-1, keepdims=True)
    expected = c / np.sqrt(c.var(axis=-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(layernorm(h), expected, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(layernorm(h), layernorm(h, eps=1e-5))
    if scale < 1:
        assert not np.allclose(layernorm(h), layernorm(h, eps=2e-5), rtol=1e-6, atol=0)


# ---------------------------------------------------------------------------------------------
# NSP(k) by circuits: the subset budget


def test_nsp_circuits_budget_is_sum_of_binomials_up_to_rank_plus_one():
    """p = 6 columns of rank 2: sum_{s=1}^{3} C(6, s) = 6 + 15 + 20 = 41 subsets; a budget of 41
    passes, 40 is refused."""
    A = np.random.default_rng(5).standard_normal((2, 6))
    need = sum(math.comb(6, s) for s in range(1, 4))
    assert need == 41
    cert = null_space_property(A, 1, method="circuits", max_subsets=need)
    assert cert.details["evaluated"] == need
    with pytest.raises(InputError, match="41 column subsets"):
        null_space_property(A, 1, method="circuits", max_subsets=need - 1)
