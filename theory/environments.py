"""T6: several environments. Equivalence in every environment intersects the classes:
linearly ``[v] = v + intersection_e ker L_e = v + ker [L_1; ...; L_E]``, so v is identifiable iff the
stacked readout has rank d. Generic readouts of ranks r_e reach rank ``min(d, sum_e r_e)``, so with
equal ranks r, ``ceil(d / r)`` environments are needed. Exact symmetries (T2) lie in every ker L_e
and survive any number of environments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy

from .certificate import Certificate, Verdict
from .linear import UndecidedRankError, equivalence_class
from .linear_checks import undecided_certificate
from .validation import as_matrix, as_vector


def environments_needed(d: int, r: int) -> int:
    """ceil(d / r): generic environments of readout rank r needed to identify v in R^d."""
    for name, x in (("d", d), ("r", r)):
        if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 1:
            raise ValueError(f"{name} must be a positive int, got {x!r}")
    if r > d:
        raise ValueError(f"r must be at most d = {d} (a readout of R^d has rank <= d), got {r}")
    return math.ceil(d / r)


def stack_readouts(readouts: Sequence[Any]):
    """[L_1; ...; L_E]: numeric (float64) or exact (all sympy) readouts sharing d columns."""
    if isinstance(readouts, (np.ndarray, sympy.MatrixBase)) or len(readouts) == 0:
        raise ValueError(
            "readouts must be a non-empty list of (m_e, d) matrices, one per environment"
        )
    if all(isinstance(L, sympy.MatrixBase) for L in readouts):
        d = readouts[0].cols
        for i, L in enumerate(readouts):
            if L.cols != d:
                raise ValueError(f"readouts[{i}] must have {d} columns, got {L.cols}")
        return sympy.Matrix.vstack(*readouts)
    mats = [as_matrix(f"readouts[{i}]", L) for i, L in enumerate(readouts)]
    d = mats[0].shape[1]
    for i, L in enumerate(mats):
        if L.shape[1] != d:
            raise ValueError(
                f"readouts[{i}] must have {d} columns (as readouts[0]), got {L.shape[1]}"
            )
    return np.vstack(mats)


def multi_environment_class(readouts: Sequence[Any], v: Any, tol: float | None = None):
    """The class of v under every environment at once: ``v + ker [L_1; ...; L_E]`` (T1 on the stack)."""
    return equivalence_class(stack_readouts(readouts), v, tol)


T6_CLAIM = "v is identifiable from these environments: rank [L_1; ...; L_E] = d (class v + intersection of ker L_e)"


def check_t6(readouts: Sequence[Any], v: Any, tol: float | None = None) -> Certificate:
    """Certificate for identifiability of v from the environments' readouts.

    holds: the stacked rank is d (v identifiable); witness ``recovered``, v re-solved from the
    stacked behaviour ``y_e = L_e v`` by least squares, with its error. violated: a common null
    direction u (in every ker L_e) is the witness, re-verified environment by environment: v and
    ``v + u`` give the same behaviour everywhere. undecided: the stacked rank is not certified."""
    L = stack_readouts(readouts)
    if isinstance(L, sympy.MatrixBase):
        return _check_t6_exact(readouts, L, v)
    d = L.shape[1]
    vf = as_vector("v", v, d, against="the readouts")
    cls = equivalence_class(L, vf, tol)
    if not cls.certified:
        return undecided_certificate("T6", T6_CLAIM, cls, "the stacked readout [L_1; ...; L_E]")
    mats = [np.asarray(R, dtype=float) for R in readouts]
    ranks = [equivalence_class(R, vf, tol).rank for R in mats]
    details = {
        "environments": len(mats),
        "ranks": ranks,
        "stacked_rank": cls.rank,
        "d": d,
        "sum_of_ranks": int(sum(ranks)),
    }
    if cls.dim == 0:
        y = L @ vf
        recovered = np.linalg.lstsq(L, y, rcond=None)[0]
        err = float(np.linalg.norm(recovered - vf) / max(np.linalg.norm(vf), 1.0))
        details["recovery_error"] = err
        return Certificate(
            theorem="T6",
            verdict=Verdict.HOLDS,
            claim=T6_CLAIM,
            dim=0,
            rank=cls.rank,
            margin=cls.decision.margin,
            tolerance=cls.decision.tolerance,
            witness={"v": vf, "recovered": recovered},
            details=details,
        )
    u = cls.basis[:, 0]
    per_env = [
        float(np.linalg.norm(R @ u)) / max(float(np.linalg.norm(R, 2)), 1e-300) for R in mats
    ]
    details["witness_readout_change_per_environment"] = per_env
    return Certificate(
        theorem="T6",
        verdict=Verdict.VIOLATED,
        claim=T6_CLAIM,
        dim=cls.dim,
        rank=cls.rank,
        margin=cls.decision.margin,
        tolerance=cls.decision.tolerance,
        witness={"v": vf, "common_null_direction": u, "equivalent": vf + u},
        details=details,
    )


def _check_t6_exact(readouts: Sequence[sympy.Matrix], L: sympy.Matrix, v: Any) -> Certificate:
    """check_t6 in the rationals: the verdict is a proof for this instance."""
    cls = equivalence_class(L, sympy.Matrix(v))
    ranks = [R.rank() for R in readouts]
    details = {
        "environments": len(readouts),
        "ranks": ranks,
        "stacked_rank": cls.rank,
        "d": cls.d,
        "sum_of_ranks": int(sum(ranks)),
        "exact": True,
    }
    vf = np.array(cls.vector, dtype=float).ravel()
    if cls.dim == 0:
        return Certificate(
            theorem="T6",
            verdict=Verdict.HOLDS,
            claim=T6_CLAIM,
            dim=0,
            rank=cls.rank,
            witness={"v": vf, "recovered": np.array(cls.point, dtype=float).ravel()},
            details=details,
        )
    u = cls.basis[:, 0]
    details["common_null_direction_exact"] = str(list(u))
    details["witness_readout_change_per_environment"] = [str(list(R * u)) for R in readouts]
    return Certificate(
        theorem="T6",
        verdict=Verdict.VIOLATED,
        claim=T6_CLAIM,
        dim=cls.dim,
        rank=cls.rank,
        witness={
            "v": vf,
            "common_null_direction": np.array(u, dtype=float).ravel(),
            "equivalent": np.array(cls.vector + u, dtype=float).ravel(),
        },
        details=details,
    )


def identifiable_fraction(
    d: int, rank: int, n_env: int, trials: int, rng: np.random.Generator
) -> float:
    """Fraction of draws of n_env Gaussian readouts of rank ``rank`` whose stack has rank d."""
    hits = 0
    for _ in range(trials):
        mats = [
            rng.standard_normal((rank, rank)) @ rng.standard_normal((rank, d)) for _ in range(n_env)
        ]
        cls = equivalence_class(np.vstack(mats), np.ones(d))
        if not cls.certified:
            raise UndecidedRankError(
                "a Gaussian draw gave an uncertified stacked rank; counting it would be a guess"
            )
        hits += int(cls.dim == 0)
    return hits / trials


T6_LOCAL_CLAIM = (
    "v is locally identifiable from these environments: the stacked Jacobians (summed Fisher "
    "information) have rank d"
)


def check_t6_local(
    problems: Sequence[Any], v: Any, channel: str, tol: float | None = None
) -> Certificate:
    """T6 on a smooth model: one LocalProblem per environment (same model and hook, different prompt
    distributions); v is locally identifiable iff the stacked Jacobians have rank d, i.e. the summed
    Fisher information is nonsingular (probs channel). The stack is of square-root factors, so the
    Fisher information is never formed. Witness when not: a common null direction; the all-ones
    direction of a LayerNorm model is named ("layernorm-mean") and survives every environment."""
    from .cross_layer import stacked_certificate

    return stacked_certificate(problems, v, channel, None, tol, "T6", T6_LOCAL_CLAIM, "environment")
