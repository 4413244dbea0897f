"""Each exact (sympy) check fails on a deliberately wrong variant of its claim, so none of them can
pass vacuously."""

import sympy

from proofs_check.checks import (
    cross_layer,
    efficacy,
    environments_linear,
    linear_exact,
    local,
    norms_exact,
    sparsity,
)
from theory.certificate import Verdict


def _sq(x):
    return (x.T * x)[0, 0]


def test_t1_fails_with_a_class_built_from_the_column_space():
    def wrong_class(L, v):
        cls = linear_exact.equivalence_class(L, v)
        ker = L.T.nullspace()  # left kernel instead of kernel
        basis = sympy.Matrix.hstack(*ker) if ker else sympy.zeros(L.cols, 0)
        if basis.rows != L.cols:
            basis = sympy.zeros(L.cols, 0)
        return type(cls)(
            readout=cls.readout, vector=cls.vector, point=v, basis=basis, rank=cls.rank
        )

    assert linear_exact.exact_t1(0, class_fn=wrong_class).verdict is Verdict.VIOLATED


def test_t1a_fails_with_a_wrong_twin_coefficient():
    cert = linear_exact.exact_t1a(0, coefficient=lambda v, k: sympy.sqrt(_sq(v) / _sq(k)))
    assert cert.verdict is Verdict.VIOLATED


def test_t1b_fails_with_a_wrong_infimum():
    cert = linear_exact.exact_t1b(0, infimum=lambda p, k: -sympy.sqrt(_sq(k) / _sq(p)))
    assert cert.verdict is Verdict.VIOLATED


def test_t2c_fails_when_the_normaliser_is_not_shift_invariant():
    squares = lambda xs: [x**2 / sum(y**2 for y in xs) for x in xs]
    assert linear_exact.exact_t2c(0, normaliser=squares).verdict is Verdict.VIOLATED


def test_t4_fails_when_the_bias_does_not_absorb_the_shift():
    assert linear_exact.exact_t4(0, move_bias=False).verdict is Verdict.VIOLATED


def test_t2a_fails_with_rmsnorm_in_place_of_layernorm():
    assert (
        norms_exact.check_shift_invariance(norms_exact.rms_norm_sym, dims=[2]).verdict
        is Verdict.VIOLATED
    )


def test_t2b_fails_with_layernorm_in_place_of_rmsnorm():
    assert norms_exact.exact_t2b(0, norm=norms_exact.layer_norm_sym).verdict is Verdict.VIOLATED


def test_t5_fails_with_a_wrong_variance():
    assert (
        efficacy.exact_t5(0, claimed_variance=lambda d: sympy.Rational(1, d)).verdict
        is Verdict.VIOLATED
    )


def test_t3_fails_with_a_wrong_kl_coefficient():
    assert local.exact_t3_kl(0).verdict is Verdict.HOLDS
    assert local.exact_t3_kl(0, claimed_coefficient=sympy.Integer(1)).verdict is Verdict.VIOLATED


def test_t6_fails_with_a_wrong_stacked_rank():
    assert (
        environments_linear.exact_t6(0, claimed_rank=lambda E: min(E + 1, 4)).verdict
        is Verdict.VIOLATED
    )


def test_t7_fails_without_the_sign_of_the_second_twin_or_with_a_wrong_spark():
    assert sparsity.exact_t7_twins(0).verdict is Verdict.HOLDS
    assert sparsity.exact_t7_spark(0).verdict is Verdict.HOLDS
    assert sparsity.exact_t7_twins(0, negate_second=False).verdict is Verdict.VIOLATED
    assert sparsity.exact_t7_spark(0, planted_size=3).verdict is Verdict.VIOLATED


def test_t9_fails_when_a_transfer_moves_the_ones_vector():
    assert cross_layer.exact_t9(0, transfer_fixes_ones=False).verdict is Verdict.VIOLATED
