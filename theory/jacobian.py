"""The Jacobian engine of T3: square-root factors of the behaviour Jacobian, never its Gram matrix.

A ``LocalProblem`` is a model cut at a hook point: a pure ``downstream`` map from the stream there,
h (N, T, d), to the final normalised stream y (N, T, d), plus the unembedding ``z = y W_U + b``. The
behaviour of a steering vector v is ``B(v) = (obs(downstream(h + alpha Pi_P v) W_U + b))_{alpha in A}``.

Digits. Forming ``J^T J`` (or the Fisher information F) and taking eigenvalues squares the condition
number and loses half the digits, so every rank decision here comes from the singular values of a
square-root factor ``R`` (k x d, k <= d) with ``R^T R = J^T J`` exactly in exact arithmetic:

- logits: the logit Jacobian at position t is ``W_U^T J_t`` (J_t = dy_t/dv, d x d). With a thin QR
  ``W_U^T = Q R_U`` the stacked ``[R_U J_t]_t`` has exactly the singular values of the full
  (N |A| T V) x d Jacobian, and no V dimension;
- probs: Fisher ``F = sum_t A_t^T A_t`` with ``A_t = (diag sqrt p_t - sqrt p_t p_t^T) W_U^T J_t``, which is
  the Jacobian of the Hellinger coordinates ``2 sqrt(p_t)`` (same null space as dp/dv, since
  ``d(2 sqrt p) = diag(p)^(-1/2) dp``). With u = sqrt p_t (a unit vector), ``X = diag(u) W_U^T = Q_x R_x``
  and ``w = Q_x^T u``: ``A_t^T A_t = J_t^T R_x^T (I - w w^T) R_x J_t`` and ``I - w w^T = (I - c w w^T)^2``
  for ``c = 1 / (1 + |u - Q_x w|)``, so ``S_t = (I - c w w^T) R_x`` (k x d) is a square root per position;
- trait: one scalar per (prompt, strength); the rows are gradients, by default in reverse mode (one
  backward pass per chunk of prompts gives its N|A| rows; forward mode needs d tangent passes for
  the same numbers), and R is their QR factor.

The J_t come from forward mode: ``jax.linearize`` of the downstream map at the steered stream (one
primal pass), then the linear map is ``vmap``-ped over chunks of basis directions (``lax.map`` with
``batch_size``), for chunks of prompts; each chunk's rows are folded into the running d x d factor by
a tall-skinny QR, ``R <- qr([R; Y_chunk])``, so memory stays bounded by one chunk.

``downstream`` must treat prompts independently (row i of the output depends only on row i of the
input), be pure and jittable. Wrap it in ``jax.tree_util.Partial(fn, params)`` so that the
parameters are runtime arguments of the compiled code (one compilation per shape, not per model).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
import scipy.special

from .rank import RankDecision, decide_rank_from_singular_values
from .validation import as_float_array, as_tolerance, as_vector

CHANNELS = ("logits", "probs", "trait")


@functools.lru_cache(maxsize=1)
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return None
    return ThreadpoolController()


def one_blas_thread(fn):
    """Run ``fn`` with OpenBLAS (scipy's LAPACK, which also serves jax's CPU QR and SVD) limited to one
    thread. The engine makes many small QR/SVD calls; OpenBLAS's thread pool gains nothing there and,
    when the cores are busy, its spinning threads make each call 10-50x slower (measured: 220 ms
    against 5 ms for one d = 32 factor on a loaded 2-core machine). XLA's own products are unaffected."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        controller = _blas_controller()
        ctx = (
            controller.limit(limits=1, user_api="blas")
            if controller is not None
            else contextlib.nullcontext()
        )
        with ctx:
            return fn(*args, **kwargs)

    return wrapper


_BLOCK_FLOATS = 2**21  # default budget (floats) for one chunk's stacked rows: 16 MiB in float64


def _check_channel(channel: Any) -> str:
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
    return channel


def _int_tuple(name: str, xs: Any, upper: int, what: str) -> tuple[int, ...]:
    try:
        vals = tuple(xs)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of ints, got {xs!r}") from None
    out = []
    for x in vals:
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
            raise ValueError(f"{name} must hold ints, got {x!r}")
        if not 0 <= int(x) < upper:
            raise ValueError(f"{name} must hold {what} in [0, {upper}), got {int(x)}")
        out.append(int(x))
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must not repeat entries, got {list(out)}")
    return tuple(out)


