"""Float64 decisions against exact rational arithmetic on random small instances.

Each case is a small rational instance, decided twice: by the float64 routines (certified or
undecided, ``theory.rank``) on the instance's nearest floats, and by the same routines on the
sympy ``Rational`` instance (exact). Kinds:

    linear       L (m x d) of rank r (a product of random integer-over-small-denominator factors),
                 v: the class's rank and dimension, and whether v has an orthogonal twin (T1a:
                 iff v is not in the row space of L)
    probs        W (V x d), half of them with 1_V in the range of W: whether 1 is in the range,
                 and the probs-channel class dimension d - rank(P W) (T2c)
    environments readouts L_1..L_E stacked: the rank of the stack and the class dimension (T6)
    sparse       a dictionary A (m x p) with planted dependent column subsets: its spark (T7)

and a stress kind outside the four: ``linear-scaled``, a linear case whose columns are scaled by
10^-7 or 10^7 (the exact rank is unchanged, the float spectrum spreads over 14 decades). The default
tolerance ``max(m, d) eps s_1`` is normwise, so a column of norm 10^-7 beside one of 10^7 lies at
round-off level relative to s_1 though its rounding error is far smaller than its size. The
classes of ``theory.linear`` therefore decide such a rank, and the split of v into row space and
kernel, again column-equilibrated and say undecided when the two disagree
(bench/exact_cross_check.py counts the stress kind apart).

Outcome of a case: ``agree`` (every float answer certified and equal to the exact one),
``undecided`` (the float routine declined at least one answer: its spectrum has a value in the grey
band), ``wrong`` (a certified float answer differs from the exact one).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from theory.environments import multi_environment_class
from theory.linear import NoTwinError, UndecidedRankError, equivalence_class, kernel_split
from theory.softmax_shift import ones_in_range, probs_class
from theory.spark import spark
from theory.validation import as_positive_int, as_seed

KINDS = ("linear", "probs", "environments", "sparse")
STRESS_KINDS = ("linear-scaled",)


@dataclasses.dataclass(frozen=True)
class Case:
    kind: str
    exact: tuple[Any, ...]  # sympy matrices
    floats: tuple[Any, ...]  # float64 arrays (nearest floats of the rationals)


def _rational(rng: np.random.Generator, shape: tuple[int, ...]) -> list[list[Fraction]]:
    num = rng.integers(-4, 5, size=shape)
    den = rng.choice([1, 1, 2, 3, 7], size=shape)
    return [[Fraction(int(a), int(b)) for a, b in zip(r, s, strict=True)] for r, s in
            zip(num, den, strict=True)]  # fmt: skip


def _low_rank(rng, m: int, d: int, r: int) -> sympy.Matrix:
    if r == 0:
        return sympy.zeros(m, d)
    X = sympy.Matrix(_rational(rng, (m, r)))
    Y = sympy.Matrix(_rational(rng, (r, d)))
    return X * Y


def _float(M: sympy.Matrix) -> np.ndarray:
    return np.array(M.tolist(), dtype=float).reshape(M.shape)


def draw_case(kind: str, rng: np.random.Generator) -> Case:
    if kind in ("linear", "linear-scaled"):
        scaled = kind == "linear-scaled"
        m, d = (int(x) for x in rng.integers(1, 7, size=2))
        L = _low_rank(rng, m, d, int(rng.integers(0, min(m, d) + 1)))
        if scaled:  # badly scaled columns: the same exact rank, a wide float spectrum
            scale = [sympy.Integer(10) ** int(e) for e in rng.choice([-7, 0, 0, 7], size=d)]
            L = L * sympy.diag(*scale)
        in_row = rng.random() < 0.3 and L.rank() > 0
        v = (
            (L.T * sympy.Matrix(_rational(rng, (m, 1))))
            if in_row
            else sympy.Matrix(_rational(rng, (d, 1)))
        )
        if v.is_zero_matrix:
            v[0] = 1
        return Case("linear", (L, v), (_float(L), _float(v).ravel()))
    if kind == "probs":
        V, d = int(rng.integers(2, 7)), int(rng.integers(1, 6))
        r = int(rng.integers(1, min(V, d) + 1))
        if rng.random() < 0.5:  # 1_V in the range: the first factor column is all ones
            X = sympy.Matrix(_rational(rng, (V, r)))
            X[:, 0] = sympy.ones(V, 1)
            W = X * sympy.Matrix(_rational(rng, (r, d)))
        else:
            W = _low_rank(rng, V, d, r)
        v = sympy.Matrix(_rational(rng, (d, 1)))
        return Case(kind, (W, v), (_float(W), _float(v).ravel()))
    if kind == "environments":
        d, E = int(rng.integers(2, 7)), int(rng.integers(1, 5))
        Ls = []
        for _ in range(E):
            m = int(rng.integers(1, 4))
            Ls.append(_low_rank(rng, m, d, int(rng.integers(0, min(m, d) + 1))))
        v = sympy.Matrix(_rational(rng, (d, 1)))
        return Case(kind, (Ls, v), ([_float(L) for L in Ls], _float(v).ravel()))
    m, p = int(rng.integers(2, 5)), int(rng.integers(2, 7))
    A = sympy.Matrix(_rational(rng, (m, p)))
    if rng.random() < 0.6 and p >= 3:  # plant a dependency among a few columns
        cols = rng.choice(p, size=int(rng.integers(2, min(p, m + 1) + 1)), replace=False)
        coef = _rational(rng, (1, len(cols) - 1))[0]
        A[:, int(cols[0])] = sum(
            (c * A[:, int(j)] for c, j in zip(coef, cols[1:], strict=True)), sympy.zeros(m, 1)
        )
    return Case("sparse", (A,), (_float(A),))


class _Undecided(Exception):
    pass


def _twin(cls: Any) -> bool:
    try:
        return not kernel_split(cls).k_zero
    except UndecidedRankError:
        raise _Undecided from None


def answers(case: Case, exact: bool) -> tuple[Any, ...]:
    """The case's answers in exact or float arithmetic; raises _Undecided when a float answer is
    not certified."""
    args = case.exact if exact else case.floats
    if case.kind == "linear":
        cls = equivalence_class(*args)
        if not exact and not cls.certified:
            raise _Undecided
        return (cls.rank, cls.dim, _twin(cls))
    if case.kind == "probs":
        W, v = args
        inside, certified = ones_in_range(W)
        cls = probs_class(W, v)
        if not exact and not (certified and cls.certified):
            raise _Undecided
        return (bool(inside), cls.dim)
    if case.kind == "environments":
        cls = multi_environment_class(*args)
        if not exact and not cls.certified:
            raise _Undecided
        return (cls.rank, cls.dim)
    result = spark(args[0])
    if result.value is None:
        raise _Undecided
    return (result.value,)


def decide(case: Case) -> str:
    """'agree', 'undecided' or 'wrong' for one case."""
    truth = answers(case, exact=True)
    try:
        got = answers(case, exact=False)
    except (_Undecided, NoTwinError):
        return "undecided"
    return "agree" if got == truth else "wrong"


def cross_check(n: int, seed: int = 0, kinds: tuple[str, ...] = KINDS) -> dict[str, Counter]:
    """``n`` cases, the kinds in turn, from ``numpy.random.default_rng(seed)``: the outcome
    counts per kind."""
    n = as_positive_int("n", n)
    rng = np.random.default_rng(as_seed("seed", seed))
    counts: dict[str, Counter] = {k: Counter() for k in kinds}
    for i in range(n):
        kind = kinds[i % len(kinds)]
        counts[kind][decide(draw_case(kind, rng))] += 1
    return counts
