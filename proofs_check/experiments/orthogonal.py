"""E1 (orthogonal) and E2 (alpha-sweep): steer with v, with v + v_perp and with v_perp alone.

    v_perp = g - (<g, v> / |v|^2) v, g ~ N(0, I), rescaled to |v_perp| = |v|

E1's metrics on each channel (generation and trait), per draw of v_perp then averaged: Cohen's d and
Pearson r between the samples of v and v + v_perp, the efficacy ratio and the perp-only ratio.
Counterparts: the exact twin of v from its class (T3's level-set walk on the trait channel of the
evaluation prompts, re-run through the model), how much of that equivalence survives on held-out
prompts, and T5's first-order prediction of the efficacy ratios' spread.
E2: the gap |mean s(alpha (v + v_perp)) - mean s(alpha v)| for alpha in (0, 0.5, 1, 2); counterpart:
T5's first-order prediction alpha <grad s(alpha v), v_perp> of the trait gap, and where it breaks.
"""

from __future__ import annotations

import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from synthetic.local_problems import behaviour_verifier, local_problem
from theory.certificate import Certificate, Verdict
from theory.efficacy import effective_slope, efficacy_law
from theory.level_set import twin_search

from .metrics import cohens_d, efficacy_ratio, pearson_r
from .result import ExperimentResult
from .setup import Setup

CHANNELS = ("generation", "trait")
NEGLIGIBLE_D = 0.2  # Cohen's "small" effect
E1_CLAIM = (
    "orthogonal perturbations keep 95-100% of the steering efficacy with negligible effect size "
    f"(efficacy ratio in [0.95, 1.05], |d| < {NEGLIGIBLE_D})"
)
ALPHAS = (0.0, 0.5, 1.0, 2.0)


def orthogonal_draw(v: np.ndarray, seed: int) -> np.ndarray:
    """v_perp: a Gaussian draw with its v-part removed, rescaled to |v|."""
    g = np.random.default_rng(seed).standard_normal(v.size)
    g -= (g @ v) / (v @ v) * v
    return g * np.linalg.norm(v) / np.linalg.norm(g)


def perp_draws(setup: Setup, n: int) -> list[np.ndarray]:
    return [orthogonal_draw(setup.v, 7_000 + 100 * setup.seed + j) for j in range(n)]


def e1_metrics(scores: dict[str, Any]) -> dict[str, Any]:
    """E1's metrics from the raw scores (what a reader of the JSON recomputes)."""
    out: dict[str, Any] = {}
    for ch in CHANNELS:
        s0 = float(np.mean(scores["unsteered"][ch]))
        sv = scores["v"][ch]
        both, perp = scores["v_plus_perp"][ch], scores["v_perp"][ch]
        per = {
            "cohens_d": [cohens_d(sv, b) for b in both],
            "pearson_r": [pearson_r(sv, b) for b in both],
            "efficacy_ratio": [efficacy_ratio(b, sv, s0) for b in both],
            "perp_only_ratio": [abs(np.mean(p)) / abs(np.mean(sv)) for p in perp],
        }
        for key, values in per.items():
            out[f"{ch}.{key}"] = float(np.mean(values))
            out[f"{ch}.{key}_per_draw"] = values
        out[f"{ch}.efficacy"] = float(np.mean(sv)) - s0
    return out


def _gain_se(scores: dict[str, Any]) -> float:
    a, b = np.asarray(scores["v"]["generation"]), np.asarray(scores["unsteered"]["generation"])
    return float(np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size))


