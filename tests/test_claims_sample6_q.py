"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 6, Q):

- documented defaults: ``twin_search`` takes max_steps = 60 trials, ``check_t1b`` draws with seed 0;
- T3 twins: the walk counts as moved iff its kept cosine is < 1 - 1e-9 (holds below, undecided at);
- T3 twins: the first step from v is along -Pi_ker v (steepest descent of cos at v), at any |v|;
  when v is orthogonal to ker J it is along a unit null direction;
- Gauss-Newton stops, without a step, as soon as the re-measured residual is <= its tolerance;
- T1: an ``EquivalenceClass`` is an immutable record: its arrays are read-only copies;
- T1a/T1b split, badly scaled L: the column-equilibrated decision uses the Wedin round-off
  max(max(m, d) eps s_1 / s_r, 16 d eps) of L C^-1; a grey-band or disagreeing split is undecided;
- T1b: the sampled cosines are scale-free: check_t1b on c v samples the cosines it samples on v;
- T1b: the ray's limit gate is |ray_cosine(a, b, 1e300) - inf| held to 1e-12 (margin 1e-12 / gap).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory.certificate import Verdict
from theory.jacobian import LocalProblem, coordinates
from theory.level_set import _gauss_newton, twin_search
from theory.linear import UndecidedRankError, equivalence_class, kernel_split
from theory.linear_checks import check_t1b
from theory.rank import EPS


def _identity(h):
    return h * 1.0


def _square(h):
    return h**2


def _flat_problem() -> LocalProblem:
    """B(w) = w_1 on R^3: [v] = v + span(e_2, e_3), a flat class whose cosines to v stay above
    -|k|/|v| > -1 (T1b), so a walk to target -1 never ends early."""
    return LocalProblem(_identity, np.zeros((1, 1, 3)), np.array([[1.0], [0.0], [0.0]]))


# ---------------------------------------------------------------------------------------------
# documented defaults


def _walk(**kw):
    v = np.array([1.0, 1.0, 0.5])
    cert = twin_search(_flat_problem(), v, "logits", target_cosine=-1.0, **kw)
    return (cert.details["trials"], tuple(cert.details["cosine_path"]), cert.cosine)


def _t1b(**kw):
    rng = np.random.default_rng(3)
    L, v = rng.standard_normal((2, 5)), rng.standard_normal(5)
    cert = check_t1b(L, v, **kw)
    return (cert.details["sampled_min_cosine"], cert.margin, cert.verdict)


@pytest.mark.parametrize(
    ("run", "name", "documented", "neighbour"),
    [(_walk, "max_steps", 60, 61), (_t1b, "seed", 0, 1)],
)
def test_documented_defaults(run, name, documented, neighbour):
    """Leaving the argument out is passing its documented value; a neighbouring value differs."""
    default = run()
    assert default == run(**{name: documented})
    assert default != run(**{name: neighbour})


def test_the_default_walk_takes_max_steps_60_trials():
    """On the flat class every trial is kept and the target -1 is never reached: 60 trials."""
    trials, path, _ = _walk()
    assert trials == 60 and len(path) == 61


# ---------------------------------------------------------------------------------------------
# T3 twins: when the walk has moved


def test_the_walk_moved_iff_its_cosine_is_below_1_minus_1e_9():
    """One trial from v along the flat class; its step is bisected until the kept cosine is exactly
    1 - 1e-9: there the walk has not moved (undecided), one step further it has (holds)."""
    problem = _flat_problem()
    v = np.array([1.0, 1.0, 0.5])
    cut = 1.0 - 1e-9

    def run(step):
        return twin_search(problem, v, "logits", target_cosine=-1.0, max_steps=1, step=step)

    lo, hi = 1e-6, 1e-3
    assert run(lo).cosine > cut > run(hi).cosine
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        cert = run(mid)
        if cert.cosine == cut:
            break
        lo, hi = (mid, hi) if cert.cosine > cut else (lo, mid)
    else:
        pytest.fail("no step gave a kept cosine of exactly 1 - 1e-9")
    assert cert.details["accepted"] == 1 and cert.residual <= cert.residual_tolerance
    assert cert.verdict is Verdict.UNDECIDED
    above, below = run(0.5 * mid), run(2.0 * mid)
    assert 1.0 > above.cosine > cut and above.verdict is Verdict.UNDECIDED
    assert below.cosine < cut and below.verdict is Verdict.HOLDS


# ---------------------------------------------------------------------------------------------
# T3 twins: the first step


