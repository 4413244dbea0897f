"""E5 (spanning): is the "null space" of v a space, or only a set of directions?

(a) k = 50 directions u_i orthogonal to v (not to each other, |u_i| = |v|), each steered alone: its
    generation scores against the unsteered ones; (b) v + w with w a random combination in the span
    of the first k in (1, 5, 10, 20, 50) of them (|w| = |v|), against v. Metrics on each: Cohen's d
    and the Jensen-Shannon divergence between the 10-bin score histograms, on both channels.
Counterpart: the certified null space of the trait channel (the Jacobian of the evaluation prompts'
trait scores at v, float64): of span(u_1..u_k), a subspace of dimension k - rank(J U_k) is truly
null to first order; the rest only looks null to a noisy score.
"""

from __future__ import annotations

import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from theory.certificate import Certificate, Verdict
from theory.rank import decide_rank

from .metrics import cohens_d, js_divergence
from .orthogonal import CHANNELS, NEGLIGIBLE_D, orthogonal_draw
from .result import ExperimentResult
from .setup import Setup

KS = (1, 5, 10, 20, 50)
CLAIM = (
    "every direction orthogonal to v, and every combination of them, is null "
    f"(|d| < {NEGLIGIBLE_D})"
)


def e5_metrics(scores: dict[str, Any]) -> dict[str, Any]:
    """Cohen's d and JS divergence of each direction alone against unsteered, and of v plus each
    span's combination against v, on both channels."""
    out: dict[str, Any] = {}
    for ch in CHANNELS:
        s0, sv = scores["unsteered"][ch], scores["v"][ch]
        alone = scores["alone"][ch]
        out[f"{ch}.alone.cohens_d"] = [cohens_d(s0, a) for a in alone]
        out[f"{ch}.alone.js"] = [js_divergence(s0, a) for a in alone]
        out[f"{ch}.alone.max_cohens_d"] = max(out[f"{ch}.alone.cohens_d"])
        out[f"{ch}.alone.mean_js"] = float(np.mean(out[f"{ch}.alone.js"]))
        for k in KS:
            out[f"{ch}.span_{k}.cohens_d"] = cohens_d(sv, scores[f"span_{k}"][ch])
            out[f"{ch}.span_{k}.js"] = js_divergence(sv, scores[f"span_{k}"][ch])
    return out


def run_spanning(setup: Setup, k: int = 50) -> ExperimentResult:
    t0 = time.perf_counter()
    v = setup.v
    U = np.stack([orthogonal_draw(v, 11_000 + 100 * setup.seed + i) for i in range(k)])
    rng = np.random.default_rng(12_000 + setup.seed)
    combos = {}
    for kk in KS:
        w = rng.standard_normal(min(kk, k)) @ U[: min(kk, k)]
        w -= (w @ v) / (v @ v) * v
        combos[kk] = w * np.linalg.norm(v) / np.linalg.norm(w)
    alone = [setup.scores(u, 1.0, 100 + i) for i, u in enumerate(U)]
    scores: dict[str, Any] = {
        "unsteered": setup.scores(np.zeros_like(v), 1.0, 40),
        "v": setup.scores(v, 1.0, 41),
        "alone": {ch: [a[ch] for a in alone] for ch in CHANNELS},
        **{f"span_{kk}": setup.scores(v + w, 1.0, 200 + kk) for kk, w in combos.items()},
    }
    metrics = e5_metrics(scores)

    def traits(w):
        return setup.model.trait(setup.prompts, setup.steering(w))

    J = np.asarray(jax.jacfwd(traits)(jnp.asarray(v)))  # (P, d)
    null = {}
    for kk in KS:
        r = decide_rank(J @ U[: min(kk, k)].T, name="J U")
        null[f"span_{kk}"] = {"null_dim": min(kk, k) - r.rank, "certified": r.certified}
    jr = decide_rank(J, name="J")
    counterpart = {"trait_rank": jr.rank, "trait_null_dim": v.size - jr.rank, "spans": null}
    big = metrics["generation.alone.max_cohens_d"] >= NEGLIGIBLE_D or any(
        metrics[f"generation.span_{kk}.cohens_d"] >= NEGLIGIBLE_D for kk in KS
    )
    cert = Certificate(
        "E5",
        Verdict.VIOLATED if big else Verdict.HOLDS,
        CLAIM,
        dim=v.size - jr.rank,
        rank=jr.rank,
        d=v.size,
        model=setup.model.name,
        layer=setup.layer,
        channel="generation",
        witness={"v": v},
    )
    return ExperimentResult(
        "spanning", cert, metrics, counterpart, scores, time.perf_counter() - t0
    )
