"""T3 checks: the Jacobian/Fisher criterion on the toy transformers (tiny-ln, tiny-rms) and the
exact second-order KL identity (sympy); the report figures are in ``proofs_check.figures.local``.

Every numeric check runs on ``local_problem(load_model(name, seed), layer=1)`` (8 prompts of 8
tokens) with ``v = steering_vector(model, seed)`` (2 c + 0.5 g: the planted concept plus noise in
every direction). Witnesses are re-run through the model, and the theory's verdicts rest on those
re-runs: jvp along the null and row bases (``theory.local.rerun_bases``), the model at each step
size for the slopes, and ``forward`` with a ``Steering`` for the twin
(``theory.level_set.twin_search``).
"""

from __future__ import annotations

import functools

import sympy

from synthetic.local_problems import behaviour_verifier, zoo_local
from theory.certificate import Certificate, Verdict
from theory.jacobian import CHANNELS, EngineOptions, local_spectrum
from theory.local import check_t3b, check_t3c, spectrum_certificate, twin_search

from ..registry import EXACT, NUMERIC, check

LAYER = 1
N_PROMPTS, LENGTH = 8, 8
# On d = 32 models, 32 tangent passes cost less than compiling the backward pass: the trait rows are
# read off the tangent map that the logits and probs channels compile anyway (same numbers to
# round-off; reverse mode is the default elsewhere, where it is cheaper).
OPTIONS = EngineOptions(trait_mode="forward")


@functools.lru_cache(maxsize=16)
def _setup(name: str, seed: int, alphas: tuple[float, ...] = (1.0,)):
    """(model, prompts, problem, v) of a zoo model at LAYER, cached (shared with the figures)."""
    z = zoo_local(name, LAYER, N_PROMPTS, LENGTH, seed, alphas=alphas)
    return z.model, z.prompts, z.problem, z.vector


@functools.lru_cache(maxsize=16)
def _spectrum(name: str, seed: int, channel: str):
    """The LocalSpectrum of ``_setup(name, seed)`` for one channel, cached."""
    _, _, problem, v = _setup(name, seed)
    return local_spectrum(problem, v, channel, options=OPTIONS)


def _spectrum_check(name: str, channel: str):
    def run(seed: int = 0) -> Certificate:
        _, _, problem, v = _setup(name, seed)
        return spectrum_certificate(
            problem, v, channel, seed=seed, spectrum=_spectrum(name, seed, channel), options=OPTIONS
        )

    run.__name__ = f"t3_spectrum_{name.replace('-', '_')}_{channel}"
    run.__doc__ = (
        f"T3(a) on {name}, layer {LAYER}, {channel} channel: certified rank from the square-root "
        "factor, constant at two nearby points, null and row bases re-run by jvp; symmetries "
        "reported."
    )
    return run


for _name in ("tiny-ln", "tiny-rms"):
    for _channel in CHANNELS:
        check(
            "T3", NUMERIC, f"{_name} layer {LAYER}, {_channel} channel: spectrum, rank, null space"
        )(_spectrum_check(_name, _channel))


@check("T3", NUMERIC, "T3(b) tiny-ln, trait channel, N = 8 prompts x |A| = 2 strengths: rank <= 16")
def t3b_tiny_ln(seed: int = 0) -> Certificate:
    _, _, problem, v = _setup("tiny-ln", seed, (1.0, 2.0))
    return check_t3b(problem, v, options=OPTIONS)


@check(
    "T3", NUMERIC, "T3(b) tiny-rms, trait channel, N = 8 prompts x |A| = 2 strengths: rank <= 16"
)
def t3b_tiny_rms(seed: int = 0) -> Certificate:
    _, _, problem, v = _setup("tiny-rms", seed, (1.0, 2.0))
    return check_t3b(problem, v, options=OPTIONS)


@check(
    "T3",
    NUMERIC,
    "T3(c) tiny-ln, trait channel: slopes 2 (null) and 1 (row), KL = (eps^2/2) u^T F u",
)
def t3c_tiny_ln(seed: int = 0) -> Certificate:
    _, _, problem, v = _setup("tiny-ln", seed)
    return check_t3c(problem, v, "trait", seed=seed, options=OPTIONS)


@check(
    "T3",
    NUMERIC,
    "T3(c) tiny-rms, trait channel: slopes 2 (null) and 1 (row), KL = (eps^2/2) u^T F u",
)
def t3c_tiny_rms(seed: int = 0) -> Certificate:
    _, _, problem, v = _setup("tiny-rms", seed)
    return check_t3c(problem, v, "trait", seed=seed, options=OPTIONS)


