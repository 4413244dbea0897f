"""T4: a probe direction learned from activations is identified only modulo S^perp.

Any objective that sees w only through the scores ``<w, h(x)> + b`` on the data is blind to
``w -> w + u`` for u orthogonal to S = span of the centred activations (the bias absorbs
``-<u, mean h>``). So the class of w is ``w + ker(H_c)`` with H_c the centred activation matrix,
of dimension ``d - rank Cov(H)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .certificate import Certificate, Verdict
from .linear import equivalence_class
from .linear_checks import allowed_residual, undecided_certificate
from .residual import compare_behaviours
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
    # default tolerance at the scale of H: centring can leave round-off that must not count as rank
    return equivalence_class(centred(H), w, tol, scale=float(np.linalg.norm(H, 2)))


def equivalent_probe(H: Any, w: Any, b: float, u: Any) -> tuple[np.ndarray, float]:
    """Move (w, b) to (w + u, b - <u, mean h>); same scores on H iff u is orthogonal to S."""
    H = as_matrix("H", H)
    u = as_vector("u", u, H.shape[1], against="H")
    return as_vector("w", w, H.shape[1]) + u, float(b) - float(u @ H.mean(axis=0))


T4_CLAIM = "probe w is identified only modulo S^perp: w + u with u in ker(H_c) gives identical scores, dim d - rank Cov(H)"


def check_t4(
    H: Any, w: Any, b: float = 0.0, tol: float | None = None, seed: int = 0
) -> Certificate:
    """Check T4: moving (w, b) to (w + u, b - <u, mean h>) for u in ker(H_c), at a distance |w|,
    leaves every score unchanged (round-off against the change a step of the same length inside S
    makes), the step inside S does change the scores, and dim = d - rank Cov(H)."""
    H = as_matrix("H", H)
    wf = as_vector("w", w, H.shape[1], against="H")
    b = float(b)
    if not math.isfinite(b):
        raise ValueError(f"b must be a finite number, got {b!r}")
    cls = probe_class(H, wf, as_tolerance("tol", tol))
    if not cls.certified:
        return undecided_certificate("T4", T4_CLAIM, cls, "the centred activations H_c")
    rng = np.random.default_rng(seed)
    length = float(np.linalg.norm(wf)) or 1.0

    def scores_of(
        x: np.ndarray,
    ) -> np.ndarray:  # the probe x with the bias that absorbs the move from w
        return probe_scores(H, *equivalent_probe(H, wf, b, x - wf))

    def unit(basis: np.ndarray) -> np.ndarray:
        u = basis @ rng.standard_normal(basis.shape[1])
        return u / np.linalg.norm(u)

    witness = {"w": wf}
    member = wf + length * unit(cls.basis) if cls.dim else wf.copy()
    cmp = compare_behaviours(
        scores_of, wf, member, length * unit(cls.row_basis) if cls.rank else None
    )
    if cls.dim:
        w2, b2 = equivalent_probe(H, wf, b, member - wf)
        witness.update(member=w2, member_bias=np.array([b2]))
    ok = cmp.equivalent(allowed_residual(cls))
    verdict = Verdict.HOLDS if ok else Verdict.VIOLATED
    if ok and cls.rank and not cmp.separated():
        verdict = Verdict.UNDECIDED  # a step inside S is lost in the round-off of the scores
    return Certificate(
        theorem="T4",
        verdict=verdict,
        claim=T4_CLAIM,
        dim=cls.dim,
        rank=cls.rank,
        margin=cls.decision.margin,
        tolerance=cls.decision.tolerance,
        witness=witness,
        details={
            "score_change_in_class": cmp.inside,
            "score_change_out_of_class": cmp.outside,
            "evaluation_noise": cmp.noise,
            "n_samples": H.shape[0],
        },
    )
