"""Sparsity restores identifiability (docs/theorems.md T7): the public entry point.

Steering vectors ``v = Phi a`` with a k-sparse code a over a known dictionary Phi, read linearly
through ``A = L Phi``:

- (a)/(b) ``spark``, ``unique_recovery_certificate``, ``sparse_twins``, ``check_t7``,
  ``rerun_twins`` (``theory.spark``): every k-sparse code is the unique k-sparse code with its
  behaviour iff spark(A) > 2k; otherwise a null vector with <= 2k nonzeros splits into two
  k-sparse twins, re-run before a violation is claimed.
- (c) ``basis_pursuit``, ``bp_recovery_certificate``, ``null_space_property``,
  ``phase_transition``, ``weak_threshold`` (``theory.basis_pursuit``): basis pursuit recovers
  every k-sparse code iff NSP(k); for Gaussian A recovery shows the Donoho-Tanner phase
  transition.
"""

from .basis_pursuit import (
    RECOVERY_TOL,
    WEAK_THRESHOLD_TABLE,
    BasisPursuitError,
    BasisPursuitResult,
    InfeasibleError,
    PhaseTransition,
    basis_pursuit,
    bp_recovery_certificate,
    crossing_rho,
    dual_certificate,
    null_space_property,
    phase_transition,
    relative_error,
    statistical_dimension_threshold,
    verify_dual,
    weak_threshold,
)
from .spark import (
    MAX_SUBSETS,
    NoSparseTwinError,
    SparkLimitError,
    SparkResult,
    check_t7,
    rerun_twins,
    spark,
    sparse_twins,
    split_null_vector,
    unique_recovery_certificate,
)

__all__ = [
    "RECOVERY_TOL",
    "WEAK_THRESHOLD_TABLE",
    "BasisPursuitError",
    "BasisPursuitResult",
    "InfeasibleError",
    "PhaseTransition",
    "basis_pursuit",
    "bp_recovery_certificate",
    "crossing_rho",
    "dual_certificate",
    "null_space_property",
    "phase_transition",
    "relative_error",
    "statistical_dimension_threshold",
    "verify_dual",
    "weak_threshold",
    "MAX_SUBSETS",
    "NoSparseTwinError",
    "SparkLimitError",
    "SparkResult",
    "check_t7",
    "rerun_twins",
    "sparse_twins",
    "spark",
    "split_null_vector",
    "unique_recovery_certificate",
]
