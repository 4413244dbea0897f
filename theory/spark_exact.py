"""The spark in exact rational arithmetic: a proof for the instance.

Columns are scaled to integers (the spark does not change under column scaling). Every subset is
screened by a fraction-free rank modulo the prime ``q = 2**31 - 1`` (batched in numpy): rank mod q
equal to the subset size proves the columns independent over Q, because some maximal minor is
then nonzero mod q, hence nonzero. A subset that looks dependent mod q is confirmed (or refuted)
by an exact rank over Z (sympy ``DomainMatrix``), and its null vector is computed exactly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import sympy
from sympy.polys.matrices import DomainMatrix

from .spark_base import SparkResult, check_budget, combinations
from .validation import as_int_array

_PRIME = 2_147_483_647  # 2**31 - 1: products of two residues fit in int64


def _column_integer_matrix(A: sympy.Matrix) -> list[list[int]]:
    """Scale each column by the lcm of its denominators: integer columns, same spark. The scaling
    is in Python integers (``lcm // q``), never float, so entries of any size stay exact."""
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
    """For a batch X (n, m, s) of integer residues mod q = 2**31 - 1: True where rank mod q == s.

    Gaussian elimination over GF(q), vectorised over the batch (hand-written: neither numpy nor
    scipy ranks over a finite field). rank mod q <= rank over Q, so True proves independence.
    """
    X = as_int_array("X", X, 3) % _PRIME
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
    """The primitive integer null vector of the circuit A[:, cols], zero-padded to length p."""
    v = A.extract(list(range(A.rows)), list(cols)).nullspace()[0]
    v = v * math.lcm(*[int(sympy.Rational(x).q) for x in v])
    v = v / math.gcd(*[int(x) for x in v])
    full = [sympy.Integer(0)] * A.cols
    for j, x in zip(cols, v):
        full[j] = sympy.Rational(x)
    return tuple(full)


_EXACT: dict[str, Any] = dict(
    exact=True,
    tolerance=None,
    margin=None,
    residual=None,
    ambiguous_subset=None,
    ambiguous_singular_values=None,
)


def _circuit(A: sympy.Matrix, cols: tuple[int, ...], checked: int) -> SparkResult:
    n = _exact_null_vector(A, cols)
    s = len(cols)
    return SparkResult(
        p=A.cols,
        value=s,
        lower=s,
        upper=s,
        subset=cols,
        null_vector=np.array([float(x) for x in n]),
        exact_null_vector=n,
        subsets_checked=checked,
        **_EXACT,
    )


def spark_exact(A: sympy.Matrix, max_size: int | None, max_subsets: int) -> SparkResult:
    """spark of a rational sympy Matrix (already validated), subsets of size <= max_size only."""
    p = A.cols
    M = _column_integer_matrix(A)
    rank = _exact_rank(M)
    none: dict[str, Any] = dict(subset=None, null_vector=None, exact_null_vector=None)
    if rank == p:
        return SparkResult(
            p=p, value=p + 1, lower=p + 1, upper=p + 1, subsets_checked=0, **none, **_EXACT
        )
    top = rank if max_size is None else min(rank, max_size)
    check_budget(p, rank, top, max_subsets)
    residues = np.array([[x % _PRIME for x in row] for row in M], dtype=np.int64)
    checked = 0
    for s in range(1, top + 1):
        for chunk in combinations(p, s):
            checked += len(chunk)
            full = full_column_rank_mod_prime(residues[:, chunk].transpose(1, 0, 2))
            for row in np.flatnonzero(~full):
                cols = tuple(int(c) for c in chunk[row])
                if _exact_rank(M, cols) < s:
                    return _circuit(A, cols, checked)
    if top < rank:  # truncated by max_size: spark > top
        return SparkResult(
            p=p,
            value=None,
            lower=top + 1,
            upper=rank + 1,
            subsets_checked=checked,
            truncated_at=top,
            **none,
            **_EXACT,
        )
    # every subset of size <= rank is independent: any rank + 1 columns form a circuit
    return _circuit(A, tuple(range(rank + 1)), checked)
