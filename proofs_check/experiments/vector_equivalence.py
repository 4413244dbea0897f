"""E6 (vector-equivalence): do the practitioners' estimators find the same vector?

CAA against the first principal component of the pair differences (the paper's E6), and repeng's
``pca_diff`` and ``pca_center`` and a logistic probe (``theory.estimators``), each unit-normed then
scaled to |CAA| so that only directions differ: cosine to CAA, and Cohen's d between the generation
scores of CAA and of the estimate. Counterparts: each estimate's T4 class (d minus the rank of the
centred activations it was fitted on), and the read-site pitfall: CAA read one block before the
injection site, its cosine to the CAA read where it is injected and its efficacy; and CAA averaged
over the continuation tokens of whole sequences (with the language) instead of read at the last
prompt token; these two keep their own norms, as a practitioner would use them. Both channels
(generation and trait) are scored.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from theory.certificate import Certificate, Verdict
from theory.estimators import ESTIMATORS, estimate

from .metrics import cohens_d
from .orthogonal import CHANNELS, NEGLIGIBLE_D
from .result import ExperimentResult
from .setup import Setup

CLAIM = f"CAA and PCA of the differences steer alike (|d| < {NEGLIGIBLE_D})"


def e6_metrics(scores: dict[str, Any]) -> dict[str, Any]:
    """Cohen's d of every estimate against CAA on both channels, and the efficacy ratios of the
    vectors read elsewhere (one block early, over the continuation)."""
    out: dict[str, Any] = {}
    for ch in CHANNELS:
        s0 = float(np.mean(scores["unsteered"][ch]))
        caa = scores["caa"][ch]
        for m in scores:
            if m in ("unsteered", "caa"):
                continue
            out[f"{ch}.{m}.cohens_d"] = cohens_d(caa, scores[m][ch])
            out[f"{ch}.{m}.efficacy_ratio"] = (float(np.mean(scores[m][ch])) - s0) / (
                float(np.mean(caa)) - s0
            )
    return out


def run_vector_equivalence(setup: Setup) -> ExperimentResult:
    t0 = time.perf_counter()
    hp, hm = setup.pair_activations()
    v = setup.v
    n = np.linalg.norm(v)
    ests = {m: estimate(m, hp, hm, seed=setup.seed) for m in ESTIMATORS}
    vectors = {"caa": v}
    for m in ESTIMATORS[1:]:
        vectors[m] = ests[m].vector / np.linalg.norm(ests[m].vector) * n
    early = setup.v_read_early
    vectors["read_early"] = early
    if setup.v_continuation is not None:
        vectors["caa_continuation"] = setup.v_continuation
    unit = lambda x: x / np.linalg.norm(x)
    scores = {"unsteered": setup.scores(np.zeros_like(v), 1.0, 50)}
    for i, (m, x) in enumerate(vectors.items()):
        scores[m] = setup.scores(x, 1.0, 51 + i)
    metrics = e6_metrics(scores)
    for m, x in vectors.items():
        if m != "caa":
            metrics[f"{m}.cosine"] = float(unit(x) @ unit(v))
            metrics[f"{m}.norm_ratio"] = float(np.linalg.norm(x) / n)
    counterpart = {
        m: {"class_dim": e.class_dim, "rank": e.rank, "certified": e.certified}
        for m, e in ests.items()
    }
    d = metrics["generation.pca.cohens_d"]
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
