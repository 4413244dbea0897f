"""``spark(A)``: the smallest number of linearly dependent columns of A, by exhaustive enumeration
of column subsets in increasing size (exact: ``theory.spark_exact``; float64 with certified rank
decisions: ``theory.spark_float``). NP-hard in general: for small matrices only (``MAX_SUBSETS``).
"""

from __future__ import annotations

from typing import Any

from .spark_base import MAX_SUBSETS, SparkLimitError, SparkResult, coerce_matrix
from .spark_exact import spark_exact
from .spark_float import spark_float
from .validation import as_count, as_positive_int, as_tolerance


def spark(
    A: Any,
    tol: float | None = None,
    max_size: int | None = None,
    max_subsets: int = MAX_SUBSETS,
    exact: bool | None = None,
) -> SparkResult:
    """spark(A) = min |T| over linearly dependent column subsets T (p + 1 if there is none).

    A: (m, p) float array (certified float64 decisions, see ``theory.spark_float``), or sympy Matrix
    with rational entries / integer array (exact; see ``coerce_matrix`` for ``exact``).
    ``max_size``: examine subsets of at most this size only (the result then certifies
    ``spark > max_size`` or gives the spark). Raises ``SparkLimitError`` (a ValueError) when more
    than ``max_subsets`` subsets might have to be examined (``MAX_SUBSETS`` by default).
    """
    max_subsets = as_count("max_subsets", max_subsets)
    if max_size is not None:
        max_size = as_positive_int("max_size", max_size)
    tol = as_tolerance("tol", tol)
    Ax, ex = coerce_matrix("A", A, exact, tol)
    if ex:
        return spark_exact(Ax, max_size, max_subsets)
    return spark_float(Ax, tol, max_size, max_subsets)


def spark_up_to(A: Any, k: int, tol: float | None, max_subsets: int) -> SparkResult:
    """The full spark when the budget allows (it sets the margin), else the search up to 2k
    (enough to decide spark > 2k)."""
    try:
        return spark(A, tol=tol, max_subsets=max_subsets)
    except SparkLimitError:
        return spark(A, tol=tol, max_size=2 * k, max_subsets=max_subsets)