def _as_partial(fn: Any) -> jax.tree_util.Partial:
    if isinstance(fn, jax.tree_util.Partial):
        return fn
    return jax.tree_util.Partial(fn)


@dataclasses.dataclass(frozen=True, eq=False)
class LocalProblem:
    """A model cut at a hook point: what the local theory (T3) needs to know about it.

    downstream : pure jittable map, stream at the hook (n, T, d) -> final normalised stream (n, T, d),
                 prompts independent; a ``jax.tree_util.Partial`` keeps its parameters out of the
                 compiled constants.
    stream     : (N, T, d) unsteered stream at the hook (N >= 1 prompts).
    w_u        : (d, V) unembedding; ``b_u`` (V,) its bias or None.
    positions  : steered positions P (None: all T).
    alphas     : strengths A (non-empty, finite).
    plus/minus : disjoint token sets S+ and S- of the trait score (needed by the trait channel only).
    meta       : JSON-safe labels copied into certificates (e.g. model name, layer).
    """

    downstream: Callable[[Any], Any]
    stream: np.ndarray
    w_u: np.ndarray
    b_u: np.ndarray | None = None
    positions: Sequence[int] | None = None
    alphas: Sequence[float] = (1.0,)
    plus: Sequence[int] = ()
    minus: Sequence[int] = ()
    meta: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not callable(self.downstream):
            raise ValueError(
                f"downstream must be a callable (n, T, d) -> (n, T, d), got {type(self.downstream).__name__}"
            )
        if self.stream is not None and np.ndim(self.stream) == 3 and np.shape(self.stream)[0] == 0:
            raise ValueError(
                f"stream is an empty prompt set (N = 0, shape {np.shape(self.stream)}); need at least one prompt"
            )
        stream = as_float_array("stream", self.stream, 3)
        N, T, d = stream.shape
        w_u = as_float_array("w_u", self.w_u, 2)
        if w_u.shape[0] != d:
            raise ValueError(
                f"w_u must have shape (d, V) with d = {d} (the stream width), got {w_u.shape}"
            )
        V = w_u.shape[1]
        b_u = None
        if self.b_u is not None:
            b_u = as_vector("b_u", self.b_u)
            if b_u.shape[0] != V:
                raise ValueError(
                    f"b_u must have length V = {V} (the columns of w_u), got {b_u.shape[0]}"
                )
        positions = None
        if self.positions is not None:
            positions = tuple(sorted(_int_tuple("positions", self.positions, T, "token positions")))
            if not positions:
                raise ValueError(
                    "positions must be None (all positions) or a non-empty list of positions"
                )
        try:
            alphas = tuple(float(a) for a in self.alphas)
        except (TypeError, ValueError):
            raise ValueError(
                f"alphas must be a non-empty sequence of finite numbers, got {self.alphas!r}"
            ) from None
        if not alphas or not all(np.isfinite(alphas)):
            raise ValueError(
                f"alphas must be a non-empty sequence of finite numbers, got {self.alphas!r}"
            )
        plus = _int_tuple("plus", self.plus, V, "token ids")
        minus = _int_tuple("minus", self.minus, V, "token ids")
        if set(plus) & set(minus):
            raise ValueError(
                f"plus and minus must be disjoint token sets, both hold {sorted(set(plus) & set(minus))}"
            )
        for arr in (stream, w_u) + ((b_u,) if b_u is not None else ()):
            arr.setflags(write=False)
        fn = _as_partial(self.downstream)
        try:
            out = jax.eval_shape(fn, jax.ShapeDtypeStruct(stream.shape, jnp.float64))
        except Exception as exc:
            raise ValueError(
                f"downstream failed on a stream of shape {stream.shape}: {exc}"
            ) from None
        if getattr(out, "shape", None) != stream.shape:
            raise ValueError(
                f"downstream must map (N, T, d) = {stream.shape} to the same shape, got {getattr(out, 'shape', out)}"
            )
        for name, value in (
            ("downstream", fn),
            ("stream", stream),
            ("w_u", w_u),
            ("b_u", b_u),
            ("positions", positions),
            ("alphas", alphas),
            ("plus", plus),
            ("minus", minus),
            ("meta", dict(self.meta or {})),
        ):
            object.__setattr__(self, name, value)

    # -- shapes -------------------------------------------------------------------------------
    @property
    def n_prompts(self) -> int:
        return int(self.stream.shape[0])

    @property
    def length(self) -> int:
        return int(self.stream.shape[1])

    @property
    def d(self) -> int:
        return int(self.stream.shape[2])

    @property
    def vocab(self) -> int:
        return int(self.w_u.shape[1])

    @property
    def mask(self) -> np.ndarray:
        """(T,) indicator of the steered positions P."""
        m = np.zeros(self.length) if self.positions is not None else np.ones(self.length)
        if self.positions is not None:
            m[list(self.positions)] = 1.0
        return m

    def n_rows(self, channel: str) -> int:
        """Rows M of the full Jacobian: N |A| T V for logits/probs, N |A| for trait."""
        _check_channel(channel)
        per = 1 if channel == "trait" else self.length * self.vocab
        return self.n_prompts * len(self.alphas) * per

    def vector(self, v: Any, name: str = "v") -> np.ndarray:
        """v as a finite float64 (d,) vector, or ValueError naming ``name``."""
        arr = as_float_array(name, v, 1)
        if arr.shape[0] != self.d:
            raise ValueError(
                f"{name} must have length d = {self.d} (the stream width), got {arr.shape[0]}"
            )
        return arr

    def _args(self, channel: str):
        _check_channel(channel)
        if channel == "trait" and (not self.plus or not self.minus):
            raise ValueError(
                "the trait channel needs non-empty token sets plus (S+) and minus (S-)"
            )
        b = np.zeros(self.vocab) if self.b_u is None else self.b_u
        return dict(
            fn=self.downstream,
            h=jnp.asarray(self.stream),
            mask=jnp.asarray(self.mask),
            w_u=jnp.asarray(self.w_u),
            b_u=jnp.asarray(b),
            plus=jnp.asarray(self.plus or (0,), dtype=jnp.int32),
            minus=jnp.asarray(self.minus or (0,), dtype=jnp.int32),
        )


