"""Exact (sympy) checks of the linear theorems T1, T1a, T1b, T2c, T4.

Each returns a certificate whose ``details['evidence']`` holds the simplified expressions or exact
matrices that the verdict rests on; an exact verdict is a proof for that instance.
"""

from __future__ import annotations

import numpy as np
import sympy

from theory.certificate import Certificate, Verdict, ratio_margin
from theory.estimation import probe_class
from theory.gates import decide
from theory.linear import _sq, cosine_range, equivalence_class, orthogonal_twin

from ..registry import EXACT, check


def _verdict(ok: bool) -> Verdict:
    return Verdict.HOLDS if ok else Verdict.VIOLATED


def random_rational_matrix(rng: np.random.Generator, m: int, d: int, rank: int) -> sympy.Matrix:
    """An m x d integer matrix of exact rank ``rank`` (a product of integer factors, its rank
    re-checked: drawn again until it is ``rank``)."""
    while True:
        A = (
            sympy.Matrix(rng.integers(-3, 4, size=(m, rank)).tolist())
            if rank
            else sympy.zeros(m, 0)
        )
        B = (
            sympy.Matrix(rng.integers(-3, 4, size=(rank, d)).tolist())
            if rank
            else sympy.zeros(0, d)
        )
        L = A * B if rank else sympy.zeros(m, d)
        if L.rank() == rank:
            return L


@check("T1", EXACT, "exact class of rational readouts, every rank, d = 1..4")
def exact_t1(seed: int = 0, class_fn=equivalence_class) -> Certificate:
    """For rational L of every rank r <= d <= 4: L * basis == 0, dim = d - r, the point lies in the
    row space (L^+ L point == point) with L point == L v (exact: a failure is a proof, margin None),
    and float64 agrees with the exact answer (same dimension, points within 1e-10: a numeric gate,
    its margin the certificate's)."""
    rng = np.random.default_rng(seed)
    cases, ok, same_dims, worst = [], True, True, 0.0
    for d in range(1, 5):
        for r in range(0, d + 1):
            m = int(rng.integers(max(r, 1), d + 3))
            L = random_rational_matrix(rng, m, d, r)
            v = sympy.Matrix(rng.integers(-4, 5, size=d).tolist())
            cls = class_fn(L, v)
            kernel_ok = (L * cls.basis).is_zero_matrix and cls.dim == d - r and cls.rank == r
            same_readout = (L * (cls.point - v)).is_zero_matrix
            row_space = (cls.basis.T * cls.point).is_zero_matrix  # point orthogonal to ker L
            num = equivalence_class(np.array(L, dtype=float), np.array(v, dtype=float).ravel())
            gap = float(np.max(np.abs(num.point - np.array(cls.point, dtype=float).ravel())))
            worst = max(worst, gap)
            same_dims &= num.dim == cls.dim
            ok &= bool(kernel_ok and same_readout and row_space)
            cases.append({"d": d, "rank": r, "point": str(list(cls.point)), "dim": cls.dim})
    verdict, margin = Verdict.VIOLATED, None
    if ok:
        claims = {
            "float64 dimension = exact": np.inf if same_dims else 0.0,
            "float64 point within 1e-10 of exact": ratio_margin(1e-10, worst),
        }
        verdict, margin, _ = decide(claims)
    return Certificate(
        theorem="T1",
        verdict=verdict,
        claim="exact class v + ker L of rational L, all ranks, d <= 4",
        margin=margin,
        residual=worst,
        residual_tolerance=1e-10,
        details={"evidence": cases, "cases": len(cases)},
    )


def _symbolic_split():
    """v = p + k with p = (p1, p2, 0, 0) (row-space part) and k = (0, 0, k1, k2) (kernel part): by
    rotation invariance this is the general position of two orthogonal vectors."""
    p1, p2, k1, k2 = sympy.symbols("p1 p2 k1 k2", positive=True)
    return sympy.Matrix([p1, p2, 0, 0]), sympy.Matrix([0, 0, k1, k2])


def _twin_coefficient(v, k):
    """T1a: v_perp = v - (|v|^2 / |k|^2) k."""
    return _sq(v) / _sq(k)


