"""Claims of the level-set walk (T3 twins) and of the linear split that the other tests leave
unstated, each checked against the mathematics or the documented contract:

- the walk stops after ``max_steps`` trials (every trial of a walk that cannot reach its target is
  counted, none more), and stops at the first cosine <= ``target_cosine``;
- when every trial is rejected the step halves from ``step |v|`` and the walk stops once it falls
  below 1e-6 |v|: the number of trials is the number of halvings above that floor; nothing moved,
  so the verdict is undecided and the twin is v;
- a trial that lands exactly on w = 0 (a class through 0) is rejected, the cosine to 0 being
  undefined, without a floating-point warning;
- the walk is scale-free: for a behaviour homogeneous of degree 2, [c v] = c [v], so the walk from
  c v has the cosines of the walk from v and its twin is c times that twin;
- with a single trait row (N = 1, |A| = 1) on a curved trait, Gauss-Newton pulls trials back onto
  the level set: the twin has v's trait score and a cosine <= 0;
- ``split_error`` is 0 for a trivial split (rank 0: k = v; rank d: k = 0, exactly) and the Wedin
  bound max(m, d) eps s_1 / s_r otherwise;
- T1 holds for an identifiable but ill-conditioned L (rank d, condition up to 1e7): ``point`` = v
  and the least-squares solution of L x = L v agree within the solve's round-off (cond(L) eps);
- ``member_gate`` compares the member with a row-space step of length |w - v| by default (for L
  with orthonormal rows the step moves L w by exactly its length), as with that length passed.
"""

from __future__ import annotations

import math
import warnings

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special

from theory.certificate import Verdict
from theory.class_report import class_certificate
from theory.jacobian import LocalProblem
from theory.level_set import twin_search
from theory.linear import equivalence_class, split_error
from theory.linear_checks import check_t1
from theory.linear_evidence import allowed_residual, member_gate

EPS = float(np.finfo(np.float64).eps)


def _identity(h):
    return h * 1.0


def _square_second(h):
    """y = (h_1, h_2^2): the level set through (1, 0) is the single point (1, 0) near it."""
    return jnp.stack([h[..., 0], h[..., 1] ** 2], axis=-1)


def _product(h):
    """y = (h_1 h_2, 0, 0): homogeneous of degree 2, a curved level set with a 2-dim kernel."""
    zero = h[..., 2] * 0.0
    return jnp.stack([h[..., 0] * h[..., 1], zero, zero], axis=-1)


# ---------------------------------------------------------------------------------------------
# twin_search: when the walk stops


@pytest.mark.parametrize("max_steps", [1, 2, 3, 4])
def test_the_walk_takes_at_most_max_steps_trials(max_steps):
    """B(w) = w_1 on R^3: [v] = v + span(e_2, e_3), whose cosines to v stay above -|k|/|v| > -1, so
    target -1 is never reached and every trial succeeds (a flat class): exactly max_steps trials."""
    problem = LocalProblem(_identity, np.zeros((1, 1, 3)), np.array([[1.0], [0.0], [0.0]]))
    v = np.array([1.0, 1.0, 0.5])
    cert = twin_search(problem, v, "logits", target_cosine=-1.0, max_steps=max_steps)
    assert cert.details["trials"] == max_steps
    assert cert.details["accepted"] == max_steps
    assert len(cert.details["cosine_path"]) == max_steps + 1
    assert not cert.details["reached_target"]
    assert cert.verdict is Verdict.HOLDS
    # every member of v + span(e_2, e_3) has cosine > -|k|/|v| (T1b)
    assert cert.cosine > -math.hypot(1.0, 0.5) / np.linalg.norm(v)
    twin = cert.witness["twin"]
    assert math.isclose(twin[0], v[0], rel_tol=1e-12)


def test_the_walk_stops_at_the_first_cosine_at_or_below_the_target():
    """Same flat class, target 0: the walk stops as soon as a kept cosine is <= 0."""
    problem = LocalProblem(_identity, np.zeros((1, 1, 3)), np.array([[1.0], [0.0], [0.0]]))
    v = np.array([1.0, 1.0, 0.5])
    cert = twin_search(problem, v, "logits", target_cosine=0.0, max_steps=50)
    path = cert.details["cosine_path"]
    assert cert.details["reached_target"] and cert.cosine <= 0.0 < path[-2]
    assert cert.details["trials"] < 50
    assert cert.cosine == path[-1]


