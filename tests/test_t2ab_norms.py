"""T2a/T2b, exact side: LayerNorm forgets h -> h + c1 (symbolic proof for d = 2..6); RMSNorm does not.
The numeric side on the transformer zoo is in tests/test_transformer.py and tests/test_t3_local.py."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from proofs_check.checks.norms_exact import exact_t2a, exact_t2b, layer_norm_sym
from theory.certificate import Verdict


def test_layer_norm_identity_is_proved_for_d_2_to_6():
    cert = exact_t2a()
    assert cert.verdict is Verdict.HOLDS
    assert [row["d"] for row in cert.details["evidence"]] == [2, 3, 4, 5, 6]


def test_rmsnorm_counterexample():
    assert exact_t2b().verdict is Verdict.HOLDS


def _ln(h, eps=1e-5):
    mu = h.mean(-1, keepdims=True)
    return (h - mu) / np.sqrt(((h - mu) ** 2).mean(-1, keepdims=True) + eps)


def _rms(h, eps=1e-5):
    return h / np.sqrt((h**2).mean(-1, keepdims=True) + eps)


@given(st.integers(2, 64), st.floats(-100, 100), st.integers(0, 2**32 - 1))
def test_numeric_layer_norm_shift_invariance(d, c, seed):
    h = np.random.default_rng(seed).standard_normal(d)
    assert np.allclose(_ln(h + c), _ln(h), rtol=1e-9, atol=1e-9)


@given(st.integers(2, 64), st.floats(0.1, 10) | st.floats(-10, -0.1), st.integers(0, 2**32 - 1))
def test_numeric_rms_norm_is_not_shift_invariant(d, c, seed):
    h = np.random.default_rng(seed).standard_normal(d)
    assert not np.allclose(_rms(h + c), _rms(h), atol=1e-6)


def test_symbolic_norms_have_the_documented_form():
    import sympy
    eps = sympy.Symbol("e", positive=True)
    out = layer_norm_sym([sympy.Integer(1), sympy.Integer(3)], eps)
    g1, b1 = sympy.Symbol("g1", real=True), sympy.Symbol("b1", real=True)
    assert sympy.simplify(out[0] - (g1 * (-1) / sympy.sqrt(1 + eps) + b1)) == 0
