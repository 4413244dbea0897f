"""What the exact and the float spark searches share: input coercion, the result type and the
budget of the enumeration (at most ``sum_{s <= top} C(p, s)`` column subsets, refused before any
work when that exceeds ``max_subsets``).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import sympy

from theory.validation import InputError

from .validation import as_bool, as_count, as_int, as_matrix

#: Largest number of column subsets an exact or float spark may have to examine (worst case,
#: ``sum_{s=1}^{rank A} C(p, s)``), compared with that count before the enumeration starts. About a
#: second of work on one core for 8 x 16 float matrices; raise it per call with ``max_subsets=``.
MAX_SUBSETS = 1 << 17

_CHUNK = 16_384

Behaviour = Callable[[np.ndarray], Any]


class SparkLimitError(ValueError):
    """The exhaustive enumeration would examine more column subsets than allowed."""


# --------------------------------------------------------------------------------------------
# Input handling


def is_exact(A: Any) -> bool:
    """True for sympy matrices (exact rational mode)."""
    return isinstance(A, sympy.MatrixBase)


def as_exact_matrix(name: str, x: Any) -> sympy.Matrix:
    """A non-empty sympy Matrix of rational entries, or ValueError naming ``name``."""
    m = sympy.Matrix(x)
    if m.rows == 0 or m.cols == 0:
        raise InputError(f"{name} must not be empty, got shape {m.shape}")
    for entry in m:
        if not entry.is_Rational:
            raise InputError(
                f"{name} must have rational entries for exact mode, got {entry!r}; "
                "convert with sympy.nsimplify or pass a float array"
            )
    return m


def coerce_matrix(name: str, A: Any, exact: bool | None = None, tol: Any = None):
    """(matrix, exact): a sympy rational Matrix for exact mode, else a finite float64 array.

    exact=None: exact iff A is a sympy Matrix or an integer-dtype array; exact=True also converts
    a float array entrywise to the rationals it represents exactly (binary fractions); exact=False
    converts a sympy Matrix to float64. ``tol`` applies to float mode only.
    """
    if exact is not None:
        exact = as_bool("exact", exact)
    if exact is None:
        exact = is_exact(A) or (isinstance(A, np.ndarray) and A.dtype.kind in "iu")
    if exact:
        if tol is not None:
            raise InputError("tol applies to float input only; exact input needs no tolerance")
        if is_exact(A):
            return as_exact_matrix(name, A), True
        Af = as_matrix(name, A)  # validates shape, dtype and finiteness first
        raw = np.asarray(A)
        ints = raw.dtype.kind in "iu"
        conv = (lambda x: sympy.Integer(int(x))) if ints else (lambda x: sympy.Rational(float(x)))
        return sympy.Matrix(Af.shape[0], Af.shape[1], lambda i, j: conv(raw[i, j])), True
    if is_exact(A):
        Q = as_exact_matrix(name, A)
        try:  # p / q of Python integers rounds once, to nearest (evalf(17) rounds twice)
            A = np.array([[int(x.p) / int(x.q) for x in Q.row(i)] for i in range(Q.rows)])
        except OverflowError:
            raise InputError(f"{name} has an entry beyond the float64 range") from None
    return as_matrix(name, A), False


def n_columns(A: Any) -> int:
    """p, the number of columns of a coerced matrix (sympy or numpy)."""
    return int(A.cols) if is_exact(A) else int(A.shape[1])


def as_sparsity(name: str, k: Any, p: int) -> int:
    """An int k with 1 <= k <= p (p = number of columns of A)."""
    return as_int(name, k, low=1, high=p)


def as_behaviour(name: str, behaviour: Any) -> Behaviour | None:
    """None, or a callable (code or steering vector -> behaviour)."""
    if behaviour is not None and not callable(behaviour):
        raise InputError(
            f"{name} must be a callable -> behaviour or None, got {type(behaviour).__name__}"
        )
    return behaviour


# --------------------------------------------------------------------------------------------
# Result


@dataclasses.dataclass(frozen=True)
class SparkResult:
    """Outcome of a spark computation.

    value            : spark(A) when decided (``p + 1`` for full column rank), else None.
    lower, upper     : certified bounds ``lower <= spark <= upper`` (equal when decided).
    subset           : a minimal dependent column subset (a circuit) of size ``value``; None when
                       A has full column rank or the spark is not decided.
    null_vector      : (p,) float64 null vector of A supported exactly on ``subset`` (float mode:
                       unit 2-norm; exact mode: the primitive integer vector of
                       ``exact_null_vector``); None when there is none.
    exact_null_vector: exact mode only: the rational null vector, as a tuple of sympy Rationals.
    exact            : decided in rational arithmetic.
    tolerance        : float mode: the zero threshold tau for the column-normalised subsets.
    margin           : float mode: min over the rank decisions the result rests on of
                       ``sigma_min / sqrt(tau * sigma_1)`` (>= 1 when they are certified); inf
                       when none was needed; None in exact mode (a proof).
    residual         : float mode: ``sigma_min`` of the column-normalised circuit (<= tau).
    ambiguous_subset : float mode, undecided: the first subset whose rank fell in the grey band.
    subsets_checked  : number of column subsets examined (0 when the rank of A alone decides full
                       column rank, in exact and float mode).
    truncated_at     : the search stopped after subsets of this size (``max_size``), spark > it.
    """

    p: int
    value: int | None
    lower: int
    upper: int
    subset: tuple[int, ...] | None
    null_vector: np.ndarray | None
    exact_null_vector: tuple | None
    exact: bool
    tolerance: float | None
    margin: float | None
    residual: float | None
    ambiguous_subset: tuple[int, ...] | None
    ambiguous_singular_values: tuple[float, ...] | None
    subsets_checked: int
    truncated_at: int | None = None

    @property
    def decided(self) -> bool:
        return self.value is not None

    @property
    def full_column_rank(self) -> bool:
        return self.value == self.p + 1

    def summary(self) -> dict[str, Any]:
        """JSON-safe evidence for people (a certificate's ``details``)."""
        listed = lambda x: None if x is None else list(x)
        return {
            "spark": self.value,
            "spark_lower_bound": self.lower,
            "spark_upper_bound": self.upper,
            "circuit": listed(self.subset),
            "exact": self.exact,
            "tolerance": self.tolerance,
            "independence_margin": self.margin,
            "circuit_residual": self.residual,
            "ambiguous_subset": listed(self.ambiguous_subset),
            "ambiguous_singular_values": listed(self.ambiguous_singular_values),
            "subsets_checked": self.subsets_checked,
            "truncated_at": self.truncated_at,
            "exact_null_vector": None
            if self.exact_null_vector is None
            else [str(x) for x in self.exact_null_vector],
        }


# --------------------------------------------------------------------------------------------
# Enumeration budget


def subsets_to_examine(p: int, top: int) -> int:
    """Worst-case number of column subsets examined when sizes 1..top are enumerated:
    ``sum_{s=1}^{top} C(p, s)``, with top = min(rank A, max_size). (A certified full column rank
    needs none: it is read off one rank computation.)"""
    p, top = as_count("p", p), as_count("top", top)
    return sum(math.comb(p, s) for s in range(1, top + 1))


def combinations(p: int, s: int) -> Iterator[np.ndarray]:
    """The s-subsets of range(p) in lexicographic order, as (n, s) index arrays of <= 16384 rows."""
    it = itertools.combinations(range(p), s)
    while True:
        chunk = list(itertools.islice(it, _CHUNK))
        if not chunk:
            return
        yield np.asarray(chunk, dtype=np.intp)


def check_budget(p: int, rank: int, top: int, max_subsets: int) -> None:
    """Raise ``SparkLimitError`` when sizes 1..top of p columns exceed ``max_subsets`` subsets."""
    need = subsets_to_examine(p, top)
    if need > max_subsets:
        raise SparkLimitError(
            f"A is too large for the exhaustive spark search: with p = {p} columns and rank "
            f"{rank}, up to {need} column subsets must be examined, more than max_subsets = "
            f"{max_subsets}; pass a smaller A, a larger max_subsets, or max_size= to bound the "
            "search"
        )