# ---------------------------------------------------------------------------------------------
# observations: one compiled map to the logits; every channel is read off them in numpy


@jax.jit
def _logits(fn, h, mask, alpha, v, w_u, b_u):
    """z = downstream(h + alpha Pi_P v) W_U + b: (N, T, V)."""
    return fn(h + alpha * mask[None, :, None] * v) @ w_u + b_u


@jax.jit
def _logits_vjp(fn, h, mask, alpha, v, w_u, b_u, cot):
    """(dz/dv)^T cot for one strength (reverse mode, one backward pass)."""
    return jax.vjp(lambda x: _logits(fn, h, mask, alpha, x, w_u, b_u), v)[1](cot)[0]


def _trait_np(z, plus, minus) -> np.ndarray:
    last = z[..., -1, :]
    lse = scipy.special.logsumexp
    return lse(last[..., list(plus)], axis=-1) - lse(last[..., list(minus)], axis=-1)


def logits_at(problem: LocalProblem, v: Any, alpha: float) -> np.ndarray:
    """z = downstream(h + alpha Pi_P v) W_U + b at one strength: (N, T, V)."""
    args = problem._args("logits")
    return np.asarray(
        _logits(
            args["fn"],
            args["h"],
            args["mask"],
            float(alpha),
            jnp.asarray(problem.vector(v)),
            args["w_u"],
            args["b_u"],
        )
    )


OBSERVATIONS = ("logits", "probs", "trait", "hellinger", "logprobs")