def _trait_gradient(setup: Setup, vector: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """grad of the mean trait score over the evaluation prompts at alpha * vector."""

    def mean_trait(w):
        return jnp.mean(setup.model.trait(setup.prompts, setup.steering(w, alpha)))

    return np.asarray(jax.grad(mean_trait)(jnp.asarray(vector)))


def twin_counterpart(setup: Setup) -> tuple[Certificate, dict[str, Any]]:
    """T3's twin of v on the trait channel of the evaluation prompts, and its held-out residual."""
    problem = local_problem(
        setup.model, setup.layer, prompts=setup.prompts, positions=(setup.last,)
    )
    verify = behaviour_verifier(setup.model, problem, setup.prompts, "trait")
    cert = twin_search(problem, setup.v, "trait", target_cosine=0.0, max_steps=40, verify=verify)
    out: dict[str, Any] = {
        "twin_verdict": cert.verdict.value,
        "twin_cosine": cert.cosine,
        "twin_residual": cert.residual,
        "twin_residual_tolerance": cert.residual_tolerance,
        "class_dim": cert.dim,
    }
    if "twin" in cert.witness:
        w = np.asarray(cert.witness["twin"])
        zero = np.zeros_like(w)
        h = lambda x: setup.trait(x, prompts=setup.held_out)
        out["twin"] = w
        out["held_out_residual"] = float(
            np.linalg.norm(h(w) - h(setup.v)) / np.linalg.norm(h(setup.v) - h(zero))
        )
    return cert, out


def t5_counterpart(setup: Setup, scores: dict[str, Any]) -> dict[str, Any]:
    """T5: R - 1 = c U to first order, c = |v| |P_perp grad| / (s(v) - s0); the central 90% band of
    R's law beside the measured trait-channel ratios."""
    v = setup.v
    gain = float(np.mean(scores["v"]["trait"]) - np.mean(scores["unsteered"]["trait"]))
    c = effective_slope(v, _trait_gradient(setup, v), gain)
    law = efficacy_law(v.size, c) if c != 0 else None
    band = [float(law.ppf(0.05)), float(law.ppf(0.95))] if law is not None else [1.0, 1.0]
    measured = e1_metrics(scores)["trait.efficacy_ratio_per_draw"]
    return {
        "t5_slope": c,
        "t5_band_90": band,
        "t5_measured_in_band": float(np.mean([band[0] <= r <= band[1] for r in measured])),
    }


def run_orthogonal(setup: Setup, n_perp: int = 3) -> ExperimentResult:
    t0 = time.perf_counter()
    v = setup.v
    perps = perp_draws(setup, n_perp)
    zero = np.zeros_like(v)
    scores: dict[str, Any] = {
        "unsteered": setup.scores(zero, seed=1),
        "v": setup.scores(v, seed=2),
    }
    runs = [setup.scores(v + p, seed=10 + j) for j, p in enumerate(perps)]
    alone = [setup.scores(p, seed=20 + j) for j, p in enumerate(perps)]
    scores["v_plus_perp"] = {ch: [r[ch] for r in runs] for ch in CHANNELS}
    scores["v_perp"] = {ch: [r[ch] for r in alone] for ch in CHANNELS}
    metrics = e1_metrics(scores)
    cert_twin, counterpart = twin_counterpart(setup)
    if "twin" in counterpart:
        scores["twin"] = setup.scores(counterpart["twin"], seed=3)
        counterpart["twin_generation_cohens_d"] = cohens_d(
            scores["v"]["generation"], scores["twin"]["generation"]
        )
    counterpart.update(t5_counterpart(setup, scores))
    ratio, d = metrics["generation.efficacy_ratio"], metrics["generation.cohens_d"]
    if abs(metrics["generation.efficacy"]) <= 2 * _gain_se(scores):
        verdict, reason = Verdict.UNDECIDED, "v has no efficacy above sampling noise"
    elif 0.95 <= ratio <= 1.05 and d < NEGLIGIBLE_D:
        verdict, reason = Verdict.HOLDS, ""
    else:
        verdict, reason = Verdict.VIOLATED, f"efficacy ratio {ratio:.3f}, |d| = {d:.3f}"
    cert = Certificate(
        "E1",
        verdict,
        E1_CLAIM,
        dim=cert_twin.dim,
        d=v.size,
        model=setup.model.name,
        layer=setup.layer,
        channel="generation",
        reason=reason,
        witness={"v": v, **{f"v_perp_{j}": p for j, p in enumerate(perps)}},
        details={k: x for k, x in metrics.items() if not k.endswith("_per_draw")},
    )
    return ExperimentResult(
        "orthogonal", cert, metrics, counterpart, scores, time.perf_counter() - t0
    )


def e2_metrics(scores: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ch in CHANNELS:
        gaps = [
            abs(
                float(np.mean(scores[f"alpha_{a}"]["v_plus_perp"][ch]))
                - float(np.mean(scores[f"alpha_{a}"]["v"][ch]))
            )
            for a in ALPHAS
        ]
        out[f"{ch}.gap"] = gaps
        out[f"{ch}.max_gap"] = max(gaps)
    return out


def run_alpha_sweep(setup: Setup) -> ExperimentResult:
    t0 = time.perf_counter()
    v = setup.v
    u = perp_draws(setup, 1)[0]
    scores = {
        f"alpha_{a}": {
            "v": setup.scores(v, a, seed=30 + 2 * i),
            "v_plus_perp": setup.scores(v + u, a, seed=31 + 2 * i),
        }
        for i, a in enumerate(ALPHAS)
    }
    metrics = e2_metrics(scores)
    metrics["alphas"] = list(ALPHAS)
    predicted, rel_error = [], []
    for a in ALPHAS:
        first = a * float(_trait_gradient(setup, v, a) @ u)
        got = float(
            np.mean(scores[f"alpha_{a}"]["v_plus_perp"]["trait"])
            - np.mean(scores[f"alpha_{a}"]["v"]["trait"])
        )
        predicted.append(first)
        rel_error.append(abs(got - first) / max(abs(got), 1e-12) if a else 0.0)
    breaks = [a for a, e in zip(ALPHAS, rel_error, strict=True) if e > 0.5]
    counterpart = {
        "t5_first_order_gap": predicted,
        "t5_relative_error": rel_error,
        "t5_breaks_at_alpha": breaks[0] if breaks else None,
    }
    gap = metrics["generation.gap"]
    sd = [float(np.std(scores[f"alpha_{a}"]["v"]["generation"])) for a in ALPHAS]
    small = all(g < NEGLIGIBLE_D * max(s, 1e-12) or g == 0 for g, s in zip(gap, sd, strict=True))
    cert = Certificate(
        "E2",
        Verdict.HOLDS if small else Verdict.VIOLATED,
        "at every alpha, v and v + v_perp steer alike (gap below 0.2 standard deviations)",
        d=v.size,
        model=setup.model.name,
        layer=setup.layer,
        channel="generation",
        witness={"v": v, "v_perp": u},
        details={"generation.gap": gap},
    )
    return ExperimentResult(
        "alpha-sweep", cert, metrics, counterpart, scores, time.perf_counter() - t0
    )