@pytest.mark.parametrize(("step", "scale"), [(0.25, 1.0), (0.3, 1.0), (1.0, 4.0)])
def test_a_walk_of_rejected_trials_stops_when_the_step_falls_below_1e_6_v(step, scale):
    """z(w) = (w_1, w_2^2), v = (s, 0): the level set is the point v, so a trial v + h e_2 is pulled
    back to w_2 = h / 2^10 after 10 Newton halvings, residual (h / 2^10)^2 > residual_tol = 1e-300:
    every trial is rejected, h halves from step |v| and the walk ends when h < 1e-6 |v|."""
    problem = LocalProblem(_square_second, np.zeros((1, 1, 2)), np.eye(2))
    v = np.array([scale, 0.0])
    nv = float(np.linalg.norm(v))
    expected, h = 0, step * nv
    while h >= 1e-6 * nv:  # the documented stopping rule, counted independently
        expected, h = expected + 1, h / 2
    cert = twin_search(problem, v, "logits", step=step, residual_tol=1e-300, max_steps=1000)
    assert cert.details["trials"] == expected
    assert cert.details["accepted"] == 0 and cert.details["cosine_path"] == [1.0]
    assert cert.verdict is Verdict.UNDECIDED and "accepted no step" in cert.reason
    assert np.array_equal(cert.witness["twin"], v) and cert.cosine == 1.0


