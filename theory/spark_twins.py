"""T7(a)/(b) certificates: unique k-sparse codes iff spark(A) > 2k, else re-run sparse twins.

A null vector n of A with |supp n| <= 2k splits into two k-sparse codes ``a = n_S1``,
``a' = -n_S2`` with ``A a = A a'`` (``split_null_vector``). The certificates' margins count how
far the spark clears its edge: ``spark / (2k + 1)`` for uniqueness, ``2k / spark`` for twins (both
>= 1 iff the gate is cleared), combined with the float rank decisions' margins and the twins'
re-run ``tolerance / residual``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import sympy

from .certificate import Certificate, Verdict, min_margin, ratio_margin
from .residual import behaviour_residual
from .spark_base import (
    MAX_SUBSETS,
    Behaviour,
    SparkResult,
    as_behaviour,
    as_sparsity,
    coerce_matrix,
    is_exact,
    n_columns,
)
from .spark_search import spark, spark_up_to
from .validation import (
    InputError,
    as_count,
    as_int_tuple,
    as_matrix,
    as_positive_int,
    as_tolerance,
    as_vector,
)

TINY = float(np.finfo(np.float64).tiny)

T7_CLAIM = (
    "every k-sparse code is the unique k-sparse code with its behaviour A a  <=>  spark(A) > 2k"
)


class NoSparseTwinError(ValueError):
    """spark(A) > 2k: no two distinct k-sparse codes have the same behaviour (T7(a))."""


def split_null_vector(n: np.ndarray | tuple, subset: Any, k: Any):
    """T7(b): split the support T (|T| <= 2k) of a null vector n into S1 (first ceil(|T|/2)
    indices) and S2 (the rest), both of size <= k; return ``(a, a') = (n_S1, -n_S2)``.

    Works for float arrays and for tuples of sympy Rationals (exact).
    """
    k = as_positive_int("k", k)
    subset = as_int_tuple("subset", subset, low=0, high=len(n) - 1, distinct=True)
    t = len(subset)
    if t > 2 * k:
        raise InputError(
            f"the null vector has {t} nonzeros, more than 2k = {2 * k}: "
            "it does not split into two k-sparse codes"
        )
    half = (t + 1) // 2
    s1, s2 = set(subset[:half]), set(subset[half:])
    zero = sympy.Integer(0) if isinstance(n, tuple) else 0.0
    a = [n[j] if j in s1 else zero for j in range(len(n))]
    b = [-n[j] if j in s2 else zero for j in range(len(n))]
    if isinstance(n, tuple):
        return tuple(a), tuple(b)
    return np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)


@dataclasses.dataclass(frozen=True)
class TwinRerun:
    """A claimed sparse twin pair (a, a') re-run through A and, when given, a behaviour map.

    residual / tolerance : |A a - A a'| / |A a| and what it is held to (exact mode: 0 iff the two
                           behaviours are equal as rationals, else inf; tolerance 0).
    behaviour_residual   : ``theory.residual.behaviour_residual`` of the behaviour map's outputs on
                           a' against a (None without a map), held to ``behaviour_tolerance``.
    """

    distinct: bool
    sparse: bool
    residual: float
    tolerance: float
    behaviour_residual: float | None
    behaviour_tolerance: float | None
    a: np.ndarray
    a_prime: np.ndarray

    def __post_init__(self) -> None:
        if (self.behaviour_residual is None) != (self.behaviour_tolerance is None):
            raise InputError(
                "behaviour_residual and behaviour_tolerance come together (a behaviour map was "
                "re-run) or not at all"
            )

    @property
    def verified(self) -> bool:
        """Distinct, both k-sparse, and every re-run within its tolerance."""
        res, tol = self.behaviour_residual, self.behaviour_tolerance
        beh_ok = res is None or (tol is not None and res <= tol)
        return self.distinct and self.sparse and self.residual <= self.tolerance and beh_ok

    @property
    def margin(self) -> float:
        """min of tolerance / residual over the re-runs (>= 1 iff all pass)."""
        beh = None
        if self.behaviour_residual is not None and self.behaviour_tolerance is not None:
            beh = ratio_margin(self.behaviour_tolerance, self.behaviour_residual)
        return min_margin(ratio_margin(self.tolerance, self.residual), beh)


def rerun_twins(
    A: Any, k: Any, a: Any, a_prime: Any, tol: float | None = None, behaviour: Any = None
) -> TwinRerun:
    """Re-run a claimed twin pair: exactly for a sympy A (a, a' tuples of Rationals), else in
    float64 with tolerance ``max(1e-10, 10 tau |D (a - a')| / |A a|)`` (D = diag of the column
    norms, tau the rank tolerance ``tol`` of the unit-column A; default ``max(m, p) eps``): a null
    vector n of the unit-column matrix with sigma_min <= tau has |A n| <= tau |D n|. The behaviour
    map, when given, is run on float64 codes and held to ``max(tolerance, 1e-9)``."""
    behaviour = as_behaviour("behaviour", behaviour)
    tol = as_tolerance("tol", tol)
    exact = is_exact(A)
    A = A if exact else as_matrix("A", A)
    p = n_columns(A)
    k = as_sparsity("k", k, p)
    if exact:
        ea, eb = (tuple(sympy.Rational(x) for x in c) for c in (a, a_prime))
        if len(ea) != p or len(eb) != p:
            raise InputError(f"a and a_prime must have p = {p} entries, got {len(ea)}, {len(eb)}")
        equal = bool((A * sympy.Matrix(ea) - A * sympy.Matrix(eb)).is_zero_matrix)
        fa, fb = (np.array([float(x) for x in c]) for c in (ea, eb))
        residual, threshold = (0.0 if equal else math.inf), 0.0
        distinct = ea != eb
        nnz = [sum(x != 0 for x in c) for c in (ea, eb)]
    else:
        fa, fb = as_vector("a", a, p, "A"), as_vector("a_prime", a_prime, p, "A")
        ya = A @ fa
        ya_norm = max(float(np.linalg.norm(ya)), TINY)
        residual = float(np.linalg.norm(ya - A @ fb)) / ya_norm
        tau = max(A.shape) * float(np.finfo(np.float64).eps) if tol is None else tol
        rho = float(np.linalg.norm(np.linalg.norm(A, axis=0) * (fa - fb)))
        threshold = max(1e-10, 10 * tau * rho / ya_norm)
        distinct = bool(np.any(fa != fb))
        nnz = [int(np.count_nonzero(c)) for c in (fa, fb)]
    beh_res = beh_tol = None
    if behaviour is not None:
        beh_res = behaviour_residual(behaviour(fb), behaviour(fa), behaviour(np.zeros(p)))
        beh_tol = max(threshold, 1e-9)
    return TwinRerun(
        distinct=distinct,
        sparse=max(nnz) <= k,
        residual=residual,
        tolerance=threshold,
        behaviour_residual=beh_res,
        behaviour_tolerance=beh_tol,
        a=fa,
        a_prime=fb,
    )


def unique_recovery_certificate(
    A: Any,
    k: Any,
    behaviour: Behaviour | None = None,
    tol: float | None = None,
    max_subsets: int = MAX_SUBSETS,
    exact: bool | None = None,
) -> Certificate:
    """T7(a)/(b) on A (m x p).

    *holds* iff spark(A) > 2k (every k-sparse code is the unique k-sparse code with its
    behaviour), margin ``spark / (2k + 1)`` (with the search truncated at 2k, its lower bound),
    with the float rank decisions' margin; infinite when A has full column rank (A is injective
    whatever k, even though the convention spark = p + 1 is <= 2k when 2k > p); its witness is
    ``circuit_null_vector`` (A n = 0 on spark(A) columns) when spark(A) <= p is decided, and
    empty otherwise (full column rank, or the search stopped at 2k).
    *violated* iff spark(A) <= 2k and the sparse twin pair ``a = n_S1``, ``a' = -n_S2`` (the
    witness) passes its re-run (``rerun_twins``: ``A a`` against ``A a'``, exactly in exact mode,
    and ``behaviour`` on both when given); margin ``min(2k / spark, tolerance / residual)``.
    *undecided* when a float rank decision is in the grey band, or when the twin fails its re-run.
    """
    Ax, exact = coerce_matrix("A", A, exact, tol)
    p = n_columns(Ax)
    k = as_sparsity("k", k, p)
    behaviour = as_behaviour("behaviour", behaviour)
    max_subsets = as_count("max_subsets", max_subsets)
    tol = None if exact else as_tolerance("tol", tol)
    sr = spark_up_to(Ax, k, tol, max_subsets)
    common: dict[str, Any] = dict(theorem="T7", claim=T7_CLAIM, tolerance=sr.tolerance, d=p)
    details = {"k": k, "p": p, "exact": exact, **sr.summary()}
    if sr.full_column_rank:
        # A injective: every code is unique. (The convention spark = p + 1 must act as infinity
        # here: for 2k > p it would read spark <= 2k although no two codes share a behaviour.)
        margin = math.inf if exact else sr.margin
        details.update(unique=True, injective=True)
        return Certificate(verdict=Verdict.HOLDS, margin=margin, details=details, **common)
    if sr.lower > 2 * k:
        bound = sr.value if sr.decided else sr.lower
        witness = {} if sr.null_vector is None else {"circuit_null_vector": sr.null_vector}
        return Certificate(
            verdict=Verdict.HOLDS,
            margin=min_margin(bound / (2 * k + 1), sr.margin),
            witness=witness,
            details={**details, "unique": True},
            **common,
        )
    if not sr.decided:
        reason = f"the rank of column subset {sr.ambiguous_subset} is in the grey band"
        return Certificate(
            verdict=Verdict.UNDECIDED,
            ambiguous=None
            if sr.ambiguous_singular_values is None
            else np.asarray(sr.ambiguous_singular_values),
            reason=reason,
            details=details,
            **common,
        )
    return _twin_certificate(Ax, k, sr, behaviour, details, common)


def _twin_certificate(
    Ax: Any, k: int, sr: SparkResult, behaviour, details: dict, common: dict
) -> Certificate:
    n = sr.exact_null_vector if sr.exact else sr.null_vector
    # a decided spark below 2k + 1 always carries its dependent subset and null vector
    assert n is not None and sr.subset is not None and sr.value is not None
    a, b = split_null_vector(n, sr.subset, k)
    tau = sr.tolerance or None  # tau = 0 for a zero matrix: use the default scale
    rerun = rerun_twins(Ax, k, a, b, tol=tau, behaviour=behaviour)
    half = (len(sr.subset) + 1) // 2
    details.update(
        unique=False,
        supports={"S1": list(sr.subset[:half]), "S2": list(sr.subset[half:])},
        nonzeros=[int(np.count_nonzero(rerun.a)), int(np.count_nonzero(rerun.a_prime))],
        behaviour_residual_model=rerun.behaviour_residual,
        behaviour_tolerance_model=rerun.behaviour_tolerance,
    )
    if sr.exact:
        details["exact_twin"] = {"a": [str(x) for x in a], "a_prime": [str(x) for x in b]}
    witness = {"a": rerun.a, "a_prime": rerun.a_prime, "null_vector": sr.null_vector}
    margin = min_margin(2 * k / sr.value, rerun.margin)
    fields: dict[str, Any] = dict(
        margin=margin,
        witness=witness,
        residual=rerun.residual,
        residual_tolerance=rerun.tolerance,
        details=details,
        **common,
    )
    if not rerun.verified:
        return Certificate(
            verdict=Verdict.UNDECIDED, reason="the sparse twin did not pass its re-run", **fields
        )
    return Certificate(verdict=Verdict.VIOLATED, **fields)


def sparse_twins(
    A: Any,
    k: Any,
    tol: float | None = None,
    max_subsets: int = MAX_SUBSETS,
    exact: bool | None = None,
):
    """T7(b): two distinct k-sparse codes ``(a, a')`` with ``A a == A a'`` (float64 arrays; tuples
    of sympy Rationals in exact mode). Raises ``NoSparseTwinError`` iff spark(A) > 2k (or A has
    full column rank), and ``ValueError`` if the spark is undecided at ``tol``."""
    Ax, exact = coerce_matrix("A", A, exact, tol)
    k = as_sparsity("k", k, n_columns(Ax))
    max_subsets = as_count("max_subsets", max_subsets)
    sr = spark(Ax, tol=tol, max_size=2 * k, max_subsets=max_subsets)
    if sr.full_column_rank or sr.lower > 2 * k:
        raise NoSparseTwinError(
            f"spark(A) > 2k = {2 * k}: every k-sparse code is the unique k-sparse code with its "
            "behaviour"
        )
    if not sr.decided:
        raise InputError(
            f"spark(A) is undecided at tol={sr.tolerance:.3g}: subset {sr.ambiguous_subset} "
            "is in the grey band"
        )
    n = sr.exact_null_vector if exact else sr.null_vector
    assert n is not None and sr.subset is not None  # decided and below 2k + 1: both are set
    return split_null_vector(n, sr.subset, k)


def check_t7(
    L: Any,
    Phi: Any,
    k: Any,
    behaviour: Behaviour | None = None,
    tol: float | None = None,
    max_subsets: int = MAX_SUBSETS,
) -> Certificate:
    """T7 for steering vectors ``v = Phi a`` (Phi: d x p dictionary) read by L (m x d): the
    certificate of ``unique_recovery_certificate(L Phi, k)``, whose twin re-run goes through
    ``behaviour`` (a callable on steering vectors, default ``v -> L v``) applied to ``Phi a``;
    the witness adds the steering vectors ``v = Phi a`` and ``v' = Phi a'``, and ``d`` is d."""
    Lf = as_matrix("L", L)
    Pf = as_matrix("Phi", Phi)
    if Pf.shape[0] != Lf.shape[1]:
        raise InputError(
            f"Phi must have {Lf.shape[1]} rows (the number of columns of L), got {Pf.shape[0]}"
        )
    behaviour = as_behaviour("behaviour", behaviour)
    run = behaviour if behaviour is not None else (lambda v: Lf @ v)
    with np.errstate(over="ignore", invalid="ignore"):
        A = Lf @ Pf
    if not np.all(np.isfinite(A)):
        raise InputError(
            "the product L Phi overflows float64 (L and Phi are finite, L Phi is not): rescale "
            "L or Phi"
        )
    A = as_matrix("L Phi", A)  # a product of valid inputs may still leave [1e-150, 1e150]
    cert = unique_recovery_certificate(
        A, k, behaviour=lambda a: run(Pf @ a), tol=tol, max_subsets=max_subsets
    )
    cert = cert.replace(d=Pf.shape[0])
    if "a" not in cert.witness:
        return cert
    witness = dict(cert.witness)
    witness.update(v=Pf @ witness["a"], v_prime=Pf @ witness["a_prime"])
    return cert.replace(witness=witness)
