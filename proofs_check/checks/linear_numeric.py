"""Numeric checks of T1, T1a, T1b, T2c, T4 on the synthetic linear models (seeded, float64).

Every witness is re-run through the model's own behaviour map, and the verdict is gated on it
(``theory.linear_checks``); the figures are in ``proofs_check.figures.linear``."""

from __future__ import annotations

import numpy as np

from synthetic.linear import make_linear_model
from theory.certificate import Certificate
from theory.estimation import check_t4
from theory.linear_checks import check_t1, check_t1a, check_t1b
from theory.softmax_shift import check_t2c

from ..registry import NUMERIC, check

# The embedded default: d = 16 stream, vocabulary 12, readout rank 6, 8 prompts.
DEFAULT = dict(d=16, vocab=12, rank=6, n_prompts=8)


def default_model(seed: int):
    return make_linear_model(seed=seed, **DEFAULT)


def steering_vector(model, seed: int) -> np.ndarray:
    """The planted concept plus a random perturbation (so v has parts in row space and kernel)."""
    rng = np.random.default_rng(seed + 1)
    return model.concept + 0.5 * rng.standard_normal(model.d)


def _logits_behaviour(model):
    return lambda w: model.behaviour(w, "logits", alphas=(1.0, 2.0))


@check("T1", NUMERIC, "linear model, logits channel (d=16, V=12, rank 6)")
def numeric_t1(seed: int = 0) -> Certificate:
    m = default_model(seed)
    return check_t1(m.W, steering_vector(m, seed), behaviour=_logits_behaviour(m), seed=seed)


@check("T1a", NUMERIC, "orthogonal twin on the linear model, re-run through its logits")
def numeric_t1a(seed: int = 0) -> Certificate:
    m = default_model(seed)
    return check_t1a(m.W, steering_vector(m, seed), behaviour=_logits_behaviour(m))


@check("T1b", NUMERIC, "cosine range on the linear model, ray members re-run")
def numeric_t1b(seed: int = 0) -> Certificate:
    m = default_model(seed)
    return check_t1b(m.W, steering_vector(m, seed), behaviour=_logits_behaviour(m), seed=seed)


@check("T2c", NUMERIC, "probs channel of the linear model, witness through the softmax")
def numeric_t2c(seed: int = 0) -> Certificate:
    m = default_model(seed)
    return check_t2c(m.W, steering_vector(m, seed), m.H, m.b, seed=seed)


@check("T4", NUMERIC, "probe direction from low-rank activations (N=40, d=16, rank 5)")
def numeric_t4(seed: int = 0) -> Certificate:
    m = default_model(seed)
    rng = np.random.default_rng(seed + 2)
    H = rng.standard_normal((40, 5)) @ rng.standard_normal((5, m.d)) + rng.standard_normal(m.d)
    return check_t4(H, m.concept, b=0.3, seed=seed)
