"""Basis pursuit, the null-space property and the Donoho-Tanner phase transition (docs/theorems.md
T7(c)).

Basis pursuit (min |a|_1 subject to A a = y) recovers every k-sparse code iff A has the null-space
property NSP(k): ``|n_S|_1 < |n_{S^c}|_1`` for every nonzero n in ker A and every |S| <= k. The
work is split by job:

- ``theory.bp_recovery``: the LP ``basis_pursuit``, the dual certificate of one l1 minimiser, and
  ``bp_recovery_certificate`` (one planted code: the LP's answer and a re-run dual vector);
- ``theory.nsp``: ``null_space_property``, decided exactly for small A by two methods;
- ``theory.phase_transition``: the empirical transition on Gaussian A and the asymptotic weak
  threshold ``weak_threshold(delta)``.

This module keeps every public name importable from ``theory.basis_pursuit``.
"""

from .bp_recovery import (
    BP_CLAIM,
    DUAL_TOL,
    LP_TOL,
    RECOVERY_TOL,
    TINY,
    BasisPursuitError,
    BasisPursuitResult,
    InfeasibleError,
    basis_pursuit,
    bp_recovery_certificate,
    dual_certificate,
    relative_error,
    verify_dual,
)
from .nsp import (
    MAX_NSP_LPS,
    MAX_NSP_SUBSETS,
    NSP_CLAIM,
    NSPSearch,
    kernel_residual,
    null_space_property,
)
from .phase_transition import (
    WEAK_THRESHOLD_TABLE,
    PhaseTransition,
    crossing_rho,
    phase_transition,
    statistical_dimension_threshold,
    weak_threshold,
)

__all__ = [
    "BP_CLAIM",
    "DUAL_TOL",
    "LP_TOL",
    "MAX_NSP_LPS",
    "MAX_NSP_SUBSETS",
    "NSP_CLAIM",
    "RECOVERY_TOL",
    "TINY",
    "WEAK_THRESHOLD_TABLE",
    "BasisPursuitError",
    "BasisPursuitResult",
    "InfeasibleError",
    "NSPSearch",
    "PhaseTransition",
    "basis_pursuit",
    "bp_recovery_certificate",
    "crossing_rho",
    "dual_certificate",
    "kernel_residual",
    "null_space_property",
    "phase_transition",
    "relative_error",
    "statistical_dimension_threshold",
    "verify_dual",
    "weak_threshold",
]
