"""T3 on smooth models: the Jacobian/Fisher criterion, first-order invisibility, and twins.

- (a) If rank J = r on a neighbourhood of v, the class [v] is locally a manifold of dimension d - r
  whose tangent space at v is ker J(v) (constant-rank theorem; for probs, Rothenberg: locally
  identifiable iff the Fisher information F = J^T J of 2 sqrt(p) is nonsingular).
- (b) The trait channel gives one number per (prompt, strength): r <= N|A|, dim [v] >= d - N|A|.
- (c) For u in ker J: |B(v + eps u) - B(v)| = O(eps^2); otherwise O(eps); and
  KL(p_v || p_{v + eps u}) = (eps^2 / 2) u^T F u + O(eps^3), with u^T F u = |R u|^2 from the square root.

Every rank comes from ``theory.jacobian`` (singular values of a square-root factor, ``theory.rank``
decisions). ``twin_search`` walks the level set {B = B(v)} away from v and returns a witness that is
re-run through the model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.linalg
import scipy.special

from .certificate import Certificate, Verdict
from .jacobian import (
    CHANNELS,
    EngineOptions,
    LocalProblem,
    LocalSpectrum,
    _check_channel,
    _trait_weights,
    behaviour,
    coordinates,
    coordinates_vjp,
    local_spectrum,
    logits_at,
    observe,
    one_blas_thread,
    tangents,
    trait_rows,
)
from .rank import EPS, decide_rank_from_singular_values
from .residual import behaviour_residual
from .validation import as_tolerance

LAYERNORM_MEAN = "layernorm-mean"

T3A_CLAIM = (
    "rank J = r near v => [v] is locally a manifold of dim d - r with tangent space ker J(v)"
)
T3B_CLAIM = "trait channel: rank J <= N|A|, so dim [v] >= d - N|A|"
T3C_CLAIM = (
    "u in ker J: |B(v + eps u) - B(v)| = O(eps^2), u outside: O(eps); "
    "KL(p_v || p_{v+eps u}) = (eps^2/2) u^T F u + O(eps^3)"
)
TWIN_CLAIM = "walking the level set {B = B(v)} from v reaches members of [v] far from v (re-run through the model)"


def _meta(problem: LocalProblem) -> dict:
    return {k: problem.meta[k] for k in ("model", "layer", "seed", "norm") if k in problem.meta}


def _ones(d: int) -> np.ndarray:
    return np.ones(d) / math.sqrt(d)


def exact_symmetries(spec: LocalSpectrum) -> tuple[list[str], float]:
    """Exact symmetries seen in the null space, and |J 1|/(sqrt(d) s_max): "layernorm-mean" when
    the all-ones direction is mapped to zero (|R 1/sqrt(d)| <= tau, the rank's own zero threshold)."""
    s_max = float(spec.singular_values[0]) if spec.d else 0.0
    image = spec.norm_of_image(_ones(spec.d))
    found = [LAYERNORM_MEAN] if spec.null_dim and image <= spec.decision.tolerance else []
    return found, (image / s_max if s_max > 0 else 0.0)


def _check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return int(value)


def _random_unit(rng: np.random.Generator, basis: np.ndarray) -> np.ndarray:
    c = rng.standard_normal(basis.shape[1])
    u = basis @ c
    return u / np.linalg.norm(u)


# ---------------------------------------------------------------------------------------------
# T3(a): spectrum and null space


@one_blas_thread
def spectrum_certificate(
    problem: LocalProblem,
    v: Any,
    channel: str,
    tol: float | None = None,
    neighbours: int = 2,
    radius: float = 1e-3,
    seed: int = 0,
    spectrum: LocalSpectrum | None = None,
    options: EngineOptions | None = None,
) -> Certificate:
    """T3(a) for (problem, channel, v): dim = d - rank, witness ``null_basis`` (d, d - rank).

    Holds when the rank is certified, is the same at ``neighbours`` random points at distance
    ``radius |v|`` (constant rank, the theorem's hypothesis) and every null direction, re-run in
    forward mode through the model (jvp), moves the coordinates by at most the grey band's top
    sqrt(tau s_max) while every row direction moves them by more. Undecided when the rank is not
    certified or not constant near v. Details: singular values, symmetries ("layernorm-mean" when
    span(1) is in the null space).
    """
    _check_channel(channel)
    vec = problem.vector(v)
    tol = as_tolerance("tol", tol)
    neighbours = _check_positive_int("neighbours", neighbours)
    if not (isinstance(radius, (int, float)) and math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be a positive finite number, got {radius!r}")
    if spectrum is not None and (
        spectrum.channel != channel or not np.array_equal(spectrum.vector, vec)
    ):
        raise ValueError(
            "spectrum must be local_spectrum(problem, v, channel) for this v and channel"
        )
    spec = spectrum if spectrum is not None else local_spectrum(problem, vec, channel, tol, options)
    dec = spec.decision
    rng = np.random.default_rng(seed)
    scale = max(float(np.linalg.norm(vec)), 1.0)
    nearby = []
    for _ in range(neighbours):
        g = rng.standard_normal(problem.d)
        nearby.append(
            local_spectrum(
                problem, vec + radius * scale * g / np.linalg.norm(g), channel, tol, options
            ).rank
        )
    symmetries, ones_image = exact_symmetries(spec)
    null_image, row_image = _recheck_directions(problem, spec)
    details = {
        **_meta(problem),
        "channel": channel,
        "d": problem.d,
        "null_dim": spec.null_dim,
        "n_rows": spec.n_rows,
        "symmetries": symmetries,
        "ones_image": ones_image,
        "neighbour_ranks": nearby,
        "null_jvp_max": null_image,
        "row_jvp_min": row_image,
        **dec.summary(),
    }
    constant = all(r == spec.rank for r in nearby)
    if not dec.certified or not constant:
        details["reason"] = (
            "rank not certified: singular values in the grey band"
            if not dec.certified
            else "rank not constant near v: not a regular point"
        )
        verdict = Verdict.UNDECIDED
    else:
        ok = null_image <= dec.band_top and (spec.rank == 0 or row_image > dec.band_top)
        verdict = Verdict.HOLDS if ok else Verdict.VIOLATED
    return Certificate(
        theorem="T3",
        verdict=verdict,
        claim=T3A_CLAIM,
        dim=spec.null_dim,
        rank=spec.rank,
        margin=dec.margin,
        tolerance=dec.tolerance,
        witness={"v": vec, "null_basis": spec.null_basis},
        details=details,
    )


_JVP_BLOCK_FLOATS = 2**24  # budget for one block of logit tangents (b, N, T, V): 128 MiB


def _channel_jvp(problem: LocalProblem, spec: LocalSpectrum, directions: np.ndarray) -> np.ndarray:
    """|J u| for each column u of ``directions``, by forward mode through the model (not via R), in
    blocks of directions of one shape (zero-padded) so the tangent map compiles once."""
    ch = spec.channel
    n_dir = directions.shape[1]
    out = np.zeros(n_dir)
    if n_dir == 0:
        return out
    per_direction = problem.n_prompts * problem.length * problem.vocab
    block = int(max(1, min(n_dir, _JVP_BLOCK_FLOATS // per_direction)))
    for alpha in problem.alphas:
        z = logits_at(problem, spec.vector, alpha)
        lp = scipy.special.log_softmax(z, axis=-1)
        g = _trait_weights(z[:, -1, :], problem.plus, problem.minus) if ch == "trait" else None
        for start in range(0, n_dir, block):
            dirs = np.zeros((block, problem.d))
            chunk = directions[:, start : start + block].T
            dirs[: chunk.shape[0]] = chunk
            dz = tangents(problem, spec.vector, dirs, alpha) @ problem.w_u  # (b, N, T, V)
            if ch == "logits":
                sq = np.sum(dz**2, axis=(1, 2, 3))
            elif ch == "probs":
                u, p = np.exp(0.5 * lp), np.exp(lp)
                a = u * (
                    dz - np.sum(p * dz, axis=-1, keepdims=True)
                )  # d(2 sqrt p) = u (dz - <p, dz>)
                sq = np.sum(a**2, axis=(1, 2, 3))
            else:
                sq = np.sum(np.einsum("nv,bnv->bn", g, dz[:, :, -1, :]) ** 2, axis=1)
            out[start : start + chunk.shape[0]] += sq[: chunk.shape[0]]
    return np.sqrt(out)


def _recheck_directions(problem: LocalProblem, spec: LocalSpectrum) -> tuple[float, float]:
    """(max |J u| over the null basis, min |J u| over the row basis), by jvp through the model: the
    d basis directions together, so the compiled tangent map of the engine is reused."""
    images = _channel_jvp(problem, spec, np.concatenate([spec.row_basis, spec.null_basis], axis=1))
    r = spec.rank
    return (
        float(images[r:].max()) if spec.null_dim else 0.0,
        float(images[:r].min()) if r else math.inf,
    )


def local_class(
    problem: LocalProblem,
    v: Any,
    channel: str,
    tol: float | None = None,
    seed: int = 0,
    options: EngineOptions | None = None,
) -> Certificate:
    """What ``steerid local`` prints: the T3 spectrum certificate of v for one channel."""
    return spectrum_certificate(problem, v, channel, tol=tol, seed=seed, options=options)


# ---------------------------------------------------------------------------------------------
# T3(b): the data condition of the trait channel


@one_blas_thread
def check_t3b(
    problem: LocalProblem, v: Any, tol: float | None = None, options: EngineOptions | None = None
) -> Certificate:
    """T3(b): trait rank <= N|A| and dim >= d - N|A|; details say whether the bound is attained."""
    vec = problem.vector(v)
    spec = local_spectrum(problem, vec, "trait", tol, options)
    pairs = problem.n_prompts * len(problem.alphas)
    dec = spec.decision
    details = {
        **_meta(problem),
        "channel": "trait",
        "d": problem.d,
        "pairs": pairs,
        "bound_rank": pairs,
        "bound_dim": max(problem.d - pairs, 0),
        "bound_attained": spec.rank == min(pairs, problem.d),
        "locally_identifiable": spec.null_dim == 0,
        **dec.summary(),
    }
    if not dec.certified:
        verdict = Verdict.UNDECIDED
        details["reason"] = "rank not certified: singular values in the grey band"
    else:
        # independent of the factor: re-run the null and row directions through the model (jvp)
        null_image, row_image = _recheck_directions(problem, spec)
        details.update(null_jvp_max=null_image, row_jvp_min=row_image)
        ok = (
            spec.rank <= pairs
            and spec.null_dim >= problem.d - pairs
            and null_image <= dec.band_top
            and (spec.rank == 0 or row_image > dec.band_top)
        )
        verdict = Verdict.HOLDS if ok else Verdict.VIOLATED
    return Certificate(
        theorem="T3",
        verdict=verdict,
        claim=T3B_CLAIM,
        dim=spec.null_dim,
        rank=spec.rank,
        margin=dec.margin,
        tolerance=dec.tolerance,
        witness={"v": vec, "null_basis": spec.null_basis},
        details=details,
    )


# ---------------------------------------------------------------------------------------------
# T3(c): first order


def fitted_slope(eps: Any, changes: Any) -> float:
    """Least-squares slope of log(change) against log(eps)."""
    e, c = (
        np.log(np.asarray(eps, dtype=float)),
        np.log(np.maximum(np.asarray(changes, dtype=float), 1e-300)),
    )
    return float(np.polyfit(e, c, 1)[0])


def behaviour_changes(
    problem: LocalProblem, v: Any, u: Any, channel: str, eps: Sequence[float]
) -> np.ndarray:
    """|B(v + eps u) - B(v)| for each eps."""
    vec, dirn = problem.vector(v), problem.vector(u, "u")
    base = behaviour(problem, vec, channel)
    return np.array(
        [np.linalg.norm(behaviour(problem, vec + e * dirn, channel) - base) for e in eps]
    )


def kl_divergences(problem: LocalProblem, v: Any, u: Any, eps: Sequence[float]) -> np.ndarray:
    """sum over (alpha, prompt, position) of KL(p_v || p_{v + eps u}), from log-softmax."""
    vec, dirn = problem.vector(v), problem.vector(u, "u")
    lp = observe(problem, vec, "logprobs")
    p = np.exp(lp)
    return np.array(
        [float(np.sum(p * (lp - observe(problem, vec + e * dirn, "logprobs")))) for e in eps]
    )


def _default_eps(v: np.ndarray) -> np.ndarray:
    return max(float(np.linalg.norm(v)), 1.0) * np.geomspace(1e-5, 1e-2, 7)


def first_order_directions(spec: LocalSpectrum, symmetries: Sequence[str], seed: int = 0):
    """(u_null, u_out): a random unit null direction with the exact symmetries projected out (None
    when nothing is left) and the top right singular vector (None when rank 0)."""
    rng = np.random.default_rng(seed)
    u_null = None
    if spec.null_dim:
        basis = spec.null_basis
        if LAYERNORM_MEAN in symmetries:
            one = _ones(spec.d)
            basis = basis - np.outer(one, one @ basis)
        if np.linalg.matrix_rank(basis, tol=1e-8) > 0:
            u = _random_unit(rng, basis)
            u_null = u / np.linalg.norm(u)
    u_out = spec.row_basis[:, 0].copy() if spec.rank else None
    return u_null, u_out


@one_blas_thread
def check_t3c(
    problem: LocalProblem,
    v: Any,
    channel: str = "trait",
    eps: Sequence[float] | None = None,
    seed: int = 0,
    kl: bool = True,
    slope_tol: float = 0.2,
    options: EngineOptions | None = None,
) -> Certificate:
    """T3(c): fitted log-log slopes of |B(v + eps u) - B(v)| for a null direction (~2) and the top
    row direction (~1), the first-order coefficient |B(v + eps u_out) - B(v)| / eps -> |J u_out|
    (logits, trait), an exact symmetry's change (round-off), and the KL ratio
    KL / ((eps^2/2) u^T F u) -> 1 for a random u, with u^T F u = |R u|^2 from the probs factor."""
    _check_channel(channel)
    vec = problem.vector(v)
    if (
        isinstance(slope_tol, bool)
        or not isinstance(slope_tol, (int, float))
        or not (math.isfinite(slope_tol) and slope_tol > 0)
    ):
        raise ValueError(f"slope_tol must be a positive finite number, got {slope_tol!r}")
    if not isinstance(kl, bool):
        raise ValueError(f"kl must be a bool, got {kl!r}")
    eps = _default_eps(vec) if eps is None else np.asarray(eps, dtype=float)
    if eps.ndim != 1 or eps.size < 3 or not np.all(np.isfinite(eps)) or np.any(eps <= 0):
        raise ValueError(f"eps must be at least 3 positive finite step sizes, got {eps!r}")
    spec = local_spectrum(problem, vec, channel, None, options)
    symmetries, _ = exact_symmetries(spec)
    u_null, u_out = first_order_directions(spec, symmetries, seed)
    details: dict[str, Any] = {
        **_meta(problem),
        "channel": channel,
        "eps": eps,
        "symmetries": symmetries,
        "rank": spec.rank,
        "null_dim": spec.null_dim,
    }
    ok = spec.certified
    witness = {"v": vec}
    scale = max(float(np.linalg.norm(behaviour(problem, vec, channel))), 1.0)
    if u_null is not None:
        ch = behaviour_changes(problem, vec, u_null, channel, eps)
        details.update(null_changes=ch, null_slope=fitted_slope(eps, ch))
        ok &= abs(details["null_slope"] - 2.0) <= slope_tol
        witness["u_null"] = u_null
    else:
        details.update(null_slope=None, null_changes=None)
    if LAYERNORM_MEAN in symmetries:
        ch = behaviour_changes(problem, vec, _ones(problem.d), channel, eps)
        details["symmetry_change_max"] = float(ch.max() / scale)
        ok &= details["symmetry_change_max"] <= 1e-12 * max(1.0, float(eps.max()))
    if u_out is not None:
        ch = behaviour_changes(problem, vec, u_out, channel, eps)
        details.update(outside_changes=ch, outside_slope=fitted_slope(eps, ch))
        ok &= abs(details["outside_slope"] - 1.0) <= slope_tol
        witness["u_out"] = u_out
        if channel != "probs":
            predicted = spec.norm_of_image(u_out)
            details["first_order_ratio"] = float(ch[0] / eps[0] / predicted)
            ok &= abs(details["first_order_ratio"] - 1.0) <= 1e-2
    else:
        details.update(outside_slope=None, outside_changes=None)
    if kl:
        fisher = (
            spec if channel == "probs" else local_spectrum(problem, vec, "probs", None, options)
        )
        u = np.random.default_rng(seed + 1).standard_normal(problem.d)
        u /= np.linalg.norm(u)
        uFu = fisher.quadratic_form(u)
        kls = kl_divergences(problem, vec, u, eps)
        ratios = kls / (0.5 * eps**2 * uFu)
        details.update(
            kl=kls,
            uFu=uFu,
            kl_ratios=ratios,
            kl_ratio=float(ratios[0]),
            kl_ratio_error_slope=fitted_slope(eps, np.abs(ratios - 1.0)),
        )
        ok &= abs(ratios[0] - 1.0) <= 1e-2 and bool(np.all(np.abs(ratios - 1.0) <= 0.5))
        witness["u_kl"] = u
    margin = details.get("null_slope")
    return Certificate(
        theorem="T3",
        verdict=Verdict.HOLDS
        if ok
        else (Verdict.VIOLATED if spec.certified else Verdict.UNDECIDED),
        claim=T3C_CLAIM,
        dim=spec.null_dim,
        rank=spec.rank,
        margin=None if margin is None else abs(margin - 2.0),
        tolerance=slope_tol,
        witness=witness,
        details=details,
    )


# ---------------------------------------------------------------------------------------------
# twins: walking the level set


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return float(a @ b / (na * nb)) if na > 0 and nb > 0 else 1.0


def _gauss_newton(problem, channel, w, target, scale, tol, max_iter, rank_tol, options):
    """Pull w back onto {C = target} by Gauss-Newton, delta = -J(w)^+ r with the rank of J(w)
    decided from its square root at every iterate. trait: a least-squares solve on the dense
    gradient rows; logits/probs: delta = -V_r S_r^-2 V_r^T J^T r from the square-root factor's SVD
    (the solve squares the condition number; convergence is judged on the re-measured residual, never
    on this solve, and no rank decision rests on it). Returns (w, |r| / scale)."""
    res = math.inf
    for _ in range(max_iter):
        r = coordinates(problem, w, channel) - target
        previous, res = res, float(np.linalg.norm(r)) / scale
        if res <= tol or res > 0.5 * previous:
            break  # converged, or stalled at round-off (or diverging): the caller judges the residual
        if channel == "trait":
            opt = options if options is not None else EngineOptions()
            rows = trait_rows(problem, w, opt.prompt_chunk, opt.trait_mode, opt.direction_chunk)
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
    return w, res


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

    Each step moves along the projection of -grad cos(w, v) on ker J(w) (the class's tangent space;
    at w = v, where the gradient vanishes, along -Pi_ker v),
    by ``step |v|`` (x1.5 after a success, /2 after a failure), then Gauss-Newton pulls the trial
    back onto the level set; a trial is kept only when its residual is <= ``residual_tol`` and its
    cosine is lower. Stops at ``target_cosine``, after ``max_steps`` trials, or when the step falls
    below 1e-6 |v|. The witness is re-run through ``verify`` (default: the problem's own behaviour
    map; pass a map that runs the whole model) and its residual |B(w) - B(v)| / |B(v) - B(0)|
    (``theory.residual``) reported. Holds when that residual is <= 1e-8 and, if ker J(v) != 0, the
    walk moved (or ker J(v) = 0 and nothing moved: locally identifiable).
    """
    _check_channel(channel)
    vec = problem.vector(v)
    if not np.any(vec):
        raise ValueError("v must be nonzero: the cosine to the zero vector is undefined")
    tol = as_tolerance("tol", tol)
    max_steps = _check_positive_int("max_steps", max_steps)
    for name, value in (
        ("step", step),
        ("residual_tol", residual_tol),
        ("target_cosine", target_cosine),
    ):
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if step <= 0 or residual_tol <= 0:
        raise ValueError("step and residual_tol must be positive")
    if not -1.0 <= target_cosine < 1.0:
        raise ValueError(f"target_cosine must lie in [-1, 1), got {target_cosine!r}")
    nv = float(np.linalg.norm(vec))
    target = coordinates(problem, vec, channel)
    b_v, b_0 = behaviour(problem, vec, channel), behaviour(problem, np.zeros_like(vec), channel)
    c_scale = max(
        float(np.linalg.norm(target - coordinates(problem, np.zeros_like(vec), channel))),
        math.sqrt(EPS) * max(1.0, float(np.linalg.norm(target))),
    )
    spec0 = local_spectrum(problem, vec, channel, tol, options)
    symmetries, _ = exact_symmetries(spec0)
    w, cos_w, spec = vec.copy(), 1.0, spec0
    h = step * nv
    path, accepted, trials = [1.0], 0, 0
    while trials < max_steps and cos_w > target_cosine and h >= 1e-6 * nv and spec.null_dim:
        trials += 1
        nw = float(np.linalg.norm(w))
        grad = vec / (nw * nv) - cos_w * w / nw**2
        dirn = -spec.null_basis @ (spec.null_basis.T @ grad)
        if np.linalg.norm(dirn) * nw <= 1e-6:
            # at w = v the cosine is stationary: start along -Pi_ker v, which lowers <w, v> fastest
            dirn = -spec.null_basis @ (spec.null_basis.T @ vec)
            if np.linalg.norm(dirn) <= 1e-12 * nv:
                # v is orthogonal to ker J(w): no first-order way down, but along any null direction
                # |w| grows at second order, so the cosine still falls
                dirn = spec.null_basis[:, 0].copy()
        trial = w + h * dirn / np.linalg.norm(dirn)
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
    b_v_run = np.asarray(run(vec))
    residual = behaviour_residual(np.asarray(run(w)), b_v_run, np.asarray(run(np.zeros_like(vec))))
    internal = behaviour_residual(behaviour(problem, w, channel), b_v, b_0)
    moved = cos_w < 1.0 - 1e-9
    verified = residual <= max(1e-8, residual_tol)
    one = _ones(problem.d)
    details = {
        **_meta(problem),
        "channel": channel,
        "d": problem.d,
        "cosine": cos_w,
        "residual": residual,
        "internal_residual": internal,
        "distance": float(np.linalg.norm(w - vec)) / nv,
        "null_dim": spec0.null_dim,
        "rank": spec0.rank,
        "symmetries": symmetries,
        "trials": trials,
        "accepted": accepted,
        "cosine_path": path,
        "target_cosine": target_cosine,
        "reached_target": cos_w <= target_cosine,
        "symmetry_cosine_bound": (
            -abs(float(vec @ one)) / nv if symmetries and spec0.null_dim == 1 else None
        ),
    }
    if not verified:
        verdict = Verdict.VIOLATED  # the returned member does not steer like v when re-run
    elif moved or spec0.null_dim == 0:
        verdict = Verdict.HOLDS
    else:  # a walk that found no step proves nothing either way
        verdict = Verdict.UNDECIDED
        details["reason"] = "the walk accepted no step: no member other than v was found"
    return Certificate(
        theorem="T3",
        verdict=verdict,
        claim=TWIN_CLAIM,
        dim=spec0.null_dim,
        rank=spec0.rank,
        margin=residual,
        tolerance=max(1e-8, residual_tol),
        witness={"v": vec, "twin": w},
        details=details,
    )


__all__ = [
    "CHANNELS",
    "LAYERNORM_MEAN",
    "spectrum_certificate",
    "local_class",
    "check_t3b",
    "check_t3c",
    "twin_search",
    "exact_symmetries",
    "fitted_slope",
    "behaviour_changes",
    "kl_divergences",
    "first_order_directions",
]
