"""Spark and the uniqueness of sparse codes (THEORY.md T7(a), T7(b)).

``spark(A)`` is the smallest number of linearly dependent columns of A (p + 1 by convention when A
has full column rank: no subset is dependent). T7: with behaviour ``A a`` (``A = L Phi``), every
k-sparse code is the unique k-sparse code with its behaviour iff ``spark(A) > 2k``; otherwise a null
vector n with at most 2k nonzeros splits into two distinct k-sparse codes ``a = n_S1``,
``a' = -n_S2`` with ``A a = A a'``.

Computing the spark is NP-hard in general; here it is exact by enumeration of column subsets in
increasing size, so it is for small matrices only (see ``MAX_SUBSETS``). Two arithmetics:

- exact (sympy ``Matrix`` with rational entries, integer arrays, or ``exact=True``): every subset is screened by a fraction-free rank
  modulo the prime ``2**31 - 1`` (batched in numpy; rank mod q equal to the subset size proves the
  columns independent over Q, because some maximal minor is then nonzero mod q, hence nonzero);
  a subset that looks dependent mod q is confirmed (or refuted) in exact rational arithmetic
  (sympy ``DomainMatrix``). The verdict is a proof for that instance.
- float64 (float arrays, or ``exact=False``): columns are scaled to unit norm (the spark does not change under column
  scaling) and each subset gets the certified rank rule of ``theory.rank`` with one tolerance for
  all subsets (default ``max(m, p) * eps * sigma_1`` of the scaled A): singular values <= tau are
  zero; a subset is *dependent* when fewer than |T| values exceed tau, *independent* when all |T|
  exceed tau and none lies in the grey band ``(tau, sqrt(tau * sigma_1(A_T)))``, *undecided*
  otherwise. One undecided subset below the first dependent size makes the spark undecided: it is
  never guessed.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import scipy.linalg
import sympy
from sympy.polys.matrices import DomainMatrix

from .certificate import Certificate, Verdict
from .rank import decide_rank_from_singular_values
from .residual import behaviour_residual
from .validation import as_matrix, as_tolerance

#: Largest number of column subsets an exact or float spark may have to examine (worst case,
#: ``sum_{s=1}^{rank A} C(p, s)``), checked before the enumeration starts. About a second of work
#: on one core for 8 x 16 float matrices; raise it per call with ``max_subsets=``.
MAX_SUBSETS = 1 << 17

_PRIME = 2_147_483_647  # 2**31 - 1: products of two residues fit in int64
_CHUNK = 16_384
TINY = float(np.finfo(np.float64).tiny)

Behaviour = Callable[[np.ndarray], Any]


class SparkLimitError(ValueError):
    """The exact enumeration would examine more column subsets than allowed."""


class NoSparseTwinError(ValueError):
    """spark(A) > 2k: no two distinct k-sparse codes have the same behaviour (T7(a))."""


# --------------------------------------------------------------------------------------------
# Input handling


def is_exact(A: Any) -> bool:
    """True for sympy matrices (exact rational mode)."""
    return isinstance(A, sympy.MatrixBase)


def as_exact_matrix(name: str, x: Any) -> sympy.Matrix:
    """A non-empty sympy Matrix of rational entries, or ValueError naming ``name``."""
    m = sympy.Matrix(x)
    if m.rows == 0 or m.cols == 0:
        raise ValueError(f"{name} must not be empty, got shape {m.shape}")
    for entry in m:
        if not entry.is_Rational:
            raise ValueError(
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
    if exact not in (None, True, False):
        raise ValueError(f"exact must be None, True or False, got {exact!r}")
    if exact is None:
        exact = is_exact(A) or (isinstance(A, np.ndarray) and A.dtype.kind in "iu")
    if exact:
        if tol is not None:
            raise ValueError("tol applies to float input only; exact input needs no tolerance")
        if is_exact(A):
            return as_exact_matrix(name, A), True
        Af = as_matrix(name, A)  # validates shape, dtype and finiteness first
        ints = np.asarray(A).dtype.kind in "iu"
        conv = (lambda x: sympy.Integer(int(x))) if ints else (lambda x: sympy.Rational(float(x)))
        return sympy.Matrix(Af.shape[0], Af.shape[1], lambda i, j: conv(np.asarray(A)[i, j])), True
    if is_exact(A):
        as_exact_matrix(name, A)
        A = np.array(A.evalf(17), dtype=np.float64) if A.rows and A.cols else np.zeros(A.shape)
    return as_matrix(name, A), False


def as_sparsity(name: str, k: Any, p: int) -> int:
    """An int k with 1 <= k <= p (p = number of columns of A)."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"{name} must be an int in [1, p] = [1, {p}], got {k!r}")
    if not 1 <= int(k) <= p:
        raise ValueError(
            f"{name} must be in [1, p] = [1, {p}] (p = number of columns of A), got {k}"
        )
    return int(k)


