"""E4 (nullspace): the paper's "effective rank" of a finite-difference Jacobian, beside the
certified spectrum of the exact one.

Paper: one prompt; n = 1000 random unit directions e_i added to the last position's stream at
layers L/4, L/2, 3L/4; central differences (z(h + eps e) - z(h - eps e)) / 2 eps, eps = 0.01, give
a V x n matrix; effective rank = #{sigma > 5% sigma_max}, null fraction = (n - rank) / n.
Toolkit: the exact Jacobian J = dz/dh (V x d, forward-mode in float64), its certified rank and null
dimension (``theory.rank``), the LayerNorm symmetry J 1 = 0 where the family has it (T2a), and for
each precision (float16, float32, float64) the rule's rank, the certified rank of the noisy matrix,
and how many of the exact matrix's nonzero singular values fall under the 5% line.
"""

from __future__ import annotations

import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from synthetic.transformer import _forward
from theory.certificate import Certificate, Verdict
from theory.rank import decide_rank, decide_rank_from_singular_values

from .metrics import effective_rank
from .result import ExperimentResult
from .setup import Setup

PRECISIONS = ("float16", "float32", "float64")
CLAIM = "the 5% rule's effective rank of the float16 finite-difference Jacobian is its true rank"


def e4_layers(n_layers: int) -> list[int]:
    return sorted({n_layers // 4, n_layers // 2, (3 * n_layers) // 4})


def _last_logits(params: dict, cfg: Any, prompt: np.ndarray, layer: int):
    T = prompt.shape[-1]
    mask = np.zeros(T)
    mask[-1] = 1.0

    def f(e):
        return _forward(params, cfg, prompt, layer, e, 1.0, mask.astype(e.dtype))[-1, -1]

    return f


def fd_matrix(
    setup: Setup, prompt: np.ndarray, layer: int, directions: np.ndarray, eps: float, dtype: str
) -> np.ndarray:
    """Central differences (z(h + eps e) - z(h - eps e)) / 2 eps for each row e of ``directions``,
    the model and the arithmetic in ``dtype``: (V, n) as float64."""
    params = jax.tree_util.tree_map(lambda x: jnp.asarray(x, dtype), setup.model.params)
    f = _last_logits(params, setup.model.cfg, prompt, layer)
    E = jnp.asarray(directions, dtype)
    h = jnp.asarray(eps, dtype)
    cols = jax.jit(jax.vmap(lambda e: (f(h * e) - f(-h * e)) / (2 * h)))(E)
    return np.asarray(cols, dtype=np.float64).T


def exact_jacobian(setup: Setup, prompt: np.ndarray, layer: int) -> np.ndarray:
    f = _last_logits(setup.model.params, setup.model.cfg, prompt, layer)
    return np.asarray(jax.jacfwd(f)(jnp.zeros(setup.model.cfg.d_model)))


def layer_report(setup: Setup, layer: int, n_dirs: int, eps: float) -> dict[str, Any]:
    prompt = setup.prompts[:1]
    d = setup.model.cfg.d_model
    g = np.random.default_rng(9_000 + setup.seed).standard_normal((n_dirs, d))
    E = g / np.linalg.norm(g, axis=1, keepdims=True)
    J = exact_jacobian(setup, prompt, layer)
    cert = decide_rank(J, name="J")
    exact_JE = decide_rank(J @ E.T, name="J E")
    ones = np.ones(d) / np.sqrt(d)
    out: dict[str, Any] = {
        "layer": layer,
        "certified_rank": cert.rank,
        "certified": cert.certified,
        "null_dim": d - cert.rank,
        "tolerance": cert.tolerance,
        "ones_residual": float(np.linalg.norm(J @ ones) / np.linalg.norm(J, 2)),
        "exact_singular_values": cert.singular_values,
        "exact_JE_effective_rank": effective_rank(exact_JE.singular_values),
        "exact_below_5pct": int(exact_JE.rank - effective_rank(exact_JE.singular_values)),
    }
    for p in PRECISIONS:
        M = fd_matrix(setup, prompt, layer, E, eps, p)
        s = np.linalg.svd(M, compute_uv=False)
        rank = effective_rank(s)
        out[p] = {
            "effective_rank": rank,
            "null_fraction": (n_dirs - rank) / n_dirs,
            "certified_rank_of_fd": decide_rank_from_singular_values(s, M.shape).rank,
            "singular_values": s[: min(s.size, 2 * d)],
            "misclassified": abs(rank - cert.rank),
            "error_vs_exact": float(np.linalg.norm(M - J @ E.T) / np.linalg.norm(J @ E.T)),
        }
    return out


def e4_metrics(scores: dict[str, Any]) -> dict[str, Any]:
    """The 5% rule recomputed from the stored finite-difference spectra."""
    out: dict[str, Any] = {}
    for key, rep in scores.items():
        for p in PRECISIONS:
            s = np.asarray(rep[p])
            rank = effective_rank(s)
            out[f"{key}.{p}.effective_rank"] = rank
            out[f"{key}.{p}.null_fraction"] = (rep["n_dirs"] - rank) / rep["n_dirs"]
    return out


def run_nullspace(setup: Setup, n_dirs: int = 1000, eps: float = 0.01) -> ExperimentResult:
    t0 = time.perf_counter()
    reports = [
        layer_report(setup, layer, n_dirs, eps) for layer in e4_layers(setup.model.cfg.n_layers)
    ]
    scores = {
        f"layer_{r['layer']}": {
            "n_dirs": n_dirs,
            **{p: r[p]["singular_values"] for p in PRECISIONS},
        }
        for r in reports
    }
    metrics = e4_metrics(scores)
    counterpart = {
        f"layer_{r['layer']}": {k: x for k, x in r.items() if k not in PRECISIONS}
        | {p: {k: x for k, x in r[p].items() if k != "singular_values"} for p in PRECISIONS}
        for r in reports
    }
    wrong = [
        r["layer"]
        for r in reports
        if r["certified"] and r["float16"]["effective_rank"] != r["certified_rank"]
    ]
    undecided = [r["layer"] for r in reports if not r["certified"]]
    verdict = Verdict.VIOLATED if wrong else Verdict.UNDECIDED if undecided else Verdict.HOLDS
    mid = reports[len(reports) // 2]
    reason = f"the rule misreads the certified rank at layers {wrong}" if wrong else ""
    if undecided and not wrong:
        reason = f"the exact Jacobian's rank is undecided at layers {undecided}"
    cert = Certificate(
        "E4",
        verdict,
        CLAIM,
        dim=mid["null_dim"],
        rank=mid["certified_rank"],
        d=setup.model.cfg.d_model,
        singular_values=mid["exact_singular_values"],
        tolerance=mid["tolerance"],
        model=setup.model.name,
        layer=mid["layer"],
        channel="logits",
        reason=reason,
    )
    return ExperimentResult(
        "nullspace", cert, metrics, counterpart, scores, time.perf_counter() - t0
    )
