"""Spark and the uniqueness of sparse codes (docs/theorems.md T7(a), T7(b)).

``spark(A)`` is the smallest number of linearly dependent columns of A (p + 1 by convention when A
has full column rank: no subset is dependent). T7: with behaviour ``A a`` (``A = L Phi``), every
k-sparse code is the unique k-sparse code with its behaviour iff ``spark(A) > 2k``; otherwise a null
vector n with at most 2k nonzeros splits into two distinct k-sparse codes ``a = n_S1``,
``a' = -n_S2`` with ``A a = A a'``.

Computing the spark is NP-hard in general; here it is exact by enumeration of column subsets in
increasing size, so it is for small matrices only (see ``MAX_SUBSETS``). The work is split by job:

- ``theory.spark_base``: input coercion (exact for sympy matrices and integer arrays, float64
  otherwise), ``SparkResult`` and the enumeration budget;
- ``theory.spark_exact``: rational arithmetic, screened modulo a prime, a proof for the instance;
- ``theory.spark_float``: float64 with ``theory.rank``'s certified rule per subset (undecided, never
  guessed, when a subset's rank is in the grey band);
- ``theory.spark_search``: ``spark`` itself;
- ``theory.spark_twins``: the T7(a)/(b) certificates and sparse twins.

This module keeps every public name importable from ``theory.spark``.
"""

from .spark_base import (
    MAX_SUBSETS,
    Behaviour,
    SparkLimitError,
    SparkResult,
    as_exact_matrix,
    as_sparsity,
    coerce_matrix,
    is_exact,
    subsets_to_examine,
)
from .spark_exact import full_column_rank_mod_prime
from .spark_search import spark
from .spark_twins import (
    T7_CLAIM,
    TINY,
    NoSparseTwinError,
    TwinRerun,
    check_t7,
    rerun_twins,
    sparse_twins,
    split_null_vector,
    unique_recovery_certificate,
)

__all__ = [
    "MAX_SUBSETS",
    "T7_CLAIM",
    "TINY",
    "Behaviour",
    "NoSparseTwinError",
    "SparkLimitError",
    "SparkResult",
    "TwinRerun",
    "as_exact_matrix",
    "as_sparsity",
    "check_t7",
    "coerce_matrix",
    "full_column_rank_mod_prime",
    "is_exact",
    "rerun_twins",
    "spark",
    "sparse_twins",
    "split_null_vector",
    "subsets_to_examine",
    "unique_recovery_certificate",
]
