"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 4, H):

- basis pursuit: when a is not the unique l1 minimiser (A_S not injective) and the LP returns
  another code of the same l1 norm, the verdict is violated with margin >= 1;
- T9: the stack's default rank tolerance is tau = max(M, d) eps s_1 with M the number of rows of
  the full stacked Jacobian (the sum of the layers' rows);
- T6: identifiability does not depend on the scale of v (holds for v and for 1e6 v: the recovery
  error is relative to max(|v|, 1));
- ``lstsq_tolerance`` (T1's point, T6's recovery) is 1e3 max(M, d) eps s_1 / s_d for an (M, d)
  stack of rank d, square or tall, also when s_d = 1;
- T8: the rows are split into a fit half of n // 2 rows and a held-out half of the rest (the two
  halves partition the n rows).
"""

from __future__ import annotations

import numpy as np
import pytest

from theory.bp_recovery import bp_recovery_certificate
from theory.certificate import Verdict
from theory.cross_layer import check_t9
from theory.environments import check_t6
from theory.independence import check_t8
from theory.linear import EPS, equivalence_class
from theory.linear_evidence import lstsq_tolerance
from theory.local_problem import LocalProblem


def test_bp_equal_l1_alternative_with_non_injective_support_is_violated():
    """Columns 0 and 1 coincide, a = e0 + e1: every x0 + x1 = 2 (x >= 0) is an l1 minimiser, so
    the LP's vertex answer (2, 0) or (0, 2) has |x|_1 = |a|_1 and refutes uniqueness."""
    A = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    a = np.array([1.0, 1.0, 0.0])
    cert = bp_recovery_certificate(A, a)
    assert cert.verdict is Verdict.VIOLATED
    assert cert.margin >= 1.0
    assert cert.details["l1_returned"] == pytest.approx(cert.details["l1_planted"], rel=1e-9)
    assert not cert.details["A_S_injective"]


def test_t9_default_tolerance_counts_every_row_of_the_stacked_jacobian():
    rng = np.random.default_rng(11)
    N, T, d, V = 2, 3, 4, 5
    problems = [
        LocalProblem(lambda x: x, rng.standard_normal((N, T, d)), rng.standard_normal((d, V)))
        for _ in range(2)
    ]
    cert = check_t9(problems, rng.standard_normal(d), "logits")
    rows = sum(p.n_rows("logits") for p in problems)
    assert rows == 2 * N * T * V > d
    s1 = float(np.max(cert.singular_values))
    assert cert.tolerance == pytest.approx(max(rows, d) * EPS * s1, rel=1e-12, abs=0.0)


@pytest.mark.parametrize("scale", [1.0, 1e6])
def test_t6_holds_at_every_scale_of_v(scale):
    rng = np.random.default_rng(5)
    d = 4
    readouts = [rng.standard_normal((3, d)), rng.standard_normal((3, d))]
    v = scale * rng.standard_normal(d)
    cert = check_t6(readouts, v)
    assert cert.verdict is Verdict.HOLDS
    assert cert.margin >= 1.0


@pytest.mark.parametrize("rows", [2, 5, 40])
@pytest.mark.parametrize("s", [[2.0, 1.0], [3.0, 0.5], [1.0, 1.0]])
def test_recovery_tolerance_formula(s, rows):
    """1e3 max(M, d) eps s_1 / s_d for an (M, d) stack: a taller stack has more round-off."""
    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.standard_normal((rows, 2)))
    r, _ = np.linalg.qr(rng.standard_normal((2, 2)))
    L = q @ np.diag(s) @ r.T
    cls = equivalence_class(L, np.ones(2))
    sv = cls.decision.singular_values
    assert sv == pytest.approx(sorted(s, reverse=True), rel=1e-12)
    expected = 1e3 * max(rows, 2) * EPS * float(sv[0] / sv[1])
    assert lstsq_tolerance(cls, L.shape[0]) == pytest.approx(expected, rel=1e-12, abs=0.0)
    assert lstsq_tolerance(cls, L.shape[0]) > 0


@pytest.mark.parametrize("n", [400, 401])
def test_t8_split_halves_partition_the_rows(n):
    rng = np.random.default_rng(8)
    H = rng.laplace(size=(n, 2)) @ np.array([[1.0, 0.5], [0.2, 1.0]])
    cert = check_t8(H)
    assert cert.details["fit_rows"] == n // 2
    assert cert.details["fit_rows"] + cert.details["test_rows"] == n == cert.details["n_samples"]
