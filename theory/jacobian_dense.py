"""The naive reference for the T3 engine: the full (M, d) Jacobian by ``jax.jacfwd`` (tests and the
benchmark only: O(N T V d) memory)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.special

from .blas import one_blas_thread
from .jacobian_kernels import _logits, _trait_weights
from .local_problem import LocalProblem, as_channel


@jax.jit
def _dense_logits(fn, h, mask, alpha, v, w_u, b_u):
    return jax.jacfwd(lambda x: _logits(fn, h, mask, alpha, x, w_u, b_u))(v)


@one_blas_thread
def dense_jacobian(problem: LocalProblem, v: Any, channel: str) -> np.ndarray:
    """The full (M, d) Jacobian of the channel's coordinates, rows ordered (alpha, prompt, ...), by
    ``jax.jacfwd`` of the logits over all d directions at once, then the chain rule in numpy
    (probs: ``diag(u) - u p^T`` per position, u = sqrt p; trait: the logsumexp weights at the last
    position). Naive: memory O(N T V d); a reference for tests and the benchmark only."""
    channel = as_channel(channel)
    vec = jnp.asarray(problem.vector(v))
    args = problem.jax_args(channel)
    call = lambda f, alpha: np.asarray(
        f(args["fn"], args["h"], args["mask"], alpha, vec, args["w_u"], args["b_u"])
    )
    out = []
    for alpha in problem.alphas:
        jz = call(_dense_logits, alpha)  # (N, T, V, d)
        if channel == "logits":
            out.append(jz.reshape(-1, problem.d))
            continue
        z = call(_logits, alpha)
        if channel == "probs":
            lp = scipy.special.log_softmax(z, axis=-1)
            u, p = np.exp(0.5 * lp), np.exp(lp)
            mean = np.einsum("ntv,ntvd->ntd", p, jz)[:, :, None, :]
            out.append((u[..., None] * (jz - mean)).reshape(-1, problem.d))
        else:
            g = _trait_weights(z[:, -1, :], problem.plus, problem.minus)
            out.append(np.einsum("nv,nvd->nd", g, jz[:, -1]))
    return np.concatenate(out, axis=0)