@check("T1a", EXACT, "orthogonal twin: inner product and norm identity for symbolic vectors")
def exact_t1a(seed: int = 0, coefficient=_twin_coefficient) -> Certificate:
    """With v = p + k, p orthogonal to k: <v_perp, v> == 0 and |v_perp|^2 == |v|^2 |p|^2 / |k|^2
    identically, where v_perp = v - coefficient(v, k) k; plus a rational instance through
    ``orthogonal_twin``."""
    p, k = _symbolic_split()
    v = p + k
    twin = v - coefficient(v, k) * k
    inner = sympy.simplify((twin.T * v)[0, 0])
    norm_gap = sympy.simplify(_sq(twin) - _sq(v) * _sq(p) / _sq(k))
    L = sympy.Matrix([[1, 2, 0, 1], [0, 1, 1, 0]])
    vr = sympy.Matrix([1, -1, 2, 3])
    tw = orthogonal_twin(L, vr)
    inst = (L * (tw - vr)).is_zero_matrix and (tw.T * vr)[0, 0] == 0
    ok = inner == 0 and norm_gap == 0 and inst
    return Certificate(
        theorem="T1a",
        verdict=_verdict(ok),
        claim="<v_perp, v> = 0 and |v_perp| = |v||v_id|/|k| identically",
        witness={"v": np.array(vr, dtype=float).ravel(), "twin": np.array(tw, dtype=float).ravel()},
        details={
            "evidence": {
                "inner_product": str(inner),
                "norm_identity_residual": str(norm_gap),
                "rational_twin": str(list(tw)),
            }
        },
    )


def _t1b_infimum(p, k):
    """T1b: inf cos = -|k| / |v| with |v|^2 = |p|^2 + |k|^2."""
    return -sympy.sqrt(_sq(k)) / sympy.sqrt(_sq(p) + _sq(k))


@check("T1b", EXACT, "cosine along the ray: derivative sign and limit, symbolic")
def exact_t1b(seed: int = 0, infimum=_t1b_infimum) -> Certificate:
    """With v = p + k (p = v_id, k the kernel part; after a rotation p = (a, 0), k = (0, b)) and
    w(s) = p - s k/|k|: the cosine of w(s) to v,
    computed from the vectors, has derivative -|p|^2 (|k| + s) / (|v| (|p|^2 + s^2)^(3/2)) < 0 for
    s >= 0 and tends to the infimum as s -> oo."""
    a, b, s = sympy.symbols("a b s", positive=True)
    p, k = (
        sympy.Matrix([a, 0]),
        sympy.Matrix([0, b]),
    )  # general position up to a rotation of span(p, k)
    v = p + k
    w = p - s * k / sympy.sqrt(_sq(k))
    cos = (w.T * v)[0, 0] / (sympy.sqrt(_sq(w)) * sympy.sqrt(_sq(v)))
    deriv = sympy.simplify(sympy.diff(cos, s))
    P, K = _sq(p), sympy.sqrt(_sq(k))
    expected = -P * (K + s) / (sympy.sqrt(_sq(v)) * (P + s**2) ** sympy.Rational(3, 2))
    deriv_ok = sympy.simplify(deriv - expected) == 0
    limit = sympy.limit(cos, s, sympy.oo)
    limit_ok = sympy.simplify(limit - infimum(p, k)) == 0
    # the other half: no member goes below the infimum. A general member is p + al k/|k| + be q
    # (q a unit vector of ker L orthogonal to k); with S = |member|:
    # cos - (-b/|v|) = (a^2 + b (al + S)) / (|v| S), and S^2 - al^2 = a^2 + be^2 > 0, so S > |al|,
    # al + S > 0 and the numerator exceeds a^2 > 0.
    al, be = sympy.symbols("alpha beta", real=True)
    member = sympy.Matrix([a, al, be])
    v3 = sympy.Matrix([a, b, 0])
    S = sympy.sqrt(_sq(member))
    cos_member = (member.T * v3)[0, 0] / (S * sympy.sqrt(_sq(v3)))
    gap_identity = (
        sympy.simplify(
            cos_member - infimum(p, k) - (a**2 + b * (al + S)) / (sympy.sqrt(_sq(v3)) * S)
        )
        == 0
    )
    square_gap = sympy.simplify(S**2 - al**2 - (a**2 + be**2)) == 0
    positive = bool(
        sympy.ask(sympy.Q.positive(a**2 + be**2), sympy.Q.positive(a) & sympy.Q.real(be))
    )
    lower_ok = gap_identity and square_gap and positive
    L = sympy.Matrix([[1, 1, 0]])
    vr = sympy.Matrix([1, 0, 1])
    lo, hi, attained = cosine_range(L, vr)
    # k = (1/2, -1/2, 1), |k|^2 = 3/2, |v|^2 = 2: inf = -sqrt(3)/2
    inst = sympy.simplify(lo + sympy.sqrt(3) / 2) == 0 and hi == 1 and attained is False
    ok = bool(deriv_ok and limit_ok and inst and lower_ok)
    return Certificate(
        theorem="T1b",
        verdict=_verdict(ok),
        claim="cosine falls strictly along v_id - s k/|k| to -|k|/|v|, and no member goes below it",
        details={
            "evidence": {
                "derivative": str(deriv),
                "limit": str(limit),
                "instance_inf": str(lo),
                "member_gap_identity": gap_identity,
                "S^2 - alpha^2 = a^2 + beta^2": square_gap,
            }
        },
    )


