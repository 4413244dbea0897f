"""The compiled pieces of the T3 engine: the steered logits, the tangent map, and each channel's
square-root factor folded into a running R by tall-skinny QR (``R <- qr([R; Y_chunk])``).

- logits: with a thin QR ``W_U^T = Q R_U``, the stacked ``[R_U J_t]_t`` has exactly the singular
  values of the full logit Jacobian ``[W_U^T J_t]_t``, with no V dimension;
- probs: ``S_t = (I - c w w^T) R_x`` with ``diag(u) W_U^T = Q_x R_x``, ``u = sqrt p_t``,
  ``w = Q_x^T u`` and ``c = 1 / (1 + |u - Q_x w|)`` satisfies
  ``S_t^T S_t = W_U (diag p - p p^T) W_U^T`` (since ``I - w w^T = (I - c w w^T)^2``), so
  ``[S_t J_t]_t`` is a square root of the Fisher information;
- trait: one backward pass per chunk of prompts gives its gradient rows.

The chunked driver that calls these is ``theory.jacobian``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import scipy.special


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


@jax.jit
def _logits(fn, h, mask, alpha, v, w_u, b_u):
    """z = downstream(h + alpha Pi_P v) W_U + b: (N, T, V)."""
    return fn(h + alpha * mask[None, :, None] * v) @ w_u + b_u


@jax.jit
def _logits_vjp(fn, h, mask, alpha, v, w_u, b_u, cot):
    """(dz/dv)^T cot for one strength (reverse mode, one backward pass)."""
    return jax.vjp(lambda x: _logits(fn, h, mask, alpha, x, w_u, b_u), v)[1](cot)[0]


@functools.partial(jax.jit, static_argnames=("direction_chunk",))
def _tangents(fn, h, mask, alpha, v, dirs, direction_chunk):
    """y = downstream(h + alpha Pi_P v) and, for every row e of ``dirs``, the tangent J e
    (b, n, T, d).

    One primal pass (``jax.linearize``), then the linear map ``vmap``-ped over ``direction_chunk``
    directions at a time (``lax.map`` with ``batch_size`` when there are more)."""
    y, lin = jax.linearize(fn, h + alpha * mask[None, :, None] * v)
    column = lambda e: lin(jnp.broadcast_to(alpha * mask[None, :, None] * e, h.shape))
    if dirs.shape[0] <= direction_chunk:
        return y, jax.vmap(column)(dirs)
    return y, jax.lax.map(column, dirs, batch_size=direction_chunk)


def _hellinger_factor(z, w_t):
    """S_t (k x d) with S_t^T S_t = W_U (diag p - p p^T) W_U^T, for logits z (V,), w_t = W_U^T."""
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


def _trait_weights(z_last: np.ndarray, plus, minus) -> np.ndarray:
    """d s / d z at the read position: softmax over S+ minus softmax over S- (n, V)."""
    g = np.zeros_like(z_last)
    g[:, list(plus)] = scipy.special.softmax(z_last[:, list(plus)], axis=-1)
    g[:, list(minus)] = -scipy.special.softmax(z_last[:, list(minus)], axis=-1)
    return g
