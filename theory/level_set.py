"""Twins on smooth models: walk the level set {B = B(v)} away from v (docs/theorems.md T3).

Each step moves along the projection of -grad cos(w, v) on ker J(w) (the class's tangent space),
then Gauss-Newton pulls the trial back onto the level set; the member found is re-run through a
behaviour map (by default the problem's own; pass one that runs the whole model) and the verdict
rests on that re-run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg

from theory.validation import InputError

from .certificate import Certificate, CosineRange, Verdict, min_margin, ratio_margin
from .jacobian import (
    EngineOptions,
    LocalProblem,
    as_channel,
    behaviour,
    coordinates,
    coordinates_vjp,
    local_spectrum,
    one_blas_thread,
    trait_rows,
)
from .local_common import (
    as_map,
    as_options,
    as_problem,
    exact_symmetries,
    labels,
    ones_direction,
    subject,
)
from .rank import EPS, decide_rank_from_singular_values
from .residual import behaviour_residual
from .validation import as_count, as_positive_real, as_real, as_tolerance

TWIN_CLAIM = (
    "walking the level set {B = B(v)} from v reaches members of [v] far from v "
    "(re-run through the model)"
)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return float(a @ b / (na * nb)) if na > 0 and nb > 0 else 1.0


def _gauss_newton(problem, channel, w, target, scale, tol, max_iter, rank_tol, options):
    """Pull w back onto {C = target} by Gauss-Newton, delta = -J(w)^+ r with the rank of J(w)
    decided from its square root at every iterate. trait: a least-squares solve on the dense
    gradient rows; logits/probs: delta = -V_r S_r^-2 V_r^T J^T r from the square-root factor's SVD
    (the solve squares the condition number; convergence is judged on the re-measured residual,
    never on this solve, and no rank decision rests on it). Returns (w, |r(w)| / scale), the
    residual re-measured at the w returned."""
    res = math.inf
    for _ in range(max_iter):
        r = coordinates(problem, w, channel) - target
        previous, res = res, float(np.linalg.norm(r)) / scale
        if res <= tol or res > 0.5 * previous:
            break  # converged, or stalled at round-off (or diverging): the caller judges it
        if channel == "trait":
            opt = options if options is not None else EngineOptions()
            rows = trait_rows(
                problem, w, opt.prompt_chunk, opt.trait_mode, opt.direction_chunk, opt.n_devices
            )
            s = scipy.linalg.svdvals(rows)
            dec = decide_rank_from_singular_values(
                np.concatenate([s, np.zeros(max(problem.d - s.size, 0))]), rows.shape, rank_tol
            )
            w = w - scipy.linalg.lstsq(rows, r.reshape(-1), cond=dec.tolerance / max(s[0], EPS))[0]
        else:
            spec = local_spectrum(problem, w, channel, rank_tol, options)
            vt, sv = spec.row_basis, spec.singular_values[: spec.rank]
            if spec.rank == 0:
                break
            g = coordinates_vjp(problem, w, channel, r, options)
            w = w - vt @ ((vt.T @ g) / sv**2)
    else:  # max_iter steps taken: the residual returned is the one of the w returned
        res = float(np.linalg.norm(coordinates(problem, w, channel) - target)) / scale
    return w, res


def _direction(spec, w: np.ndarray, vec: np.ndarray, cos_w: float) -> np.ndarray:
    """The projection of -grad cos(w, v) on ker J(w); at w = v, where the gradient vanishes,
    -Pi_ker v; when v is orthogonal to ker J, a null direction (|w| grows at second order along
    any of them, so the cosine still falls)."""
    nv, nw = float(np.linalg.norm(vec)), float(np.linalg.norm(w))
    null = spec.null_basis
    grad = vec / (nw * nv) - cos_w * w / nw**2
    dirn = -null @ (null.T @ grad)
    if np.linalg.norm(dirn) * nw <= 1e-6:
        dirn = -null @ (null.T @ vec)
        if np.linalg.norm(dirn) <= 1e-12 * nv:
            dirn = null[:, 0].copy()
    return dirn / np.linalg.norm(dirn)


@one_blas_thread
def twin_search(
    problem: LocalProblem,
    v: Any,
    channel: str = "trait",
    target_cosine: float = 0.0,
    max_steps: int = 60,
    step: float = 0.25,
    residual_tol: float = 1e-10,
    verify: Callable[[np.ndarray], Any] | None = None,
    tol: float | None = None,
    options: EngineOptions | None = None,
) -> Certificate:
    """Search [v] for a member far from v: minimise cos(w, v) on the level set {B(w) = B(v)}.

    Steps of ``step |v|`` (x1.5 after a success, /2 after a failure) along the class's tangent
    space, each pulled back onto the level set by Gauss-Newton (at most 10 iterations, to
    1e-3 ``residual_tol``); a trial is kept only when its residual is <= ``residual_tol`` and its
    cosine is lower. Stops at ``target_cosine``, after
    ``max_steps`` trials, or when the step falls below 1e-6 |v|.

    The member w is re-run through ``verify`` (default: the problem's own behaviour map; pass a
    map that runs the whole model): residual |B(w) - B(v)| / |B(v) - B(0)| (``theory.residual``),
    held to ``max(1e-8, residual_tol)``. Holds when the re-run passes (margin tolerance /
    residual) and the walk moved (cos(w, v) < 1 - 1e-9), or ker J(v) = 0 with a certified rank and
    nothing to move along (locally identifiable); undecided if the re-run fails or it did not move.
    Typed fields: cosine, residual, residual_tolerance, model, layer, channel, d, symmetries, and
    cosine_range when the only free direction is the LayerNorm symmetry (null dim 1): the class is
    then locally v + span(1), whose cosines to v fill (-|<v, 1>| / (|v| |1|), 1].
    """
    problem = as_problem(problem)
    channel = as_channel(channel)
    target_cosine = as_real("target_cosine", target_cosine, low=-1.0, high=1.0, high_open=True)
    max_steps = as_count("max_steps", max_steps)
    step = as_positive_real("step", step)
    residual_tol = as_positive_real("residual_tol", residual_tol)
    verify = as_map("verify", verify)
    tol = as_tolerance("tol", tol)
    options = as_options(options)
    vec = problem.vector(v)
    if not np.any(vec):
        raise InputError("v must be nonzero: the cosine to the zero vector is undefined")
    nv = float(np.linalg.norm(vec))
    zero = np.zeros_like(vec)
    target = coordinates(problem, vec, channel)
    c_scale = max(
        float(np.linalg.norm(target - coordinates(problem, zero, channel))),
        math.sqrt(EPS) * max(1.0, float(np.linalg.norm(target))),
    )
    spec0 = local_spectrum(problem, vec, channel, tol, options)
    symmetries, _ = exact_symmetries(spec0)
    w, cos_w, spec = vec.copy(), 1.0, spec0
    h = step * nv
    path, accepted, trials = [1.0], 0, 0
    while trials < max_steps and cos_w > target_cosine and h >= 1e-6 * nv and spec.null_dim:
        trials += 1
        trial = w + h * _direction(spec, w, vec, cos_w)
        trial, res = _gauss_newton(
            problem, channel, trial, target, c_scale, 1e-3 * residual_tol, 10, tol, options
        )
        cos_t = _cosine(trial, vec)
        if res <= residual_tol and cos_t < cos_w:
            w, cos_w, accepted = trial, cos_t, accepted + 1
            spec = local_spectrum(problem, w, channel, tol, options)
            path.append(cos_w)
            h *= 1.5
        else:
            h *= 0.5
    run = verify if verify is not None else (lambda x: behaviour(problem, x, channel))
    residual = behaviour_residual(np.asarray(run(w)), np.asarray(run(vec)), np.asarray(run(zero)))
    internal = behaviour_residual(
        behaviour(problem, w, channel),
        behaviour(problem, vec, channel),
        behaviour(problem, zero, channel),
    )
    held_to = max(1e-8, residual_tol)
    rerun = ratio_margin(held_to, residual)
    moved = cos_w < 1.0 - 1e-9
    cosine_range = None
    if symmetries and spec0.null_dim == 1:
        bound = -abs(float(vec @ ones_direction(problem.d))) / nv
        cosine_range = CosineRange(bound, 1.0, False)
    details = {
        **labels(problem),
        "internal_residual": internal,
        "distance": float(np.linalg.norm(w - vec)) / nv,
        "null_dim": spec0.null_dim,
        "trials": trials,
        "accepted": accepted,
        "cosine_path": path,
        "target_cosine": target_cosine,
        "reached_target": cos_w <= target_cosine,
        "symmetry_cosine_bound": None if cosine_range is None else cosine_range.inf,
    }
    margin, reason = rerun, ""
    if rerun < 1:
        reason = "the member found does not steer like v when re-run through verify"
    elif not moved and spec0.null_dim:
        reason = "the walk accepted no step: no member other than v was found"
    elif not moved:  # ker J(v) = 0: locally identifiable, if the rank is certified
        margin = min_margin(rerun, spec0.decision.margin)
        if not spec0.decision.certified:
            reason = "rank not certified: singular values in the grey band"
    return Certificate(
        theorem="T3",
        verdict=Verdict.UNDECIDED if reason else Verdict.HOLDS,
        claim=TWIN_CLAIM,
        dim=spec0.null_dim,
        rank=spec0.rank,
        margin=margin,
        tolerance=held_to,
        witness={"v": vec, "twin": w},
        cosine=cos_w,
        residual=residual,
        residual_tolerance=held_to,
        cosine_range=cosine_range,
        symmetries=tuple(symmetries),
        singular_values=spec0.singular_values,
        ambiguous=spec0.decision.ambiguous,
        reason=reason,
        details=details,
        **subject(problem, channel),
    )