def test_a_trial_exactly_at_zero_is_rejected_without_a_warning():
    """B(w) = w_1, v = (0, 2) in ker L: the class is the line span(e_2), through 0. With step 1 the
    first trial is v - |v| v/|v| = 0 exactly, whose cosine to v is undefined: it must be rejected
    (and quietly); the later trials (0, 2 - h) are positive multiples of v, cosine exactly 1, no
    lower: none is kept and the walk ends when h = 2^(1-k) < 2e-6, after 20 trials."""
    problem = LocalProblem(_identity, np.zeros((1, 1, 2)), np.array([[1.0], [0.0]]))
    v = np.array([0.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cert = twin_search(problem, v, "logits", step=1.0, max_steps=100)
    assert cert.details["trials"] == 20 and cert.details["accepted"] == 0
    assert cert.verdict is Verdict.UNDECIDED
    assert np.array_equal(cert.witness["twin"], v) and cert.cosine == 1.0


# ---------------------------------------------------------------------------------------------
# twin_search: what the walk finds


@pytest.mark.parametrize("c", [2.0**14, 2.0**-14])
def test_the_walk_is_scale_free_for_a_homogeneous_behaviour(c):
    """B(w) = (w_1 w_2, 0, 0) is homogeneous of degree 2: B(c w) = c^2 B(w), so [c v] = c [v] and
    the cosine is scale-free; steps (step |v|), the step floor (1e-6 |v|) and the residuals (over
    |B(v) - B(0)|) are relative, so the walk from c v is c times the walk from v."""
    problem = LocalProblem(_product, np.zeros((1, 1, 3)), np.eye(3))
    v = np.array([1.0, 2.0, 0.5])
    base = twin_search(problem, v, "logits", max_steps=8)
    scaled = twin_search(problem, c * v, "logits", max_steps=8)
    assert base.details["accepted"] >= 2  # the walk left v and turned at least once
    assert scaled.details["trials"] == base.details["trials"]
    assert scaled.details["accepted"] == base.details["accepted"]
    np.testing.assert_allclose(
        scaled.details["cosine_path"], base.details["cosine_path"], rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(scaled.witness["twin"], c * base.witness["twin"], rtol=1e-10)
    assert scaled.verdict is base.verdict is Verdict.HOLDS


def test_gauss_newton_on_a_single_trait_row_reaches_the_level_set():
    """One prompt, one strength, W_U = I: the trait score s(w) = logsumexp(w_1, w_2) - w_3 is one
    curved row, ker J(w) is 2-dim; the twin found has v's trait score (checked here with scipy)
    and a cosine to v <= 0."""
    problem = LocalProblem(_identity, np.zeros((1, 1, 3)), np.eye(3), plus=(0, 1), minus=(2,))
    v = np.array([1.0, -0.5, 0.3])
    cert = twin_search(problem, v, "trait", target_cosine=0.0)

    def score(w):
        return float(scipy.special.logsumexp(w[:2]) - w[2])

    twin = cert.witness["twin"]
    assert cert.verdict is Verdict.HOLDS and cert.details["accepted"] >= 1
    assert cert.cosine <= 0.0
    assert math.isclose(cert.cosine, float(twin @ v) / (np.linalg.norm(twin) * np.linalg.norm(v)))
    assert abs(score(twin) - score(v)) <= 1e-10 * abs(score(v) - score(np.zeros(3)))
    assert cert.residual <= cert.residual_tolerance


# ---------------------------------------------------------------------------------------------
# the linear split


def test_split_error_is_zero_for_a_trivial_split_and_wedin_otherwise():
    """rank L = 0: k = v exactly; rank L = d: k = 0 exactly, even for an ill-conditioned L (the
    split needs no subspace): no round-off. Otherwise max(m, d) eps s_1 / s_r (s_r the smallest
    retained singular value)."""
    rng = np.random.default_rng(3)
    v = rng.standard_normal(4)
    zero = equivalence_class(np.zeros((3, 4)), v)
    assert zero.rank == 0 and split_error(zero) == 0.0
    tall = rng.standard_normal((6, 4)) @ np.diag([1.0, 1e-3, 1e3, 1.0])
    full = equivalence_class(tall, v)
    assert full.certified and full.dim == 0 and split_error(full) == 0.0
    q = np.linalg.qr(rng.standard_normal((4, 4)))[0]
    s = np.array([5.0, 0.01])
    wide = (np.linalg.qr(rng.standard_normal((3, 2)))[0] * s) @ q[:2]  # (3, 4), rank 2
    part = equivalence_class(wide, v)
    assert part.certified and part.rank == 2 and part.dim == 2
    assert math.isclose(split_error(part), 4 * EPS * 5.0 / 0.01, rel_tol=1e-10)


def test_member_gate_steps_out_of_the_class_by_the_members_distance():
    """L with orthonormal rows moves a row-space step by exactly its length, so the comparison's
    ``outside`` is |w - v| by default and the given length when one is passed; ``inside`` is
    |L (w - v)|; the margin is the comparison's equivalence margin at allowed_residual."""
    rng = np.random.default_rng(5)
    q = np.linalg.qr(rng.standard_normal((5, 5)))[0]
    L = q[:2]
    v = rng.standard_normal(5)
    cls = equivalence_class(L, v)

    def B(x):
        return L @ x

    for w in (v + 0.8 * q[3] - 0.4 * q[4], v + 0.7 * q[0] + 0.3 * q[3]):
        distance = float(np.linalg.norm(w - v))
        cmp, margin = member_gate(B, v, w, cls, np.random.default_rng(1))
        assert math.isclose(cmp.outside, distance, rel_tol=1e-12)
        assert math.isclose(cmp.inside, float(np.linalg.norm(L @ (w - v))), abs_tol=1e-12)
        assert margin == cmp.equivalence_margin(allowed_residual(cls))
        explicit, m2 = member_gate(B, v, w, cls, np.random.default_rng(1), length=distance)
        assert explicit == cmp and m2 == margin
        other, _ = member_gate(B, v, w, cls, np.random.default_rng(1), length=3.0)
        assert math.isclose(other.outside, 3.0, rel_tol=1e-12)


@pytest.mark.parametrize("cond", [1e3, 1e5, 1e7])
def test_t1_holds_for_an_identifiable_ill_conditioned_readout(cond):
    """rank L = d: [v] = {v} and L^+ L v = v (T1), whatever L's conditioning; the least-squares
    solve that re-derives the point carries a forward error of order cond(L) eps, which the check
    must allow: no such (L, v) is violated."""
    for seed in range(8):
        rng = np.random.default_rng(seed)
        u = np.linalg.qr(rng.standard_normal((5, 3)))[0]
        q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
        L = u @ np.diag(np.geomspace(1.0, 1.0 / cond, 3)) @ q.T
        v = rng.standard_normal(3)
        cert = check_t1(L, v)
        assert cert.verdict is Verdict.HOLDS and cert.dim == 0, (seed, cert.reason)
        np.testing.assert_allclose(cert.witness["point"], v, rtol=0, atol=1e-12 * np.linalg.norm(v))
        assert cert.details["point_vs_lstsq"] <= 100 * cond * EPS
        report = class_certificate(L, v)
        assert report.verdict is Verdict.HOLDS, (seed, report.reason)
