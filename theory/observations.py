"""What a ``LocalProblem`` observes: one compiled map to the steered logits, every channel read off
them in numpy (logits, probs, the trait score, Hellinger coordinates ``2 sqrt p``, log-probs)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
import scipy.special

from .jacobian_kernels import _logits
from .local_problem import LocalProblem, as_channel
from .validation import as_choice, as_real

OBSERVATIONS = ("logits", "probs", "trait", "hellinger", "logprobs")


def _trait_np(z, plus, minus) -> np.ndarray:
    last = z[..., -1, :]
    lse = scipy.special.logsumexp
    return lse(last[..., list(plus)], axis=-1) - lse(last[..., list(minus)], axis=-1)


def logits_at(problem: LocalProblem, v: Any, alpha: float) -> np.ndarray:
    """z = downstream(h + alpha Pi_P v) W_U + b at one strength: (N, T, V)."""
    alpha = as_real("alpha", alpha)
    vec = jnp.asarray(problem.vector(v))
    a = problem.jax_args("logits")
    return np.asarray(_logits(a["fn"], a["h"], a["mask"], alpha, vec, a["w_u"], a["b_u"]))


def observe(problem: LocalProblem, v: Any, kind: str) -> np.ndarray:
    """Observations at every strength: (|A|, N, T, V) for logits, probs, hellinger (2 sqrt p) and
    logprobs; (|A|, N) for trait (logsumexp(z[S+]) - logsumexp(z[S-]) at the last position)."""
    kind = as_choice("kind", kind, OBSERVATIONS)
    a = problem.jax_args("trait" if kind == "trait" else "logits")
    vec = jnp.asarray(problem.vector(v))
    z = np.stack(
        [
            np.asarray(_logits(a["fn"], a["h"], a["mask"], alpha, vec, a["w_u"], a["b_u"]))
            for alpha in problem.alphas
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
    return observe(problem, v, as_channel(channel))


def coordinates_kind(channel: str) -> str:
    """The map whose Jacobian the engine factors: logits; 2 sqrt(p) for probs (its Jacobian is the
    Fisher square root, and it has the null space of dp/dv); the trait score."""
    return {"logits": "logits", "probs": "hellinger", "trait": "trait"}[as_channel(channel)]


def coordinates(problem: LocalProblem, v: Any, channel: str) -> np.ndarray:
    """The channel's coordinates at v (see ``coordinates_kind``)."""
    return observe(problem, v, coordinates_kind(channel))
