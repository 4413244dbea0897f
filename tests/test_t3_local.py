"""T3: on smooth models the class is locally a manifold of dimension d - rank J; the trait channel
has rank <= N|A|; null directions are invisible to first order (slope 2 against 1;
KL = eps^2/2 u^T F u); level-set walks find far twins on the trait channel and no extra freedom on
the logits channel of a LayerNorm model. Witnesses are re-run through the model (``forward`` with a
``Steering``), and planted wrong witnesses (bases, verify maps, rewrites) make the verdicts fail."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest
import sympy
from hypothesis import event, given, settings
from hypothesis import strategies as st

from proofs_check.checks.local import _kl_rewritten, exact_t3_kl
from synthetic.local_problems import (
    behaviour_verifier,
    local_problem,
    steered_behaviour,
    steering_vector,
)
from synthetic.zoo import load_model, make_prompts
from theory.certificate import Certificate, Verdict
from theory.jacobian import EngineOptions, dense_jacobian, local_spectrum
from theory.local import (
    LAYERNORM_MEAN,
    check_t3b,
    check_t3c,
    kl_divergences,
    spectrum_certificate,
    twin_search,
)
from theory.residual import behaviour_residual

from .test_jacobian_engine import random_problems


@functools.cache
def zoo(name: str, n_prompts: int = 8, alphas: tuple = (1.0,)):
    model = load_model(name, 0)
    prompts = make_prompts(model, n_prompts, 8, 0)
    return (
        model,
        prompts,
        local_problem(model, 1, prompts=prompts, alphas=alphas),
        steering_vector(model, 0),
    )


# ---------------------------------------------------------------------------------------------
# T3(a): the spectrum certificate


@pytest.mark.parametrize("name", ["tiny-ln", "tiny-rms"])
@pytest.mark.parametrize("channel", ["logits", "probs", "trait"])
def test_spectrum_certificate_on_the_zoo(name, channel):
    model, prompts, problem, v = zoo(name)
    cert = spectrum_certificate(problem, v, channel)
    assert cert.verdict is Verdict.HOLDS and cert.margin >= 1
    assert cert.dim == problem.d - cert.rank == cert.witness["null_basis"].shape[1]
    assert cert.model == name and cert.layer == 1 and cert.channel == channel
    assert cert.d == problem.d == len(cert.singular_values) and cert.ambiguous.size == 0
    layernorm = model.cfg.norm == "layernorm"
    assert (LAYERNORM_MEAN in cert.symmetries) == layernorm
    if channel != "trait":
        assert cert.dim == (1 if layernorm else 0)
    else:
        assert cert.rank == problem.n_prompts
    assert Certificate.from_json(cert.to_json()) == cert
    # re-run through the model: adding c 1 changes nothing for LayerNorm, something for RMSNorm
    # (T2a/T2b)
    shifted = v + 3.0 * np.ones(problem.d)
    b_v = steered_behaviour(model, 1, prompts, v, channel)
    gap = np.linalg.norm(
        steered_behaviour(model, 1, prompts, shifted, channel) - b_v
    ) / np.linalg.norm(b_v)
    assert (gap <= 1e-12) == layernorm


# no deadline: each example computes three spectra (v, two neighbours), a jvp recheck and a
# dense Jacobian
@settings(max_examples=12, deadline=None)
@given(random_problems(), st.sampled_from(["logits", "probs", "trait"]))
def test_spectrum_certificate_null_basis_is_the_dense_kernel(drawn, channel):
    cert = spectrum_certificate(drawn.problem, drawn.v, channel)
    assert cert.verdict is Verdict.HOLDS
    dense = dense_jacobian(drawn.problem, drawn.v, channel)
    basis = cert.witness["null_basis"]
    scale = max(1.0, float(np.linalg.norm(dense, 2)))
    assert np.linalg.norm(dense @ basis) <= 1e-10 * scale
    assert cert.rank == np.linalg.matrix_rank(dense, tol=1e-9 * scale)
    # a mean-centring model maps 1 to zero in every channel; an uncentred one generically in none
    assert (LAYERNORM_MEAN in cert.symmetries) == drawn.centred


# ---------------------------------------------------------------------------------------------
# T3(b): the data condition


@settings(deadline=None)  # the first example of a shape pays for JAX compilation
@given(random_problems(max_alphas=2))
def test_t3b_trait_rank_at_most_n_times_a(drawn):
    p = drawn.problem
    cert = check_t3b(p, drawn.v)
    pairs = p.n_prompts * len(p.alphas)
    assert cert.verdict is Verdict.HOLDS
    assert cert.rank <= pairs and cert.dim >= p.d - pairs
    # the rank is the dense Jacobian's: generic rows attain the bound, except that a mean-centring
    # model also loses the all-ones direction (T2a), which matters once N|A| >= d
    dense = dense_jacobian(p, drawn.v, "trait")
    assert dense.shape == (pairs, p.d)
    expected = min(pairs, p.d - 1) if drawn.centred else min(pairs, p.d)
    assert cert.rank == np.linalg.matrix_rank(dense) == expected
    assert cert.details["bound_attained"] == (expected == min(pairs, p.d))


@functools.cache
def tiny_ln_streams(alphas: tuple):
    model = load_model("tiny-ln", 0)
    return model, local_problem(model, 1, prompts=make_prompts(model, 12, 8, 5), alphas=alphas)


# no deadline: one backward pass per prompt and strength on the zoo model
@settings(max_examples=20, deadline=None)
@given(st.integers(1, 12), st.sampled_from([(1.0,), (1.0, 2.0), (-1.0, 0.5, 2.0)]))
def test_t3b_on_tiny_ln_with_any_number_of_prompts(n_prompts, alphas):
    model, full = tiny_ln_streams(alphas)
    problem = dataclasses.replace(full, stream=full.stream[:n_prompts])  # the first n prompts
    # prompt_chunk=1: one compiled backward pass serves every N
    cert = check_t3b(problem, steering_vector(model, 0), options=EngineOptions(prompt_chunk=1))
    pairs = n_prompts * len(alphas)
    assert cert.verdict is Verdict.HOLDS
    assert cert.rank <= pairs and cert.dim >= problem.d - pairs
    # generic prompts attain the bound, up to the all-ones direction LayerNorm always hides (T2a)
    assert cert.rank == min(pairs, problem.d - 1)


# ---------------------------------------------------------------------------------------------
# T3(c): first order


# no deadline: each example re-runs the model at 3 x 7 step sizes and builds two spectra
@settings(max_examples=30, deadline=None)
@given(random_problems(shapes=[(2, 3, 5, 4), (1, 4, 4, 3)], max_alphas=1))
def test_t3c_slopes_and_kl_on_random_models(drawn):
    # N |A| < d on these shapes, so the trait channel has null directions
    cert = check_t3c(drawn.problem, drawn.v, "trait")
    d = cert.details
    assert cert.verdict is Verdict.HOLDS and cert.margin >= 1, d
    assert abs(d["null_slope"] - 2.0) <= 0.2 and abs(d["outside_slope"] - 1.0) <= 0.2
    assert abs(d["kl_ratio"] - 1.0) <= 1e-2
    # the KL ratio's error shrinks with eps (it is O(eps))
    ratios = np.asarray(d["kl_ratios"])
    assert abs(ratios[0] - 1.0) <= abs(ratios[-1] - 1.0) + 1e-6


@pytest.mark.parametrize("name", ["tiny-ln", "tiny-rms"])
def test_t3c_on_the_zoo(name):
    _, _, problem, v = zoo(name)
    for channel in ("trait", "logits"):
        cert = check_t3c(problem, v, channel)
        d = cert.details
        assert cert.verdict is Verdict.HOLDS
        assert abs(d["outside_slope"] - 1.0) <= 0.05
        assert abs(d["kl_ratio"] - 1.0) <= 1e-3
        if channel == "trait":
            assert abs(d["null_slope"] - 2.0) <= 0.05
        if name == "tiny-ln":
            assert d["symmetry_change_max"] <= 1e-12


def test_kl_is_half_the_fisher_quadratic_form_from_the_square_root():
    _, _, problem, v = zoo("tiny-rms")
    fisher = local_spectrum(problem, v, "probs")
    u = np.random.default_rng(3).standard_normal(problem.d)
    u /= np.linalg.norm(u)
    dense = dense_jacobian(problem, v, "probs")  # rows: d(2 sqrt p)/dv
    assert abs(fisher.quadratic_form(u) - np.sum((dense @ u) ** 2)) <= 1e-11 * np.sum(
        (dense @ u) ** 2
    )
    eps = np.array([1e-4, 1e-3])
    ratio = kl_divergences(problem, v, u, eps) / (0.5 * eps**2 * fisher.quadratic_form(u))
    assert np.all(np.abs(ratio - 1.0) <= 10 * eps)


def test_exact_kl_series_check_holds():
    assert exact_t3_kl(0).verdict is Verdict.HOLDS


# ---------------------------------------------------------------------------------------------
# twins


def test_twin_on_tiny_ln_trait_is_nearly_orthogonal_and_steers_identically():
    model, prompts, problem, v = zoo("tiny-ln")
    cert = twin_search(
        problem,
        v,
        "trait",
        target_cosine=0.05,
        verify=behaviour_verifier(model, problem, prompts, "trait"),
    )
    twin = cert.witness["twin"]
    assert cert.verdict is Verdict.HOLDS and cert.margin >= 1
    assert cert.cosine <= 0.05 and cert.residual <= cert.residual_tolerance == 1e-8
    assert cert.model == "tiny-ln" and cert.layer == 1 and cert.channel == "trait"
    # re-run here, independently of the certificate: the whole model with Steering(1, twin)
    b_v = steered_behaviour(model, 1, prompts, v, "trait")
    b_w = steered_behaviour(model, 1, prompts, twin, "trait")
    b_0 = steered_behaviour(model, 1, prompts, np.zeros_like(v), "trait")
    assert behaviour_residual(b_w, b_v, b_0) <= 1e-8
    assert float(twin @ v) / (np.linalg.norm(twin) * np.linalg.norm(v)) <= 0.05


def test_logits_twin_on_layernorm_approaches_and_never_passes_the_symmetry_bound():
    model, prompts, problem, v = zoo("tiny-ln")
    one = np.ones(problem.d) / np.sqrt(problem.d)
    bound = -abs(float(v @ one)) / np.linalg.norm(v)
    cert = twin_search(
        problem,
        v,
        "logits",
        target_cosine=-1.0,
        max_steps=20,
        verify=behaviour_verifier(model, problem, prompts, "logits"),
    )
    path = np.asarray(cert.details["cosine_path"])
    assert cert.verdict is Verdict.HOLDS and cert.residual <= 1e-8
    assert cert.symmetries == (LAYERNORM_MEAN,) and not cert.cosine_range.inf_attained
    assert cert.cosine_range.inf == pytest.approx(bound, rel=1e-12) and cert.cosine_range.sup == 1
    assert cert.cosine == path[-1]
    assert np.all(path >= bound - 1e-12)  # never below the T1b bound for ker = span(1)
    assert path[-1] - bound <= 1e-2  # and it gets there
    assert np.all(np.diff(path) < 0)
    # the twin is v plus a multiple of 1: no freedom was invented
    delta = cert.witness["twin"] - v
    assert np.linalg.norm(delta - one * (one @ delta)) <= 1e-8 * np.linalg.norm(delta)


# Each example walks up to 12 steps, each with a spectrum and Gauss-Newton corrections.
@settings(max_examples=15, deadline=None)
@given(random_problems(centred=True, shapes=[(3, 2, 6, 9)], max_alphas=1))
def test_logits_twin_on_centred_models_never_passes_the_bound(drawn):
    p, v = drawn.problem, drawn.v
    one = np.ones(p.d) / np.sqrt(p.d)
    bound = -abs(float(v @ one)) / np.linalg.norm(v)
    cert = twin_search(p, v, "logits", target_cosine=-1.0, max_steps=12)
    assert cert.verdict is Verdict.HOLDS
    assert np.all(np.asarray(cert.details["cosine_path"]) >= bound - 1e-12)


@settings(max_examples=15, deadline=None)  # each example walks up to 40 level-set steps
@given(random_problems(shapes=[(2, 3, 5, 4)], max_alphas=1))
def test_trait_twins_on_random_models_steer_identically(drawn):
    p, v = drawn.problem, drawn.v
    cert = twin_search(p, v, "trait", max_steps=40)
    twin = cert.witness["twin"]
    assert cert.verdict is Verdict.HOLDS
    from theory.jacobian import behaviour

    assert (
        behaviour_residual(
            behaviour(p, twin, "trait"),
            behaviour(p, v, "trait"),
            behaviour(p, np.zeros_like(v), "trait"),
        )
        <= 1e-8
    )
    assert cert.cosine < 1.0 - 1e-6  # N|A| = 2 < d = 5: the walk moved


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(channel="hidden"), "channel"),
        (dict(max_steps=-1), "max_steps"),
        (dict(step=0.0), "step"),
        (dict(target_cosine=float("nan")), "target_cosine"),
    ],
)
def test_twin_search_bad_input(kwargs, name):
    _, _, problem, v = zoo("tiny-ln")
    with pytest.raises(ValueError, match=name):
        twin_search(problem, v, **kwargs)


def test_twin_search_rejects_zero_vector():
    _, _, problem, v = zoo("tiny-ln")
    with pytest.raises(ValueError, match=r"\bv\b"):
        twin_search(problem, np.zeros_like(v), "trait")


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda p, v: spectrum_certificate(p, v, "logits", neighbours=-1), "neighbours"),
        (lambda p, v: spectrum_certificate(p, v, "logits", radius=0.0), "radius"),
        (lambda p, v: check_t3c(p, v, "trait", eps=[1e-3]), "eps"),
        (lambda p, v: check_t3c(p, v, "trait", eps=[1e-3, -1e-2, 1e-1]), "eps"),
        (lambda p, v: check_t3b(p, v[:-1]), r"\bv\b"),
        (lambda p, v: spectrum_certificate(p, v, "logits", seed=-1), "seed"),
        (lambda p, v: spectrum_certificate(p, v, "logits", neighbours=True), "neighbours"),
        (lambda p, v: spectrum_certificate(p, v, "hidden"), "channel"),
        (lambda p, v: spectrum_certificate(p, v, "logits", spectrum=3), "spectrum"),
        (lambda p, v: spectrum_certificate("model", v, "logits"), "problem"),
        (lambda p, v: check_t3c(p, v, "trait", kl=1), r"\bkl\b"),
        (lambda p, v: check_t3c(p, v, "trait", seed=1.5), "seed"),
        (lambda p, v: check_t3b(p, v, options={}), "options"),
    ],
)
def test_local_certificates_bad_input(call, name):
    _, _, problem, v = zoo("tiny-ln")
    with pytest.raises(ValueError, match=name):
        call(problem, v)


def test_twin_search_moves_even_when_v_is_orthogonal_to_the_null_space():
    """tiny-ln logits: ker J = span(1); v with zero mean has no first-order way down, yet the class
    holds v + c 1 with lower cosine: the walk must find it (second order), re-run through
    forward."""
    from synthetic.local_problems import zoo_local

    z = zoo_local("tiny-ln", 1, n_prompts=3)
    v = z.vector - z.vector.mean()
    cert = twin_search(z.problem, v, "logits", max_steps=20, verify=z.verifier("logits"))
    assert cert.verdict is Verdict.HOLDS
    assert cert.cosine < 0.5 and cert.residual <= 1e-8
    w = cert.witness["twin"]
    assert np.allclose(
        w - v, np.mean(w - v), atol=1e-8 * np.linalg.norm(w)
    )  # it moved along 1 only


@pytest.mark.parametrize(
    "kwargs,msg",
    [
        (dict(target_cosine=2.0), r"target_cosine must be a real number in \[-1.0, 1.0\)"),
        (dict(target_cosine=float("nan")), "target_cosine must be a finite real number"),
        (dict(target_cosine=True), "target_cosine must be a real number"),
        (dict(max_steps=3.0), "max_steps must be an int"),
        (dict(residual_tol=0.0), "residual_tol must be a real number"),
        (dict(verify=3), "verify must be a callable"),
    ],
)
def test_twin_search_rejects_bad_targets(kwargs, msg):
    _, _, problem, v = zoo("tiny-ln")
    with pytest.raises(ValueError, match=msg):
        twin_search(problem, v, "trait", **kwargs)


def test_check_t3c_rejects_a_bad_slope_tolerance():
    _, _, problem, v = zoo("tiny-ln")
    with pytest.raises(ValueError, match="slope_tol must be"):
        check_t3c(problem, v, "trait", slope_tol=float("nan"))


def test_check_t3b_rechecks_its_null_space_through_the_model():
    _, _, problem, v = zoo("tiny-ln")
    cert = check_t3b(problem, v)
    assert cert.verdict is Verdict.HOLDS and cert.margin >= 1
    assert cert.details["null_jvp_max"] <= cert.details["band_top"] < cert.details["row_jvp_min"]


def _rotated(spec, seed: int = 0):
    """The spectrum with its null and row bases replaced by a random orthonormal split of R^d
    (same shapes): a wrong witness."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((spec.d, spec.d)))
    r = spec.rank
    return dataclasses.replace(spec, row_basis=q[:, :r].copy(), null_basis=q[:, r:].copy())


