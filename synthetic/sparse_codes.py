"""Dictionaries of concept directions and k-sparse codes with known ground truth (docs/theorems.md
T7).

Every generator is seeded (``numpy.random.Generator``); same seed, same object.

- ``gaussian_matrix(m, p, seed)``: iid N(0, 1/m) entries; spark min(m, p) + 1 (p + 1 if m >= p)
  with probability 1.
- ``planted_spark_matrix(m, p, spark, seed)``: generic columns with one planted circuit: the
  columns T (|T| = spark) are dependent, ``A[:, t] = sum_{j in T'} beta_j A[:, j]`` with every
  ``beta_j != 0``; float (Gaussian columns) or exact (sympy, Vandermonde columns; see there).
- ``concept_dictionary(d, p, seed, spark=None)``: unit-norm concept directions (columns), optionally
  with a planted low spark.
- ``sparse_code(p, k, seed, support=None, signs=None)``: a k-sparse code with magnitudes in
  [0.5, 2] (bounded away from 0), on a chosen or uniform random support.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy

from theory.validation import (
    InputError,
    as_bool,
    as_generator,
    as_int,
    as_int_tuple,
    as_positive_int,
    as_real,
    as_real_tuple,
)


def gaussian_matrix(m: int, p: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """(m, p) matrix with iid N(0, 1/m) entries (columns of expected unit norm)."""
    m, p = as_positive_int("m", m), as_positive_int("p", p)
    return as_generator("seed", seed).standard_normal((m, p)) / np.sqrt(m)


def random_support(p: int, k: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """Sorted uniform random k-subset of range(p)."""
    p = as_positive_int("p", p)
    k = as_int("k", k, low=0, high=p)
    return np.sort(as_generator("seed", seed).choice(p, size=k, replace=False))


def sparse_code(
    p: int,
    k: int,
    seed: int | np.random.Generator = 0,
    support: Sequence[int] | None = None,
    signs: Sequence[float] | None = None,
    low: float = 0.5,
    high: float = 2.0,
) -> np.ndarray:
    """A code in R^p with exactly k nonzeros on ``support`` (default: uniform random), magnitudes
    uniform in [low, high] and the given ``signs`` (default: random +-1)."""
    p = as_positive_int("p", p)
    k = as_int("k", k, low=0, high=p)
    low = as_real("low", low, low=0.0, low_open=True)
    high = as_real("high", high, low=low)
    rng = as_generator("seed", seed)
    if support is not None:
        support = as_int_tuple("support", support, low=0, high=p - 1, nonempty=False, distinct=True)
        if len(support) != k:
            raise InputError(f"support must have k = {k} distinct indices, got {list(support)}")
    if signs is not None:
        signs = as_real_tuple("signs", signs, nonempty=False)
        if len(signs) != k or any(abs(x) != 1 for x in signs):
            raise InputError(f"signs must be {k} entries of +-1, got {list(signs)}")
    where = np.sort(rng.choice(p, size=k, replace=False)) if support is None else support
    mags = rng.uniform(low, high, size=k)
    sign = rng.choice([-1.0, 1.0], size=k) if signs is None else signs
    a = np.zeros(p)
    a[np.asarray(where, dtype=int)] = np.asarray(sign, dtype=float) * mags
    return a


@dataclasses.dataclass(frozen=True)
class PlantedSpark:
    """A matrix with a known spark and the circuit planted in it.

    matrix  : (m, p) float64 array or sympy Matrix (exact).
    spark   : its spark (p + 1 for full column rank).
    circuit : the planted minimal dependent subset (sorted), None when nothing was planted.
    null_vector : (p,) null vector supported exactly on ``circuit`` (float64), None likewise.
    """

    matrix: Any
    spark: int
    circuit: tuple[int, ...] | None
    null_vector: np.ndarray | None


def _check_spark(m: int, p: int, spark: int) -> None:
    """The sparks an m x p matrix can have: 1..min(m + 1, p), or p + 1 when m >= p."""
    allowed = sorted(set(range(1, min(m + 1, p) + 1)) | ({p + 1} if m >= p else set()))
    if spark not in allowed:
        raise InputError(f"spark must be one of {allowed} for an {m} x {p} matrix, got {spark}")


def planted_spark_matrix(
    m: int, p: int, spark: int, seed: int | np.random.Generator = 0, exact: bool = False
) -> PlantedSpark:
    """An (m, p) matrix of spark exactly ``spark`` (1 <= spark <= min(m + 1, p), or p + 1 when
    m >= p).

    A circuit T of size ``spark`` at random positions: one column of T is ``sum beta_j`` times the
    others with every beta_j nonzero (spark 1: a zero column). Every smaller subset is independent:
    float mode uses Gaussian columns (with probability 1); exact mode uses integer Vandermonde
    columns ``(x^0, ..., x^(m-1))`` at distinct nodes, any m of which are independent, which
    proves spark = ``spark`` when ``2 spark - 3 <= m`` (a subset U + {c} with |U| <= spark - 2 then
    spans at most m Vandermonde columns T' + U, independent, so c in span(U) would need T' in U);
    larger planted sparks in exact mode are refused. spark = m + 1 and p + 1 plant nothing.
    """
    m, p, spark = as_positive_int("m", m), as_positive_int("p", p), as_positive_int("spark", spark)
    exact = as_bool("exact", exact)
    _check_spark(m, p, spark)
    rng = as_generator("seed", seed)
    plant = spark <= min(m, p)
    if exact and plant and spark >= 2 and 2 * spark - 3 > m:
        raise InputError(
            f"exact planting proves spark = {spark} only when 2 spark - 3 <= m = {m}; "
            "use float mode or more rows"
        )
    if exact:
        nodes = rng.choice(np.arange(-3 * p, 3 * p + 1), size=p, replace=False)
        cols = [[sympy.Integer(int(x)) ** i for i in range(m)] for x in nodes]
    else:
        G = rng.standard_normal((m, p)) / np.sqrt(m)
    circuit, null = None, None
    if plant:
        circuit = tuple(int(c) for c in np.sort(rng.choice(p, size=spark, replace=False)))
        target, others = circuit[-1], circuit[:-1]
        beta = rng.choice([-1, 1], size=spark - 1) * rng.integers(1, 4, size=spark - 1)
        null = np.zeros(p)
        null[list(others)] = beta
        null[target] = -1.0
        if exact:
            cols[target] = [
                sum(
                    (sympy.Integer(int(b)) * cols[j][i] for b, j in zip(beta, others)),
                    sympy.Integer(0),
                )
                for i in range(m)
            ]
        else:
            G[:, target] = G[:, list(others)] @ beta.astype(float) if others else 0.0
    if exact:
        matrix = sympy.Matrix(m, p, lambda i, j: cols[j][i])
    else:
        matrix = G
    return PlantedSpark(matrix=matrix, spark=spark, circuit=circuit, null_vector=null)


def concept_dictionary(
    d: int, p: int, seed: int | np.random.Generator = 0, spark: int | None = None
) -> PlantedSpark:
    """A (d, p) dictionary of unit-norm concept directions; with ``spark`` set, one planted circuit
    of that size (e.g. spark 3: one concept is a combination of two others)."""
    d, p = as_positive_int("d", d), as_positive_int("p", p)
    if spark is not None:
        spark = as_positive_int("spark", spark)
    rng = as_generator("seed", seed)
    if spark is None:
        spark = min(d, p) + 1 if d < p else p + 1
    planted = planted_spark_matrix(d, p, spark, rng)
    norms = np.linalg.norm(planted.matrix, axis=0)
    if np.any(norms == 0):
        raise InputError("spark 1 (a zero column) has no unit-norm dictionary")
    null = None if planted.null_vector is None else planted.null_vector * norms
    return PlantedSpark(
        matrix=planted.matrix / norms,
        spark=planted.spark,
        circuit=planted.circuit,
        null_vector=null,
    )
