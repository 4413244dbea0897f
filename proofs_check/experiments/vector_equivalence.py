"""E6 (vector-equivalence): do the practitioners' estimators find the same vector?

CAA against the first principal component of the pair differences (the paper's E6), and repeng's
``pca_diff`` and ``pca_center`` and a logistic probe (``theory.estimators``), each unit-normed then
scaled to |CAA| so that only directions differ: cosine to CAA, and Cohen's d between the generation
scores of CAA and of the estimate. Counterparts: each estimate's T4 class (d minus the rank of the
centred activations it was fitted on), and the read-site pitfall: CAA read one block before the
injection site, its cosine to the CAA read where it is injected and its efficacy.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from theory.certificate import Certificate, Verdict
from theory.estimators import ESTIMATORS, estimate

from .metrics import cohens_d
from .orthogonal import NEGLIGIBLE_D
from .result import ExperimentResult
from .setup import Setup

METHODS = ("pca", *ESTIMATORS[1:])  # "pca": the paper's centred PCA of the differences
CLAIM = f"CAA and PCA of the differences steer alike (|d| < {NEGLIGIBLE_D})"


def pca_centred(D: np.ndarray) -> np.ndarray:
    """Top principal axis of the differences after removing their mean (sklearn PCA's
    convention), oriented by the mean projection."""
    from scipy.linalg import svd

    u = svd(D - D.mean(axis=0), full_matrices=False)[2][0]
    return u if np.mean(D @ u) >= 0 else -u


def e6_metrics(scores: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in (*METHODS, "read_early"):
        out[f"{m}.cohens_d"] = cohens_d(scores["caa"], scores[m])
    s0 = float(np.mean(scores["unsteered"]))
    out["read_early.efficacy_ratio"] = (float(np.mean(scores["read_early"])) - s0) / (
        float(np.mean(scores["caa"])) - s0
    )
    return out


def run_vector_equivalence(setup: Setup) -> ExperimentResult:
    t0 = time.perf_counter()
    hp, hm = setup.pair_activations()
    v = setup.v
    n = np.linalg.norm(v)
    ests = {m: estimate(m, hp, hm, seed=setup.seed) for m in ESTIMATORS}
    vectors = {"caa": v, "pca": pca_centred(hp - hm) * n}
    for m in ESTIMATORS[1:]:
        vectors[m] = ests[m].vector / np.linalg.norm(ests[m].vector) * n
    early = setup.v_read_early
    vectors["read_early"] = early
    unit = lambda x: x / np.linalg.norm(x)
    scores = {"unsteered": setup.generation(np.zeros_like(v), 1.0, 50).tolist()}
    for i, (m, x) in enumerate(vectors.items()):
        scores[m] = setup.generation(x, 1.0, 51 + i).tolist()
    metrics = e6_metrics(scores)
    for m in METHODS:
        metrics[f"{m}.cosine"] = float(unit(vectors[m]) @ unit(v))
    metrics["read_early.cosine"] = float(unit(early) @ unit(v))
    metrics["read_early.norm_ratio"] = float(np.linalg.norm(early) / n)
    counterpart = {
        m: {"class_dim": e.class_dim, "rank": e.rank, "certified": e.certified}
        for m, e in ests.items()
    }
    d = metrics["pca.cohens_d"]
    cert = Certificate(
        "E6",
        Verdict.HOLDS if d < NEGLIGIBLE_D else Verdict.VIOLATED,
        CLAIM,
        dim=ests["caa"].class_dim,
        rank=ests["caa"].rank,
        d=v.size,
        cosine=metrics["pca.cosine"],
        model=setup.model.name,
        layer=setup.layer,
        channel="generation",
        witness={m: x for m, x in vectors.items()},
    )
    return ExperimentResult(
        "vector-equivalence", cert, metrics, counterpart, scores, time.perf_counter() - t0
    )