@pytest.mark.parametrize("channel", ["trait", "logits"])
def test_spectrum_certificate_reruns_the_bases_it_is_given(channel):
    """The verdict rests on the jvp re-run: a spectrum whose bases are wrong is not certified."""
    _, _, problem, v = zoo("tiny-ln")
    spec = local_spectrum(problem, v, channel)
    right = spectrum_certificate(problem, v, channel, spectrum=spec, neighbours=0)
    assert right.verdict is Verdict.HOLDS and right.margin >= 1
    wrong = spectrum_certificate(problem, v, channel, spectrum=_rotated(spec), neighbours=0)
    assert wrong.verdict is Verdict.UNDECIDED and "re-run" in wrong.reason and wrong.margin < 1
    if channel == "trait":
        assert check_t3b(problem, v, spectrum=spec).verdict is Verdict.HOLDS
        bad = check_t3b(problem, v, spectrum=_rotated(spec))
        assert bad.verdict is Verdict.UNDECIDED and "re-run" in bad.reason


@settings(max_examples=10, deadline=None)  # each example walks a few level-set steps
@given(random_problems(shapes=[(2, 3, 5, 4)], max_alphas=1))
def test_twin_search_verdict_rests_on_the_rerun(drawn):
    """A verify map that tells the twin from v (the identity) makes the twin undecided."""
    p, v = drawn.problem, drawn.v
    cert = twin_search(p, v, "trait", max_steps=6, verify=lambda x: x)
    assert cert.verdict is Verdict.UNDECIDED  # never holds: moved and caught, or did not move
    if np.linalg.norm(cert.witness["twin"] - v) > 1e-6 * np.linalg.norm(v):
        event("walk moved")
        assert "re-run" in cert.reason
        assert cert.margin < 1 and cert.residual > cert.residual_tolerance


