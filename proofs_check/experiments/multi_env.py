"""E7 (multi-env): does the non-identifiability persist across prompt distributions?

v is the CAA vector fitted in the first environment (topic 0 with the language, token family 0
otherwise) and tested in every environment: Cohen's d and Pearson r between the scores of v and
v + v_perp there, and the fraction of environments with |d| < 0.3, on both channels (generation and
trait). Counterpart (T6): the class of v under the stacked trait-channel Jacobians J_e (each
environment's evaluation prompts, at v, float64) as environments are added: dim = d - rank
[J_1; ...; J_m], certified or undecided, down to the exact symmetries (the all-ones direction
under LayerNorm, T2a).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from theory.certificate import Certificate, Verdict
from theory.rank import decide_rank

from .metrics import cohens_d, pearson_r
from .orthogonal import CHANNELS, orthogonal_draw
from .result import ExperimentResult
from .setup import Setup

SMALL_D = 0.3
CLAIM = f"v and v + v_perp steer alike in every environment (|d| < {SMALL_D})"


def e7_metrics(scores: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ch in CHANNELS:
        ds = []
        for env, s in scores.items():
            d = cohens_d(s["v"][ch], s["v_plus_perp"][ch])
            out[f"{ch}.{env}.cohens_d"] = d
            out[f"{ch}.{env}.pearson_r"] = pearson_r(s["v"][ch], s["v_plus_perp"][ch])
            ds.append(d)
        out[f"{ch}.fraction_small_d"] = float(np.mean([d < SMALL_D for d in ds]))
    return out


def run_multi_env(setup: Setup) -> ExperimentResult:
    t0 = time.perf_counter()
    envs = setup.environments
    first = next(iter(envs))
    a, b = envs[first][1]
    v = (setup.activations(a) - setup.activations(b)).mean(axis=0)
    u = orthogonal_draw(v, 13_000 + setup.seed)
    scores: dict[str, Any] = {}
    jacobians = []
    for i, (env, (prompts, _)) in enumerate(envs.items()):
        local = dataclasses.replace(setup, prompts=prompts)
        scores[env] = {
            "v": local.scores(v, 1.0, 300 + 2 * i),
            "v_plus_perp": local.scores(v + u, 1.0, 301 + 2 * i),
        }

        def traits(w, local=local):
            return local.model.trait(local.prompts, local.steering(w))

        jacobians.append(np.asarray(jax.jacfwd(traits)(jnp.asarray(v))))
    metrics = e7_metrics(scores)
    dims, certified = [], []
    for m in range(1, len(jacobians) + 1):
        r = decide_rank(np.vstack(jacobians[:m]), name="stacked J")
        dims.append(v.size - r.rank)
        certified.append(r.certified)
    stacked = decide_rank(np.vstack(jacobians), name="stacked J")
    ones = np.ones(v.size) / np.sqrt(v.size)
    J = np.vstack(jacobians)
    counterpart = {
        "environments": list(envs),
        "class_dim_by_environments": dims,
        "certified": certified,
        "final_rank": stacked.rank,
        "ones_residual": float(np.linalg.norm(J @ ones) / np.linalg.norm(J, 2)),
    }
    holds = metrics["generation.fraction_small_d"] == 1.0
    cert = Certificate(
        "E7",
        Verdict.HOLDS if holds else Verdict.VIOLATED,
        CLAIM,
        dim=dims[-1],
        rank=stacked.rank,
        d=v.size,
        model=setup.model.name,
        layer=setup.layer,
        channel="generation",
        witness={"v": v, "v_perp": u},
    )
    return ExperimentResult(
        "multi-env", cert, metrics, counterpart, scores, time.perf_counter() - t0
    )
