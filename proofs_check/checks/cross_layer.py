"""Checks of T9: the stacked [J_l T_l] decides identifiability from several layers; the symmetry
every layer shares (LayerNorm's all-ones direction, fixed by every T_l) survives (the figure is in
``proofs_check.figures.cross_layer``)."""

from __future__ import annotations

import functools

import sympy

from theory.certificate import Certificate, Verdict, min_margin

from ..model_checks import cross_layer_certificate
from ..registry import EXACT, NUMERIC, check

N_PROMPTS, ALPHAS = 6, (1.0, 2.0)  # 12 trait rows per layer, d = 32


@check("T9", EXACT, "stacked rational [J_l T_l]: a shared symmetry survives every layer, exactly")
def exact_t9(seed: int = 0, transfer_fixes_ones: bool = True) -> Certificate:
    """d = 3, 1 = (1, 1, 1). Layers whose Jacobians all kill 1, tied by T_l with T_l 1 = 1: the
    stack has a null vector proportional to 1 whatever the number of layers; a layer that reads 1
    (J = e_1) makes the stack full rank. With ``transfer_fixes_ones=False`` (a wrong variant) T_2
    moves 1 and the survival claim fails."""
    ones = sympy.ones(3, 1)
    J = [sympy.Matrix([[1, -1, 0]]), sympy.Matrix([[0, 1, -1]]), sympy.Matrix([[2, -1, -1]])]
    T2 = (
        sympy.Matrix([[2, -1, 0], [0, 1, 0], [1, 0, 0]])
        if transfer_fixes_ones
        else sympy.Matrix([[1, 0, 0], [0, 2, 0], [0, 0, 1]])
    )  # the wrong variant: T_2 1 = (1, 2, 1)
    T = [sympy.eye(3), T2, sympy.eye(3)]
    evidence, ok = [], True
    for K in (1, 2, 3):
        stack = sympy.Matrix.vstack(*[J[i] * T[i] for i in range(K)])
        null = stack.nullspace()
        survives = (stack * ones).is_zero_matrix and len(null) >= 1
        ok &= survives
        evidence.append(
            {"layers": K, "stacked_rank": stack.rank(), "null": [str(list(u)) for u in null]}
        )
    full = sympy.Matrix.vstack(*[J[i] * T[i] for i in range(3)], sympy.Matrix([[1, 0, 0]]))
    ok &= full.rank() == 3
    evidence.append({"with a layer reading 1": True, "stacked_rank": full.rank()})
    return Certificate(
        theorem="T9",
        verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
        claim="ker of the stack holds 1 when every J_l kills 1 and every T_l fixes it",
        details={"evidence": evidence},
    )


@functools.lru_cache(maxsize=16)
def layer_certificate(
    name: str, layers: tuple[int, ...], propagate: bool, seed: int
) -> Certificate:
    """T9 on zoo model ``name`` (trait channel): a common null direction is re-run through the whole
    model at every layer and the verdict gated on it (``proofs_check.model_checks``)."""
    return cross_layer_certificate(
        name, list(layers), "trait", N_PROMPTS, seed, propagate=propagate, alphas=ALPHAS
    )


@check(
    "T9",
    NUMERIC,
    "tiny-ln / tiny-rms, trait channel, 6 prompts x 2 strengths: layers 0,1,2 stacked",
)
def numeric_t9(seed: int = 0) -> Certificate:
    """Prediction: one layer gives rank 12 (class dim 20); three layers stacked give rank 31 on the
    LayerNorm model (the all-ones direction survives, re-run through the model: a gate of its
    certificate, and the ratio must be second order, < 1e-6) and 32 on the RMSNorm model
    (identifiable), with T_l = I and with propagated T_l. undecided if any sub-check is."""
    rows, ok, certs = [], True, []
    for name, prop in (("tiny-ln", False), ("tiny-ln", True), ("tiny-rms", False)):
        one = layer_certificate(name, (1,), prop, seed)
        three = layer_certificate(name, (0, 1, 2), prop, seed)
        certs += [one, three]
        if name == "tiny-ln":
            good = (
                three.verdict is Verdict.VIOLATED
                and three.dim == 1
                and three.symmetries == ("layernorm-mean",)
                and three.residual is not None
                and three.residual < 1e-6
            )
        else:
            good = three.verdict is Verdict.HOLDS and three.dim == 0
        good &= one.dim == 32 - N_PROMPTS * len(ALPHAS)
        ok &= good
        rows.append(
            {
                "model": name,
                "propagated": prop,
                "dim_one_layer": one.dim,
                "dim_three_layers": three.dim,
                "symmetries": list(three.symmetries),
                "witness_rerun_ratio": three.residual if three.dim else None,
            }
        )
    ln = layer_certificate("tiny-ln", (0, 1, 2), False, seed)
    undecided = any(c.verdict is Verdict.UNDECIDED for c in certs)
    verdict = Verdict.UNDECIDED if undecided else (Verdict.HOLDS if ok else Verdict.VIOLATED)
    return Certificate(
        theorem="T9",
        verdict=verdict,
        claim="stacking layers shrinks the class to the shared symmetry (LayerNorm) or to {v} "
        "(RMSNorm)",
        dim=ln.dim,
        rank=ln.rank,
        d=ln.d,
        margin=min_margin(*(c.margin for c in certs)),
        tolerance=ln.tolerance,
        channel="trait",
        symmetries=ln.symmetries,
        reason="; ".join(c.reason for c in certs if c.reason),
        witness={"common_null_direction_tiny_ln": ln.witness["common_null_direction"]},
        details={"by_model": rows},
    )