@check(
    "T3",
    NUMERIC,
    "twin on tiny-ln, trait channel: level-set walk to cos <= 0.05, re-run through forward",
)
def t3_twin_tiny_ln(seed: int = 0, target_cosine: float = 0.05) -> Certificate:
    """The level-set walk on the trait channel, its twin re-run through ``forward``; holds only
    when the walk also reached ``target_cosine`` (else undecided)."""
    model, prompts, problem, v = _setup("tiny-ln", seed)
    cert = twin_search(
        problem,
        v,
        "trait",
        target_cosine=target_cosine,
        verify=behaviour_verifier(model, problem, prompts, "trait"),
        options=OPTIONS,
    )
    if cert.verdict is Verdict.HOLDS and cert.cosine > target_cosine:
        return cert.replace(
            verdict=Verdict.UNDECIDED, reason="walk stopped above the target cosine"
        )
    return cert


# ---- exact: the second-order KL identity -------------------------------------------------------

HALF = sympy.Rational(1, 2)


def _kl_rewritten(p, dz, eps):
    """KL(p || softmax(z + eps dz)) = -eps <p, dz> + log sum_j p_j exp(eps dz_j)."""
    V = len(p)
    return -eps * sum(p[i] * dz[i] for i in range(V)) + sympy.log(
        sum(p[j] * sympy.exp(eps * dz[j]) for j in range(V))
    )


@check(
    "T3",
    EXACT,
    "KL(p_v || p_{v+eps u}) = (eps^2/2) u^T F u + O(eps^3) for softmax(W v), V = 3, d = 2",
)
def exact_t3_kl(seed: int = 0, claimed_coefficient=HALF, kl_form=None) -> Certificate:
    """Symbolic v, u in R^2, W = [[1,0],[0,1],[1,-1]], z = W v. With q = softmax(z + eps W u),
    KL = -eps <p, Wu> + log sum_j p_j exp(eps (Wu)_j) (``kl_form(p, Wu, eps)``, default this
    rewrite; the check holds only if simplify reduces its difference to sum_i p_i log(p_i / q_i)
    to 0); the sympy series of KL in eps has coefficients 0, 0 and exactly
    ``claimed_coefficient`` u^T W^T (diag p - p p^T) W u, claimed 1/2."""
    eps = sympy.Symbol("epsilon", real=True)
    v = sympy.Matrix(sympy.symbols("v1:3", real=True))
    u = sympy.Matrix(sympy.symbols("u1:3", real=True))
    W = sympy.Matrix([[1, 0], [0, 1], [1, -1]])
    z, dz = W * v, W * u
    Z = sum(sympy.exp(zi) for zi in z)
    p = [sympy.exp(zi) / Z for zi in z]
    V = len(p)
    kl = (kl_form or _kl_rewritten)(p, dz, eps)
    logq = [
        z[i] + eps * dz[i] - sympy.log(sum(sympy.exp(z[j] + eps * dz[j]) for j in range(V)))
        for i in range(V)
    ]
    direct = sum(p[i] * (z[i] - sympy.log(Z) - logq[i]) for i in range(V))
    rewrite_gap = sympy.simplify(sympy.expand_log(direct - kl, force=True))
    series = sympy.series(kl, eps, 0, 3).removeO()
    c0, c1 = (sympy.simplify(series.coeff(eps, k)) for k in (0, 1))
    P = sympy.diag(*p) - sympy.Matrix(p) * sympy.Matrix(p).T
    uFu = (u.T * W.T * P * W * u)[0, 0]
    c2_gap = sympy.simplify(series.coeff(eps, 2) - claimed_coefficient * uFu)
    ok = rewrite_gap == 0 and c0 == 0 and c1 == 0 and c2_gap == 0
    return Certificate(
        theorem="T3",
        verdict=Verdict.HOLDS if ok else Verdict.VIOLATED,
        claim="KL(p_v || p_{v+eps u}) = (eps^2/2) u^T F u + O(eps^3), F = W^T (diag p - p p^T) W",
        details={
            "evidence": {
                "W": str(W.tolist()),
                "rewrite_gap": str(rewrite_gap),
                "eps0": str(c0),
                "eps1": str(c1),
                "eps2_minus_half_uFu": str(c2_gap),
                "eps2": str(sympy.simplify(series.coeff(eps, 2))),
            }
        },
    )
