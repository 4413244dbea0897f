"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 9, J):

- T7 (NSP): the re-run kernel vector's ratio must match the reported worst ratio "to 1e-9
  relative": for a worst ratio of 10 a gap of 5e-9 (5e-10 relative) still counts as the same
  ratio, for a worst ratio of 1.5 a gap of 1.75e-9 (1.17e-9 relative) does not.
- T7 (NSP): a violated verdict's margin is ``ratio / (1 + decision_tol)`` when the re-run and
  the rank decisions clear their gates by infinitely much.
- A rank decision with a user's tolerance tau has the grey band ``(tau / 10, tau]`` below it,
  open at tau / 10: a singular value exactly at tau / 10 leaves the decision certified, with
  margin ``(tau / 10) / s_{r+1}`` = 1 (">= 1 iff certified").
- ``behaviour_residual`` falls back to the scale max(1, |B(v)|) when steering v moves the
  behaviour by at most sqrt(eps) max(1, |B(v)|), including exactly that much.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory.certificate import Verdict
from theory.nsp import NSPSearch, _top_k_ratio, nsp_certificate
from theory.rank import decide_rank_from_singular_values
from theory.residual import behaviour_residual

EPS = float(np.finfo(np.float64).eps)


def test_nsp_rerun_ratio_agrees_to_1e_9_relative_for_a_large_worst_ratio():
    A = np.array([[1.0, -10.0]])
    n = np.array([10.0, 1.0])  # in ker A exactly; k = 1 ratio 10 / 1 = 10 exactly
    assert (A @ n == 0).all() and _top_k_ratio(n, 1)[0] == 10.0
    worst = 10.0 + 5e-9  # 5e-10 relative to 10: within 1e-9 relative
    assert abs(worst - 10.0) <= 0.6e-9 * worst
    cert = nsp_certificate(A, 1, NSPSearch(worst, n, 1, math.inf, 1e-16), 1e-9, {})
    assert cert.verdict is Verdict.VIOLATED
    # 2e-9 relative is outside: the re-run disagrees
    far = nsp_certificate(A, 1, NSPSearch(10.0 + 2e-8, n, 1, math.inf, 1e-16), 1e-9, {})
    assert far.verdict is Verdict.UNDECIDED and "re-run" in far.reason


def test_nsp_rerun_ratio_gap_above_1e_9_relative_is_undecided_for_worst_ratio_1_5():
    A = np.array([[2.0, -3.0]])
    n = np.array([0.75, 0.5])  # in ker A exactly; k = 1 ratio 1.5 exactly
    assert (A @ n == 0).all() and _top_k_ratio(n, 1)[0] == 1.5
    worst = 1.5 + 1.75e-9  # about 1.17e-9 relative to 1.5: outside 1e-9 relative
    assert abs(worst - 1.5) > 1.1e-9 * worst
    cert = nsp_certificate(A, 1, NSPSearch(worst, n, 1, math.inf, 1e-16), 1e-9, {})
    assert cert.verdict is Verdict.UNDECIDED and "re-run" in cert.reason
    near = nsp_certificate(A, 1, NSPSearch(1.5 + 1e-9, n, 1, math.inf, 1e-16), 1e-9, {})
    assert near.verdict is Verdict.VIOLATED


@pytest.mark.parametrize("decision_tol", [0.25, 0.1, 1e-6])
def test_nsp_violated_margin_is_ratio_over_one_plus_decision_tol(decision_tol):
    A = np.array([[2.0, -3.0]])
    n = np.array([0.75, 0.5])  # ratio 1.5, residual 0, rank margin infinite
    cert = nsp_certificate(A, 1, NSPSearch(1.5, n, 1, math.inf, 1e-16), decision_tol, {})
    assert cert.verdict is Verdict.VIOLATED
    assert cert.margin == pytest.approx(1.5 / (1.0 + decision_tol), rel=1e-15)
    assert cert.margin < 1.5


def test_singular_value_exactly_at_a_tenth_of_the_user_tolerance_is_outside_the_band():
    tau = 1.0
    low = tau / 10
    assert low == 0.1
    dec = decide_rank_from_singular_values([10.0, low], (2, 2), tol=tau)
    assert dec.rank == 1
    assert dec.certified and dec.ambiguous.size == 0
    assert dec.margin == 1.0
    # just above tau / 10 it is in the band: undecided, margin below 1
    above = decide_rank_from_singular_values([10.0, float(np.nextafter(low, 1.0))], (2, 2), tol=tau)
    assert not above.certified and above.margin < 1.0


def test_behaviour_residual_uses_the_floor_when_the_step_is_exactly_sqrt_eps_times_it():
    sqrt_eps = math.sqrt(EPS)
    assert sqrt_eps == 2.0**-26
    b_v = np.zeros(3)  # floor max(1, |B(v)|) = 1
    b_0 = np.array([-sqrt_eps, 0.0, 0.0])  # |B(v) - B(0)| = sqrt(eps) * 1 exactly
    assert float(np.linalg.norm(b_v - b_0)) == sqrt_eps
    b_w = np.array([0.0, 0.5, 0.0])
    assert behaviour_residual(b_w, b_v, b_0) == 0.5  # relative to the floor 1
    # a step twice as large is trusted as the scale
    b_0_big = np.array([-2 * sqrt_eps, 0.0, 0.0])
    assert behaviour_residual(b_w, b_v, b_0_big) == 0.5 / (2 * sqrt_eps)