@pytest.mark.parametrize("c", [1e-8, 1.0, 1e8])
def test_the_first_step_from_v_is_along_minus_the_kernel_part(c):
    """At w = v the gradient of cos(w, v) vanishes; the walk steps along -Pi_ker v, the direction
    in which cos falls fastest on the class, whatever the scale of v: one trial of step 0.25 gives
    the twin v - 0.25 |v| k / |k| (a flat class: Gauss-Newton has nothing to pull back)."""
    v = c * np.array([1.0, 1.0, 0.5])
    k = c * np.array([0.0, 1.0, 0.5])
    cert = twin_search(_flat_problem(), v, "logits", target_cosine=-1.0, max_steps=1, step=0.25)
    nv = float(np.linalg.norm(v))
    expected = v - 0.25 * nv * k / np.linalg.norm(k)
    assert cert.details["accepted"] == 1
    np.testing.assert_allclose(cert.witness["twin"], expected, rtol=0, atol=1e-12 * nv)


@pytest.mark.parametrize("c", [1e-8, 1.0, 1e8])
def test_the_first_step_from_v_orthogonal_to_the_kernel_is_a_null_direction(c):
    """v = c e_1 has no kernel part: the step 0.25 |v| is along a unit vector of ker J = span(e_2,
    e_3), so the twin keeps w_1 = v_1 and lies at distance 0.25 |v| from v."""
    v = np.array([c, 0.0, 0.0])
    cert = twin_search(_flat_problem(), v, "logits", target_cosine=-1.0, max_steps=1, step=0.25)
    move = cert.witness["twin"] - v
    assert cert.details["accepted"] == 1
    assert abs(move[0]) <= 1e-12 * c
    assert math.isclose(float(np.linalg.norm(move)), 0.25 * c, rel_tol=1e-12)
    assert math.isclose(cert.cosine, 1.0 / math.sqrt(1.0 + 0.25**2), rel_tol=1e-12)


# ---------------------------------------------------------------------------------------------
# Gauss-Newton: when it stops


def test_gauss_newton_takes_no_step_when_the_residual_is_at_most_its_tolerance():
    """z(w) = w^2, target 0, from w = 1/2: |r| = 1/4 exactly. With tolerance 1/4 the iterate is
    already converged and is returned as is; with the next float below, Newton halves w once
    (|r| = 1/16 <= tol) and stops."""
    problem = LocalProblem(_square, np.zeros((1, 1, 1)), np.array([[1.0]]))
    w0 = np.array([0.5])
    target = np.zeros_like(coordinates(problem, w0, "logits"))
    res0 = float(np.linalg.norm(coordinates(problem, w0, "logits") - target))
    assert res0 == 0.25
    w, res = _gauss_newton(problem, "logits", w0, target, 1.0, res0, 10, None, None)
    assert w.tolist() == [0.5] and res == res0
    below = math.nextafter(res0, 0.0)
    w, res = _gauss_newton(problem, "logits", w0, target, 1.0, below, 10, None, None)
    assert w.tolist() == [0.25] and res == 0.0625


# ---------------------------------------------------------------------------------------------
# T1: an equivalence class is an immutable record


def _badly_scaled(t: float = 1e-2, big: float = 1e5) -> np.ndarray:
    """L = M C: M has unit columns (1, 0), (cos t, +-sin t) (condition ~ sqrt(3/2) / t), and
    C = diag(big, 1, 1) spreads the column norms over more than BADLY_SCALED = 1e4."""
    m = np.array([[1.0, math.cos(t), math.cos(t)], [0.0, math.sin(t), -math.sin(t)]])
    return m * np.array([big, 1.0, 1.0])


@pytest.mark.parametrize("kind", ["plain", "badly scaled"])
def test_an_equivalence_class_holds_read_only_copies(kind):
    """No array of a class can be written, and the class does not see later writes to v."""
    rng = np.random.default_rng(11)
    L = rng.standard_normal((2, 4)) if kind == "plain" else _badly_scaled()
    v = rng.standard_normal(L.shape[1])
    kept = v.copy()
    cls = equivalence_class(L, v)
    arrays = {"vector": cls.vector, "point": cls.point, "basis": cls.basis}
    arrays["row_basis"] = cls.row_basis
    if kind == "badly scaled":
        assert cls.equilibrated is not None
        eq = cls.equilibrated
        arrays.update(scale=eq.scale, eq_rows=eq.row_basis, eq_s=eq.singular_values)
    for name, arr in arrays.items():
        assert not arr.flags.writeable, name
        with pytest.raises(ValueError):
            arr[...] = 0.0
    v[:] = 7.0
    assert np.array_equal(cls.vector, kept)


# ---------------------------------------------------------------------------------------------
# T1a/T1b split of a badly scaled L


