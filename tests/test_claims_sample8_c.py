"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 8, C):

- T2a holds when the worst relative change is *at* its tolerance ("up to tol"), margin 1.
- T7 (NSP) is violated only when the re-run ratio is strictly above ``1 + decision_tol``: a
  kernel vector whose ratio is exactly ``1 + decision_tol`` leaves the verdict undecided.
- The top-k ratio |n_S|_1 / |n_{S^c}|_1 is scale-free, and it is infinite exactly when the rest
  is at most 1e-14 of the top (round-off), finite above that.
- ``fit_ica`` runs to the documented defaults, at most 1000 iterations to tolerance 1e-7, and
  records them in the fit.
- A two-sample test rejects only when its adjusted p-value is strictly below alpha.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory.certificate import Verdict
from theory.ica import fit_ica
from theory.norm_symmetry import check_t2a
from theory.nsp import NSPSearch, _top_k_ratio, nsp_certificate
from theory.two_sample import TwoSampleTest


def test_t2a_holds_at_its_tolerance():
    # B(x) = x on R^1: |B(v + c 1) - B(v)| / |B(v) - B(0)| = c / |v| = 0.25 exactly
    cert = check_t2a({"identity": lambda x: x}, np.array([1.0]), shift=0.25, tol=0.25)
    assert cert.residual == 0.25
    assert cert.verdict is Verdict.HOLDS and cert.margin == 1.0
    above = check_t2a({"identity": lambda x: x}, np.array([1.0]), shift=0.25, tol=0.125)
    assert above.verdict is Verdict.VIOLATED


def test_nsp_exactly_at_one_plus_decision_tol_is_undecided():
    A = np.array([[2.0, -3.0]])
    n = np.array([0.75, 0.5])  # in ker A exactly; |n_S|_1 / |n_{S^c}|_1 = 1.5 exactly (k = 1)
    assert (A @ n == 0).all() and _top_k_ratio(n, 1)[0] == 1.5
    search = NSPSearch(1.5, n, 1, math.inf, 1e-16)
    cert = nsp_certificate(A, 1, search, 0.5, {})
    assert cert.verdict is Verdict.UNDECIDED and "within decision_tol" in cert.reason
    above = nsp_certificate(A, 1, search, 0.25, {})
    assert above.verdict is Verdict.VIOLATED


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
@pytest.mark.parametrize(("rest", "infinite"), [(0.5e-14, True), (1e-14, True), (1.5e-14, False)])
def test_the_top_k_ratio_is_scale_free_with_a_round_off_cut(scale, rest, infinite):
    n = scale * np.array([1.0, rest])
    ratio, S = _top_k_ratio(n, 1)
    assert list(S) == [0]
    if infinite:
        assert ratio == math.inf
    else:
        assert ratio == pytest.approx(1 / rest, rel=1e-12)


def test_fit_ica_defaults_are_1000_iterations_to_1e_7():
    rng = np.random.default_rng(2)
    H = rng.laplace(size=(300, 2)) @ np.array([[1.0, 0.3], [0.4, 1.0]])
    fit = fit_ica(H)
    assert (fit.max_iter, fit.tol) == (1000, 1e-7)
    explicit = fit_ica(H, max_iter=1000, tol=1e-7)
    np.testing.assert_array_equal(fit.unmixing, explicit.unmixing)


@pytest.mark.parametrize(("p", "rejects"), [(0.05, False), (float(np.nextafter(0.05, 0.0)), True)])
def test_a_two_sample_test_rejects_strictly_below_alpha(p, rejects):
    test = TwoSampleTest(p, 0.1, np.array([p]), np.array([0.1]), np.eye(1))
    assert test.rejects(0.05) is rejects
