"""Linear readouts (docs/theorems.md T1, T1a, T1b): the class of v is the affine subspace v + ker L.

If behaviour depends on v only through L v, then ``[v] = v + ker L``; ``dim [v] = d - rank L``; the
minimum-norm member is ``v_id = L^+ L v`` (projection of v on the row space of L). Numeric input is
decided in float64 with a certified-or-undecided rank (``theory.rank``); sympy ``Matrix`` input is
solved exactly in the rationals.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg
import sympy

from .certificate import ratio_margin
from .gates import over
from .rank import (
    EPS,
    RankDecision,
    check_column_scaling,
    column_scale,
    decide_rank_from_singular_values,
)
from .validation import InputError, as_matrix, as_real, as_tolerance, as_vector

Behaviour = Callable[[np.ndarray], Any]


class NoTwinError(ValueError):
    """v has no component in ker L, so no member of its class is orthogonal to it (T1a)."""


class UndecidedRankError(ValueError):
    """The rank of L is not certified at this tolerance; pass ``tol`` to decide it yourself."""


# --------------------------------------------------------------------------------------------
# Numeric classes


class _ClassShape:
    """dim = number of basis columns of ker L, d = length of v (numeric and exact classes)."""

    basis: Any
    vector: Any

    @property
    def dim(self) -> int:
        return int(self.basis.shape[1])

    @property
    def d(self) -> int:
        return int(self.vector.shape[0])


@dataclasses.dataclass(frozen=True)
class EquilibratedRows:
    """The row space of a badly scaled L seen column-equilibrated: ``L C^-1`` with C = diag(scale),
    its orthonormal row basis and singular values. ``v`` is in row(L) iff ``C^-1 v`` is in
    row(L C^-1), so the T1a/T1b split can be decided in either coordinates."""

    scale: np.ndarray
    row_basis: np.ndarray
    singular_values: np.ndarray


@dataclasses.dataclass(frozen=True)
class EquivalenceClass(_ClassShape):
    """``[v] = point + span(basis)`` for a numeric readout L (float64).

    point        : (d,) minimum-norm member ``L^+ L v``.
    basis        : (d, k) orthonormal basis of ker L.
    row_basis    : (d, rank) orthonormal basis of the row space of L.
    decision     : the rank decision (singular values, tolerance, certified or not).
    equilibrated : for a certified rank of L with column norms spread over more than
                   ``theory.rank.BADLY_SCALED`` at the default tolerance, the column-equilibrated
                   row space (``kernel_split`` decides the split there too); else None.
    """

    vector: np.ndarray
    point: np.ndarray
    basis: np.ndarray
    row_basis: np.ndarray
    decision: RankDecision
    equilibrated: EquilibratedRows | None = None

    @property
    def rank(self) -> int:
        return self.decision.rank

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
        """True iff w lies within ``atol`` of ``v + ker L`` (default ``1e-9 * max(|v|, |w|)``,
        relative, so the scale of v does not matter)."""
        w = as_vector("w", w, self.d)
        atol = as_tolerance("atol", atol)
        if atol is None:
            atol = 1e-9 * max(float(np.linalg.norm(self.vector)), float(np.linalg.norm(w)))
        return self.distance(w) <= atol

    def member(self, coefficients: Any) -> np.ndarray:
        """The member ``v + basis @ coefficients``."""
        c = as_vector("coefficients", coefficients, self.dim) if self.dim else np.zeros(0)
        return self.vector + self.basis @ c


def _numeric_class(
    L: np.ndarray, v: np.ndarray, tol: float | None, scale: float | None = None
) -> EquivalenceClass:
    # One full SVD serves the rank decision, the row space and the kernel (scipy.linalg.null_space
    # would take its own rcond and could disagree with the certified rank).
    u, s, vt = scipy.linalg.svd(L, full_matrices=True)
    decision = decide_rank_from_singular_values(s, L.shape, tol, scale)
    if tol is None and scale is None:
        decision = check_column_scaling(L, decision)
    r = decision.rank
    row_basis = vt[:r].T.copy()
    basis = vt[r:].T.copy()
    point = row_basis @ (row_basis.T @ v)
    for arr in (point, basis, row_basis):
        arr.setflags(write=False)
    vector = v.copy()
    vector.setflags(write=False)
    equilibrated = None
    c = column_scale(L) if tol is None and scale is None and decision.certified else None
    if c is not None and 0 < r < L.shape[1]:
        _, s_eq, vt_eq = scipy.linalg.svd(L / c, full_matrices=True)
        equilibrated = EquilibratedRows(scale=c, row_basis=vt_eq[:r].T.copy(), singular_values=s_eq)
        for arr in (c, equilibrated.row_basis, s_eq):
            arr.setflags(write=False)
    return EquivalenceClass(
        vector=vector,
        point=point,
        basis=basis,
        row_basis=row_basis,
        decision=decision,
        equilibrated=equilibrated,
    )


# --------------------------------------------------------------------------------------------
# Exact classes


@dataclasses.dataclass(frozen=True)
class ExactEquivalenceClass(_ClassShape):
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
    def certified(self) -> bool:
        return True

    @property
    def kernel_part(self) -> sympy.Matrix:
        return self.vector - self.point

    def contains(self, w: Any, atol: float | None = None) -> bool:
        """Exact membership: ``L (w - v) == 0`` (``atol`` is accepted and unused)."""
        as_tolerance("atol", atol)
        w = _as_exact_vector("w", w, self.d)
        return bool((self.readout * (w - self.vector)).is_zero_matrix)

    def member(self, coefficients: Any) -> sympy.Matrix:
        c = sympy.Matrix(coefficients)
        return self.vector + self.basis * c


def _as_exact_matrix(name: str, x: sympy.MatrixBase) -> sympy.Matrix:
    m = sympy.Matrix(x)
    if m.rows == 0 or m.cols == 0:
        raise InputError(f"{name} must not be empty, got shape {m.shape}")
    for entry in m:
        if not (entry.is_Rational):
            raise InputError(
                f"{name} must have rational entries for exact mode, got {entry!r}; "
                "convert with sympy.nsimplify or pass a float array"
            )
    return m


def _as_exact_vector(name: str, x: Any, length: int) -> sympy.Matrix:
    m = _as_exact_matrix(name, sympy.Matrix(x))
    if m.cols != 1:
        m = m.T
    if m.cols != 1:
        raise InputError(f"{name} must be a vector, got shape {m.shape}")
    if m.rows != length:
        raise InputError(
            f"{name} must have length {length} (the number of columns of L), got {m.rows}"
        )
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


def equivalence_class(L: Any, v: Any, tol: float | None = None, *, scale: float | None = None):
    """The class ``[v] = v + ker L`` of steering vectors that L cannot tell apart (T1).

    L : (m, d) readout, v : (d,) vector. Float input -> ``EquivalenceClass`` (float64, certified or
    undecided rank at ``tol``; ``scale`` as in ``theory.rank``); sympy ``Matrix`` input ->
    ``ExactEquivalenceClass`` (rationals).
    """
    if isinstance(L, sympy.MatrixBase) or isinstance(v, sympy.MatrixBase):
        Lx = _as_exact_matrix("L", L)
        vx = _as_exact_vector("v", v, Lx.cols)
        return _exact_class(Lx, vx)
    Lf = as_matrix("L", L)
    vf = as_vector("v", v, Lf.shape[1], against="L")
    tol = as_tolerance("tol", tol)
    scale = None if scale is None else as_real("scale", scale, low=0.0)
    return _numeric_class(Lf, vf, tol, scale)


def _require_certified(cls: Any) -> None:
    if not cls.certified:
        amb = ", ".join(f"{x:.3g}" for x in cls.decision.ambiguous)
        raise UndecidedRankError(
            f"rank of L is undecided at tol={cls.decision.tolerance:.3g}: singular values {amb} "
            f"lie in the grey band ({cls.decision.tolerance:.3g}, {cls.decision.band_top:.3g}); "
            "pass tol= to decide"
        )


def split_error(cls: EquivalenceClass) -> float:
    """Round-off bound on the split v = v_id + k: the computed row space and kernel are tilted by
    about ``max(m, d) eps s_1 / s_r`` (Wedin), s_r the smallest retained singular value."""
    s = cls.decision.singular_values
    if cls.rank == 0 or cls.dim == 0:
        return 0.0  # the split is trivial: k = v or k = 0 exactly
    m_rows = max(cls.decision.n, cls.d)
    return m_rows * EPS * float(s[0] / s[cls.rank - 1])


@dataclasses.dataclass(frozen=True)
class KernelSplit:
    """v = v_id + k with v_id = L^+ L v in the row space and k in ker L; which parts are zero.

    margin: how clearly both zero-or-not decisions clear their grey band (``theory.certificate``'s
    orientation; None for an exact split, infinite when the split is trivial)."""

    k: Any
    v_id: Any
    k_zero: bool
    vid_zero: bool
    margin: float | None = None


def _zero_or_undecided(norm: float, scale: float, err: float, what: str) -> tuple[bool, float]:
    """(is zero, margin): zero if ``norm`` is round-off (<= err * scale; margin err * scale / norm),
    nonzero if clearly not (>= sqrt(err) * scale, the top of the grey band; margin norm over it);
    UndecidedRankError in between."""
    low, high = err * scale, math.sqrt(err) * scale
    if norm <= low:
        return True, ratio_margin(low, norm)
    if norm < high:
        raise UndecidedRankError(
            f"{what} has norm {norm:.3g}, within the round-off grey band of L's conditioning "
            f"({low:.3g}, {high:.3g}): zero or not cannot be told; pass tol= to decide"
        )
    return False, over(norm, high)


def kernel_split(cls: Any) -> KernelSplit:
    """The T1a/T1b split of v for a numeric (certified) or exact class. A part of v is zero when
    its norm is at most ``err |v|``, ``err = max(split_error(cls), 16 d eps)`` (in the column-
    equilibrated coordinates the same Wedin term from their singular values, the same floor), so
    a part below ``16 d eps |v|`` is never told from round-off."""
    if isinstance(cls, ExactEquivalenceClass):
        k = cls.kernel_part
        return KernelSplit(k, cls.point, bool(k.is_zero_matrix), bool(cls.point.is_zero_matrix))
    _require_certified(cls)
    if cls.rank == 0:
        return KernelSplit(
            cls.vector.copy(), np.zeros(cls.d), not np.any(cls.vector), True, math.inf
        )
    if cls.dim == 0:
        return KernelSplit(
            np.zeros(cls.d), cls.vector.copy(), True, not np.any(cls.vector), math.inf
        )
    k = cls.kernel_part
    v_id = cls.point
    err = max(split_error(cls), 16 * cls.d * EPS)
    zeros, margin = _split_decisions(cls.vector, v_id, k, err)
    if cls.equilibrated is not None:
        eq = cls.equilibrated
        u = cls.vector / eq.scale
        u_id = eq.row_basis @ (eq.row_basis.T @ u)
        s = eq.singular_values
        err_eq = max(
            max(cls.decision.n, cls.d) * EPS * float(s[0] / s[cls.rank - 1]), 16 * cls.d * EPS
        )
        zeros_eq, margin_eq = _split_decisions(u, u_id, u - u_id, err_eq)
        if zeros_eq != zeros:
            raise UndecidedRankError(
                "L's columns are badly scaled and the split of v decided normwise (k = 0: "
                f"{zeros[0]}, v_id = 0: {zeros[1]}) and column-equilibrated (k = 0: {zeros_eq[0]}, "
                f"v_id = 0: {zeros_eq[1]}) disagree: whether v is in the row space of L cannot "
                "be told from L's floats; pass tol= to decide"
            )
        margin = min(margin, margin_eq)
    return KernelSplit(k, v_id, zeros[0], zeros[1], margin)


def _split_decisions(
    v: np.ndarray, v_id: np.ndarray, k: np.ndarray, err: float
) -> tuple[tuple[bool, bool], float]:
    """((k = 0, v_id = 0), margin) for v = v_id + k, each zero-or-not at round-off ``err``."""
    scale = float(np.linalg.norm(v))
    k_zero, k_margin = _zero_or_undecided(
        float(np.linalg.norm(k)), scale, err, "the kernel part k of v"
    )
    vid_zero, vid_margin = _zero_or_undecided(
        float(np.linalg.norm(v_id)), scale, err, "the row-space part v_id of v"
    )
    return (k_zero, vid_zero), min(k_margin, vid_margin)


def _sq(x: Any):
    """|x|^2 for a numpy vector or a sympy column."""
    return (x.T * x)[0, 0] if isinstance(x, sympy.MatrixBase) else float(x @ x)


def twin_of(cls: Any):
    """T1a for a computed class (numeric or exact); see ``orthogonal_twin``."""
    split = kernel_split(cls)
    if split.k_zero:
        raise NoTwinError(
            "v has no component in ker L (k = v - L^+ L v = 0): every member w of its class has "
            "<v, w> = |v|^2, so none is orthogonal to v"
        )
    if split.vid_zero:  # v lies in ker L: the formula gives v - v = 0, which steers exactly like v
        return 0 * cls.vector
    return cls.vector - (_sq(cls.vector) / _sq(split.k)) * split.k


def orthogonal_twin(L: Any, v: Any, tol: float | None = None):
    """T1a: ``v_perp = v - (|v|^2 / |k|^2) k`` with ``k = v - L^+ L v``.

    Returns w with ``L w == L v`` and ``<w, v> == 0`` (exact for sympy input). Raises
    ``NoTwinError`` iff k = 0, and ``UndecidedRankError`` if the rank of L is not certified at
    ``tol`` or k is too close to round-off, for L's conditioning, to tell whether it is zero.
    """
    return twin_of(equivalence_class(L, v, tol))


def cosine_range_of(cls: Any) -> tuple[Any, Any, bool]:
    """T1b for a computed class (numeric or exact); see ``cosine_range``."""
    exact = isinstance(cls, ExactEquivalenceClass)
    if cls.vector.is_zero_matrix if exact else not np.any(cls.vector):
        raise InputError("v must be nonzero: the cosine to the zero vector is undefined")
    split = kernel_split(cls)
    one = sympy.Integer(1) if exact else 1.0
    if split.vid_zero:
        return -one, one, True
    if split.k_zero:
        return (one, one, True) if cls.dim == 0 else (0 * one, one, False)
    ratio = (
        sympy.sqrt(_sq(split.k) / _sq(cls.vector))
        if exact
        else math.sqrt(_sq(split.k) / _sq(cls.vector))
    )
    return -ratio, one, False


def cosine_range(L: Any, v: Any, tol: float | None = None) -> tuple[Any, Any, bool]:
    """T1b: ``(inf, sup, inf_attained)`` of ``cos(v, w)`` over members w != 0 of ``[v]``.

    k != 0 and v_id != 0: ``(-|k|/|v|, 1, False)``; v_id = 0 (v steers nothing): ``(-1, 1, True)``
    (the class is ker L, which holds -v); k = 0: cos = |v|/|w| in ``(0, 1]``, so ``(0, 1, False)``
    when ker L != {0} and ``(1, 1, True)`` when v is identifiable. Exact (sympy) for sympy input.
    """
    return cosine_range_of(equivalence_class(L, v, tol))


def ray_member(cls: EquivalenceClass, s: float) -> np.ndarray:
    """The member ``v_id - s k / |k|`` along which the cosine to v falls to its infimum (T1b)."""
    s = as_real("s", s, low=0.0)
    k = cls.kernel_part
    return cls.point - s * k / np.linalg.norm(k)


def ray_cosine(a: float, b: float, s: Any) -> Any:
    """cos(v, v_id - s k/|k|) = (a^2 - s b) / (|v| sqrt(a^2 + s^2)), a = |v_id|, b = |k| (T1b);
    an array for an array s, a float for a scalar."""
    a, b = as_real("a", a, low=0.0), as_real("b", b, low=0.0)
    s = np.asarray(s, dtype=np.float64)
    nv = math.hypot(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(s > 0, a / np.where(s > 0, s, 1.0), 0.0)  # a / s, stable for huge s
        far = (a * r - b) / (nv * np.sqrt(r * r + 1.0))
    return np.where(s > 0, far, a / nv if nv else 0.0) if s.ndim else (far if s > 0 else a / nv)
