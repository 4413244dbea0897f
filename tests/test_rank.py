"""Section 3: a rank is certified only when the spectrum has a clear gap at the tolerance;
otherwise it is undecided and the singular values that made it so are reported."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.certificate import Verdict
from theory.linear import UndecidedRankError, equivalence_class, orthogonal_twin
from theory.linear_checks import check_t1
from theory.rank import EPS, decide_rank, decide_rank_from_singular_values

from .strategies import ranked_matrices


def _with_spectrum(s, seed=0):
    rng = np.random.default_rng(seed)
    n = len(s)
    u, _ = np.linalg.qr(rng.standard_normal((n, n)))
    v, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return u @ np.diag(s) @ v.T


def test_no_clear_gap_is_undecided_and_names_the_singular_values():
    dec = decide_rank(_with_spectrum([1.0, 1e-6, 1e-9]))
    assert not dec.certified
    assert dec.rank == 3
    assert np.allclose(dec.ambiguous, [1e-9], rtol=1e-3)
    assert dec.margin < 1


def test_user_tolerance_decides():
    dec = decide_rank(_with_spectrum([1.0, 1e-6, 1e-9]), tol=1e-5)
    assert dec.certified and dec.rank == 1 and dec.tolerance == 1e-5


def test_default_tolerance_formula():
    A = _with_spectrum([2.0, 1.0, 0.5])
    assert decide_rank(A).tolerance == pytest.approx(3 * EPS * 2.0, rel=1e-12)
    B = np.zeros((5, 2))
    B[0, 0] = 3.0
    assert decide_rank(B).tolerance == pytest.approx(5 * EPS * 3.0, rel=1e-12)


@given(ranked_matrices())
def test_well_separated_spectra_are_certified_with_the_true_rank(M):
    dec = decide_rank(M.L)
    assert dec.certified and dec.rank == M.rank and dec.margin >= 1


@given(st.integers(1, 6), st.floats(1e-14, 1e-8), st.integers(0, 2**16))
def test_a_small_but_real_singular_value_in_the_band_is_undecided(n, small, seed):
    s = np.linspace(1.0, 0.5, n).tolist() + [small]
    dec = decide_rank(_with_spectrum(s, seed))
    band_top = np.sqrt(dec.tolerance * dec.singular_values[0])
    assert dec.certified == (small >= band_top * 1.0001 or small <= dec.tolerance)


def test_margin_is_infinite_for_the_zero_matrix_and_rank_zero():
    dec = decide_rank(np.zeros((3, 4)))
    assert dec.rank == 0 and dec.certified and dec.margin == np.inf


def test_from_singular_values_rejects_negative_or_nonfinite():
    with pytest.raises(ValueError):
        decide_rank_from_singular_values([1.0, -1.0], (2, 2))
    with pytest.raises(ValueError):
        decide_rank_from_singular_values([1.0, np.nan], (2, 2))


def test_undecided_rank_propagates_to_certificates_and_functions():
    L = _with_spectrum([1.0, 1e-6, 1e-9])
    v = np.ones(3)
    assert not equivalence_class(L, v).certified
    cert = check_t1(L, v)
    assert cert.verdict is Verdict.UNDECIDED
    assert len(cert.ambiguous) == 1 and cert.margin < 1
    assert np.allclose(cert.ambiguous, [1e-9], rtol=1e-3)
    with pytest.raises(UndecidedRankError):
        orthogonal_twin(L, v)
    assert check_t1(L, v, tol=1e-7).verdict is Verdict.UNDECIDED  # 1e-6 still in (1e-7, sqrt(1e-7))
    assert check_t1(L, v, tol=1e-5).verdict is Verdict.HOLDS


def test_a_rank_decision_is_frozen_with_its_evidence():
    """A RankDecision is the evidence of a certificate: its singular values and its ambiguous
    mask cannot be overwritten after the decision (a later write would change what the verdict
    rests on), and they are copies, not views of the caller's array."""
    s = np.array([3.0, 1.0, 1e-20])
    dec = decide_rank_from_singular_values(s, (3, 3))
    for arr in (dec.singular_values, dec.ambiguous):
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[...] = 0
    s[0] = 7.0
    assert dec.singular_values[0] == 3.0
