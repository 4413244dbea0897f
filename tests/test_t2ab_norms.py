"""T2a/T2b, exact side: LayerNorm forgets h -> h + c1 (symbolic proof for d = 2..6); RMSNorm does not.
The numeric side runs the toy transformers: tests/test_transformer.py (every layer and channel) and
tests/test_t2_transformer.py (null spaces of the Jacobian)."""

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
