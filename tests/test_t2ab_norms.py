"""T2a/T2b, exact side: LayerNorm forgets h -> h + c1 (symbolic proof for d = 2..6); RMSNorm does
not. The numeric side runs the toy transformers: tests/test_transformer.py (every layer and channel)
and tests/test_t2_transformer.py (null spaces of the Jacobian)."""

from proofs_check.checks.norms_exact import exact_t2a, exact_t2b, layer_norm_sym
from theory.certificate import Verdict


def test_layer_norm_identity_is_proved_for_d_2_to_6():
    cert = exact_t2a()
    assert cert.verdict is Verdict.HOLDS
    assert [row["d"] for row in cert.details["evidence"]] == [2, 3, 4, 5, 6]


def test_rmsnorm_counterexample():
    assert exact_t2b().verdict is Verdict.HOLDS


def test_symbolic_norms_have_the_documented_form():
    import sympy

    eps = sympy.Symbol("e", positive=True)
    out = layer_norm_sym([sympy.Integer(1), sympy.Integer(3)], eps)
    g1, b1 = sympy.Symbol("g1", real=True), sympy.Symbol("b1", real=True)
    assert sympy.simplify(out[0] - (g1 * (-1) / sympy.sqrt(1 + eps) + b1)) == 0


# ---- theory.norm_symmetry: the claims on behaviour maps, both directions
# --------------------------

import numpy as np  # noqa: E402  (the numeric half of this module needs it)
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from theory.norm_symmetry import (  # noqa: E402
    check_t2a,
    check_t2b,
    layernorm,
    ones_overlap,
    rmsnorm,
    shift_change,
)


@st.composite
def readouts(draw, d_min=3, d_max=8):
    """A random linear readout W (m, d) and a vector v, as a behaviour map through a norm."""
    d = draw(st.integers(d_min, d_max))
    m = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, d)), rng.standard_normal((4, d)), rng.standard_normal(d)


@settings(max_examples=50)
@given(readouts(), st.floats(-50, 50, allow_nan=False))
def test_layernorm_forgets_every_shift_and_t2a_holds_on_it(case, c):
    W, H, v = case
    run = lambda x: layernorm(H + x) @ W.T
    np.testing.assert_allclose(layernorm(H + c), layernorm(H), atol=1e-9)
    cert = check_t2a({"ln": run}, v, shift=5.0, tol=1e-9)
    assert cert.verdict is Verdict.HOLDS and cert.margin >= 1 and cert.residual <= 1e-9


@settings(max_examples=50)
@given(readouts())
def test_rmsnorm_sees_the_shift_so_t2a_is_violated_and_t2b_holds(case):
    W, H, v = case
    run = lambda x: rmsnorm(H + x) @ W.T
    change = shift_change(run, v, 5.0)
    if change > 1e-3:  # the generic case: the shift moves RMSNorm's output (T2b)
        assert check_t2b({"rms": run}, v, 5.0).verdict is Verdict.HOLDS
        wrong = check_t2a({"rms": run}, v, 5.0)
        assert wrong.verdict is Verdict.VIOLATED and wrong.margin >= 1
    else:  # a draw where it barely moves: then T2b's claim fails on this map, and says so
        assert check_t2b({"rms": run}, v, 5.0).verdict is Verdict.VIOLATED


def test_t2b_is_violated_by_a_layernorm_map_planted_as_rmsnorm():
    rng = np.random.default_rng(0)
    W, H, v = rng.standard_normal((3, 5)), rng.standard_normal((2, 5)), rng.standard_normal(5)
    cert = check_t2b({"layer norm": lambda x: layernorm(H + x) @ W.T}, v)
    assert cert.verdict is Verdict.VIOLATED and "layer norm" in cert.reason


def test_ones_overlap_is_one_on_span_one_and_zero_off_it():
    d = 6
    assert abs(ones_overlap(np.ones((d, 1)) / np.sqrt(d)) - 1) < 1e-15
    q = np.linalg.qr(np.eye(d)[:, :3] - 1.0 / d)[0]  # columns orthogonal to 1
    assert ones_overlap(q) < 1e-12
    assert ones_overlap(np.zeros((d, 0))) == 0.0
