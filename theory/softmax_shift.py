"""T2c: in the ``probs`` channel of a linear model z = W(h + v) + b, the softmax forgets constant
shifts.

softmax(z + c 1) = softmax(z), so v' ~ v iff W (v' - v) in span(1_V): the class is
``v + ker(P W)`` with ``P = I - 1 1^T / V`` the centring of the logits, of dimension
``d - rank W + [1_V in range W]``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.linalg
import scipy.special
import sympy

from .certificate import Certificate, Verdict, ratio_margin
from .class_report import class_certificate
from .gates import decide, over
from .linear import EPS, equivalence_class
from .linear_evidence import allowed_residual, class_fields, undecided_certificate
from .rank import RankDecision, decide_rank
from .residual import NOISE_FACTOR, behaviour_residual
from .validation import InputError, as_matrix, as_seed, as_tolerance, as_vector

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
    """|W|_2: the default tolerance for P W and its grey band's top are taken at the scale of W,
    since centring can leave P W at round-off level (e.g. W = 1 c^T), where a tolerance relative
    to |P W| would promote round-off to rank."""
    return float(np.linalg.norm(as_matrix("W", W), 2))


def probs_class(W: Any, v: Any, tol: float | None = None):
    """The ``probs``-channel class of v for logits ``W (h + v) + b``: ``v + ker(P W)``."""
    if isinstance(W, sympy.MatrixBase):
        as_tolerance("tol", tol)
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
    share a scale. When the decided rank of W is 0 its range is {0}, which 1_V != 0 is not in,
    whatever the tolerance makes of [W, 1] (its decision then decides nothing)."""
    W = as_matrix("W", W)
    tol = as_tolerance("tol", tol)
    a = decide_rank(W, tol, "W")
    scale = float(np.linalg.norm(W, 2)) or 1.0
    b = decide_rank(
        np.column_stack([W, np.full(W.shape[0], scale / np.sqrt(W.shape[0]))]), tol, "W"
    )
    return a.rank > 0 and b.rank == a.rank, a, b


def ones_in_range(W: Any, tol: float | None = None):
    """[1_V in range W] as (bool, certified)."""
    if isinstance(W, sympy.MatrixBase):
        as_tolerance("tol", tol)
        return W.row_join(sympy.ones(W.rows, 1)).rank() == W.rank(), True
    in_range, a, b = ones_in_range_decisions(W, tol)
    return in_range, a.certified and (a.rank == 0 or b.certified)


def _spectrum_undecided(cls: Any, name: str, dec: RankDecision) -> Certificate:
    """Undecided: the rank of ``name`` (W or [W, 1]) is not certified."""
    fields = class_fields(cls)
    fields.update(
        tolerance=dec.tolerance, singular_values=dec.singular_values, ambiguous=dec.ambiguous
    )
    return Certificate(
        theorem="T2c",
        verdict=Verdict.UNDECIDED,
        claim=T2C_CLAIM,
        margin=dec.margin,
        reason=f"rank of {name} not certified: singular values in the grey band",
        details={"band_top": dec.band_top},
        **fields,
    )


def ones_direction(W: np.ndarray, decision: RankDecision) -> np.ndarray:
    """The unit direction of ``W^+ 1_V`` (at the rank cut-off of ``decision``): when 1_V is in the
    range of W, W moves every logit by the same nonzero amount along it, so it lies in the probs
    class and not in the logits class. A decision with an empty spectrum has s_1 = 0 (``rank``'s
    convention) and sets no cut-off: the solver's default (``cond=None``)."""
    W = as_matrix("W", W)
    s1 = float(decision.singular_values[0]) if decision.singular_values.size else 0.0
    cond = decision.tolerance / s1 if s1 > 0 else None
    u = scipy.linalg.lstsq(W, np.ones(W.shape[0]), cond=cond)[0]
    n = float(np.linalg.norm(u))
    return u / n if n > 0 else u


def _build_member(cls: Any, W: np.ndarray, vf: np.ndarray, in_range: bool, rank_w, rng):
    """A random member of the class; when 1_V is in the range of W, its part along ``W^+ 1`` is set
    to |v| (1 when v = 0), so that its logits move by a clearly nonzero constant."""
    z = cls.basis @ rng.standard_normal(cls.dim)
    if in_range:
        e = ones_direction(W, rank_w)
        z += ((float(np.linalg.norm(vf)) or 1.0) - float(z @ e)) * e
    return vf + z


