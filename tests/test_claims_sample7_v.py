"""Claims stated here (sample 7, group V):

- ``check_t6`` on sympy readouts is exact: its details flag ``exact`` is True (numeric: absent);
- ``check_t8_rate`` holds when the slope is within the slack, boundary included (gap == slack).
"""

from __future__ import annotations

import numpy as np
import sympy

from synthetic.sources import mixture_sampler, random_mixing
from theory.amari_curves import amari_curve
from theory.certificate import Verdict
from theory.environments import check_t6
from theory.independence import check_t8_rate

# ---------------------------------------------------------------------------------------------
# theory.environments.check_t6 (exact path)


def test_exact_readouts_give_an_exact_certificate():
    """Sympy readouts are decided in the rationals: details["exact"] is True; float ones are not
    flagged exact."""
    L1 = sympy.Matrix([[1, 0, 0]])
    L2 = sympy.Matrix([[0, 1, 0], [0, 0, 1]])
    v = [1, 2, 3]
    cert = check_t6([L1, L2], v)
    assert cert.verdict is Verdict.HOLDS
    assert cert.details["exact"] is True
    numeric = check_t6([np.array(L1, dtype=float), np.array(L2, dtype=float)], v)
    assert numeric.details.get("exact") is not True


# ---------------------------------------------------------------------------------------------
# theory.independence.check_t8_rate


def test_rate_holds_with_the_gap_exactly_at_the_slack():
    """|slope - expected| <= slack holds: with the slack set to exactly the gap, the verdict is
    holds with margin 1 (not undecided)."""
    A = random_mixing(2, 2, seed=3)
    sampler = mixture_sampler(A, ("laplace", "uniform"))
    sizes = np.array([300, 1200])
    curve = amari_curve(A, sampler, sizes, range(2))
    assert curve.slope < 0 and not curve.not_converged
    gap = abs(curve.slope - (-0.5))
    cert = check_t8_rate(A, sampler, sizes, seeds=range(2), expected=-0.5, slack=gap)
    assert cert.verdict is Verdict.HOLDS
    assert cert.margin == 1.0
