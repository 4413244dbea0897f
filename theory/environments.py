"""T6: several environments. Equivalence in every environment intersects the classes: linearly
``[v] = v + intersection_e ker L_e = v + ker [L_1; ...; L_E]``, so v is identifiable iff the stacked
readout has rank d. Generic readouts of ranks r_e reach rank ``min(d, sum_e r_e)``, so with equal
ranks r, ``ceil(d / r)`` environments are needed. Exact symmetries (T2) lie in every ker L_e and
survive any number of environments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy

from .certificate import Certificate, Verdict, ratio_margin
from .gates import decide, refute
from .linear import EPS, UndecidedRankError, _as_exact_vector, equivalence_class
from .linear_evidence import class_fields, lstsq_tolerance, undecided_certificate
from .rank import decide_rank
from .residual import NOISE_FACTOR
from .validation import (
    InputError,
    as_generator,
    as_int_tuple,
    as_matrix,
    as_positive_int,
    as_tolerance,
    as_vector,
)


def environments_needed(d: int, r: int) -> int:
    """ceil(d / r): generic environments of readout rank r needed to identify v in R^d."""
    d, r = as_positive_int("d", d), as_positive_int("r", r)
    if r > d:
        raise InputError(f"r must be at most d = {d} (a readout of R^d has rank <= d), got {r}")
    return math.ceil(d / r)


def stack_readouts(readouts: Sequence[Any]):
    """[L_1; ...; L_E]: numeric (float64) or exact (all sympy) readouts sharing d columns."""
    if (
        isinstance(readouts, (np.ndarray, sympy.MatrixBase, str))
        or not isinstance(readouts, Sequence)
        or len(readouts) == 0
    ):
        raise InputError(
            "readouts must be a non-empty list of (m_e, d) matrices, one per environment"
        )
    if all(isinstance(L, sympy.MatrixBase) for L in readouts):
        d = readouts[0].cols
        for i, L in enumerate(readouts):
            if L.cols != d:
                raise InputError(f"readouts[{i}] must have {d} columns, got {L.cols}")
        return sympy.Matrix.vstack(*readouts)
    mats = [as_matrix(f"readouts[{i}]", L) for i, L in enumerate(readouts)]
    d = mats[0].shape[1]
    for i, L in enumerate(mats):
        if L.shape[1] != d:
            raise InputError(
                f"readouts[{i}] must have {d} columns (as readouts[0]), got {L.shape[1]}"
            )
    return np.vstack(mats)


def multi_environment_class(readouts: Sequence[Any], v: Any, tol: float | None = None):
    """The class of v under every environment at once: ``v + ker [L_1; ...; L_E]`` (T1 on the
    stack)."""
    tol = as_tolerance("tol", tol)
    L = stack_readouts(readouts)
    return (
        equivalence_class(L, v) if isinstance(L, sympy.MatrixBase) else equivalence_class(L, v, tol)
    )


T6_CLAIM = (
    "v is identifiable from these environments: rank [L_1; ...; L_E] = d "
    "(class v + intersection of ker L_e)"
)


def environment_changes(mats: Sequence[np.ndarray], v: np.ndarray, u: np.ndarray):
    """Per environment: (|L_e (v + u) - L_e v|, round-off of that difference)."""
    out = []
    for R in mats:
        b_v, b_w = R @ v, R @ (v + u)
        noise = NOISE_FACTOR * EPS * max(float(np.linalg.norm(b_v)), float(np.linalg.norm(b_w)))
        out.append((float(np.linalg.norm(b_w - b_v)), noise))
    return out


def check_t6(
    readouts: Sequence[Any], v: Any, tol: float | None = None, *, witness: Any | None = None
) -> Certificate:
    """Certificate for identifiability of v from the environments' readouts.

    holds: the stacked rank is d and the witness ``recovered`` (v re-solved from the stacked
    behaviour ``y_e = L_e v`` by least squares) is within ``lstsq_tolerance`` of v (typed
    ``residual``; a gate: else undecided). violated: a common null direction u (in every ker L_e)
    is the witness, re-verified environment by environment: v and ``v + u`` give the same behaviour
    in every environment, to within 10 tau |u| plus round-off (a gate: a re-run that disagrees makes
    the verdict undecided). undecided: the stacked rank is not certified. ``witness``: a claimed
    recovered v (full rank) or common null direction (otherwise) to re-verify in place of the one
    computed. Sympy readouts: the same, exactly."""
    L = stack_readouts(readouts)
    if isinstance(L, sympy.MatrixBase):
        return _check_t6_exact(readouts, L, v, witness)
    d = L.shape[1]
    vf = as_vector("v", v, d, against="the readouts")
    tol = as_tolerance("tol", tol)
    claimed = None if witness is None else as_vector("witness", witness, d, against="the readouts")
    cls = equivalence_class(L, vf, tol)
    if not cls.certified:
        return undecided_certificate("T6", T6_CLAIM, cls, "the stacked readout [L_1; ...; L_E]")
    mats = [as_matrix(f"readouts[{i}]", R) for i, R in enumerate(readouts)]
    ranks = [decide_rank(R, tol, f"readouts[{i}]").rank for i, R in enumerate(mats)]
    details: dict[str, Any] = {
        "environments": len(mats),
        "ranks": ranks,
        "sum_of_ranks": int(sum(ranks)),
    }
    common = dict(theorem="T6", claim=T6_CLAIM, **class_fields(cls))
    if cls.dim == 0:
        recovered = claimed if claimed is not None else np.linalg.lstsq(L, L @ vf, rcond=None)[0]
        err = float(np.linalg.norm(recovered - vf)) / max(float(np.linalg.norm(vf)), 1.0)
        limit = lstsq_tolerance(cls, L.shape[0])
        verdict, margin, reason = decide(
            {}, {"rank": cls.decision.margin}, {"recovered = v": ratio_margin(limit, err)}
        )
        return Certificate(
            verdict=verdict,
            margin=margin,
            witness={"v": vf, "recovered": recovered},
            residual=err,
            residual_tolerance=limit,
            reason=reason,
            details=details,
            **common,
        )
    u = claimed if claimed is not None else cls.basis[:, 0]
    nu = float(np.linalg.norm(u))
    changes = environment_changes(mats, vf, u)
    slack = 10.0 * cls.decision.tolerance * nu
    gates = {"rank": cls.decision.margin, "witness nonzero": math.inf if nu > 0 else 0.0}
    for e, (change, noise) in enumerate(changes):
        gates[f"environment {e} unchanged"] = ratio_margin(slack + noise, change)
    verdict, margin, reason = refute(gates)
    worst = max(change for change, _ in changes)
    details["witness_change_per_environment"] = [change for change, _ in changes]
    return Certificate(
        verdict=verdict,
        margin=margin,
        witness={"v": vf, "common_null_direction": u, "equivalent": vf + u},
        residual=worst,
        residual_tolerance=slack,
        reason=reason,
        details=details,
        **common,
    )


def _check_t6_exact(
    readouts: Sequence[sympy.Matrix], L: sympy.Matrix, v: Any, witness: Any | None
) -> Certificate:
    """check_t6 in the rationals: every gate is an exact identity, so the verdict is a proof for
    this instance (undecided only when a claimed witness fails its identity)."""
    cls = equivalence_class(L, sympy.Matrix(v))
    claimed = None if witness is None else _as_exact_vector("witness", witness, cls.d)
    ranks = [R.rank() for R in readouts]
    details: dict[str, Any] = {
        "environments": len(readouts),
        "ranks": ranks,
        "sum_of_ranks": int(sum(ranks)),
        "exact": True,
    }
    common = dict(theorem="T6", claim=T6_CLAIM, dim=cls.dim, rank=cls.rank, d=cls.d)
    vf = np.array(cls.vector, dtype=float).ravel()
    if cls.dim == 0:
        recovered = claimed if claimed is not None else cls.point
        ok = (recovered - cls.vector).is_zero_matrix
        return Certificate(
            verdict=Verdict.HOLDS if ok else Verdict.UNDECIDED,
            witness={"v": vf, "recovered": np.array(recovered, dtype=float).ravel()},
            reason="" if ok else "the claimed recovery is not v",
            details=details,
            **common,
        )
    u = claimed if claimed is not None else cls.basis[:, 0]
    images = [R * u for R in readouts]
    ok = not u.is_zero_matrix and all(image.is_zero_matrix for image in images)
    details["common_null_direction_exact"] = str(list(u))
    details["witness_readout_change_per_environment"] = [str(list(image)) for image in images]
    return Certificate(
        verdict=Verdict.VIOLATED if ok else Verdict.UNDECIDED,
        witness={
            "v": vf,
            "common_null_direction": np.array(u, dtype=float).ravel(),
            "equivalent": np.array(cls.vector + u, dtype=float).ravel(),
        },
        reason="" if ok else "counterexample not verified: L_e u != 0 for some environment",
        details=details,
        **common,
    )


def identifiable_fraction(d: int, rank: int, n_env: int, trials: int, rng: Any) -> float:
    """Fraction of draws of n_env Gaussian readouts of rank ``rank`` whose stack has rank d
    (``rng``: a numpy Generator or a seed)."""
    d, rank = as_positive_int("d", d), as_positive_int("rank", rank)
    n_env, trials = as_positive_int("n_env", n_env), as_positive_int("trials", trials)
    rng = as_generator("rng", rng)
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


def phase_diagram(d: int, ranks: Sequence[int], max_env: int, trials: int, seed: int) -> np.ndarray:
    """fraction[i, j]: share of Gaussian draws of (j + 1) environments of rank ranks[i] that
    identify v in R^d."""
    d, max_env = as_positive_int("d", d), as_positive_int("max_env", max_env)
    ranks = as_int_tuple("ranks", ranks, low=1, high=d)
    trials = as_positive_int("trials", trials)
    rng = as_generator("seed", seed)
    return np.array(
        [
            [identifiable_fraction(d, r, E, trials, rng) for E in range(1, max_env + 1)]
            for r in ranks
        ]
    )


T6_LOCAL_CLAIM = (
    "v is locally identifiable from these environments: the stacked Jacobians (summed Fisher "
    "information) have rank d"
)


def check_t6_local(
    problems: Sequence[Any],
    v: Any,
    channel: str,
    tol: float | None = None,
    *,
    witness: Any | None = None,
) -> Certificate:
    """T6 on a smooth model: one LocalProblem per environment (same model and hook, different prompt
    distributions); v is locally identifiable iff the stacked Jacobians have rank d, i.e. the summed
    Fisher information is nonsingular (probs channel). The stack is of square-root factors, so the
    Fisher information is never formed. Witness when not: a common null direction, re-verified in
    every environment as in ``theory.cross_layer.stacked_certificate`` (a gate); the all-ones
    direction of a LayerNorm model is named ("layernorm-mean") and survives every environment."""
    from .cross_layer import stacked_certificate

    return stacked_certificate(
        problems,
        v,
        channel,
        None,
        tol,
        "T6",
        T6_LOCAL_CLAIM,
        "environment",
        witness=witness,
    )