def observe(problem: LocalProblem, v: Any, kind: str) -> np.ndarray:
    """Observations at every strength: (|A|, N, T, V) for logits, probs, hellinger (2 sqrt p) and
    logprobs; (|A|, N) for trait (logsumexp(z[S+]) - logsumexp(z[S-]) at the last position)."""
    if kind not in OBSERVATIONS:
        raise ValueError(f"kind must be one of {OBSERVATIONS}, got {kind!r}")
    args = problem._args("trait" if kind == "trait" else "logits")
    vec = jnp.asarray(problem.vector(v))
    z = np.stack(
        [
            np.asarray(
                _logits(args["fn"], args["h"], args["mask"], a, vec, args["w_u"], args["b_u"])
            )
            for a in problem.alphas
        ]
    )
    if kind == "logits":
        return z
    if kind == "trait":
        return _trait_np(z, problem.plus, problem.minus)
    lp = scipy.special.log_softmax(z, axis=-1)
    return {
        "probs": lambda: np.exp(lp),
        "hellinger": lambda: 2.0 * np.exp(0.5 * lp),
        "logprobs": lambda: lp,
    }[kind]()


def behaviour(problem: LocalProblem, v: Any, channel: str) -> np.ndarray:
    """B(v): (|A|, N, T, V) logits or probs, or (|A|, N) trait scores at the last position."""
    return observe(problem, v, _check_channel(channel))


def coordinates_kind(channel: str) -> str:
    """The map whose Jacobian the engine factors: logits; 2 sqrt(p) for probs (its Jacobian is the
    Fisher square root, and it has the null space of dp/dv); the trait score."""
    return {"logits": "logits", "probs": "hellinger", "trait": "trait"}[_check_channel(channel)]


