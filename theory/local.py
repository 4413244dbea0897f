"""T3 on smooth models: the Jacobian/Fisher criterion, first-order invisibility, and twins.

- (a) If rank J = r on a neighbourhood of v, the class [v] is locally a manifold of dimension d - r
  whose tangent space at v is ker J(v) (constant-rank theorem; for probs, Rothenberg: locally
  identifiable iff the Fisher information F = J^T J of 2 sqrt(p) is nonsingular).
- (b) The trait channel gives one number per (prompt, strength): r <= N|A|, dim [v] >= d - N|A|.
- (c) For u in ker J: |B(v + eps u) - B(v)| = O(eps^2); otherwise O(eps); and
  KL(p_v || p_{v + eps u}) = (eps^2 / 2) u^T F u + O(eps^3), u^T F u = |R u|^2 from the square root.

Every rank comes from ``theory.jacobian`` (singular values of a square-root factor, ``theory.rank``
decisions). This module holds (a) and (b), whose null and row bases are re-run through the model in
forward mode; (c) is ``theory.first_order`` and the level-set walk to twins ``theory.level_set``;
their public names are importable from here too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special

from theory.validation import InputError

from .certificate import Certificate, Verdict, min_margin, ratio_margin
from .first_order import (
    T3C_CLAIM,
    behaviour_changes,
    check_t3c,
    first_order_directions,
    fitted_slope,
    kl_divergences,
)
from .jacobian import (
    CHANNELS,
    EngineOptions,
    LocalProblem,
    LocalSpectrum,
    _trait_weights,
    as_channel,
    local_spectrum,
    logits_at,
    one_blas_thread,
    tangents,
)
from .level_set import TWIN_CLAIM, twin_search
from .local_common import LAYERNORM_MEAN, as_options, as_problem, exact_symmetries, labels, subject
from .validation import as_count, as_positive_real, as_seed, as_tolerance

T3A_CLAIM = (
    "rank J = r near v => [v] is locally a manifold of dim d - r with tangent space ker J(v)"
)
T3B_CLAIM = "trait channel: rank J <= N|A|, so dim [v] >= d - N|A|"

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
            elif ch == "probs":  # d(2 sqrt p) = u (dz - <p, dz>)
                u, p = np.exp(0.5 * lp), np.exp(lp)
                sq = np.sum(
                    (u * (dz - np.sum(p * dz, axis=-1, keepdims=True))) ** 2, axis=(1, 2, 3)
                )
            else:
                assert g is not None  # the trait weights, set above for the trait channel
                sq = np.sum(np.einsum("nv,bnv->bn", g, dz[:, :, -1, :]) ** 2, axis=1)
            out[start : start + chunk.shape[0]] += sq[: chunk.shape[0]]
    return np.sqrt(out)


def rerun_bases(problem: LocalProblem, spec: LocalSpectrum) -> tuple[float, float, float]:
    """Re-run the spectrum's bases through the model (jvp, independent of the factor R), all d
    directions together so the compiled tangent map is reused: ``(max |J u| over the null basis,
    min |J u| over the row basis, margin)``, the margin ``min(band_top / max_null,
    min_row / band_top)`` being >= 1 iff null directions stay at or below the top of the grey band
    ``sqrt(tau s_max)`` and row directions at or above it."""
    images = _channel_jvp(problem, spec, np.concatenate([spec.row_basis, spec.null_basis], axis=1))
    r, top = spec.rank, spec.decision.band_top
    null_max = float(images[r:].max()) if spec.null_dim else 0.0
    row_min = float(images[:r].min()) if r else math.inf
    row_margin = (row_min / top if top > 0 else math.inf) if r else None
    return null_max, row_min, min_margin(ratio_margin(top, null_max), row_margin)


def _check_spectrum(spectrum: Any, channel: str, vec: np.ndarray) -> LocalSpectrum | None:
    if spectrum is None:
        return None
    if not isinstance(spectrum, LocalSpectrum):
        raise InputError(f"spectrum must be a LocalSpectrum or None, got {type(spectrum).__name__}")
    if spectrum.channel != channel or not np.array_equal(spectrum.vector, vec):
        raise InputError(
            "spectrum must be local_spectrum(problem, v, channel) for this v and channel"
        )
    return spectrum


def _spectrum_fields(spec: LocalSpectrum, symmetries: list[str]) -> dict[str, Any]:
    dec = spec.decision
    return dict(
        dim=spec.null_dim,
        rank=spec.rank,
        tolerance=dec.tolerance,
        singular_values=dec.singular_values,
        ambiguous=dec.ambiguous,
        symmetries=tuple(symmetries),
        witness={"v": spec.vector, "null_basis": spec.null_basis},
    )


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

    Holds when the rank is certified, is the same at ``neighbours`` random points (drawn from
    ``seed``, default 0: the same seed, the same points) at distance
    ``radius max(|v|, 1)`` (constant rank, the theorem's hypothesis), the null and row bases pass
    their re-run in forward mode through the model (``rerun_bases``: null directions move the
    coordinates by at most the grey band's top sqrt(tau s_max), row directions by more); margin
    the smallest of the rank decision's and the re-run's. Undecided otherwise (a ``spectrum``
    passed in with wrong bases fails the re-run). Typed fields: d, singular_values, ambiguous,
    symmetries ("layernorm-mean" when span(1) is in the null space), model, layer, channel.
    """
    problem = as_problem(problem)
    channel = as_channel(channel)
    tol = as_tolerance("tol", tol)
    neighbours = as_count("neighbours", neighbours)
    radius = as_positive_real("radius", radius)
    seed = as_seed("seed", seed)
    options = as_options(options)
    vec = problem.vector(v)
    spec = _check_spectrum(spectrum, channel, vec)
    spec = spec if spec is not None else local_spectrum(problem, vec, channel, tol, options)
    dec = spec.decision
    rng = np.random.default_rng(seed)
    scale = max(float(np.linalg.norm(vec)), 1.0)
    nearby = []
    for _ in range(neighbours):
        g = rng.standard_normal(problem.d)
        near = vec + radius * scale * g / np.linalg.norm(g)
        nearby.append(local_spectrum(problem, near, channel, tol, options).rank)
    symmetries, ones_image = exact_symmetries(spec)
    null_image, row_image, rerun_margin = rerun_bases(problem, spec)
    details = {
        **labels(problem),
        "null_dim": spec.null_dim,
        "n_rows": spec.n_rows,
        "ones_image": ones_image,
        "neighbour_ranks": nearby,
        "null_jvp_max": null_image,
        "row_jvp_min": row_image,
        "band_top": dec.band_top,
    }
    reason = ""
    if not dec.certified:
        reason = "rank not certified: singular values in the grey band"
    elif any(r != spec.rank for r in nearby):
        reason = "rank not constant near v: not a regular point"
    elif rerun_margin < 1:
        reason = "the null or row basis failed its re-run through the model (jvp)"
    return Certificate(
        theorem="T3",
        verdict=Verdict.UNDECIDED if reason else Verdict.HOLDS,
        claim=T3A_CLAIM,
        margin=min_margin(dec.margin, rerun_margin),
        reason=reason,
        details=details,
        **_spectrum_fields(spec, symmetries),
        **subject(problem, channel),
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
    problem: LocalProblem,
    v: Any,
    tol: float | None = None,
    options: EngineOptions | None = None,
    spectrum: LocalSpectrum | None = None,
) -> Certificate:
    """T3(b): trait rank <= N|A| and dim >= d - N|A|; details say whether the bound is attained.

    Holds when the rank is certified, ``rank <= N|A|`` (margin ``N|A| / rank``) and the null and
    row bases pass their re-run through the model (``rerun_bases``); violated when a certified
    rank exceeds N|A|; undecided when the rank is not certified or the re-run fails (e.g. a
    ``spectrum`` passed in with wrong bases).
    """
    problem = as_problem(problem)
    tol = as_tolerance("tol", tol)
    options = as_options(options)
    vec = problem.vector(v)
    spec = _check_spectrum(spectrum, "trait", vec)
    spec = spec if spec is not None else local_spectrum(problem, vec, "trait", tol, options)
    pairs = problem.n_prompts * len(problem.alphas)
    dec = spec.decision
    details = {
        **labels(problem),
        "pairs": pairs,
        "bound_rank": pairs,
        "bound_dim": max(problem.d - pairs, 0),
        "bound_attained": spec.rank == min(pairs, problem.d),
        "locally_identifiable": spec.null_dim == 0,
        "band_top": dec.band_top,
    }
    bound = ratio_margin(pairs, spec.rank)
    margin, reason = min_margin(dec.margin, bound), ""
    if not dec.certified:
        verdict, reason = Verdict.UNDECIDED, "rank not certified: singular values in the grey band"
    elif spec.rank > pairs:
        verdict, margin = Verdict.VIOLATED, min_margin(dec.margin, spec.rank / pairs)
    else:
        null_image, row_image, rerun_margin = rerun_bases(problem, spec)
        details.update(null_jvp_max=null_image, row_jvp_min=row_image)
        margin = min_margin(margin, rerun_margin)
        verdict = Verdict.HOLDS if rerun_margin >= 1 else Verdict.UNDECIDED
        if verdict is Verdict.UNDECIDED:
            reason = "the null or row basis failed its re-run through the model (jvp)"
    symmetries, _ = exact_symmetries(spec)
    return Certificate(
        theorem="T3",
        verdict=verdict,
        claim=T3B_CLAIM,
        margin=margin,
        reason=reason,
        details=details,
        **_spectrum_fields(spec, symmetries),
        **subject(problem, "trait"),
    )


__all__ = [
    "CHANNELS",
    "LAYERNORM_MEAN",
    "T3A_CLAIM",
    "T3B_CLAIM",
    "T3C_CLAIM",
    "TWIN_CLAIM",
    "behaviour_changes",
    "check_t3b",
    "check_t3c",
    "exact_symmetries",
    "first_order_directions",
    "fitted_slope",
    "kl_divergences",
    "local_class",
    "rerun_bases",
    "spectrum_certificate",
    "twin_search",
]
