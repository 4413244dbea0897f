"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 8, C):

- T2a holds when the worst relative change is *at* its tolerance ("up to tol"), margin 1.
- T7 (NSP) is violated only when the re-run ratio is strictly above ``1 + decision_tol``: a
  kernel vector whose ratio is exactly ``1 + decision_tol`` leaves the verdict undecided.
- The top-k ratio |n_S|_1 / |n_{S^c}|_1 is scale-free, and it is infinite exactly when the rest
  is at most 1e-14 of the top (round-off), finite above that.
- ``fit_ica`` runs to the documented defaults, at most 1000 iterations to tolerance 1e-7, and
  records them in the fit.
- A T2c certificate types its re-run: a member re-run through the softmax carries its residual
  and the tolerance it was held to; with no member (dim = 0) neither is given.
- The split's tolerance is 1e3 times its Wedin bound max(m, d) eps s_1 / s_r, never below
  1e3 d eps: it grows with the condition number of L, not with its scale.
- ``nsp_by_lps`` reports ``tau_rel`` = rank tolerance / sigma_1 of A (scale-free; a rank-one A
  has sigma_2 = 0 but sigma_1 > 0), and 1 for A = 0.
- T8's twin check draws its control sample from a random stream of its own: no sample of the
  Amari curves starts where the control test's sample starts.
- A two-sample test rejects only when its adjusted p-value is strictly below alpha.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from synthetic.sources import gaussian_mask, random_mixing, source_sampler
from theory.certificate import Verdict
from theory.ica import fit_ica
from theory.independence import check_t8_twin
from theory.linear import equivalence_class
from theory.linear_evidence import split_tolerance
from theory.norm_symmetry import check_t2a
from theory.nsp import NSPSearch, _top_k_ratio, nsp_by_lps, nsp_certificate
from theory.rank import decide_rank_from_singular_values
from theory.softmax_shift import check_t2c
from theory.two_sample import TwoSampleTest

EPS = float(np.finfo(np.float64).eps)


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


def test_a_t2c_rerun_comes_with_the_tolerance_it_was_held_to():
    rng = np.random.default_rng(4)
    H = rng.standard_normal((3, 4))
    v = rng.standard_normal(4)
    W = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 4))  # rank 2: dim >= 2
    cert = check_t2c(W, v, H)
    assert cert.dim > 0 and cert.verdict is Verdict.HOLDS
    assert cert.residual is not None and cert.residual_tolerance is not None
    assert 0 <= cert.residual <= cert.residual_tolerance
    full = check_t2c(rng.standard_normal((6, 4)), v, H)  # W injective, 1 not in range: dim 0
    assert full.dim == 0
    assert full.residual is None and full.residual_tolerance is None


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
@pytest.mark.parametrize("condition", [1.0, 1e3, 1e6])
def test_the_split_tolerance_is_a_thousand_wedin_bounds(scale, condition):
    L = scale * np.array([[1.0, 0.0, 0.0], [0.0, 1.0 / condition, 0.0]])  # rank 2 of 3
    cls = equivalence_class(L, np.array([1.0, 2.0, 3.0]))
    assert (cls.rank, cls.dim) == (2, 1)
    expected = 1e3 * max(3 * EPS * condition, 3 * EPS)
    assert split_tolerance(cls) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("scale", [1e-3, 1e3])
def test_the_lp_search_reports_the_tolerance_relative_to_sigma_1(scale):
    rng = np.random.default_rng(7)
    for A in (scale * rng.standard_normal((2, 4)), scale * np.outer([1.0, 0.0], [1.0, -1.0, 3.0])):
        s = np.linalg.svd(A, compute_uv=False)
        tau = decide_rank_from_singular_values(s, A.shape, None).tolerance
        found = nsp_by_lps(A, 1, None, 10_000)
        assert found.tau_rel == pytest.approx(tau / s[0], rel=1e-12)
        assert found.tau_rel < 1e-12  # relative: independent of the scale of A
    assert nsp_by_lps(np.zeros((2, 3)), 1, None, 10_000).tau_rel == 1.0


def test_the_t8_control_sample_has_a_random_stream_of_its_own():
    starts = []

    def recording(laws, label):
        law = source_sampler(laws)

        def sampler(n, rng):
            starts.append((label, n, rng.bit_generator.state["state"]["state"]))
            return law(n, rng)

        return sampler

    check_t8_twin(
        random_mixing(3, 3, seed=1),
        gaussian_mask(("laplace", "gaussian", "gaussian")),
        recording(("laplace", "gaussian", "gaussian"), "twin"),
        n_samples=1000,
        control_sample_sources=recording(("laplace", "uniform", "laplace"), "control"),
        ica_sizes=np.array([300, 600]),
        ica_seeds=range(2),
    )
    control_test = [state for label, n, state in starts if label == "control" and n == 1000]
    curves = [state for label, n, state in starts if n != 1000]
    assert len(control_test) == 2 and len(curves) == 8  # X and Y; 2 curves x 2 sizes x 2 seeds
    assert not set(control_test) & set(curves)
