"""The Jacobian engine of T3: square-root factors of the behaviour Jacobian, never its Gram matrix.

Digits. Forming ``J^T J`` (or the Fisher information F) and taking eigenvalues squares the condition
number and loses half the digits, so every rank decision here comes from the singular values of a
square-root factor ``R`` (k x d, k <= d) with ``R^T R = J^T J`` exactly in exact arithmetic (logits:
``[R_U J_t]_t``; probs: the Jacobian of the Hellinger coordinates ``2 sqrt(p_t)``, whose Gram matrix
is F and whose null space is that of dp/dv; trait: the QR factor of the gradient rows; the factors
are derived in ``theory.jacobian_kernels``).

This module is the chunked driver: the J_t come from forward mode, ``jax.linearize`` of the
downstream map at the steered stream (one primal pass), then the linear map ``vmap``-ped over
chunks of basis directions, for chunks of prompts; each chunk's rows are folded into the running
d x d factor by a tall-skinny QR, so memory stays bounded by one chunk. The pieces live in
``theory.local_problem`` (``LocalProblem``, ``CHANNELS``), ``theory.observations`` (behaviour and
coordinates), ``theory.jacobian_kernels`` (compiled maps) and ``theory.jacobian_dense`` (the naive
reference); every public name stays importable from here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
import scipy.special

from theory.validation import InputError

from .blas import one_blas_thread
from .jacobian_dense import dense_jacobian
from .jacobian_kernels import (
    _chunks,
    _fold_logits,
    _fold_probs,
    _logits,
    _logits_vjp,
    _tangents,
    _trait_grad,
    _trait_weights,
)
from .jacobian_sharding import prompt_mesh, sharded_factor, sharded_trait_rows
from .local_problem import CHANNELS, LocalProblem, as_channel
from .observations import OBSERVATIONS, behaviour, coordinates, coordinates_kind, logits_at, observe
from .rank import RankDecision, decide_rank_from_singular_values
from .validation import (
    as_choice,
    as_float_array,
    as_int,
    as_positive_int,
    as_real,
    as_tolerance,
    as_vector,
)

_BLOCK_FLOATS = 2**21  # default budget (floats) for one chunk's stacked rows: 16 MiB in float64

TRAIT_MODES = ("reverse", "forward")


def _check_channel(channel: Any) -> str:
    """One of ``CHANNELS`` (kept for callers of the former name; see ``as_channel``)."""
    return as_channel(channel)


@dataclasses.dataclass(frozen=True)
class EngineOptions:
    """How the engine walks the Jacobian; none of these change the numbers beyond round-off.

    prompt_chunk    : prompts per chunk (None: as many as fit a 16 MiB budget for one chunk's rows;
                      for reverse-mode trait, all prompts).
    direction_chunk : basis directions pushed through the tangent map at once (vmap width).
    position_chunk  : positions whose Fisher square roots are built at once (probs).
    trait_mode      : "reverse" (one backward pass per chunk of prompts) or "forward" (the tangent
                      map).
    devices         : local devices the chunks of prompts are spread over (logits, probs and
                      reverse-mode trait; None: all of them; ``theory.jacobian_sharding``); 1 runs
                      the plain one-device loop.
    """

    prompt_chunk: int | None = None
    direction_chunk: int = 64
    position_chunk: int = 8
    trait_mode: str = "reverse"
    devices: int | None = None

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)
        if self.prompt_chunk is not None:
            set_("prompt_chunk", as_positive_int("prompt_chunk", self.prompt_chunk))
        set_("direction_chunk", as_positive_int("direction_chunk", self.direction_chunk))
        set_("position_chunk", as_positive_int("position_chunk", self.position_chunk))
        set_("trait_mode", as_choice("trait_mode", self.trait_mode, TRAIT_MODES))
        if self.devices is not None:
            n = len(jax.devices())
            set_("devices", as_int("devices", self.devices, low=1, high=n))

    @property
    def n_devices(self) -> int:
        """The number of local devices the engine uses (``devices``, or all of them)."""
        return len(jax.devices()) if self.devices is None else self.devices


def _options(options: Any) -> EngineOptions:
    if options is None:
        return EngineOptions()
    if not isinstance(options, EngineOptions):
        raise InputError(f"options must be an EngineOptions or None, got {type(options).__name__}")
    return options


def _default_prompt_chunk(problem: LocalProblem, k: int) -> int:
    per_prompt = problem.length * k * problem.d
    return int(max(1, min(problem.n_prompts, _BLOCK_FLOATS // max(per_prompt, 1))))


@one_blas_thread
def trait_rows(
    problem: LocalProblem,
    v: Any,
    prompt_chunk: int | None = None,
    mode: str = "reverse",
    direction_chunk: int = 64,
    devices: int = 1,
) -> np.ndarray:
    """The (|A| N, d) trait Jacobian, row (alpha, i) = d s_i / d v.

    ``mode="reverse"`` (default): one backward pass per chunk of prompts gives all its rows, since
    prompts are independent and the gradient w.r.t. the stream splits by prompt; forward mode needs
    d tangent passes for the same N|A| numbers. ``mode="forward"`` reads the rows off the engine's
    tangent map (``(W_U g_i)^T J_T`` at the read position): worth it only where d is small and the
    tangent map is compiled anyway, because it spares compiling the backward pass.
    ``devices`` (reverse mode): the first that many local devices share the chunks of prompts
    (by default N / devices prompts each; ``theory.jacobian_sharding.sharded_trait_rows``).
    ``direction_chunk`` (forward mode; default 64, as ``EngineOptions.direction_chunk``): basis
    directions pushed through the tangent map at once; it changes the rows only by round-off."""
    mode = as_choice("mode", mode, TRAIT_MODES)
    if prompt_chunk is not None:
        prompt_chunk = as_positive_int("prompt_chunk", prompt_chunk)
    direction_chunk = as_positive_int("direction_chunk", direction_chunk)
    devices = as_int("devices", devices, low=1, high=len(jax.devices()))
    vec = jnp.asarray(problem.vector(v))
    args = problem.jax_args("trait")
    N = problem.n_prompts
    if prompt_chunk is not None:
        chunk = prompt_chunk
    else:
        chunk = N if mode == "reverse" else _default_prompt_chunk(problem, problem.d)
    if mode == "reverse" and devices > 1:
        chunk = chunk if prompt_chunk is not None else -(-N // devices)
        return sharded_trait_rows(problem, vec, args, chunk, jax.devices()[:devices])
    eye = jnp.eye(problem.d)
    b = np.zeros(problem.vocab) if problem.b_u is None else problem.b_u
    rows = []
    for alpha in problem.alphas:
        for idx, w in _chunks(N, chunk):
            h = jnp.asarray(problem.stream[idx])
            if mode == "reverse":
                g = _trait_grad(
                    args["fn"],
                    h,
                    jnp.asarray(w),
                    args["mask"],
                    alpha,
                    vec,
                    args["w_u"],
                    args["b_u"],
                    args["plus"],
                    args["minus"],
                )
                g = np.asarray(g)
            else:
                y, cols = _tangents(args["fn"], h, args["mask"], alpha, vec, eye, direction_chunk)
                z_last = np.asarray(y[:, -1, :]) @ problem.w_u + b
                weights = _trait_weights(z_last, problem.plus, problem.minus)
                # row i = sum_v g_iv dz_iv, dz = (J_T e_b) W_U at the read position: (n, d)
                g = np.einsum("nv,bnv->nb", weights, np.asarray(cols[:, :, -1, :]) @ problem.w_u)
            rows.append(g[w > 0])
    return np.concatenate(rows, axis=0)


@one_blas_thread
def tangents(
    problem: LocalProblem,
    v: Any,
    directions: Any,
    alpha: float | None = None,
    direction_chunk: int = 64,
) -> np.ndarray:
    """Forward-mode J_t u for every row u of ``directions`` (b, d): (b, N, T, d), at strength
    ``alpha`` (default: the first of the problem's strengths)."""
    a = problem.alphas[0] if alpha is None else as_real("alpha", alpha)
    direction_chunk = as_positive_int("direction_chunk", direction_chunk)
    vec = jnp.asarray(problem.vector(v))
    dirs = as_float_array("directions", directions, 2)
    if dirs.shape[1] != problem.d:
        raise InputError(
            f"directions must have shape (b, d) with d = {problem.d}, got {dirs.shape}"
        )
    args = problem.jax_args("logits")
    y_cols = _tangents(
        args["fn"], args["h"], args["mask"], a, vec, jnp.asarray(dirs), direction_chunk
    )
    return np.asarray(y_cols[1])


@one_blas_thread
def coordinates_vjp(
    problem: LocalProblem,
    v: Any,
    channel: str,
    cotangent: Any,
    options: EngineOptions | None = None,
) -> np.ndarray:
    """J(v)^T c for the channel's coordinates, c shaped like ``coordinates(problem, v, channel)``.

    logits: one backward pass per strength; probs: the cotangent on z is ``u * c - p (u . c)``
    (u = sqrt p, the transpose of d(2 sqrt p)/dz); trait: the gradient rows, transposed."""
    channel = as_channel(channel)
    opt = _options(options)
    vec = problem.vector(v)
    shape = (len(problem.alphas), problem.n_prompts) + (
        (problem.length, problem.vocab) if channel != "trait" else ()
    )
    cot = as_float_array("cotangent", cotangent, len(shape))
    if cot.shape != shape:
        raise InputError(
            f"cotangent must have the shape of the {channel} coordinates {shape}, got {cot.shape}"
        )
    if channel == "trait":
        rows = trait_rows(
            problem, vec, opt.prompt_chunk, opt.trait_mode, opt.direction_chunk, opt.n_devices
        )
        return rows.T @ cot.reshape(-1)
    args = problem.jax_args(channel)
    base = (args["fn"], args["h"], args["mask"])
    jv = jnp.asarray(vec)
    out = np.zeros(problem.d)
    for i, a in enumerate(problem.alphas):
        c = cot[i]
        if channel == "probs":
            z = np.asarray(_logits(*base, a, jv, args["w_u"], args["b_u"]))
            lp = scipy.special.log_softmax(z, axis=-1)
            u, p = np.exp(0.5 * lp), np.exp(lp)
            c = u * c - p * np.sum(u * c, axis=-1, keepdims=True)
        out += np.asarray(_logits_vjp(*base, a, jv, args["w_u"], args["b_u"], jnp.asarray(c)))
    return out


@one_blas_thread
def square_root_factor(
    problem: LocalProblem, v: Any, channel: str, options: EngineOptions | None = None
) -> np.ndarray:
    """R (k x d, k <= d) with R^T R = J^T J (= F for probs): R has the singular values of J.

    logits/probs: forward mode, chunked over prompts, basis directions and (probs) positions as
    ``options`` says, folded into a d x d factor by tall-skinny QR. trait: QR of the gradient rows
    (``trait_rows``, reverse or forward mode).
    """
    channel = as_channel(channel)
    opt = _options(options)
    vec = jnp.asarray(problem.vector(v))
    d, N = problem.d, problem.n_prompts
    n_dev = opt.n_devices
    if channel == "trait":
        rows = trait_rows(
            problem, vec, opt.prompt_chunk, opt.trait_mode, opt.direction_chunk, n_dev
        )
        return scipy.linalg.qr(rows, mode="r")[0][:d]
    args = problem.jax_args(channel)
    r_u = jnp.asarray(scipy.linalg.qr(problem.w_u.T, mode="r")[0][: min(problem.vocab, d)])
    chunk = opt.prompt_chunk or _default_prompt_chunk(problem, r_u.shape[0])
    if n_dev > 1:
        chunk = max(1, -(-min(chunk, N) // n_dev))  # the same prompts per step, split over devices
        return sharded_factor(problem, vec, channel, args, r_u, chunk, opt, prompt_mesh(n_dev))
    eye = jnp.eye(d)
    r = jnp.zeros((d, d))
    for alpha in problem.alphas:
        for idx, w in _chunks(N, chunk):
            h = jnp.asarray(problem.stream[idx])
            y, cols = _tangents(args["fn"], h, args["mask"], alpha, vec, eye, opt.direction_chunk)
            if channel == "logits":
                r = _fold_logits(r, cols, jnp.asarray(w), r_u)
            else:
                weights = jnp.asarray(w)
                r = _fold_probs(r, cols, y, weights, args["w_u"], args["b_u"], opt.position_chunk)
    return np.asarray(r)


@dataclasses.dataclass(frozen=True, eq=False)
class LocalSpectrum:
    """The Jacobian of B at v, read through a square-root factor.

    factor          : (k, d) R with R^T R = J^T J (probs: the Fisher information F).
    decision        : certified-or-undecided rank from the singular values (length d, zeros padded).
    null_basis      : (d, d - rank) orthonormal basis of ker J: the local class's tangent space.
    row_basis       : (d, rank) orthonormal basis of the row space of J.
    n_rows          : rows M of the full Jacobian (sets the default tolerance max(M, d) eps s_max).
    """

    channel: str
    vector: np.ndarray
    factor: np.ndarray
    decision: RankDecision
    null_basis: np.ndarray
    row_basis: np.ndarray
    n_rows: int

    @property
    def d(self) -> int:
        return int(self.vector.shape[0])

    @property
    def rank(self) -> int:
        return self.decision.rank

    @property
    def null_dim(self) -> int:
        return int(self.null_basis.shape[1])

    @property
    def singular_values(self) -> np.ndarray:
        return self.decision.singular_values

    @property
    def certified(self) -> bool:
        return self.decision.certified

    def norm_of_image(self, u: Any) -> float:
        """|J u| = |R u|, without forming J."""
        return float(np.linalg.norm(self.factor @ as_vector("u", u, self.d)))

    def quadratic_form(self, u: Any) -> float:
        """u^T J^T J u = |R u|^2 (for probs: u^T F u), from the square root, never from the
        eigenvalues of F."""
        return self.norm_of_image(u) ** 2


@one_blas_thread
def local_spectrum(
    problem: LocalProblem,
    v: Any,
    channel: str,
    tol: float | None = None,
    options: EngineOptions | None = None,
) -> LocalSpectrum:
    """Spectrum, certified-or-undecided rank and null space of J(v) for one channel.

    tol defaults to ``max(M, d) * eps * s_max`` with M the rows of the full Jacobian
    (``theory.rank``).
    """
    channel = as_channel(channel)
    tol = as_tolerance("tol", tol)
    _options(options)
    vec = problem.vector(v)
    factor = square_root_factor(problem, vec, channel, options)
    d = problem.d
    _, s, vt = scipy.linalg.svd(factor, full_matrices=True)
    s = np.concatenate([s, np.zeros(d - s.size)])
    M = problem.n_rows(channel)
    decision = decide_rank_from_singular_values(s, (M, d), tol)
    r = decision.rank
    null_basis, row_basis = vt[r:].T.copy(), vt[:r].T.copy()
    for arr in (factor, null_basis, row_basis, vec):
        arr.setflags(write=False)
    return LocalSpectrum(
        channel=channel,
        vector=vec,
        factor=factor,
        decision=decision,
        null_basis=null_basis,
        row_basis=row_basis,
        n_rows=M,
    )


__all__ = [
    "CHANNELS",
    "OBSERVATIONS",
    "TRAIT_MODES",
    "EngineOptions",
    "LocalProblem",
    "LocalSpectrum",
    "as_channel",
    "behaviour",
    "coordinates",
    "coordinates_kind",
    "coordinates_vjp",
    "dense_jacobian",
    "local_spectrum",
    "logits_at",
    "observe",
    "one_blas_thread",
    "square_root_factor",
    "tangents",
    "trait_rows",
]
