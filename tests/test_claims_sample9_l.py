"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 9, L):

- ``check_t2c`` with a claimed ``member`` w: the member's logit change W (w - v) may differ from
  a constant vector by ``allowed = max(1e3 eps |W|_2, 10 tau) |w - v|`` (tau the class's rank
  tolerance). Off-constant parts at half of ``allowed`` pass (holds); at twice it the gate
  "logits move by a constant" fails (violated). The round-off term grows with |W|_2, and the
  whole tolerance is proportional to the step |w - v| (checked at steps 1/8 and 8).
- With 1_V in the range of W the constant itself, ``|shift| sqrt(V)``, must exceed
  ``10 allowed``: at 15 times ``allowed`` the check holds; at 5 times it is undecided, naming the
  gate "logit shift nonzero".
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory.certificate import Verdict
from theory.softmax_shift import check_t2c

EPS = float(np.finfo(np.float64).eps)

# Sylvester-Hadamard columns: orthogonal, entries +-1, the first one 1_V.
_HADAMARD = np.array(
    [[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], dtype=np.float64
).T
_V_0 = np.array([0.5, 0.25, -0.5, 1.0])
_H = np.random.default_rng(0).standard_normal((5, 4))


def _readout(g: float) -> np.ndarray:
    """W = (g / 2) [1_V, h_2, h_3, 0]: |W|_2 = g, rank 3, 1_V in range W, e_4 in ker W. A step
    t e_1 moves every logit by g t / 2; a step s e_2 moves them off-constant by g |s|."""
    return np.column_stack([(g / 2) * _HADAMARD[:, :3], np.zeros(4)])


def _allowed(W: np.ndarray, tau: float, step: float) -> float:
    return max(1e3 * EPS * float(np.linalg.norm(W, 2)), 10.0 * tau) * step


def _tau(W: np.ndarray) -> float:
    cert = check_t2c(W, _V_0, _H)
    tau = max(W.shape) * EPS * float(np.linalg.norm(W, 2))  # default tolerance at scale |W|_2
    assert cert.tolerance == pytest.approx(tau, rel=1e-12)
    assert cert.details["ones_in_range_W"] is True
    return tau


def _certify(W: np.ndarray, tau: float, delta: np.ndarray):
    """check_t2c on the member v_0 + delta, with the documented ``allowed`` at |delta|."""
    cert = check_t2c(W, _V_0, _H, member=_V_0 + delta)
    return cert, _allowed(W, tau, float(np.linalg.norm(delta)))


def _assert_verdict(cert, verdict: Verdict, failing: Verdict, gate: str) -> None:
    """``verdict`` with an empty reason, or ``failing`` with a reason naming ``gate``."""
    assert cert.verdict is verdict
    if verdict is failing:
        assert gate in cert.reason
    else:
        assert cert.reason == ""


@pytest.mark.parametrize("t", [0.125, 8.0])
@pytest.mark.parametrize("g", [4.0, 1024.0])
@pytest.mark.parametrize(
    ("k", "verdict"), [(0.5, Verdict.HOLDS), (2.0, Verdict.VIOLATED)], ids=["half", "twice"]
)
def test_member_logit_change_may_differ_from_a_constant_by_allowed(g, k, verdict, t):
    W = _readout(g)
    assert float(np.linalg.norm(W, 2)) == pytest.approx(g, rel=1e-14)
    tau = _tau(W)
    s = k * _allowed(W, tau, t) / g  # off-constant part g |s| = k allowed (step ~ t)
    cert, allowed = _certify(W, tau, np.array([t, s, 0.0, 0.0]))
    centred = cert.details["logit_change_off_constant"]
    assert centred / allowed == pytest.approx(k, rel=1e-2)
    _assert_verdict(cert, verdict, Verdict.VIOLATED, "logits move by a constant")


@pytest.mark.parametrize("r", [0.125, 8.0])
@pytest.mark.parametrize("g", [4.0, 1024.0])
@pytest.mark.parametrize(
    ("k", "verdict"), [(15.0, Verdict.HOLDS), (5.0, Verdict.UNDECIDED)], ids=["15x", "5x"]
)
def test_logit_shift_must_exceed_ten_times_allowed(g, k, verdict, r):
    W = _readout(g)
    tau = _tau(W)
    # a step r e_4 along ker W, plus a tiny constant-shift step t e_1
    t = k * _allowed(W, tau, r) / g  # constant |shift| sqrt(V) = g |t|
    cert, allowed = _certify(W, tau, np.array([t, 0.0, 0.0, r]))
    assert cert.details["logit_change_off_constant"] == 0.0
    constant = abs(cert.details["logit_shift"]) * math.sqrt(W.shape[0])
    assert constant / allowed == pytest.approx(k, rel=1e-2)
    _assert_verdict(cert, verdict, Verdict.UNDECIDED, "logit shift nonzero")
