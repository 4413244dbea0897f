"""Linear readouts (THEORY.md T1, T1a, T1b): the class of v is the affine subspace v + ker L.

If behaviour depends on v only through L v, then ``[v] = v + ker L``; ``dim [v] = d - rank L``; the
minimum-norm member is ``v_id = L^+ L v`` (projection of v on the row space of L). Numeric input is
decided in float64 with a certified-or-undecided rank (``theory.rank``); sympy ``Matrix`` input is
solved exactly in the rationals.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

import numpy as np
import scipy.linalg
import sympy

from .certificate import Certificate, Verdict
from .rank import EPS, RankDecision, decide_rank_from_singular_values
from .residual import behaviour_residual
from .validation import as_matrix, as_tolerance, as_vector

Behaviour = Callable[[np.ndarray], Any]


class NoTwinError(ValueError):
    """v has no component in ker L, so no member of its class is orthogonal to it (T1a)."""


class UndecidedRankError(ValueError):
    """The rank of L is not certified at this tolerance; pass ``tol`` to decide it yourself."""


# --------------------------------------------------------------------------------------------
# Numeric classes


@dataclasses.dataclass(frozen=True)
class EquivalenceClass:
    """``[v] = point + span(basis)`` for a numeric readout L (float64).

    point     : (d,) minimum-norm member ``L^+ L v``.
    basis     : (d, k) orthonormal basis of ker L.
    row_basis : (d, rank) orthonormal basis of the row space of L.
    decision  : the rank decision (singular values, tolerance, certified or not).
    """

    vector: np.ndarray
    point: np.ndarray
    basis: np.ndarray
    row_basis: np.ndarray
    decision: RankDecision

    @property
    def rank(self) -> int:
        return self.decision.rank

    @property
    def dim(self) -> int:
        return int(self.basis.shape[1])

    @property
    def d(self) -> int:
        return int(self.vector.shape[0])

    @property
    def certified(self) -> bool:
        return self.decision.certified

    @property
    def kernel_part(self) -> np.ndarray:
        """k = v - v_id, the component of v in ker L."""
        return self.basis @ (self.basis.T @ self.vector)

    def distance(self, w: Any) -> float:
        """Euclidean distance from w to the affine subspace ``v + ker L``."""
        w = as_vector("w", w, self.d)
        return float(np.linalg.norm(self.row_basis.T @ (w - self.vector)))

    def contains(self, w: Any, atol: float | None = None) -> bool:
        """True iff w lies within ``atol`` of ``v + ker L`` (default ``1e-9 * max(1, |v|, |w|)``)."""
        w = as_vector("w", w, self.d)
        atol = as_tolerance("atol", atol)
        if atol is None:
            atol = 1e-9 * max(1.0, float(np.linalg.norm(self.vector)), float(np.linalg.norm(w)))
        return self.distance(w) <= atol

    def member(self, coefficients: Any) -> np.ndarray:
        """The member ``v + basis @ coefficients``."""
        c = as_vector("coefficients", coefficients, self.dim) if self.dim else np.zeros(0)
        return self.vector + self.basis @ c


def _numeric_class(L: np.ndarray, v: np.ndarray, tol: float | None) -> EquivalenceClass:
    # One full SVD serves the rank decision, the row space and the kernel (scipy.linalg.null_space
    # would take its own rcond and could disagree with the certified rank).
    u, s, vt = scipy.linalg.svd(L, full_matrices=True)
    decision = decide_rank_from_singular_values(s, L.shape, tol)
    r = decision.rank
    row_basis = vt[:r].T.copy()
    basis = vt[r:].T.copy()
    point = row_basis @ (row_basis.T @ v)
    for arr in (point, basis, row_basis):
        arr.setflags(write=False)
    vector = v.copy()
    vector.setflags(write=False)
    return EquivalenceClass(vector=vector, point=point, basis=basis, row_basis=row_basis, decision=decision)


# --------------------------------------------------------------------------------------------
# Exact classes


@dataclasses.dataclass(frozen=True)
class ExactEquivalenceClass:
    """``[v] = point + span(basis)`` computed exactly in the rationals (sympy).

    point : (d, 1) rational minimum-norm member ``L^+ L v``.
    basis : (d, k) rational matrix whose columns span ker L exactly (not orthonormalised).
    """

    readout: sympy.Matrix
    vector: sympy.Matrix
    point: sympy.Matrix
    basis: sympy.Matrix
    rank: int

    @property
    def dim(self) -> int:
        return int(self.basis.shape[1])

    @property
    def d(self) -> int:
        return int(self.vector.shape[0])

    @property
    def certified(self) -> bool:
        return True

    @property
    def kernel_part(self) -> sympy.Matrix:
        return self.vector - self.point

    def contains(self, w: Any, atol: float | None = None) -> bool:
        """Exact membership: ``L (w - v) == 0``."""
        w = _as_exact_vector("w", w, self.d)
        return bool((self.readout * (w - self.vector)).is_zero_matrix)

    def member(self, coefficients: Any) -> sympy.Matrix:
        c = sympy.Matrix(coefficients)
        return self.vector + self.basis * c


def _as_exact_matrix(name: str, x: sympy.MatrixBase) -> sympy.Matrix:
    m = sympy.Matrix(x)
    if m.rows == 0 or m.cols == 0:
        raise ValueError(f"{name} must not be empty, got shape {m.shape}")
    for entry in m:
        if not (entry.is_Rational):
            raise ValueError(
                f"{name} must have rational entries for exact mode, got {entry!r}; "
                "convert with sympy.nsimplify or pass a float array"
            )
    return m


def _as_exact_vector(name: str, x: Any, length: int) -> sympy.Matrix:
    m = _as_exact_matrix(name, sympy.Matrix(x))
    if m.cols != 1:
        m = m.T
    if m.cols != 1:
        raise ValueError(f"{name} must be a vector, got shape {m.shape}")
    if m.rows != length:
        raise ValueError(f"{name} must have length {length} (the number of columns of L), got {m.rows}")
    return m


def _exact_class(L: sympy.Matrix, v: sympy.Matrix) -> ExactEquivalenceClass:
    kernel = L.nullspace()
    d = L.cols
    basis = sympy.Matrix.hstack(*kernel) if kernel else sympy.zeros(d, 0)
    rows = L.T.columnspace()
    if rows:
        R = sympy.Matrix.hstack(*rows)
        point = R * (R.T * R).inv() * (R.T * v)
    else:
        point = sympy.zeros(d, 1)
    return ExactEquivalenceClass(readout=L, vector=v, point=point, basis=basis, rank=len(rows))


# --------------------------------------------------------------------------------------------
# Public contract


def equivalence_class(L: Any, v: Any, tol: float | None = None):
    """The class ``[v] = v + ker L`` of steering vectors that L cannot tell apart (T1).

    L : (m, d) readout, v : (d,) vector. Float input -> ``EquivalenceClass`` (float64, certified or
    undecided rank at ``tol``); sympy ``Matrix`` input -> ``ExactEquivalenceClass`` (rationals).
    """
    if isinstance(L, sympy.MatrixBase) or isinstance(v, sympy.MatrixBase):
        Lx = _as_exact_matrix("L", L)
        vx = _as_exact_vector("v", v, Lx.cols)
        return _exact_class(Lx, vx)
    Lf = as_matrix("L", L)
    vf = as_vector("v", v, Lf.shape[1], against="L")
    tol = as_tolerance("tol", tol)
    return _numeric_class(Lf, vf, tol)


def _require_certified(cls: Any) -> None:
    if not cls.certified:
        amb = ", ".join(f"{x:.3g}" for x in cls.decision.ambiguous)
        raise UndecidedRankError(
            f"rank of L is undecided at tol={cls.decision.tolerance:.3g}: singular values {amb} lie in "
            f"the grey band ({cls.decision.tolerance:.3g}, {cls.decision.band_top:.3g}); pass tol= to decide"
        )


def _is_numerically_zero(norm: float, scale: float, d: int) -> bool:
    return norm <= 16 * d * EPS * scale


def _kernel_split(cls: Any):
    """(k, v_id, |k| == 0, |v_id| == 0) for a numeric or exact class."""
    if isinstance(cls, ExactEquivalenceClass):
        k = cls.kernel_part
        return k, cls.point, bool(k.is_zero_matrix), bool(cls.point.is_zero_matrix)
    _require_certified(cls)
    k = cls.kernel_part
    v_id = cls.vector - k
    scale = float(np.linalg.norm(cls.vector))
    return (
        k,
        v_id,
        _is_numerically_zero(float(np.linalg.norm(k)), scale, cls.d),
        _is_numerically_zero(float(np.linalg.norm(v_id)), scale, cls.d),
    )


def _sq(x: Any):
    return (x.T * x)[0, 0] if isinstance(x, sympy.MatrixBase) else float(x @ x)


def orthogonal_twin(L: Any, v: Any, tol: float | None = None):
    """T1a: ``v_perp = v - (|v|^2 / |k|^2) k`` with ``k = v - L^+ L v``.

    Returns w with ``L w == L v`` and ``<w, v> == 0`` (exact for sympy input). Raises ``NoTwinError``
    iff k = 0, and ``UndecidedRankError`` if the rank of L is not certified at ``tol``.
    """
    cls = equivalence_class(L, v, tol)
    k, _, k_zero, vid_zero = _kernel_split(cls)
    if k_zero:
        raise NoTwinError(
            "v has no component in ker L (k = v - L^+ L v = 0): every member w of its class has "
            "<v, w> = |v|^2, so none is orthogonal to v"
        )
    if vid_zero:  # v lies in ker L: the formula gives v - v = 0, which steers exactly like v
        return 0 * cls.vector
    return cls.vector - (_sq(cls.vector) / _sq(k)) * k


def cosine_range(L: Any, v: Any, tol: float | None = None) -> tuple[Any, Any, bool]:
    """T1b: ``(inf, sup, inf_attained)`` of ``cos(v, w)`` over members w != 0 of ``[v]``.

    k != 0 and v_id != 0: ``(-|k|/|v|, 1, False)``; v_id = 0 (v steers nothing): ``(-1, 1, True)``
    (the class is ker L, which holds -v); k = 0: cos = |v|/|w| in ``(0, 1]``, so ``(0, 1, False)``
    when ker L != {0} and ``(1, 1, True)`` when v is identifiable. Exact (sympy) for sympy input.
    """
    cls = equivalence_class(L, v, tol)
    exact = isinstance(cls, ExactEquivalenceClass)
    if (cls.vector.is_zero_matrix if exact else not np.any(cls.vector)):
        raise ValueError("v must be nonzero: the cosine to the zero vector is undefined")
    k, _, k_zero, vid_zero = _kernel_split(cls)
    one = sympy.Integer(1) if exact else 1.0
    if vid_zero:
        return -one, one, True
    if k_zero:
        return (one, one, True) if cls.dim == 0 else (0 * one, one, False)
    ratio = sympy.sqrt(_sq(k) / _sq(cls.vector)) if exact else math.sqrt(_sq(k) / _sq(cls.vector))
    return -ratio, one, False


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """cos angle between two nonzero vectors."""
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def ray_member(cls: EquivalenceClass, s: float) -> np.ndarray:
    """The member ``v_id - s k / |k|`` along which the cosine to v falls to its infimum (T1b)."""
    k = cls.kernel_part
    return cls.point - s * k / np.linalg.norm(k)


# --------------------------------------------------------------------------------------------
# Certificates


def undecided_certificate(theorem: str, claim: str, cls: EquivalenceClass, matrix: str = "L") -> Certificate:
    """The certificate of a check whose rank decision on ``matrix`` was not certified."""
    return Certificate(
        theorem=theorem,
        verdict=Verdict.UNDECIDED,
        claim=claim,
        dim=cls.dim,
        rank=cls.rank,
        margin=cls.decision.margin,
        tolerance=cls.decision.tolerance,
        details={"reason": f"rank of {matrix} not certified: singular values in the grey band",
                 **cls.decision.summary()},
    )


def _behaviour_of(L: np.ndarray, behaviour: Behaviour | None) -> Behaviour:
    return behaviour if behaviour is not None else (lambda w: L @ w)


RESIDUAL_TOL = 1e-10


def allowed_residual(cls: EquivalenceClass, step: float = 1.0) -> float:
    """Residual a member may show and still count as equivalent: round-off (1e-10), or, when the
    rank was decided at a tolerance tau, what the dropped singular values (<= tau) can produce over
    a step of ``step`` times |v|: ``10 * step * tau / s_1``."""
    s = cls.decision.singular_values
    s1 = float(s[0]) if s.size and s[0] > 0 else 1.0
    return max(RESIDUAL_TOL, 10.0 * max(step, 1.0) * cls.decision.tolerance / s1)


T1_CLAIM = "[v] = v + ker L, dim [v] = d - rank L, minimum-norm member L^+ L v"


def check_t1(
    L: Any, v: Any, behaviour: Behaviour | None = None, tol: float | None = None, seed: int = 0
) -> Certificate:
    """Check T1 on (L, v): a random member of v + ker L steers identically (re-run through
    ``behaviour``, default ``w -> L w``), a step out of the class along the row space does not, and
    ``L^+ L v`` is the minimum-norm member (orthogonal to ker L)."""
    Lf = as_matrix("L", L)
    vf = as_vector("v", v, Lf.shape[1], against="L")
    cls = _numeric_class(Lf, vf, as_tolerance("tol", tol))
    if not cls.certified:
        return undecided_certificate("T1", T1_CLAIM, cls)
    B = _behaviour_of(Lf, behaviour)
    rng = np.random.default_rng(seed)
    scale = max(1.0, float(np.linalg.norm(vf)))
    b_v, b_0 = np.asarray(B(vf)), np.asarray(B(np.zeros_like(vf)))
    if cls.dim:
        z = rng.standard_normal(cls.dim)
        member = cls.member(scale * z / np.linalg.norm(z))
    else:
        member = vf.copy()
    inside = behaviour_residual(B(member), b_v, b_0)
    outside = 0.0
    if cls.rank:
        r = cls.row_basis @ rng.standard_normal(cls.rank)
        step = vf + scale * r / np.linalg.norm(r)
        outside = float(np.linalg.norm(np.asarray(B(step)) - b_v)) / max(float(np.linalg.norm(b_v - b_0)), scale)
    orth = float(np.linalg.norm(cls.basis.T @ cls.point)) / scale if cls.dim else 0.0
    allowed = allowed_residual(cls, float(np.linalg.norm(member - vf)) / scale)
    ok = inside <= allowed and orth <= RESIDUAL_TOL and (cls.rank == 0 or outside > allowed)
    return Certificate(
        theorem="T1",
        verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
        claim=T1_CLAIM,
        dim=cls.dim,
        rank=cls.rank,
        margin=cls.decision.margin,
        tolerance=cls.decision.tolerance,
        witness={"v": vf, "member": member, "point": cls.point},
        details={
            "identifiable": cls.dim == 0,
            "member_residual": inside,
            "row_step_change": outside,
            "point_kernel_component": orth,
            "singular_values": cls.decision.singular_values,
        },
    )


T1A_CLAIM = "k = v - L^+ L v != 0 => v - (|v|^2/|k|^2) k ~ v, is orthogonal to v, has norm |v||v_id|/|k|"


def check_t1a(L: Any, v: Any, behaviour: Behaviour | None = None, tol: float | None = None) -> Certificate:
    """Check T1a: build the orthogonal twin, re-run it through ``behaviour``, check orthogonality
    and the predicted norm; when k = 0, check that no twin is produced and that members keep
    ``<v, w> = |v|^2``."""
    Lf = as_matrix("L", L)
    vf = as_vector("v", v, Lf.shape[1], against="L")
    cls = _numeric_class(Lf, vf, as_tolerance("tol", tol))
    if not cls.certified:
        return undecided_certificate("T1a", T1A_CLAIM, cls)
    B = _behaviour_of(Lf, behaviour)
    b_v, b_0 = np.asarray(B(vf)), np.asarray(B(np.zeros_like(vf)))
    nv = float(np.linalg.norm(vf))
    common = dict(theorem="T1a", claim=T1A_CLAIM, dim=cls.dim, rank=cls.rank,
                  margin=cls.decision.margin, tolerance=cls.decision.tolerance)
    try:
        twin = orthogonal_twin(Lf, vf, tol)
    except NoTwinError as exc:
        member = cls.member(np.ones(cls.dim)) if cls.dim else vf
        inner_gap = abs(float(member @ vf) - nv**2) / max(nv**2, EPS)
        ok = inner_gap <= RESIDUAL_TOL
        return Certificate(
            verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
            witness={"v": vf, "member": member},
            details={"twin": None, "reason": str(exc), "inner_product_gap": inner_gap},
            **common,
        )
    k = cls.kernel_part
    predicted = nv * float(np.linalg.norm(vf - k)) / float(np.linalg.norm(k))
    residual = behaviour_residual(B(twin), b_v, b_0)
    cos = abs(float(twin @ vf)) / max(nv * max(float(np.linalg.norm(twin)), nv), EPS)
    norm_err = abs(float(np.linalg.norm(twin)) - predicted) / max(predicted, 1.0)
    allowed = allowed_residual(cls, float(np.linalg.norm(twin - vf)) / max(nv, 1.0))
    ok = residual <= allowed and cos <= RESIDUAL_TOL and norm_err <= RESIDUAL_TOL
    return Certificate(
        verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
        witness={"v": vf, "twin": twin},
        details={"behaviour_residual": residual, "abs_cosine": cos, "twin_norm": float(np.linalg.norm(twin)),
                 "predicted_norm": predicted, "norm_error": norm_err},
        **common,
    )


T1B_CLAIM = "cos(v, w) over [v] fills (-|k|/|v|, 1], infimum approached along v_id - s k/|k|, never attained"


def check_t1b(L: Any, v: Any, behaviour: Behaviour | None = None, tol: float | None = None,
              seed: int = 0, samples: int = 256) -> Certificate:
    """Check T1b: sampled members' cosines lie in the predicted interval, the cosine falls strictly
    along the ray ``v_id - s k/|k|`` and tends to the infimum; ray members are re-run through
    ``behaviour``."""
    Lf = as_matrix("L", L)
    vf = as_vector("v", v, Lf.shape[1], against="L")
    cls = _numeric_class(Lf, vf, as_tolerance("tol", tol))
    if not cls.certified:
        return undecided_certificate("T1b", T1B_CLAIM, cls)
    lo, hi, attained = cosine_range(Lf, vf, tol)
    B = _behaviour_of(Lf, behaviour)
    b_v, b_0 = np.asarray(B(vf)), np.asarray(B(np.zeros_like(vf)))
    rng = np.random.default_rng(seed)
    nv = float(np.linalg.norm(vf))
    details: dict[str, Any] = {"inf": lo, "sup": hi, "inf_attained": attained}
    ok = True
    witness = {"v": vf}
    if cls.dim:
        z = rng.standard_normal((samples, cls.dim)) * np.geomspace(1e-2, 1e3, samples)[:, None] * nv
        members = vf + z @ cls.basis.T
        cos = members @ vf / (np.linalg.norm(members, axis=1) * nv)
        slack = 1e-12
        inside = bool(np.all(cos <= hi + slack) and np.all(cos >= lo - slack if attained else cos > lo - slack))
        details["sampled_min_cosine"] = float(cos.min())
        ok &= inside
    k_zero = not np.any(cls.kernel_part) or cls.dim == 0 or lo >= 0
    if not k_zero and not attained:
        s = nv * np.geomspace(1e-2, 1e4, 60)
        ray = np.stack([ray_member(cls, si) for si in s])
        cos_ray = ray @ vf / (np.linalg.norm(ray, axis=1) * nv)
        decreasing = bool(np.all(np.diff(cos_ray) < 0))
        far = ray_member(cls, 1e8 * nv)
        gap_to_inf = float(far @ vf / (np.linalg.norm(far) * nv) - lo)
        ray = np.vstack([ray, far])
        residual = max(behaviour_residual(B(w), b_v, b_0) for w in ray[[0, len(ray) // 2, -1]])
        details.update(ray_decreasing=decreasing, ray_final_gap=gap_to_inf, ray_residual=residual)
        witness["ray_far_member"] = ray[-1]
        ok &= decreasing and 0 < gap_to_inf <= 1e-6 and residual <= 1e-6
    return Certificate(
        theorem="T1b", verdict=Verdict.HOLDS if ok else Verdict.VIOLATED, claim=T1B_CLAIM,
        dim=cls.dim, rank=cls.rank, margin=cls.decision.margin, tolerance=cls.decision.tolerance,
        witness=witness, details=details,
    )


CLASS_CLAIM = "[v] = v + ker L: every member steers like v, and nothing else does"


def class_certificate(L: Any, v: Any, tol: float | None = None, theorem: str = "T1",
                      claim: str = CLASS_CLAIM) -> Certificate:
    """The class of v under readout L as a certificate: witness ``point``, ``basis`` (orthonormal,
    (d, k)) and ``orthogonal_twin`` when one exists; details hold the cosine range (T1b) and, when no
    twin exists, the reason. Verdict: holds when the rank is certified and ``L basis`` vanishes to
    round-off, undecided when the rank is not certified."""
    Lf = as_matrix("L", L)
    vf = as_vector("v", v, Lf.shape[1], against="L")
    cls = _numeric_class(Lf, vf, as_tolerance("tol", tol))
    witness: dict[str, Any] = {"point": cls.point, "basis": cls.basis}
    details: dict[str, Any] = {"d": cls.d, **cls.decision.summary()}
    if not cls.certified:
        details.update(orthogonal_twin=None, twin_reason="rank undecided", cosine_range=None)
        return Certificate(theorem=theorem, verdict=Verdict.UNDECIDED, claim=claim, dim=cls.dim, rank=cls.rank,
                           margin=cls.decision.margin, tolerance=cls.decision.tolerance,
                           witness=witness, details=details)
    try:
        witness["orthogonal_twin"] = orthogonal_twin(Lf, vf, tol)
        details["twin_reason"] = None
    except NoTwinError as exc:
        details["twin_reason"] = str(exc)
    if np.any(vf):
        lo, hi, attained = cosine_range(Lf, vf, tol)
        details["cosine_range"] = {"inf": lo, "sup": hi, "inf_attained": attained}
    else:
        details["cosine_range"] = None
    s1 = float(cls.decision.singular_values[0]) if cls.decision.n else 0.0
    kernel_residual = float(np.linalg.norm(Lf @ cls.basis, 2)) / (s1 or 1.0) if cls.dim else 0.0
    details["kernel_residual"] = kernel_residual  # |L basis|_2 / s_1: the largest dropped singular value
    ok = kernel_residual <= allowed_residual(cls)
    return Certificate(theorem=theorem, verdict=Verdict.HOLDS if ok else Verdict.VIOLATED, claim=claim,
                       dim=cls.dim, rank=cls.rank, margin=cls.decision.margin,
                       tolerance=cls.decision.tolerance, witness=witness, details=details)
