"""Linear models ``z = W (h + alpha v) + b`` with a planted unit concept direction c.

The readout W (V x d) has a chosen rank r and reads c: ``W = A Q^T`` with Q (d x r) orthonormal,
``Q[:, 0] = c``, and rows of the trait-expressing tokens S+ (resp. opposing S-) shifted by
+gamma (resp. -gamma) along c, so steering along c raises the trait score. Two trait channels:
the token-set score ``logsumexp(z[S+]) - logsumexp(z[S-])`` and the linear probe ``<c, h + v>``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import scipy.special

from theory.validation import (
    InputError,
    as_int,
    as_positive_int,
    as_real,
    as_seed,
    as_vector,
)

CHANNELS = ("logits", "probs", "trait", "probe")


@dataclasses.dataclass(frozen=True)
class LinearModel:
    """Logits ``z_i = W (h_i + alpha v) + b`` for activations h_i (rows of H)."""

    W: np.ndarray  # (V, d) readout
    b: np.ndarray  # (V,) bias
    H: np.ndarray  # (N, d) unsteered activations, one row per prompt
    concept: np.ndarray  # (d,) planted unit concept direction c
    plus: np.ndarray  # token ids of S+ (trait expressed)
    minus: np.ndarray  # token ids of S- (trait opposed)

    @property
    def d(self) -> int:
        return int(self.W.shape[1])

    @property
    def vocab(self) -> int:
        return int(self.W.shape[0])

    def logits(self, v, alpha: float = 1.0) -> np.ndarray:
        v = as_vector("v", v, self.d)
        return (self.H + alpha * v) @ self.W.T + self.b

    def behaviour(self, v, channel: str = "logits", alphas: Sequence[float] = (1.0,)) -> np.ndarray:
        """B(v) stacked over strengths: (|A|, N, V) for logits/probs, (|A|, N) for trait/probe."""
        if channel not in CHANNELS:
            raise InputError(f"channel must be one of {CHANNELS}, got {channel!r}")
        v = as_vector("v", v, self.d)
        out = []
        for a in alphas:
            if channel == "probe":
                out.append((self.H + a * v) @ self.concept)
                continue
            z = self.logits(v, a)
            if channel == "logits":
                out.append(z)
            elif channel == "probs":
                out.append(scipy.special.softmax(z, axis=-1))
            else:
                out.append(
                    scipy.special.logsumexp(z[:, self.plus], axis=-1)
                    - scipy.special.logsumexp(z[:, self.minus], axis=-1)
                )
        return np.stack(out)

    def readout(self, channel: str = "logits") -> np.ndarray:
        """The matrix L through which the channel sees v (T1): W; c^T for the probe; the S+/S- rows
        of W for the token-set trait. (For ``probs`` use ``theory.softmax_shift.probs_class``.)"""
        if channel == "logits":
            return self.W
        if channel == "probe":
            return self.concept[None, :]
        if channel == "trait":
            return self.W[np.concatenate([self.plus, self.minus])]
        raise InputError(
            "channel must be one of ('logits', 'trait', 'probe') for a linear readout, got "
            f"{channel!r}"
        )


def make_linear_model(
    d: int = 16,
    vocab: int = 12,
    rank: int | None = None,
    n_prompts: int = 8,
    n_trait_tokens: int = 2,
    gamma: float = 3.0,
    seed: int = 0,
) -> LinearModel:
    """A random linear model of readout rank ``rank`` (default min(d, vocab)) with a planted
    concept."""
    d, vocab = as_positive_int("d", d), as_positive_int("vocab", vocab)
    n_prompts = as_positive_int("n_prompts", n_prompts)
    n_trait_tokens = as_positive_int("n_trait_tokens", n_trait_tokens)
    gamma, seed = as_real("gamma", gamma), as_seed("seed", seed)
    r = min(d, vocab) if rank is None else as_int("rank", rank, low=1, high=min(d, vocab))
    if 2 * n_trait_tokens > vocab:
        raise InputError(
            f"n_trait_tokens must be at most vocab/2 = {vocab // 2}, got {n_trait_tokens}"
        )
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, r)))
    concept = Q[:, 0].copy()
    A = rng.standard_normal((vocab, r))
    tokens = rng.permutation(vocab)
    plus, minus = (
        np.sort(tokens[:n_trait_tokens]),
        np.sort(tokens[n_trait_tokens : 2 * n_trait_tokens]),
    )
    A[plus, 0] += gamma
    A[minus, 0] -= gamma
    W = A @ Q.T
    b = 0.1 * rng.standard_normal(vocab)
    H = rng.standard_normal((n_prompts, d))
    return LinearModel(W=W, b=b, H=H, concept=concept, plus=plus, minus=minus)