def _softmax(xs):
    return [sympy.exp(x) / sum(sympy.exp(y) for y in xs) for x in xs]


@check("T2c", EXACT, "softmax shift invariance and the dimension formula, exact")
def exact_t2c(seed: int = 0, normaliser=_softmax) -> Certificate:
    """softmax(z + c 1) == softmax(z) symbolically (V = 3), and d - rank W + [1 in range W] equals
    the exact class dimension for a W with 1 in its range and one without."""
    z = sympy.symbols("z1:4", real=True)
    c = sympy.Symbol("c", real=True)
    diffs = [
        sympy.simplify(a - b) for a, b in zip(normaliser([x + c for x in z]), normaliser(list(z)))
    ]
    from theory.softmax_shift import ones_in_range, probs_class

    cases = []
    ok = all(dd == 0 for dd in diffs)
    for W in (
        sympy.Matrix([[1, 0, 0, 1], [1, 1, 0, 0], [1, 0, 1, 0]]),  # 1 = first column: in range
        sympy.Matrix([[1, 0, 0, 0], [0, 1, 0, 0], [-1, -1, 0, 0]]),
    ):  # rows sum to 0: 1 not in range
        v = sympy.Matrix([1, 2, 3, 4])
        cls = probs_class(W, v)
        in_range, _ = ones_in_range(W)
        predicted = W.cols - W.rank() + int(in_range)
        ok &= cls.dim == predicted
        cases.append(
            {
                "W": str(W.tolist()),
                "ones_in_range": in_range,
                "dim": cls.dim,
                "predicted": predicted,
            }
        )
    return Certificate(
        theorem="T2c",
        verdict=_verdict(ok),
        claim="softmax(z + c1) = softmax(z); dim = d - rank W + [1 in range W]",
        details={"evidence": {"softmax_differences": [str(x) for x in diffs], "cases": cases}},
    )


@check("T4", EXACT, "score invariance on rational activations, exact")
def exact_t4(seed: int = 0, move_bias: bool = True) -> Certificate:
    """Rational activations H of centred rank 2 in d = 4: every u in ker(H_c) with the bias moved by
    -<u, mean h> leaves every score identical, exactly; dim = d - rank Cov(H) = 2."""
    H = sympy.Matrix([[1, 0, 2, 1], [2, 1, 3, 1], [0, 1, 1, 1], [1, 2, 2, 1]])
    w = sympy.Matrix([1, -2, 1, 3])
    b = sympy.Rational(1, 2)
    cls = probe_class(np.array(H, dtype=float), np.array(w, dtype=float).ravel())
    mean = sympy.Matrix([[sum(H[:, j]) / H.rows for j in range(H.cols)]])
    Hc = H - sympy.ones(H.rows, 1) * mean
    kernel = Hc.nullspace()
    diffs = []
    for u in kernel:
        new = H * (w + u) + sympy.ones(H.rows, 1) * (b - (mean * u)[0, 0] * int(move_bias))
        diffs.append((new - (H * w + sympy.ones(H.rows, 1) * b)).applyfunc(sympy.simplify))
    cov_rank = (Hc.T * Hc).rank()
    ok = (
        all(dd.is_zero_matrix for dd in diffs)
        and len(kernel) == H.cols - cov_rank
        and cls.dim == len(kernel)
    )
    return Certificate(
        theorem="T4",
        verdict=_verdict(ok),
        claim="scores unchanged across w + ker(H_c); dim = d - rank Cov(H)",
        dim=len(kernel),
        rank=cov_rank,
        details={
            "evidence": {
                "kernel": [str(list(u)) for u in kernel],
                "score_changes": [str(list(dd)) for dd in diffs],
            }
        },
    )
