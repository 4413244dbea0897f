"""Stacked local problems, and T9: cross-layer consistency.

One concept steered at layers l_1..l_K with vectors tied by known maps ``v_j = T_j v`` (T_j = I
when the same vector is added; a propagation Jacobian otherwise), its behaviour observed for each:
locally the class is ``v + intersection_j ker(J_{l_j} T_j)``, and v is identifiable iff the stacked
``[J_{l_1} T_1; ...; J_{l_K} T_K]`` has rank d.

Each J_{l_j} enters through its square-root factor R_j (``R_j^T R_j = J_j^T J_j``, from
``theory.jacobian.square_root_factor``), so the stack ``[R_j T_j]_j`` has exactly the singular
values of the full stacked Jacobian and the condition number is never squared. Symmetries shared by
every layer (T2a's all-ones direction, which every T_j fixes) survive any number of layers.

The same stack with T_j = I over problems that differ in their prompts is T6 on a model: requiring
equivalence in every environment (prompt distribution) stacks their Jacobians, i.e. sums their
Fisher information (``stacked_certificate``; ``theory.environments.check_t6_local``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.linalg

from .certificate import Certificate, Verdict, ratio_margin
from .gates import refute
from .jacobian import CHANNELS, LocalProblem, square_root_factor
from .rank import EPS, decide_rank_from_singular_values
from .residual import NOISE_FACTOR
from .validation import InputError, as_choice, as_float_array, as_tolerance

T9_CLAIM = "v is locally identifiable from its behaviour at these layers: rank [J_l T_l]_l = d"


def _ones_image(factor: np.ndarray) -> float:
    d = factor.shape[1]
    return float(np.linalg.norm(factor @ (np.ones(d) / np.sqrt(d))))


def layer_factors(
    problems: Sequence[LocalProblem], v: Any, channel: str, transfers: Sequence[Any] | None = None
) -> tuple[list[np.ndarray], int]:
    """The blocks ``R_j T_j`` (k_j x d) for steering ``T_j v`` at each problem's layer, and the
    number of rows of the full stacked Jacobian (for the default tolerance)."""
    channel = as_choice("channel", channel, CHANNELS)
    if isinstance(problems, LocalProblem) or not isinstance(problems, Sequence) or not problems:
        raise InputError("problems must be a non-empty list of LocalProblems, one per layer")
    d = problems[0].d
    for i, p in enumerate(problems):
        if not isinstance(p, LocalProblem):
            raise InputError(f"problems[{i}] must be a LocalProblem, got {type(p).__name__}")
        if p.d != d:
            raise InputError(f"problems[{i}] has stream width {p.d}, expected {d} (as problems[0])")
    vec = problems[0].vector(v)
    if transfers is None:
        transfers = [np.eye(d)] * len(problems)
    if len(transfers) != len(problems):
        raise InputError(
            f"transfers must have one (d, d) matrix per layer: {len(problems)}, "
            f"got {len(transfers)}"
        )
    checked = []
    for i, T in enumerate(transfers):  # every argument is checked before any Jacobian is computed
        T = as_float_array(f"transfers[{i}]", T, 2)
        if T.shape != (d, d):
            raise InputError(f"transfers[{i}] must have shape ({d}, {d}), got {T.shape}")
        checked.append(T)
    blocks, rows = [], 0
    for p, T in zip(problems, checked):
        blocks.append(square_root_factor(p, T @ vec, channel) @ T)
        rows += p.n_rows(channel)
    return blocks, rows


def stacked_certificate(
    problems: Sequence[LocalProblem],
    v: Any,
    channel: str,
    transfers: Sequence[Any] | None,
    tol: float | None,
    theorem: str,
    claim: str,
    label: str,
    *,
    witness: Any | None = None,
) -> Certificate:
    """Local identifiability of v from the stacked ``[R_j T_j]_j`` of several problems (layers or
    environments).

    holds: the stack has certified rank d. violated: a common null direction u is the witness,
    re-verified problem by problem: ``|R_j T_j u| <= (10 tau + 1e3 eps s_1) |u|`` for every j (the
    largest image is the typed ``residual``, the details list them all); each is a gate, and a
    problem that reads u makes the verdict undecided. (Re-running u through the whole model is
    ``proofs_check.model_checks``' job.) An exact symmetry is named when the all-ones direction is
    in every problem's null space. undecided: the stacked rank is not certified. ``witness``: a
    claimed common null direction to re-verify in place of the computed one (used when the stack
    is rank deficient)."""
    tol = as_tolerance("tol", tol)
    if not isinstance(theorem, str) or not isinstance(claim, str) or not isinstance(label, str):
        raise InputError(f"theorem, claim and label must be strings, got {theorem!r}, {label!r}")
    layer_blocks, rows = layer_factors(problems, v, channel, transfers)
    stack = np.vstack(layer_blocks)
    d = stack.shape[1]
    claimed = None if witness is None else problems[0].vector(witness, "witness")
    _, s, vt = scipy.linalg.svd(stack, full_matrices=True)
    s = np.concatenate([s, np.zeros(max(0, d - s.size))])[:d]
    decision = decide_rank_from_singular_values(s, (rows, d), tol)
    per_problem = []
    for p, block in zip(problems, layer_blocks):
        sv = np.concatenate([scipy.linalg.svdvals(block), np.zeros(d)])[:d]
        per_problem.append(decide_rank_from_singular_values(sv, (p.n_rows(channel), d), tol).rank)
    null_dim = d - decision.rank
    vec = problems[0].vector(v)
    ones_images = [_ones_image(b) for b in layer_blocks]
    symmetries = ("layernorm-mean",) if null_dim and max(ones_images) <= decision.tolerance else ()
    details: dict[str, Any] = {
        f"{label}s": [p.meta.get(label) for p in problems],
        f"rank_per_{label}": per_problem,
        f"ones_image_per_{label}": ones_images,
        "band_top": decision.band_top,
    }
    common = dict(
        theorem=theorem,
        claim=claim,
        dim=null_dim,
        rank=decision.rank,
        d=d,
        tolerance=decision.tolerance,
        singular_values=decision.singular_values,
        ambiguous=decision.ambiguous,
        channel=channel,
        symmetries=symmetries,
    )
    if not decision.certified:
        return Certificate(
            verdict=Verdict.UNDECIDED,
            margin=decision.margin,
            witness={"v": vec},
            reason="rank of the stack not certified: singular values in the grey band",
            details=details,
            **common,
        )
    if null_dim == 0:
        return Certificate(
            verdict=Verdict.HOLDS,
            margin=decision.margin,
            witness={"v": vec},
            details=details,
            **common,
        )
    null_basis = vt[decision.rank :].T
    u = claimed if claimed is not None else null_basis[:, 0]
    nu = float(np.linalg.norm(u))
    slack = (10.0 * decision.tolerance + NOISE_FACTOR * EPS * float(s[0])) * nu
    images = [float(np.linalg.norm(b @ u)) for b in layer_blocks]
    gates = {"rank": decision.margin, "witness nonzero": math.inf if nu > 0 else 0.0}
    for j, image in enumerate(images):
        gates[f"{label} {j}: u in the null space"] = ratio_margin(slack, image)
    verdict, margin, reason = refute(gates)
    details[f"witness_image_per_{label}"] = images
    return Certificate(
        verdict=verdict,
        margin=margin,
        witness={"v": vec, "common_null_direction": u, "null_basis": null_basis},
        residual=max(images),
        residual_tolerance=slack,
        reason=reason,
        details=details,
        **common,
    )


def check_t9(
    problems: Sequence[LocalProblem],
    v: Any,
    channel: str,
    transfers: Sequence[Any] | None = None,
    tol: float | None = None,
    *,
    witness: Any | None = None,
) -> Certificate:
    """T9: is v locally identifiable from its behaviour when steered (as ``T_j v``) at each
    problem's layer? See ``stacked_certificate`` (the same gates); details are per layer."""
    return stacked_certificate(
        problems,
        v,
        channel,
        transfers,
        tol,
        "T9",
        T9_CLAIM,
        "layer",
        witness=witness,
    )