def _decide(A: np.ndarray, x: np.ndarray, r: int) -> tuple[str, str]:
    """Reference zero-or-not of (k, v_id) of x for A of rank r: zero at <= err |x|, nonzero at
    >= sqrt(err) |x|, grey in between, err = max(max(m, d) eps s_1 / s_r, 16 d eps)."""
    _, s, vt = np.linalg.svd(A)
    err = max(max(A.shape) * EPS * s[0] / s[r - 1], 16 * A.shape[1] * EPS)
    nx = float(np.linalg.norm(x))
    k = vt[r:].T @ (vt[r:] @ x)
    out = []
    for part in (k, x - k):
        f = float(np.linalg.norm(part)) / nx
        for edge in (err, math.sqrt(err)):  # the test keeps clear of both edges
            assert not edge / 2 < f < 2 * edge
        out.append("zero" if f <= err else "nonzero" if f >= math.sqrt(err) else "grey")
    return out[0], out[1]


@pytest.mark.parametrize("eta", [3e-14, 1e-10, 1e-6, 1e-3])
def test_the_split_of_a_badly_scaled_l_is_decided_in_both_coordinates(eta):
    """v = C u with u = unit row-space vector of L C^-1 plus eta times its null vector: the split is
    decided normwise on (L, v) and column-equilibrated on (L C^-1, u), each at its own Wedin
    round-off; k = 0 is reported only when both say zero, and a grey-band or disagreeing
    decision is undecided."""
    L = _badly_scaled()
    c = np.linalg.norm(L, axis=0)
    m = L / c
    _, _, vt = np.linalg.svd(m)
    u = vt[:2].T @ np.array([1.0, 0.7])
    u = u / np.linalg.norm(u) + eta * vt[2]
    v = c * u
    cls = equivalence_class(L, v)
    assert cls.certified and cls.rank == 2 and cls.equilibrated is not None
    normwise, balanced = _decide(L, v, 2), _decide(m, u, 2)
    if "grey" in normwise + balanced or normwise != balanced:
        with pytest.raises(UndecidedRankError):
            kernel_split(cls)
    else:
        split = kernel_split(cls)
        assert (split.k_zero, split.vid_zero) == (normwise[0] == "zero", normwise[1] == "zero")


def test_a_kernel_part_below_the_equilibrated_round_off_is_zero():
    """eta = 3e-14 is below max(m, d) eps s_1 / s_r of L C^-1 (~8e-14) but above 16 d eps: the
    split decides k = 0 (v in the row space) in both coordinates, with a margin >= 1."""
    L = _badly_scaled()
    c = np.linalg.norm(L, axis=0)
    _, s, vt = np.linalg.svd(L / c)
    assert 16 * 3 * EPS < 3e-14 < 3 * EPS * s[0] / s[1]
    u = vt[:2].T @ np.array([1.0, 0.7])
    v = c * (u / np.linalg.norm(u) + 3e-14 * vt[2])
    split = kernel_split(equivalence_class(L, v))
    assert split.k_zero and not split.vid_zero and split.margin >= 1.0


# ---------------------------------------------------------------------------------------------
# T1b: the sampled cosines are scale-free


@pytest.mark.parametrize("c", [1e-3, 1e3])
def test_t1b_samples_the_same_cosines_for_a_multiple_of_v(c):
    """[c v] = c [v] and cos is scale-free: with the same seed, the sampled members of [c v] are c
    times those of [v] (offsets scaled by |v|), so their smallest cosine to v is the same."""
    rng = np.random.default_rng(7)
    L, v = rng.standard_normal((2, 5)), rng.standard_normal(5)
    base, scaled = check_t1b(L, v), check_t1b(L, c * v)
    assert base.verdict is scaled.verdict is Verdict.HOLDS
    assert math.isclose(
        scaled.details["sampled_min_cosine"], base.details["sampled_min_cosine"], rel_tol=1e-12
    )
    assert base.details["sampled_min_cosine"] >= base.cosine_range.inf


@pytest.mark.parametrize("seed", range(4))
def test_t1b_ray_limit_gate_is_one_e_minus_12_over_the_gap(seed):
    """The documented limit gate: |ray_cosine(a, b, 1e300) - inf| held to 1e-12, margin
    1e-12 / gap; the gap is round-off (~1e-16), so on these draws this gate binds and the
    certificate's margin (the smallest gate's) is exactly 1e-12 / gap."""
    rng = np.random.default_rng(seed)
    L = rng.standard_normal((2, 5))
    v = rng.standard_normal(5)
    cert = check_t1b(L, v)
    gap = cert.details["ray_limit_gap"]
    assert cert.verdict is Verdict.HOLDS
    assert 0 < gap <= 1e-12  # round-off of the far member's cosine
    assert cert.margin == pytest.approx(1e-12 / gap, rel=1e-12)  # this gate binds here
