"""T2c: in the ``probs`` channel of a linear model z = W(h + v) + b, softmax forgets constant shifts.

softmax(z + c 1) = softmax(z), so v' ~ v iff W (v' - v) in span(1_V): the class is
``v + ker(P W)`` with ``P = I - 1 1^T / V`` the centring of the logits, of dimension
``d - rank W + [1_V in range W]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special
import sympy

from .certificate import Certificate, Verdict
from .linear import equivalence_class
from .linear_checks import RESIDUAL_TOL, class_certificate, undecided_certificate
from .rank import decide_rank
from .residual import behaviour_residual
from .validation import as_matrix, as_tolerance, as_vector

T2C_CLAIM = (
    "probs class of a linear model is v + {u : W u in span(1_V)}, dim d - rank W + [1_V in range W]"
)


def centre_logits(W: Any):
    """P W with P = I - 1 1^T / V: the part of the readout that the softmax can see."""
    if isinstance(W, sympy.MatrixBase):
        V = W.rows
        return (sympy.eye(V) - sympy.ones(V, V) / V) * W
    W = as_matrix("W", W)
    return W - W.mean(axis=0, keepdims=True)


def logit_scale(W: np.ndarray) -> float:
    """|W|_2: the default tolerance for P W is taken at the scale of W itself, since centring can
    leave P W at round-off level (e.g. W = 1 c^T), where a tolerance relative to |P W| would
    promote round-off to rank."""
    return float(np.linalg.norm(W, 2))


def probs_class(W: Any, v: Any, tol: float | None = None):
    """The ``probs``-channel class of v for logits ``W (h + v) + b``: ``v + ker(P W)``."""
    if isinstance(W, sympy.MatrixBase):
        return equivalence_class(centre_logits(W), v)
    W = as_matrix("W", W)
    as_vector("v", v, W.shape[1], against="W")
    return equivalence_class(centre_logits(W), v, tol, scale=logit_scale(W))


def probs_class_certificate(W: Any, v: Any, tol: float | None = None) -> Certificate:
    """``class_certificate`` of the probs channel (theorem T2c): the class ``v + ker(P W)``."""
    W = as_matrix("W", W)
    as_vector("v", v, W.shape[1], against="W")
    return class_certificate(
        centre_logits(W), v, tol, theorem="T2c", claim=T2C_CLAIM, scale=logit_scale(W)
    )


def ones_in_range_decisions(W: np.ndarray, tol: float | None = None):
    """([1_V in range W], rank decision of W, rank decision of [W, 1]): 1 is in the range iff
    appending it does not raise the rank. The ones column is scaled to |W|_2 so both spectra
    share a scale."""
    W = as_matrix("W", W)
    a = decide_rank(W, tol, "W")
    scale = float(np.linalg.norm(W, 2)) or 1.0
    b = decide_rank(
        np.column_stack([W, np.full(W.shape[0], scale / np.sqrt(W.shape[0]))]), tol, "W"
    )
    return b.rank == a.rank, a, b


def ones_in_range(W: Any, tol: float | None = None):
    """[1_V in range W] as (bool, certified)."""
    if isinstance(W, sympy.MatrixBase):
        return W.row_join(sympy.ones(W.rows, 1)).rank() == W.rank(), True
    in_range, a, b = ones_in_range_decisions(W, tol)
    return in_range, a.certified and b.certified


def check_t2c(
    W: Any, v: Any, H: Any, b: Any | None = None, tol: float | None = None, seed: int = 0
) -> Certificate:
    """Check T2c on the linear model ``z_i = W (h_i + v) + b``: the dimension formula, and a member of
    the class that moves every logit vector by a nonzero constant yet leaves every softmax unchanged
    (re-run through the softmax)."""
    W = as_matrix("W", W)
    vf = as_vector("v", v, W.shape[1], against="W")
    H = as_matrix("H", H)
    if H.shape[1] != W.shape[1]:
        raise ValueError(
            f"H must have {W.shape[1]} columns (the number of columns of W), got {H.shape[1]}"
        )
    bias = np.zeros(W.shape[0]) if b is None else as_vector("b", b)
    if bias.shape[0] != W.shape[0]:
        raise ValueError(
            f"b must have length V = {W.shape[0]} (the number of rows of W), got {bias.shape[0]}"
        )
    tol = as_tolerance("tol", tol)
    cls = probs_class(W, vf, tol)
    if not cls.certified:
        return undecided_certificate("T2c", T2C_CLAIM, cls, "P W")
    in_range, rank_w, rank_w1 = ones_in_range_decisions(W, tol)
    for name, dec in (("W", rank_w), ("[W, 1]", rank_w1)):
        if not dec.certified:
            return Certificate(
                theorem="T2c",
                verdict=Verdict.UNDECIDED,
                claim=T2C_CLAIM,
                dim=cls.dim,
                rank=cls.rank,
                margin=dec.margin,
                tolerance=dec.tolerance,
                details={
                    "reason": f"rank of {name} not certified: singular values in the grey band",
                    **dec.summary(),
                },
            )
    predicted = W.shape[1] - rank_w.rank + int(in_range)

    def probs(w: np.ndarray) -> np.ndarray:
        return scipy.special.softmax((H + w) @ W.T + bias, axis=-1)

    rng = np.random.default_rng(seed)
    witness = {"v": vf}
    residual = 0.0
    shift = 0.0
    if cls.dim:
        member = cls.member(rng.standard_normal(cls.dim))
        residual = behaviour_residual(probs(member), probs(vf), probs(np.zeros_like(vf)))
        delta = W @ (member - vf)
        shift = float(np.mean(delta))  # the constant the logits moved by
        witness["member"] = member
    ok = cls.dim == predicted and residual <= RESIDUAL_TOL
    return Certificate(
        theorem="T2c",
        verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
        claim=T2C_CLAIM,
        dim=cls.dim,
        rank=cls.rank,
        margin=min(cls.decision.margin, rank_w.margin),
        tolerance=cls.decision.tolerance,
        witness=witness,
        details={
            "predicted_dim": predicted,
            "rank_W": rank_w.rank,
            "ones_in_range_W": in_range,
            "probs_residual": residual,
            "logit_shift": shift,
        },
    )