@settings(max_examples=10, deadline=None)  # each example re-runs the model at 3 x 7 step sizes
@given(random_problems(shapes=[(2, 3, 5, 4)], max_alphas=1))
def test_t3c_slope_gates_can_fail(drawn):
    """With a slope tolerance far below the finite-difference error the gates fire: the row
    slope's whenever it is not 1 within 1e-9, the null slope's (one-sided: O(eps^2)) exactly when
    it is below 2 - 1e-9."""
    cert = check_t3c(drawn.problem, drawn.v, "trait", slope_tol=1e-9, kl=False)
    d = cert.details
    assert ("null_slope" in cert.reason) == (d["null_slope"] < 2.0 - 1e-9)
    assert ("outside_slope" in cert.reason) == (abs(d["outside_slope"] - 1.0) > 1e-9)
    assert cert.verdict is Verdict.VIOLATED and "outside_slope" in cert.reason
    assert cert.margin >= 1  # how many times the worst slope misses, capped by the rank margin


def test_exact_kl_check_fails_with_a_wrong_rewrite_or_coefficient():
    # the same series to eps^2, but not KL: only the rewrite gate can catch it
    off = lambda p, dz, eps: _kl_rewritten(p, dz, eps) + eps**3
    assert exact_t3_kl(0, kl_form=off).verdict is Verdict.VIOLATED
    assert exact_t3_kl(0, claimed_coefficient=sympy.Integer(1)).verdict is Verdict.VIOLATED
