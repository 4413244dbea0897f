"""The theorem registry: for each theorem of docs/theorems.md, its statement, its exact (sympy)
checks, its numeric checks on the synthetic models, and the test module that holds its property
tests.

Check modules add entries with the ``@check`` decorator; ``load_all`` imports them.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable

from theory.certificate import Certificate
from theory.validation import InputError

EXACT, NUMERIC = "exact", "numeric"


@dataclasses.dataclass(frozen=True)
class Theorem:
    """A theorem of the toolkit: its id, one-line statement, the ``theory`` module that is its home
    (where its definitions and checks live) and the test module that holds its property tests."""

    id: str
    statement: str
    test_module: str
    theory_module: str
    exact_applies: bool = True


@dataclasses.dataclass(frozen=True)
class Check:
    """One registered check: ``run(seed)`` returns the certificate."""

    theorem: str
    kind: str
    name: str
    run: Callable[[int], Certificate]


THEOREMS: dict[str, Theorem] = {
    t.id: t
    for t in [
        Theorem(
            "T1",
            "Linear readout: [v] = v + ker L, dim d - rank L, minimum-norm member L^+ L v",
            "tests/test_t1_linear.py",
            "theory.linear",
        ),
        Theorem(
            "T1a",
            "Orthogonal twin v - (|v|^2/|k|^2) k exists iff k = v - L^+ L v != 0",
            "tests/test_t1a_twin.py",
            "theory.linear",
        ),
        Theorem(
            "T1b",
            "Cosines to v over [v] fill (-|k|/|v|, 1]; infimum approached, never attained",
            "tests/test_t1b_cosine.py",
            "theory.linear",
        ),
        Theorem(
            "T2a",
            "Mean-centring LayerNorm: v ~ v + c 1 at every layer, for every channel",
            "tests/test_t2ab_norms.py",
            "theory.norm_symmetry",
        ),
        Theorem(
            "T2b",
            "RMSNorm has no all-ones symmetry: RMSNorm(h + c 1) != RMSNorm(h) in general",
            "tests/test_t2ab_norms.py",
            "theory.norm_symmetry",
        ),
        Theorem(
            "T2c",
            "probs class of a linear model: dim d - rank W + [1_V in range W]",
            "tests/test_t2c_softmax.py",
            "theory.softmax_shift",
        ),
        Theorem(
            "T3",
            "Constant rank r of the Jacobian: the class is locally a manifold of dim d - r "
            "(Rothenberg: locally identifiable iff the Fisher information is nonsingular)",
            "tests/test_t3_local.py",
            "theory.local",
        ),
        Theorem(
            "T4",
            "A probe direction is identified only modulo S^perp, dim d - rank Cov(H)",
            "tests/test_t4_estimation.py",
            "theory.estimation",
        ),
        Theorem(
            "T5",
            "Orthogonal perturbations: R - 1 = rho tan(theta) U, (U + 1)/2 ~ Beta((d-2)/2, "
            "(d-2)/2)",
            "tests/test_t5_efficacy.py",
            "theory.efficacy",
        ),
        Theorem(
            "T6",
            "Multiple environments: identifiable iff the stacked readout has rank d",
            "tests/test_t6_environments.py",
            "theory.environments",
        ),
        Theorem(
            "T7",
            "Sparsity: k-sparse codes are unique iff spark(A) > 2k",
            "tests/test_t7_sparsity.py",
            "theory.sparse",
        ),
        Theorem(
            "T8",
            "Independence: at most one Gaussian source => A identified up to permutation and scale",
            "tests/test_t8_independence.py",
            "theory.independence",
        ),
        Theorem(
            "T9",
            "Cross-layer consistency: identifiable iff the stacked [J_l T_l] has rank d",
            "tests/test_t9_cross_layer.py",
            "theory.cross_layer",
        ),
    ]
}

CHECKS: list[Check] = []


def check(theorem: str, kind: str, name: str):
    """Register ``fn(seed) -> Certificate`` as a check of ``theorem``."""
    if kind not in (EXACT, NUMERIC):
        raise InputError(f"kind must be {EXACT!r} or {NUMERIC!r}, got {kind!r}")

    def decorate(fn: Callable[[int], Certificate]):
        if theorem not in THEOREMS:
            raise InputError(f"unknown theorem {theorem!r}")
        if not any(c.run is fn for c in CHECKS):
            CHECKS.append(Check(theorem=theorem, kind=kind, name=name, run=fn))
        return fn

    return decorate


def load_all() -> list[Check]:
    """Import every module of ``proofs_check.checks`` and ``proofs_check.figures``; return the
    checks in theorem order."""
    from . import checks, figures

    for package in (checks, figures):
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")
    order = list(THEOREMS)
    return sorted(CHECKS, key=lambda c: (order.index(c.theorem), c.kind != EXACT))


def select(only: str | None) -> list[Check]:
    """The checks of the comma-separated theorem ids in ``only`` (all when None)."""
    checks = load_all()
    if not only:
        return checks
    wanted = [t.strip() for t in only.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in THEOREMS]
    if unknown:
        raise InputError(f"--only: unknown theorem id(s) {unknown}; known: {sorted(THEOREMS)}")
    return [c for c in checks if c.theorem in wanted]
