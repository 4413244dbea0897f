"""Exact checks of T2a/T2b: a mean-centring LayerNorm forgets h -> h + c 1; RMSNorm does not.

The norms are written in sympy with symbolic gain, bias and epsilon, so the identity proved is the
one the transformer uses (synthetic/transformer.py) for every d checked."""

from __future__ import annotations

from collections.abc import Callable

import sympy

from theory.certificate import Certificate, Verdict

from ..registry import EXACT, check

SymbolicNorm = Callable[[list, sympy.Symbol], list]


def layer_norm_sym(h: list, eps: sympy.Symbol) -> list:
    """LN(h)_i = g_i (h_i - mean h) / sqrt(var h + eps) + b_i."""
    d = len(h)
    mean = sum(h) / d
    var = sum((x - mean) ** 2 for x in h) / d
    g, b = sympy.symbols(f"g1:{d + 1}", real=True), sympy.symbols(f"b1:{d + 1}", real=True)
    return [g[i] * (h[i] - mean) / sympy.sqrt(var + eps) + b[i] for i in range(d)]


def rms_norm_sym(h: list, eps: sympy.Symbol) -> list:
    """RMSNorm(h)_i = g_i h_i / sqrt(mean(h^2) + eps)."""
    d = len(h)
    g = sympy.symbols(f"g1:{d + 1}", real=True)
    return [g[i] * h[i] / sympy.sqrt(sum(x**2 for x in h) / d + eps) for i in range(d)]


def shift_invariance(norm: SymbolicNorm, dims=range(2, 7)) -> tuple[bool, list[dict]]:
    """Does ``norm(h + c 1) - norm(h)`` simplify to 0 for symbolic h in R^d, c, eps > 0?"""
    c = sympy.Symbol("c", real=True)
    eps = sympy.Symbol("epsilon", positive=True)
    rows, ok = [], True
    for d in dims:
        h = list(sympy.symbols(f"h1:{d + 1}", real=True))
        diff = [sympy.simplify(a - b) for a, b in zip(norm([x + c for x in h], eps), norm(h, eps))]
        zero = all(x == 0 for x in diff)
        ok &= zero
        rows.append(
            {
                "d": d,
                "difference": [str(x) for x in diff[:2]] + (["..."] if d > 2 else []),
                "zero": zero,
            }
        )
    return ok, rows


def check_shift_invariance(norm: SymbolicNorm = layer_norm_sym, dims=range(2, 7)) -> Certificate:
    ok, rows = shift_invariance(norm, dims)
    return Certificate(
        theorem="T2a",
        verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
        claim="LN(h + c 1) = LN(h) for symbolic h, c, gain, bias, eps",
        details={"evidence": rows, "norm": norm.__name__},
    )


@check("T2a", EXACT, "LN(h + c1) = LN(h), symbolic h of d = 2..6 entries")
def exact_t2a(seed: int = 0) -> Certificate:
    return check_shift_invariance(layer_norm_sym)


@check("T2b", EXACT, "RMSNorm(h + c1) != RMSNorm(h): explicit counterexample for every eps > 0")
def exact_t2b(seed: int = 0, norm: SymbolicNorm = rms_norm_sym) -> Certificate:
    """h = (1, 0), c = 1, unit gain (and zero bias where the norm has one), symbolic eps > 0: the
    second output is 0 before the shift and 1/sqrt(5/2 + eps) after, nonzero for every eps > 0.
    The verdict rests on an exact zero test of the difference, which is a nonzero closed form."""
    eps = sympy.Symbol("epsilon", positive=True)
    unit_gain = {
        sympy.Symbol(f"{n}{i + 1}", real=True): int(n == "g") for n in "gb" for i in range(2)
    }
    unit = lambda out: [sympy.simplify(x.subs(unit_gain)) for x in out]
    before = unit(norm([sympy.Integer(1), sympy.Integer(0)], eps))
    after = unit(norm([sympy.Integer(2), sympy.Integer(1)], eps))
    diffs = [sympy.simplify(a - b) for a, b in zip(after, before)]
    # nonzero for every eps > 0: sympy decides the sign of the closed form under eps > 0
    nonzero = [bool(sympy.ask(sympy.Q.nonzero(x), sympy.Q.positive(eps))) for x in diffs]
    ok = any(nonzero)
    return Certificate(
        theorem="T2b",
        verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
        claim="RMSNorm has no all-ones symmetry",
        details={
            "evidence": {
                "h": "(1, 0)",
                "c": "1",
                "norm(h)": [str(x) for x in before],
                "norm(h + c1)": [str(x) for x in after],
                "difference": [str(x) for x in diffs],
                "provably_nonzero": nonzero,
            }
        },
    )