def coordinates(problem: LocalProblem, v: Any, channel: str) -> np.ndarray:
    """The channel's coordinates at v (see ``coordinates_kind``)."""
    return observe(problem, v, coordinates_kind(channel))


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
    _check_channel(channel)
    vec = problem.vector(v)
    shape = (len(problem.alphas), problem.n_prompts) + (
        (problem.length, problem.vocab) if channel != "trait" else ()
    )
    cot = as_float_array("cotangent", cotangent, len(shape))
    if cot.shape != shape:
        raise ValueError(
            f"cotangent must have the shape of the {channel} coordinates {shape}, got {cot.shape}"
        )
    if channel == "trait":
        opt = _options(options)
        rows = trait_rows(problem, vec, opt.prompt_chunk, opt.trait_mode, opt.direction_chunk)
        return rows.T @ cot.reshape(-1)
    args = problem._args(channel)
    out = np.zeros(problem.d)
    for i, a in enumerate(problem.alphas):
        c = cot[i]
        if channel == "probs":
            z = np.asarray(
                _logits(
                    args["fn"],
                    args["h"],
                    args["mask"],
                    a,
                    jnp.asarray(vec),
                    args["w_u"],
                    args["b_u"],
                )
            )
            lp = scipy.special.log_softmax(z, axis=-1)
            u, p = np.exp(0.5 * lp), np.exp(lp)
            c = u * c - p * np.sum(u * c, axis=-1, keepdims=True)
        out += np.asarray(
            _logits_vjp(
                args["fn"],
                args["h"],
                args["mask"],
                a,
                jnp.asarray(vec),
                args["w_u"],
                args["b_u"],
                jnp.asarray(c),
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# the engine


@functools.partial(jax.jit, static_argnames=("direction_chunk",))
def _tangents(fn, h, mask, alpha, v, dirs, direction_chunk):
    """y = downstream(h + alpha Pi_P v) and, for every row e of ``dirs``, the tangent J e: (b, n, T, d).

    One primal pass (``jax.linearize``), then the linear map ``vmap``-ped over ``direction_chunk``
    directions at a time (``lax.map`` with ``batch_size`` when there are more)."""
    y, lin = jax.linearize(fn, h + alpha * mask[None, :, None] * v)
    column = lambda e: lin(jnp.broadcast_to(alpha * mask[None, :, None] * e, h.shape))
    if dirs.shape[0] <= direction_chunk:
        return y, jax.vmap(column)(dirs)
    return y, jax.lax.map(column, dirs, batch_size=direction_chunk)


def _hellinger_factor(z, w_t):
    """S_t (k x d) with S_t^T S_t = W_U (diag p - p p^T) W_U^T, for logits z (V,) and w_t = W_U^T."""
    u = jnp.exp(0.5 * jax.nn.log_softmax(z))
    q, r = jnp.linalg.qr(u[:, None] * w_t)
    w = q.T @ u
    s = jnp.linalg.norm(u - q @ w)
    return r - jnp.outer(w / (1.0 + s), w @ r)


def _stack_rows(r_acc, proj, weights):
    """qr([r_acc; rows]) with rows[(n, t, k), i] = proj[i, n, t, k] * weight_n."""
    d = r_acc.shape[1]
    rows = (proj * weights[None, :, None, None]).transpose(1, 2, 3, 0).reshape(-1, d)
    return jnp.linalg.qr(jnp.concatenate([r_acc, rows], axis=0), mode="r")


@jax.jit
def _fold_logits(r_acc, cols, weights, r_u):
    """Fold the chunk's [R_U J_t]_t into the running factor (tall-skinny QR)."""
    return _stack_rows(r_acc, jnp.einsum("kd,bntd->bntk", r_u, cols), weights)


@functools.partial(jax.jit, static_argnames=("position_chunk",))
def _fold_probs(r_acc, cols, y, weights, w_u, b_u, position_chunk):
    """Fold the chunk's [S_t J_t]_t (Fisher square roots per position) into the running factor."""
    n, T, d = y.shape
    z = (y @ w_u + b_u).reshape(n * T, -1)
    s = jax.lax.map(lambda zt: _hellinger_factor(zt, w_u.T), z, batch_size=position_chunk)
    s = s.reshape(n, T, s.shape[-2], d)
    return _stack_rows(r_acc, jnp.einsum("ntkd,bntd->bntk", s, cols), weights)


@jax.jit
def _trait_grad(fn, h, weights, mask, alpha, v, w_u, b_u, plus, minus):
    """Gradient rows d s_i / d v of one chunk of prompts at one strength, by one backward pass
    (prompts are independent, so the gradient of sum_i s_i w.r.t. the stream splits by prompt)."""
    lse = jax.scipy.special.logsumexp

    def total(x):
        last = fn(x)[:, -1, :] @ w_u + b_u
        s = lse(last[:, plus], axis=-1) - lse(last[:, minus], axis=-1)
        return jnp.sum(s * weights)

    g = jax.grad(total)(h + alpha * mask[None, :, None] * v)
    return alpha * jnp.einsum("t,ntd->nd", mask, g)


def _chunks(N: int, size: int):
    """(indices, weights) per chunk of prompts; the last chunk is padded with weight-0 repeats so
    every chunk has the same shape (one compilation)."""
    for start in range(0, N, size):
        idx = np.arange(start, min(start + size, N))
        w = np.ones(size)
        if idx.size < size:
            w[idx.size :] = 0.0
            idx = np.concatenate([idx, np.full(size - idx.size, idx[0])])
        yield idx, w


def _default_prompt_chunk(problem: LocalProblem, k: int) -> int:
    per_prompt = problem.length * k * problem.d
    return int(max(1, min(problem.n_prompts, _BLOCK_FLOATS // max(per_prompt, 1))))


def _check_chunk(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


TRAIT_MODES = ("reverse", "forward")


@dataclasses.dataclass(frozen=True)
class EngineOptions:
    """How the engine walks the Jacobian; none of these change the numbers beyond round-off.

    prompt_chunk    : prompts per chunk (None: as many as fit a 16 MiB budget for one chunk's rows;
                      for reverse-mode trait, all prompts).
    direction_chunk : basis directions pushed through the tangent map at once (vmap width).
    position_chunk  : positions whose Fisher square roots are built at once (probs).
    trait_mode      : "reverse" (one backward pass per chunk of prompts) or "forward" (the tangent map).
    """

    prompt_chunk: int | None = None
    direction_chunk: int = 64
    position_chunk: int = 8
    trait_mode: str = "reverse"

    def __post_init__(self) -> None:
        if self.prompt_chunk is not None:
            _check_chunk("prompt_chunk", self.prompt_chunk)
        _check_chunk("direction_chunk", self.direction_chunk)
        _check_chunk("position_chunk", self.position_chunk)
        if self.trait_mode not in TRAIT_MODES:
            raise ValueError(f"trait_mode must be one of {TRAIT_MODES}, got {self.trait_mode!r}")


def _options(options: Any) -> EngineOptions:
    if options is None:
        return EngineOptions()
    if not isinstance(options, EngineOptions):
        raise ValueError(f"options must be an EngineOptions or None, got {type(options).__name__}")
    return options


def _trait_weights(z_last: np.ndarray, plus, minus) -> np.ndarray:
    """d s / d z at the read position: softmax over S+ minus softmax over S- (n, V)."""
    g = np.zeros_like(z_last)
    g[:, list(plus)] = scipy.special.softmax(z_last[:, list(plus)], axis=-1)
    g[:, list(minus)] = -scipy.special.softmax(z_last[:, list(minus)], axis=-1)
    return g


@one_blas_thread
def trait_rows(
    problem: LocalProblem,
    v: Any,
    prompt_chunk: int | None = None,
    mode: str = "reverse",
    direction_chunk: int = 64,
) -> np.ndarray:
    """The (|A| N, d) trait Jacobian, row (alpha, i) = d s_i / d v.

    ``mode="reverse"`` (default): one backward pass per chunk of prompts gives all its rows, since
    prompts are independent and the gradient w.r.t. the stream splits by prompt; forward mode needs d
    tangent passes for the same N|A| numbers. ``mode="forward"`` reads the rows off the engine's
    tangent map (``(W_U g_i)^T J_T`` at the read position): worth it only where d is small and the
    tangent map is compiled anyway, because it spares compiling the backward pass."""
    if mode not in TRAIT_MODES:
        raise ValueError(f"mode must be one of {TRAIT_MODES}, got {mode!r}")
    vec = jnp.asarray(problem.vector(v))
    args = problem._args("trait")
    N = problem.n_prompts
    if prompt_chunk is not None:
        chunk = _check_chunk("prompt_chunk", prompt_chunk)
    else:
        chunk = N if mode == "reverse" else _default_prompt_chunk(problem, problem.d)
    direction_chunk = _check_chunk("direction_chunk", direction_chunk)
    eye = jnp.eye(problem.d)
    rows = []
    for alpha in problem.alphas:
        for idx, w in _chunks(N, chunk):
            h = jnp.asarray(problem.stream[idx])
            if mode == "reverse":
                g = np.asarray(
                    _trait_grad(
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
                )
            else:
                y, cols = _tangents(args["fn"], h, args["mask"], alpha, vec, eye, direction_chunk)
                b = np.zeros(problem.vocab) if problem.b_u is None else problem.b_u
                weights = _trait_weights(
                    np.asarray(y[:, -1, :]) @ problem.w_u + b, problem.plus, problem.minus
                )
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
    vec = jnp.asarray(problem.vector(v))
    dirs = as_float_array("directions", directions, 2)
    if dirs.shape[1] != problem.d:
        raise ValueError(
            f"directions must have shape (b, d) with d = {problem.d}, got {dirs.shape}"
        )
    args = problem._args("logits")
    a = problem.alphas[0] if alpha is None else float(alpha)
    return np.asarray(
        _tangents(
            args["fn"],
            args["h"],
            args["mask"],
            a,
            vec,
            jnp.asarray(dirs),
            _check_chunk("direction_chunk", direction_chunk),
        )[1]
    )


@one_blas_thread
def square_root_factor(
    problem: LocalProblem, v: Any, channel: str, options: EngineOptions | None = None
) -> np.ndarray:
    """R (k x d, k <= d) with R^T R = J^T J (= F for probs): the singular values of R are those of J.

    logits/probs: forward mode, chunked over prompts, basis directions and (probs) positions as
    ``options`` says, folded into a d x d factor by tall-skinny QR. trait: QR of the gradient rows
    (``trait_rows``, reverse or forward mode).
    """
    _check_channel(channel)
    opt = _options(options)
    vec = jnp.asarray(problem.vector(v))
    prompt_chunk, direction_chunk, position_chunk = (
        opt.prompt_chunk,
        opt.direction_chunk,
        opt.position_chunk,
    )
    d, N = problem.d, problem.n_prompts
    if channel == "trait":
        return scipy.linalg.qr(
            trait_rows(problem, vec, prompt_chunk, opt.trait_mode, direction_chunk), mode="r"
        )[0][:d]
    args = problem._args(channel)
    r_u = jnp.asarray(scipy.linalg.qr(problem.w_u.T, mode="r")[0][: min(problem.vocab, d)])
    chunk = (
        _check_chunk("prompt_chunk", prompt_chunk)
        if prompt_chunk is not None
        else _default_prompt_chunk(problem, r_u.shape[0])
    )
    eye = jnp.eye(d)
    r = jnp.zeros((d, d))
    for alpha in problem.alphas:
        for idx, w in _chunks(N, chunk):
            y, cols = _tangents(
                args["fn"],
                jnp.asarray(problem.stream[idx]),
                args["mask"],
                alpha,
                vec,
                eye,
                direction_chunk,
            )
            if channel == "logits":
                r = _fold_logits(r, cols, jnp.asarray(w), r_u)
            else:
                r = _fold_probs(
                    r, cols, y, jnp.asarray(w), args["w_u"], args["b_u"], position_chunk
                )
    return np.asarray(r)


@dataclasses.dataclass(frozen=True, eq=False)
class LocalSpectrum:
    """The Jacobian of B at v, read through a square-root factor.

    factor          : (k, d) R with R^T R = J^T J (probs: the Fisher information F).
    decision        : certified-or-undecided rank from the singular values (length d, zeros padded).
    null_basis      : (d, d - rank) orthonormal basis of ker J: the tangent space of the local class.
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
        return float(np.linalg.norm(self.factor @ np.asarray(u, dtype=np.float64)))

    def quadratic_form(self, u: Any) -> float:
        """u^T J^T J u = |R u|^2 (for probs: u^T F u), from the square root, never from eigenvalues of F."""
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

    tol defaults to ``max(M, d) * eps * s_max`` with M the rows of the full Jacobian (``theory.rank``).
    """
    _check_channel(channel)
    vec = problem.vector(v)
    tol = as_tolerance("tol", tol)
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


# ---------------------------------------------------------------------------------------------
# the naive reference (tests and benchmark only: O(M d) memory)


@jax.jit
def _dense_logits(fn, h, mask, alpha, v, w_u, b_u):
    return jax.jacfwd(lambda x: _logits(fn, h, mask, alpha, x, w_u, b_u))(v)


@one_blas_thread
def dense_jacobian(problem: LocalProblem, v: Any, channel: str) -> np.ndarray:
    """The full (M, d) Jacobian of the channel's coordinates, rows ordered (alpha, prompt, ...), by
    ``jax.jacfwd`` of the logits over all d directions at once, then the chain rule in numpy
    (probs: ``diag(u) - u p^T`` per position, u = sqrt p; trait: the logsumexp weights at the last
    position). Naive: memory O(N T V d); a reference for tests and the benchmark only."""
    _check_channel(channel)
    vec = problem.vector(v)
    args = problem._args(channel)
    out = []
    for a in problem.alphas:
        jz = np.asarray(
            _dense_logits(
                args["fn"], args["h"], args["mask"], a, jnp.asarray(vec), args["w_u"], args["b_u"]
            )
        )  # (N, T, V, d)
        if channel == "logits":
            out.append(jz.reshape(-1, problem.d))
            continue
        z = np.asarray(
            _logits(
                args["fn"], args["h"], args["mask"], a, jnp.asarray(vec), args["w_u"], args["b_u"]
            )
        )
        lp = scipy.special.log_softmax(z, axis=-1)
        if channel == "probs":
            u, p = np.exp(0.5 * lp), np.exp(lp)
            a_t = (
                u[..., None] * jz - u[..., None] * np.einsum("ntv,ntvd->ntd", p, jz)[:, :, None, :]
            )
            out.append(a_t.reshape(-1, problem.d))
        else:
            last = z[:, -1, :]
            g = np.zeros_like(last)
            g[:, list(problem.plus)] = scipy.special.softmax(last[:, list(problem.plus)], axis=-1)
            g[:, list(problem.minus)] = -scipy.special.softmax(
                last[:, list(problem.minus)], axis=-1
            )
            out.append(np.einsum("nv,nvd->nd", g, jz[:, -1]))
    return np.concatenate(out, axis=0)