def check_t2c(
    W: Any,
    v: Any,
    H: Any,
    b: Any | None = None,
    tol: float | None = None,
    seed: int = 0,
    *,
    member: Any | None = None,
) -> Certificate:
    """Check T2c on the linear model ``z_i = W (h_i + v) + b``: the dimension formula, and a member
    of the class, re-run through the softmax, that leaves every softmax unchanged (a gate: else
    violated) and moves every logit vector by a constant (a gate: else violated). When 1_V is in
    the range of W that constant must be clearly nonzero (a gate: else undecided, the member shows
    nothing the logits class does not); otherwise the probs class is the logits class v + ker W
    and the constant is 0. The change ``W (w - v)`` may differ from a constant vector by
    ``allowed = max(1e3 eps |W|_2, 10 tau) |w - v|`` (tau the class's rank tolerance); with 1 in
    range W the constant, ``|shift| sqrt(V)``, must exceed ``10 allowed``. ``member``: a claimed
    member to re-run in place of the one built."""
    W = as_matrix("W", W)
    vf = as_vector("v", v, W.shape[1], against="W")
    H = as_matrix("H", H)
    if H.shape[1] != W.shape[1]:
        raise InputError(
            f"H must have {W.shape[1]} columns (the number of columns of W), got {H.shape[1]}"
        )
    bias = np.zeros(W.shape[0]) if b is None else as_vector("b", b)
    if bias.shape[0] != W.shape[0]:
        raise InputError(
            f"b must have length V = {W.shape[0]} (the number of rows of W), got {bias.shape[0]}"
        )
    tol = as_tolerance("tol", tol)
    seed = as_seed("seed", seed)
    claimed = None if member is None else as_vector("member", member, W.shape[1], against="W")
    cls = probs_class(W, vf, tol)
    if not cls.certified:
        return undecided_certificate("T2c", T2C_CLAIM, cls, "P W")
    in_range, rank_w, rank_w1 = ones_in_range_decisions(W, tol)
    for name, dec in (("W", rank_w), ("[W, 1]", rank_w1)):
        if not dec.certified and not (name == "[W, 1]" and rank_w.rank == 0):
            return _spectrum_undecided(cls, name, dec)  # rank W = 0 decides [1 in range W]
    predicted = W.shape[1] - rank_w.rank + int(in_range)
    needs = {"rank P W": cls.decision.margin, "rank W": rank_w.margin}
    if rank_w.rank:
        needs["rank [W, 1]"] = rank_w1.margin
    claims = {"dim = d - rank W + [1 in range W]": math.inf if cls.dim == predicted else 0.0}
    holds_needs: dict[str, float] = {}
    witness = {"v": vf}
    details: dict[str, Any] = {"predicted_dim": predicted, "rank_W": rank_w.rank}
    details["ones_in_range_W"] = in_range
    residual = None
    if claimed is not None or cls.dim:
        rng = np.random.default_rng(seed)
        w = claimed if claimed is not None else _build_member(cls, W, vf, in_range, rank_w, rng)

        def probs(x: np.ndarray) -> np.ndarray:
            return scipy.special.softmax((H + x) @ W.T + bias, axis=-1)

        residual = behaviour_residual(probs(w), probs(vf), probs(np.zeros_like(vf)))
        step = float(np.linalg.norm(w - vf))
        delta = W @ (w - vf)
        shift = float(np.mean(delta))  # the constant the logits moved by
        centred = float(np.linalg.norm(delta - shift))
        noise = NOISE_FACTOR * EPS * float(np.linalg.norm(W, 2)) * step
        allowed = max(noise, 10.0 * cls.decision.tolerance * step)
        claims["softmax unchanged"] = ratio_margin(allowed_residual(cls), residual)
        claims["logits move by a constant"] = ratio_margin(allowed, centred)
        if in_range:
            constant = abs(shift) * math.sqrt(W.shape[0])
            holds_needs["logit shift nonzero"] = over(constant, 10.0 * allowed)
        witness["member"] = w
        details.update(logit_shift=shift, logit_change_off_constant=centred)
    verdict, margin, reason = decide(claims, needs, holds_needs)
    return Certificate(
        theorem="T2c",
        verdict=verdict,
        claim=T2C_CLAIM,
        margin=margin,
        witness=witness,
        residual=residual,
        residual_tolerance=None if residual is None else allowed_residual(cls),
        reason=reason,
        details=details,
        **class_fields(cls),
    )
