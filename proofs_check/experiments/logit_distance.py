"""E3 (logit-distance): next-token logits at the last prompt token under v against

    (i)   v + v_perp                     (5 draws; adds to v)
    (ii)  a Gaussian r with |r| = |v|    (3 draws; *replaces* v)
    (iii) another contrast's CAA vector, rescaled to |v|  (replaces v)

L2 distance, top-1 agreement, top-10 overlap, and the ratios d(i)/d(ii), d(i)/d(iii) of the L2
distances. The asymmetry: (i) keeps v and adds to it, (ii) and (iii) throw v away, so a small ratio
says little about v_perp being "null". Counterparts: the exact twin on the logits channel (T3's
level-set walk on the logits of the evaluation prompts, re-run through the model: distance 0 up to
round-off, or no twin when the class is {v}), and v + r with r not orthogonalised.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from synthetic.local_problems import behaviour_verifier, local_problem
from theory.certificate import Certificate, Verdict
from theory.level_set import twin_search

from .metrics import logit_distances
from .orthogonal import orthogonal_draw
from .result import ExperimentResult
from .setup import Setup

CLAIM = "v + v_perp moves the next-token logits less than a random replacement of v does"


def gaussian_like(v: np.ndarray, seed: int) -> np.ndarray:
    g = np.random.default_rng(seed).standard_normal(v.size)
    return g * np.linalg.norm(v) / np.linalg.norm(g)


def e3_metrics(scores: dict[str, Any], k: int = 10) -> dict[str, Any]:
    """E3's metrics from the logits in ``scores`` (each a (P, V) list, or a list of them)."""
    ref = np.asarray(scores["v"])
    out: dict[str, Any] = {}
    for cond in ("v_plus_perp", "random", "other_trait", "v_plus_r"):
        runs = scores[cond] if np.ndim(scores[cond]) == 3 else [scores[cond]]
        per = [logit_distances(z, ref, k) for z in runs]
        for key in ("l2", "top1_agreement", "top10_overlap"):
            out[f"{cond}.{key}"] = float(np.mean([p[key] for p in per]))
    out["ratio_perp_random"] = out["v_plus_perp.l2"] / out["random.l2"]
    out["ratio_perp_other"] = out["v_plus_perp.l2"] / out["other_trait.l2"]
    return out


def run_logit_distance(setup: Setup) -> ExperimentResult:
    t0 = time.perf_counter()
    v = setup.v
    other = setup.other_contrast()
    other = other * np.linalg.norm(v) / np.linalg.norm(other)
    base = 8_000 + 100 * setup.seed
    scores: dict[str, Any] = {
        "v": setup.next_logits(v).tolist(),
        "v_plus_perp": [
            setup.next_logits(v + orthogonal_draw(v, base + j)).tolist() for j in range(5)
        ],
        "random": [setup.next_logits(gaussian_like(v, base + 50 + j)).tolist() for j in range(3)],
        "other_trait": setup.next_logits(other).tolist(),
        "v_plus_r": [
            setup.next_logits(v + gaussian_like(v, base + 80 + j)).tolist() for j in range(3)
        ],
    }
    metrics = e3_metrics(scores)
    problem = local_problem(
        setup.model, setup.layer, prompts=setup.prompts, positions=(setup.last,)
    )
    verify = behaviour_verifier(setup.model, problem, setup.prompts, "logits")
    twin = twin_search(problem, v, "logits", target_cosine=0.0, max_steps=20, verify=verify)
    counterpart: dict[str, Any] = {
        "twin_verdict": twin.verdict.value,
        "class_dim": twin.dim,
        "symmetries": list(twin.symmetries),
        "twin_cosine": twin.cosine,
        "twin_residual": twin.residual,
    }
    if "twin" in twin.witness:
        w = np.asarray(twin.witness["twin"])
        scores["twin"] = setup.next_logits(w).tolist()
        counterpart.update(
            {f"twin.{k}": x for k, x in logit_distances(scores["twin"], scores["v"]).items()}
        )
    ratio = metrics["ratio_perp_random"]
    cert = Certificate(
        "E3",
        Verdict.HOLDS if ratio < 1 else Verdict.VIOLATED,
        CLAIM,
        dim=twin.dim,
        d=v.size,
        model=setup.model.name,
        layer=setup.layer,
        channel="logits",
        witness={"v": v, "other_trait": other},
        details={"ratio_perp_random": ratio},
    )
    return ExperimentResult(
        "logit-distance", cert, metrics, counterpart, scores, time.perf_counter() - t0
    )