def _as_count(name: str, x: Any, low: int = 1) -> int:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)) or int(x) < low:
        raise ValueError(f"{name} must be an int >= {low}, got {x!r}")
    return int(x)


def _as_behaviour(behaviour: Any) -> Behaviour | None:
    if behaviour is not None and not callable(behaviour):
        raise ValueError(
            f"behaviour must be a callable code -> behaviour or None, got {type(behaviour).__name__}"
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
    margin           : float mode: min over the subsets certified independent of
                       ``sigma_min / sqrt(tau * sigma_1)`` (>= 1); inf when none was needed.
    residual         : float mode: ``sigma_min`` of the column-normalised circuit (<= tau).
    ambiguous_subset : float mode, undecided: the first subset whose rank fell in the grey band.
    subsets_checked  : number of column subsets examined.
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
        return {
            "spark": self.value,
            "spark_lower_bound": self.lower,
            "spark_upper_bound": self.upper,
            "circuit": None if self.subset is None else list(self.subset),
            "exact": self.exact,
            "tolerance": self.tolerance,
            "independence_margin": self.margin,
            "circuit_residual": self.residual,
            "ambiguous_subset": None
            if self.ambiguous_subset is None
            else list(self.ambiguous_subset),
            "ambiguous_singular_values": None
            if self.ambiguous_singular_values is None
            else list(self.ambiguous_singular_values),
            "subsets_checked": self.subsets_checked,
            "truncated_at": self.truncated_at,
            "exact_null_vector": None
            if self.exact_null_vector is None
            else [str(x) for x in self.exact_null_vector],
        }


def subsets_to_examine(p: int, top: int) -> int:
    """Worst-case number of column subsets examined when sizes 1..top are enumerated:
    ``sum_{s=1}^{top} C(p, s)``, with top = min(rank A, max_size). (A certified full column rank
    needs none: it is read off one rank computation.)"""
    return sum(math.comb(p, s) for s in range(1, top + 1))


def _combinations(p: int, s: int) -> Iterator[np.ndarray]:
    it = itertools.combinations(range(p), s)
    while True:
        chunk = list(itertools.islice(it, _CHUNK))
        if not chunk:
            return
        yield np.asarray(chunk, dtype=np.intp)


def _check_budget(p: int, rank: int, top: int, max_subsets: int) -> None:
    need = subsets_to_examine(p, top)
    if need > max_subsets:
        raise SparkLimitError(
            f"A is too large for the exhaustive spark search: with p = {p} columns and rank {rank}, up to {need} column "
            f"subsets must be examined, more than max_subsets = {max_subsets}; pass a smaller A, "
            f"a larger max_subsets, or max_size= to bound the search"
        )


# --------------------------------------------------------------------------------------------
# Exact arithmetic


def _column_integer_matrix(A: sympy.Matrix) -> list[list[int]]:
    """Scale each column by the lcm of its denominators: integer columns, same spark."""
    cols = []
    for j in range(A.cols):
        col = [sympy.Rational(x) for x in A[:, j]]
        lcm = math.lcm(*[int(x.q) for x in col])
        cols.append([int(x.p) * (lcm // int(x.q)) for x in col])
    return [[cols[j][i] for j in range(A.cols)] for i in range(A.rows)]


def _modinv(a: np.ndarray) -> np.ndarray:
    """a^(q-2) mod q elementwise (Fermat), for residues 0 < a < q."""
    result = np.ones_like(a)
    base = a % _PRIME
    e = _PRIME - 2
    while e:
        if e & 1:
            result = result * base % _PRIME
        base = base * base % _PRIME
        e >>= 1
    return result


def full_column_rank_mod_prime(X: np.ndarray) -> np.ndarray:
    """For a batch X (n, m, s) of int64 residues mod q = 2**31 - 1: True where rank mod q == s.

    Gaussian elimination over GF(q), vectorised over the batch (hand-written: neither numpy nor
    scipy ranks over a finite field). rank mod q <= rank over Q, so True proves independence.
    """
    X = X.copy()
    n, m, s = X.shape
    used = np.zeros((n, m), dtype=bool)
    full = np.ones(n, dtype=bool)
    batch = np.arange(n)
    for j in range(s):
        cand = (X[:, :, j] != 0) & ~used
        has = cand.any(axis=1)
        full &= has
        if not has.any():
            continue
        idx = batch[has]
        piv = np.argmax(cand[has], axis=1)
        prow = X[idx, piv, :] * _modinv(X[idx, piv, j])[:, None] % _PRIME
        factors = X[idx, :, j]
        X[idx] = (X[idx] - factors[:, :, None] * prow[:, None, :] % _PRIME) % _PRIME
        X[idx, piv, :] = prow
        used[idx, piv] = True
    return full


def _exact_rank(M: list[list[int]], cols: tuple[int, ...] | None = None) -> int:
    rows = [[row[j] for j in cols] for row in M] if cols is not None else M
    return DomainMatrix(
        [[sympy.ZZ(x) for x in row] for row in rows], (len(rows), len(rows[0])), sympy.ZZ
    ).rank()


def _exact_null_vector(A: sympy.Matrix, cols: tuple[int, ...]) -> tuple:
    sub = A.extract(list(range(A.rows)), list(cols))
    basis = sub.nullspace()
    v = basis[0]
    den = math.lcm(*[int(sympy.Rational(x).q) for x in v])
    v = v * den
    g = math.gcd(*[int(x) for x in v])
    v = v / g
    full = [sympy.Integer(0)] * A.cols
    for j, x in zip(cols, v):
        full[j] = sympy.Rational(x)
    return tuple(full)


def _spark_exact(A: sympy.Matrix, max_size: int | None, max_subsets: int) -> SparkResult:
    m, p = A.shape
    M = _column_integer_matrix(A)
    rank = _exact_rank(M)
    common = dict(
        p=p,
        exact=True,
        tolerance=None,
        margin=None,
        residual=None,
        ambiguous_subset=None,
        ambiguous_singular_values=None,
    )
    if rank == p:
        return SparkResult(
            value=p + 1,
            lower=p + 1,
            upper=p + 1,
            subset=None,
            null_vector=None,
            exact_null_vector=None,
            subsets_checked=0,
            **common,
        )
    top = rank if max_size is None else min(rank, max_size)
    _check_budget(p, rank, top, max_subsets)
    residues = np.array([[x % _PRIME for x in row] for row in M], dtype=np.int64)
    checked = 0
    for s in range(1, top + 1):
        for chunk in _combinations(p, s):
            checked += len(chunk)
            full = full_column_rank_mod_prime(residues[:, chunk].transpose(1, 0, 2))
            for row in np.flatnonzero(~full):
                cols = tuple(int(c) for c in chunk[row])
                if _exact_rank(M, cols) < s:
                    return _exact_circuit(A, cols, checked, common)
    if max_size is not None and top < rank:
        return SparkResult(
            value=None,
            lower=top + 1,
            upper=rank + 1,
            subset=None,
            null_vector=None,
            exact_null_vector=None,
            subsets_checked=checked,
            truncated_at=top,
            **common,
        )
    # every subset of size <= rank is independent: any rank + 1 columns form a circuit
    return _exact_circuit(A, tuple(range(rank + 1)), checked, common)


def _exact_circuit(
    A: sympy.Matrix, cols: tuple[int, ...], checked: int, common: dict
) -> SparkResult:
    n = _exact_null_vector(A, cols)
    s = len(cols)
    return SparkResult(
        value=s,
        lower=s,
        upper=s,
        subset=cols,
        null_vector=np.array([float(x) for x in n]),
        exact_null_vector=n,
        subsets_checked=checked,
        **common,
    )


# --------------------------------------------------------------------------------------------
# Float arithmetic


def _batch_status(sv: np.ndarray, s: int, tau: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """theory.rank's rule, vectorised over subsets: (dependent, undecided, margin) per subset.

    rank = #{sigma > tau}; dependent iff rank < s; undecided iff rank == s and some retained value
    lies below sqrt(tau * sigma_1); margin = sigma_min / sqrt(tau * sigma_1).
    """
    kept = sv > tau
    rank = kept.sum(axis=1)
    band_top = np.sqrt(tau * sv[:, 0])
    ambiguous = (kept & (sv < band_top[:, None])).any(axis=1)
    dependent = rank < s
    undecided = ~dependent & ambiguous
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = np.where(band_top > 0, sv[:, -1] / band_top, np.inf)
    return dependent, undecided, margin


def _normalised_columns(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norms = np.linalg.norm(A, axis=0)
    safe = np.where(norms > 0, norms, 1.0)
    return A / safe, norms


def _float_circuit(
    An: np.ndarray, norms: np.ndarray, cols: tuple[int, ...]
) -> tuple[np.ndarray, float]:
    """Unit null vector (in the original column scale, |n|_2 = 1) of the circuit, and sigma_min."""
    _, s, vt = scipy.linalg.svd(An[:, list(cols)], full_matrices=True)
    z = vt[-1] / norms[list(cols)]
    z = z / np.linalg.norm(z)
    z = z * np.sign(z[np.argmax(np.abs(z))])
    n = np.zeros(An.shape[1])
    n[list(cols)] = z
    smin = float(s[-1]) if len(s) == len(cols) else 0.0
    return n, smin


def _spark_float(
    A: np.ndarray, tol: float | None, max_size: int | None, max_subsets: int
) -> SparkResult:
    m, p = A.shape
    An, norms = _normalised_columns(A)
    full = decide_rank_from_singular_values(scipy.linalg.svdvals(An), An.shape, tol)
    tau = full.tolerance
    common = dict(p=p, exact=False, exact_null_vector=None, tolerance=tau)
    zero = np.flatnonzero(norms == 0.0)
    if zero.size:  # an exactly zero column: spark 1
        n = np.zeros(p)
        n[zero[0]] = 1.0
        return SparkResult(
            value=1,
            lower=1,
            upper=1,
            subset=(int(zero[0]),),
            null_vector=n,
            margin=math.inf,
            residual=0.0,
            ambiguous_subset=None,
            ambiguous_singular_values=None,
            subsets_checked=p,
            **common,
        )
    if full.rank == p and full.certified:
        return SparkResult(
            value=p + 1,
            lower=p + 1,
            upper=p + 1,
            subset=None,
            null_vector=None,
            margin=full.margin,
            residual=None,
            ambiguous_subset=None,
            ambiguous_singular_values=None,
            subsets_checked=0,
            **common,
        )
    r_hi = full.rank  # any r_hi + 1 columns have sigma_{r_hi+1} <= tau (interlacing): dependent
    upper = r_hi + 1 if r_hi < p else p + 1
    top = r_hi if max_size is None else min(r_hi, max_size)
    _check_budget(p, r_hi, top, max_subsets)
    checked, margin = 0, math.inf
    for s in range(1, top + 1):
        first_dep, first_und, und_sv = None, None, None
        for chunk in _combinations(p, s):
            checked += len(chunk)
            sv = np.linalg.svd(An[:, chunk].transpose(1, 0, 2), compute_uv=False)
            dep, und, mar = _batch_status(sv, s, tau)
            if dep.any():
                first_dep = tuple(int(c) for c in chunk[np.argmax(dep)])
                break
            if und.any() and first_und is None:
                i = int(np.argmax(und))
                first_und = tuple(int(c) for c in chunk[i])
                row = sv[i]
                und_sv = tuple(float(x) for x in row[(row > tau) & (row < math.sqrt(tau * row[0]))])
            ok = ~und
            if ok.any():
                margin = min(margin, float(mar[ok].min()))
        if first_dep is not None:
            n, smin = _float_circuit(An, norms, first_dep)
            return SparkResult(
                value=s,
                lower=s,
                upper=s,
                subset=first_dep,
                null_vector=n,
                margin=margin,
                residual=smin,
                ambiguous_subset=None,
                ambiguous_singular_values=None,
                subsets_checked=checked,
                **common,
            )
        if first_und is not None:
            return SparkResult(
                value=None,
                lower=s,
                upper=upper,
                subset=None,
                null_vector=None,
                margin=margin,
                residual=None,
                ambiguous_subset=first_und,
                ambiguous_singular_values=und_sv,
                subsets_checked=checked,
                **common,
            )
    if top < r_hi:  # truncated by max_size
        return SparkResult(
            value=None,
            lower=top + 1,
            upper=upper,
            subset=None,
            null_vector=None,
            margin=margin,
            residual=None,
            ambiguous_subset=None,
            ambiguous_singular_values=None,
            subsets_checked=checked,
            truncated_at=top,
            **common,
        )
    if r_hi == p:  # full rank counted but the full matrix itself was in the grey band
        return SparkResult(
            value=None,
            lower=p,
            upper=p + 1,
            subset=None,
            null_vector=None,
            margin=margin,
            residual=None,
            ambiguous_subset=tuple(range(p)),
            ambiguous_singular_values=tuple(float(x) for x in full.ambiguous),
            subsets_checked=checked,
            **common,
        )
    cols = tuple(range(r_hi + 1))
    n, smin = _float_circuit(An, norms, cols)
    return SparkResult(
        value=r_hi + 1,
        lower=r_hi + 1,
        upper=r_hi + 1,
        subset=cols,
        null_vector=n,
        margin=margin,
        residual=smin,
        ambiguous_subset=None,
        ambiguous_singular_values=None,
        subsets_checked=checked,
        **common,
    )


# --------------------------------------------------------------------------------------------
# Public API


def spark(
    A: Any,
    tol: float | None = None,
    max_size: int | None = None,
    max_subsets: int = MAX_SUBSETS,
    exact: bool | None = None,
) -> SparkResult:
    """spark(A) = min |T| over linearly dependent column subsets T (p + 1 if there is none).

    A: (m, p) float array (certified float64 decisions, see module docstring), or sympy Matrix with
    rational entries / integer array (exact; see ``coerce_matrix`` for ``exact``). ``max_size``:
    examine subsets of at most this size only (the result then certifies ``spark > max_size`` or
    gives the spark). Raises ``SparkLimitError`` (a ValueError) when more than ``max_subsets``
    subsets might have to be examined (``MAX_SUBSETS`` by default).
    """
    max_subsets = _as_count("max_subsets", max_subsets)
    if max_size is not None:
        max_size = _as_count("max_size", max_size)
    Ax, ex = coerce_matrix("A", A, exact, tol)
    if ex:
        return _spark_exact(Ax, max_size, max_subsets)
    return _spark_float(Ax, as_tolerance("tol", tol), max_size, max_subsets)


def split_null_vector(n: np.ndarray | tuple, subset: tuple[int, ...], k: int):
    """T7(b): split the support T (|T| <= 2k) of a null vector n into S1 (first ceil(|T|/2)
    indices) and S2 (the rest), both of size <= k; return ``(a, a') = (n_S1, -n_S2)``.

    Works for float arrays and for tuples of sympy Rationals (exact).
    """
    t = len(subset)
    if t > 2 * k:
        raise ValueError(
            f"the null vector has {t} nonzeros, more than 2k = {2 * k}: it does not split into two k-sparse codes"
        )
    half = (t + 1) // 2
    s1, s2 = set(subset[:half]), set(subset[half:])
    zero = sympy.Integer(0) if isinstance(n, tuple) else 0.0
    a = [n[j] if j in s1 else zero for j in range(len(n))]
    b = [-n[j] if j in s2 else zero for j in range(len(n))]
    if isinstance(n, tuple):
        return tuple(a), tuple(b)
    return np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)


T7_CLAIM = (
    "every k-sparse code is the unique k-sparse code with its behaviour A a  <=>  spark(A) > 2k"
)


def _spark_for(A: Any, k: int, tol: float | None, max_subsets: int) -> SparkResult:
    """Full spark when the budget allows (for the margin), else the search up to 2k (enough for T7)."""
    try:
        return spark(A, tol=tol, max_subsets=max_subsets)
    except SparkLimitError:
        return spark(A, tol=tol, max_size=2 * k, max_subsets=max_subsets)


def unique_recovery_certificate(
    A: Any,
    k: Any,
    behaviour: Behaviour | None = None,
    tol: float | None = None,
    max_subsets: int = MAX_SUBSETS,
    exact: bool | None = None,
) -> Certificate:
    """T7(a)/(b) on A (m x p).

    *holds* iff spark(A) > 2k (every k-sparse code is the unique k-sparse code with its behaviour),
    margin ``spark - 2k``; infinite when A has full column rank (A is injective whatever k, even
    though the convention spark = p + 1 is <= 2k when 2k > p).
    *violated* iff spark(A) <= 2k, with the sparse twin pair ``a = n_S1``, ``a' = -n_S2`` as the
    witness, re-verified by computing ``A a`` and ``A a'`` (exactly in exact mode) and, when
    ``behaviour`` (a callable on codes) is given, by running it on both.
    *undecided* when a float rank decision is in the grey band (or the twin does not re-verify).
    """
    Ax, exact = coerce_matrix("A", A, exact, tol)
    p = Ax.cols if exact else Ax.shape[1]
    k = as_sparsity("k", k, p)
    behaviour = _as_behaviour(behaviour)
    max_subsets = _as_count("max_subsets", max_subsets)
    tol = None if exact else as_tolerance("tol", tol)
    sr = _spark_for(Ax, k, tol, max_subsets)
    common = dict(theorem="T7", claim=T7_CLAIM, tolerance=sr.tolerance)
    details = {"k": k, "p": p, "exact": exact, **sr.summary()}
    if sr.full_column_rank:
        # A injective: every code is unique. (The convention spark = p + 1 must act as infinity here:
        # for 2k > p it would read spark <= 2k although no two codes share a behaviour.)
        return Certificate(
            verdict=Verdict.HOLDS,
            margin=math.inf,
            details={**details, "unique": True, "injective": True},
            **common,
        )
    if sr.lower > 2 * k:
        margin = (sr.value if sr.decided else sr.lower) - 2 * k
        return Certificate(
            verdict=Verdict.HOLDS,
            margin=margin,
            witness={} if sr.null_vector is None else {"circuit_null_vector": sr.null_vector},
            details={**details, "unique": True},
            **common,
        )
    if not sr.decided:
        return Certificate(
            verdict=Verdict.UNDECIDED,
            margin=sr.lower - 2 * k,
            details={**details, "reason": "a column subset's rank is in the grey band"},
            **common,
        )
    return _twin_certificate(Ax, k, sr, behaviour, details, common)


def _twin_certificate(
    Ax, k: int, sr: SparkResult, behaviour, details: dict, common: dict
) -> Certificate:
    subset = sr.subset
    half = (len(subset) + 1) // 2
    supports = {"S1": list(subset[:half]), "S2": list(subset[half:])}
    if sr.exact:
        ea, eb = split_null_vector(sr.exact_null_vector, subset, k)
        diff = Ax * sympy.Matrix(ea) - Ax * sympy.Matrix(eb)
        exact_equal = bool(diff.is_zero_matrix)
        a = np.array([float(x) for x in ea])
        b = np.array([float(x) for x in eb])
        residual = 0.0 if exact_equal else math.inf
        threshold = 0.0
        details["exact_twin"] = {
            "a": [str(x) for x in ea],
            "a_prime": [str(x) for x in eb],
            "A_a_minus_A_a_prime": [str(x) for x in diff],
        }
    else:
        a, b = split_null_vector(sr.null_vector, subset, k)
        ya = Ax @ a
        ya_norm = max(float(np.linalg.norm(ya)), TINY)
        residual = float(np.linalg.norm(ya - Ax @ b)) / ya_norm
        # A n = A_hat (D n) with A_hat = A D^-1 (unit columns) and |A_hat u| <= tau |u| on the
        # circuit: accept the twin within ten times that bound, relative to |A a|.
        rho = float(np.linalg.norm(np.linalg.norm(Ax, axis=0) * sr.null_vector))
        threshold = max(1e-10, 10 * sr.tolerance * rho / ya_norm)
    beh_residual = None
    if behaviour is not None:
        zero = np.zeros_like(a)
        beh_residual = behaviour_residual(behaviour(b), behaviour(a), behaviour(zero))
    distinct = bool(np.any(a != b))
    sparse_ok = int(np.count_nonzero(a)) <= k and int(np.count_nonzero(b)) <= k
    verified = (
        distinct
        and sparse_ok
        and residual <= threshold
        and (beh_residual is None or beh_residual <= max(threshold, 1e-9))
    )
    details.update(
        {
            "unique": False,
            "supports": supports,
            "behaviour_residual_A": residual,
            "behaviour_residual_model": beh_residual,
            "twin_threshold": threshold,
            "twin_verified": verified,
            "nonzeros": [int(np.count_nonzero(a)), int(np.count_nonzero(b))],
        }
    )
    witness = {"a": a, "a_prime": b, "null_vector": sr.null_vector}
    if not verified:
        details["reason"] = "the sparse twin did not re-verify"
        return Certificate(
            verdict=Verdict.UNDECIDED,
            margin=sr.value - 2 * k,
            witness=witness,
            details=details,
            **common,
        )
    return Certificate(
        verdict=Verdict.VIOLATED,
        margin=sr.value - 2 * k,
        witness=witness,
        details=details,
        **common,
    )


def sparse_twins(
    A: Any,
    k: Any,
    tol: float | None = None,
    max_subsets: int = MAX_SUBSETS,
    exact: bool | None = None,
):
    """T7(b): two distinct k-sparse codes ``(a, a')`` with ``A a == A a'`` (float64 arrays; tuples of
    sympy Rationals in exact mode). Raises ``NoSparseTwinError`` iff spark(A) > 2k (or A has full
    column rank), and ``ValueError`` if the spark is undecided at ``tol``."""
    Ax, exact = coerce_matrix("A", A, exact, tol)
    p = Ax.cols if exact else Ax.shape[1]
    k = as_sparsity("k", k, p)
    sr = spark(Ax, tol=tol, max_size=2 * k, max_subsets=max_subsets)
    if sr.full_column_rank or sr.lower > 2 * k:
        raise NoSparseTwinError(
            f"spark(A) > 2k = {2 * k}: every k-sparse code is the unique k-sparse code with its behaviour"
        )
    if not sr.decided:
        raise ValueError(
            f"spark(A) is undecided at tol={sr.tolerance:.3g}: subset {sr.ambiguous_subset} is in the grey band"
        )
    return split_null_vector(sr.exact_null_vector if exact else sr.null_vector, sr.subset, k)


def check_t7(
    L: Any,
    Phi: Any,
    k: Any,
    behaviour: Behaviour | None = None,
    tol: float | None = None,
    max_subsets: int = MAX_SUBSETS,
) -> Certificate:
    """T7 for steering vectors ``v = Phi a`` (Phi: d x p dictionary) read by L (m x d): the
    certificate of ``unique_recovery_certificate(L Phi, k)``, with the twin re-run through
    ``behaviour`` (a callable on steering vectors, default ``v -> L v``); the witness adds the
    steering vectors ``v = Phi a`` and ``v' = Phi a'``."""
    Lf = as_matrix("L", L)
    Pf = as_matrix("Phi", Phi)
    if Pf.shape[0] != Lf.shape[1]:
        raise ValueError(
            f"Phi must have {Lf.shape[1]} rows (the number of columns of L), got {Pf.shape[0]}"
        )
    behaviour = _as_behaviour(behaviour)
    run = behaviour if behaviour is not None else (lambda v: Lf @ v)
    cert = unique_recovery_certificate(
        Lf @ Pf, k, behaviour=lambda a: run(Pf @ a), tol=tol, max_subsets=max_subsets
    )
    if "a" not in cert.witness:
        return cert
    witness = dict(cert.witness)
    witness.update(v=Pf @ witness["a"], v_prime=Pf @ witness["a_prime"])
    return dataclasses.replace(cert, witness=witness)
