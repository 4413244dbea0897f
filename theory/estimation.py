"""T4: a probe direction learned from activations is identified only modulo S^perp.

Any objective that sees w only through the scores ``<w, h(x)> + b`` on the data is blind to
``w -> w + u`` for u orthogonal to S = span of the centred activations (the bias absorbs
``-<u, mean h>``). So the class of w is ``w + ker(H_c)`` with H_c the centred activation matrix,
of dimension ``d - rank Cov(H)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .certificate import Certificate
from .gates import decide
from .linear import equivalence_class
from .linear_evidence import allowed_residual, class_fields, undecided_certificate, unit
from .residual import compare_behaviours
from .validation import InputError, as_matrix, as_real, as_seed, as_tolerance, as_vector


def centred(H: Any) -> np.ndarray:
    """H - mean over rows (N, d)."""
    H = as_matrix("H", H)
    return H - H.mean(axis=0, keepdims=True)


def probe_scores(H: Any, w: Any, b: float = 0.0) -> np.ndarray:
    """Scores ``<w, h_i> + b`` of every activation row."""
    H = as_matrix("H", H)
    w = as_vector("w", w, H.shape[1], against="H")
    return H @ w + as_real("b", b)


def probe_class(H: Any, w: Any, tol: float | None = None):
    """Class of probe directions indistinguishable from w on activations H: ``w + ker(H_c)``."""
    H = as_matrix("H", H)
    as_vector("w", w, H.shape[1], against="H")
    tol = as_tolerance("tol", tol)
    if H.shape[0] < 2:
        raise InputError(f"H must have at least 2 rows (activations) to centre, got {H.shape[0]}")
    # default tolerance at the scale of H: centring can leave round-off that must not count as rank
    return equivalence_class(centred(H), w, tol, scale=float(np.linalg.norm(H, 2)))


def equivalent_probe(H: Any, w: Any, b: float, u: Any) -> tuple[np.ndarray, float]:
    """Move (w, b) to (w + u, b - <u, mean h>); same scores on H iff u is orthogonal to S."""
    H = as_matrix("H", H)
    w = as_vector("w", w, H.shape[1], against="H")
    b = as_real("b", b)
    u = as_vector("u", u, H.shape[1], against="H")
    return w + u, b - float(u @ H.mean(axis=0))


T4_CLAIM = (
    "probe w is identified only modulo S^perp: w + u with u in ker(H_c) gives identical scores, "
    "dim d - rank Cov(H)"
)


def check_t4(
    H: Any,
    w: Any,
    b: float = 0.0,
    tol: float | None = None,
    seed: int = 0,
    *,
    member: Any | None = None,
) -> Certificate:
    """Check T4: moving (w, b) to (w + u, b - <u, mean h>) for u in ker(H_c), at a distance |w|
    (1 when w = 0), leaves every score unchanged (a gate against the change a step of the same
    length inside S makes: else violated), and that step inside S does change the scores (else
    undecided: nothing is shown). ``member``: a claimed w + u to re-score in place of the one
    built; the bias moves with it. With the same seed the member is the one
    ``check_t1(centred(H), w, seed=seed, scale=|H|_2)`` draws: w + |w| u, u the first random unit
    vector of ker(H_c); when ker(H_c) = {0} nothing moves and T4 holds with the rank margin."""
    H = as_matrix("H", H)
    wf = as_vector("w", w, H.shape[1], against="H")
    b = as_real("b", b)
    seed = as_seed("seed", seed)
    claimed = None if member is None else as_vector("member", member, H.shape[1], against="H")
    cls = probe_class(H, wf, tol)
    if not cls.certified:
        return undecided_certificate("T4", T4_CLAIM, cls, "the centred activations H_c")
    rng = np.random.default_rng(seed)

    def scores_of(x: np.ndarray) -> np.ndarray:  # the probe x, its bias absorbing the move from w
        return probe_scores(H, *equivalent_probe(H, wf, b, x - wf))

    if claimed is not None:
        w2 = claimed
    else:
        length = float(np.linalg.norm(wf)) or 1.0
        w2 = wf + length * unit(rng, cls.basis) if cls.dim else wf.copy()
    step = float(np.linalg.norm(w2 - wf))
    cmp = compare_behaviours(
        scores_of, wf, w2, step * unit(rng, cls.row_basis) if cls.rank and step > 0 else None
    )
    witness = {"w": wf}
    if cls.dim or claimed is not None:
        w2, b2 = equivalent_probe(H, wf, b, w2 - wf)
        witness.update(member=w2, member_bias=np.array([b2]))
    verdict, margin, reason = decide(
        {"scores unchanged": cmp.equivalence_margin(allowed_residual(cls))},
        {"rank": cls.decision.margin},
        {"step inside S seen": cmp.separation_margin()} if cls.rank and step > 0 else {},
    )
    return Certificate(
        theorem="T4",
        verdict=verdict,
        claim=T4_CLAIM,
        margin=margin,
        witness=witness,
        residual=cmp.ratio,
        residual_tolerance=allowed_residual(cls),
        reason=reason,
        details={
            "score_change_in_class": cmp.inside,
            "score_change_out_of_class": cmp.outside,
            "evaluation_noise": cmp.noise,
            "n_samples": H.shape[0],
        },
        **class_fields(cls),
    )
