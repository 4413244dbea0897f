"""Definitions and theorems of steering-vector identifiability, as code.

Importing this package switches JAX to float64 once, so every array in the toolkit is float64.
The public names below are re-exported lazily (``theory.check_t1`` imports ``theory.linear_checks``
on first use), so ``import theory`` stays cheap; each lives in the module ``_EXPORTS`` names.
"""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

from theory.lazy_exports import lazy_exports  # noqa: E402  (after the float64 switch)

_EXPORTS = {
    # the result type and the one set of validators
    "Certificate": "certificate",
    "Verdict": "certificate",
    "CosineRange": "certificate",
    "InputError": "validation",
    # definitions
    "Steering": "steering",
    "LocalProblem": "local_problem",
    "EngineOptions": "jacobian",
    "decide_rank": "rank",
    "equivalence_class": "linear",
    "orthogonal_twin": "linear",
    "cosine_range": "linear",
    "NoTwinError": "linear",
    "local_spectrum": "jacobian",
    "spectrum_certificate": "local",
    "twin_search": "level_set",
    "rerun_ratio": "rerun",
    "solve_bp": "bp_recovery",
    "amari_index": "amari",
    # theorems (docs/theorems.md)
    "check_t1": "linear_checks",
    "check_t1a": "linear_checks",
    "check_t1b": "linear_checks",
    "check_t2a": "norm_symmetry",
    "check_t2b": "norm_symmetry",
    "check_t2c": "softmax_shift",
    "check_t3b": "local",
    "check_t3c": "first_order",
    "check_t4": "estimation",
    "check_t5": "efficacy",
    "check_t6": "environments",
    "check_t6_local": "environments",
    "check_t7": "spark_twins",
    "check_t8": "independence",
    "check_t8_laws": "independence",
    "check_t8_rate": "independence",
    "check_t8_twin": "independence_twin",
    "check_t9": "cross_layer",
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports("theory", _EXPORTS, globals())
