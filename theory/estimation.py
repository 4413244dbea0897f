"""T4: a probe direction learned from activations is identified only modulo S^perp.

Any objective that sees w only through the scores ``<w, h(x)> + b`` on the data is blind to
``w -> w + u`` for u orthogonal to S = span of the centred activations (the bias absorbs
``-<u, mean h>``). So the class of w is ``w + ker(H_c)`` with H_c the centred activation matrix,
of dimension ``d - rank Cov(H)``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .certificate import Certificate, Verdict
from .linear import RESIDUAL_TOL, undecided_certificate, equivalence_class
from .rank import default_tolerance
from .validation import as_matrix, as_tolerance, as_vector


def centred(H: Any) -> np.ndarray:
    """H - mean over rows (N, d)."""
    H = as_matrix("H", H)
    return H - H.mean(axis=0, keepdims=True)


def probe_scores(H: Any, w: Any, b: float = 0.0) -> np.ndarray:
    """Scores ``<w, h_i> + b`` of every activation row."""
    H = as_matrix("H", H)
    w = as_vector("w", w, H.shape[1], against="H")
    return H @ w + float(b)


def probe_class(H: Any, w: Any, tol: float | None = None):
    """Class of probe directions indistinguishable from w on activations H: ``w + ker(H_c)``."""
    H = as_matrix("H", H)
    as_vector("w", w, H.shape[1], against="H")
    if H.shape[0] < 2:
        raise ValueError(f"H must have at least 2 rows (activations) to centre, got {H.shape[0]}")
    tol = as_tolerance("tol", tol)
    if tol is None:  # at the scale of H: centring can leave round-off that must not count as rank
        tol = default_tolerance(H.shape, float(np.linalg.norm(H, 2)))
    return equivalence_class(centred(H), w, tol)


def equivalent_probe(H: Any, w: Any, b: float, u: Any) -> tuple[np.ndarray, float]:
    """Move (w, b) to (w + u, b - <u, mean h>); same scores on H iff u is orthogonal to S."""
    H = as_matrix("H", H)
    u = as_vector("u", u, H.shape[1], against="H")
    return as_vector("w", w, H.shape[1]) + u, float(b) - float(u @ H.mean(axis=0))


T4_CLAIM = "probe w is identified only modulo S^perp: w + u with u in ker(H_c) gives identical scores, dim d - rank Cov(H)"


def check_t4(H: Any, w: Any, b: float = 0.0, tol: float | None = None, seed: int = 0) -> Certificate:
    """Check T4: a random u in ker(H_c) (with the bias moved) leaves every score unchanged, a u in S
    does not, and dim = d - rank Cov(H)."""
    H = as_matrix("H", H)
    wf = as_vector("w", w, H.shape[1], against="H")
    cls = probe_class(H, wf, as_tolerance("tol", tol))
    if not cls.certified:
        return undecided_certificate("T4", T4_CLAIM, cls, "the centred activations H_c")
    rng = np.random.default_rng(seed)
    scores = probe_scores(H, wf, b)
    scale = max(1.0, float(np.linalg.norm(scores)))
    witness = {"w": wf}
    same = 0.0
    if cls.dim:
        u = cls.basis @ rng.standard_normal(cls.dim)
        w2, b2 = equivalent_probe(H, wf, b, u)
        same = float(np.linalg.norm(probe_scores(H, w2, b2) - scores)) / scale
        witness.update(member=w2, member_bias=np.array([b2]))
    changed = np.inf
    if cls.rank:
        u = cls.row_basis @ rng.standard_normal(cls.rank)
        w3, b3 = equivalent_probe(H, wf, b, u)
        changed = float(np.linalg.norm(probe_scores(H, w3, b3) - scores)) / scale
    ok = same <= RESIDUAL_TOL and changed > RESIDUAL_TOL
    return Certificate(
        theorem="T4", verdict=Verdict.HOLDS if ok else Verdict.VIOLATED, claim=T4_CLAIM,
        dim=cls.dim, rank=cls.rank, margin=cls.decision.margin, tolerance=cls.decision.tolerance,
        witness=witness,
        details={"score_change_in_class": same, "score_change_out_of_class": changed,
                 "n_samples": H.shape[0]},
    )
