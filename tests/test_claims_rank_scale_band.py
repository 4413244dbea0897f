"""The grey band of a derived matrix's rank refers to the magnitude it inherits its round-off from:

- with ``scale`` (|W|_2 for the centred P W, say) both tau = max(M, d) eps scale and the band's top
  sqrt(tau scale) are relative to ``scale``: a singular value in (tau, sqrt(tau scale)) is
  ambiguous even when it is the largest one (without a scale, the band is (tau, sqrt(tau s_1)));
- T2c on W = 1/sqrt(V) 1 + t f (f orthogonal to 1, t a few V eps): the centred P W = t f is
  round-off of W, so the check is undecided, never a violation of dim = d - rank W + [1 in range W].
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory.certificate import Verdict
from theory.rank import EPS, decide_rank_from_singular_values
from theory.softmax_shift import check_t2c


@pytest.mark.parametrize("ratio", [1.5, 1e3, 1e6])
def test_a_value_between_tau_and_the_scaled_band_top_is_ambiguous(ratio):
    """s = (ratio tau, 0) of a (4, 2) matrix derived from one of norm 1: tau = 4 eps, band top
    sqrt(tau) = 2 sqrt(eps); ratio tau < 2 sqrt(eps) for every ratio here, so the rank is 1 but
    not certified, with margin s_1 / sqrt(tau) < 1."""
    tau = 4 * EPS
    s = [ratio * tau, 0.0]
    dec = decide_rank_from_singular_values(s, (4, 2), scale=1.0)
    assert dec.tolerance == pytest.approx(tau, rel=1e-15)
    assert dec.band_top == pytest.approx(math.sqrt(tau), rel=1e-15)
    assert dec.rank == 1 and not dec.certified
    np.testing.assert_array_equal(dec.ambiguous, [ratio * tau])
    assert dec.margin == pytest.approx(ratio * tau / math.sqrt(tau), rel=1e-12)
    alone = decide_rank_from_singular_values(s, (4, 2))  # no scale: s_1 is its own magnitude
    assert alone.rank == 1 and alone.certified


def test_a_value_above_the_scaled_band_top_is_certified():
    """s_1 = 2 sqrt(tau scale) with scale = 1e6 clears the band: certified, margin 2."""
    scale = 1e6
    tau = 4 * EPS * scale
    dec = decide_rank_from_singular_values([2 * math.sqrt(tau * scale), 0.0], (4, 2), scale=scale)
    assert dec.rank == 1 and dec.certified
    assert dec.margin == pytest.approx(2.0, rel=1e-12)


@pytest.mark.parametrize("t", [1.2, 1.5, 1.9, 10.0, 1e3])
def test_t2c_is_not_violated_by_a_centred_readout_at_round_off(t):
    """W = 1/sqrt(V) 1 + t V eps f (V = 4, d = 1): P W = t V eps f is round-off of |W| ~ 1, the
    rank of P W is in the grey band and T2c is undecided (before, rank P W = 1 was certified
    against its own s_1 while 1 counted as in range W: dim 0 against 1, a false violation)."""
    V = 4
    f = np.array([1.0, -1.0, 0.0, 0.0]) / math.sqrt(2.0)
    W = (np.ones(V) / 2 + t * V * EPS * f)[:, None]
    cert = check_t2c(W, np.zeros(1), np.zeros((1, 1)))
    assert cert.verdict is Verdict.UNDECIDED
    assert cert.margin < 1
    assert "grey band" in cert.reason
