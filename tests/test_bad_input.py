"""Bad input raises ValueError naming the argument, before any work."""

import numpy as np
import pytest
import sympy

from synthetic.linear import make_linear_model
from theory.efficacy import sample_efficacy
from theory.estimation import check_t4, probe_class
from theory.linear import cosine_range, equivalence_class, orthogonal_twin
from theory.linear_checks import check_t1, check_t1a, check_t1b, class_certificate
from theory.softmax_shift import check_t2c, probs_class
from theory.sparse import check_t7
from theory.validation import (
    MAX_DRAWN_FLOATS,
    MAX_ENTRY,
    as_float_array,
    as_sample_size,
)

FUNCS = [equivalence_class, orthogonal_twin, cosine_range, check_t1, class_certificate]

BAD_L = [
    (np.array([[np.nan, 1.0]]), "L must be finite"),
    (np.array([[np.inf, 1.0]]), "L must be finite"),
    (np.array([1.0, 2.0]), "L must have 2 dimension"),
    (np.zeros((0, 3)), "L must not be empty"),
    (np.array([["a", "b"]]), "L must be a real numeric array"),
    (np.array([[1 + 1j, 0]]), "L must be real"),
    (np.array([[True, False]]), "L must be a real numeric array"),
    ([[1.0, 2.0], [3.0]], "L must be"),
    (None, "L is required"),
    (np.array([[1e151, 1.0]]), "L has an entry of magnitude"),
]


@pytest.mark.parametrize("fn", FUNCS)
@pytest.mark.parametrize("L,msg", BAD_L)
def test_bad_readout(fn, L, msg):
    with pytest.raises(ValueError, match=msg):
        fn(L, np.ones(2))


@pytest.mark.parametrize("fn", FUNCS)
@pytest.mark.parametrize(
    "v,msg",
    [
        (np.ones(3), "v must have length 2"),
        (np.array([np.nan, 1.0]), "v must be finite"),
        (np.ones((2, 1)), "v must have 1 dimension"),
        (np.array([]), "v must not be empty"),
        (np.array(["x", "y"]), "v must be a real numeric array"),
    ],
)
def test_bad_vector(fn, v, msg):
    with pytest.raises(ValueError, match=msg):
        fn(np.eye(2), v)


def test_entry_bound_is_inclusive_and_keeps_squared_norms_finite():
    """Entries up to 1e150 in magnitude are accepted, and there a squared norm is finite; just
    above the bound the array is refused by name. Tiny entries are accepted (a subnormal
    steering vector is a valid input)."""
    arr = as_float_array("x", [MAX_ENTRY, -MAX_ENTRY], 1)
    assert float(arr @ arr) < np.inf
    with pytest.raises(ValueError, match="x has an entry of magnitude"):
        as_float_array("x", [np.nextafter(MAX_ENTRY, np.inf), 0.0], 1)
    assert as_float_array("x", [5e-324, 0.0], 1)[0] == 5e-324


@pytest.mark.parametrize("check", [check_t1a, check_t1b])
def test_t1_checks_refuse_a_v_whose_norm_underflows(check):
    """|v| = 0 in float64 for v = (3.8e-171): T1a's predicted twin norm |v||v_id|/|k| and T1b's
    cosines divide by norms that underflowed, so a nonzero v with |v| = 0 is refused by name."""
    with pytest.raises(ValueError, match="v is nonzero .* underflows"):
        check(np.zeros((1, 1)), np.array([3.8e-171]))


@pytest.mark.parametrize("tol", [-1.0, 0.0, np.nan, np.inf, "abc"])
def test_bad_tolerance(tol):
    with pytest.raises(ValueError, match="tol must be"):
        equivalence_class(np.eye(2), np.ones(2), tol=tol)


def test_exact_mode_bad_input():
    with pytest.raises(ValueError, match="v must have length 2"):
        equivalence_class(sympy.Matrix([[1, 2]]), sympy.Matrix([1, 2, 3]))
    with pytest.raises(ValueError, match="L must not be empty"):
        equivalence_class(sympy.zeros(0, 2), sympy.Matrix([1, 2]))


def test_softmax_and_probe_bad_input():
    with pytest.raises(ValueError, match="W must be finite"):
        probs_class(np.array([[np.nan]]), np.ones(1))
    with pytest.raises(ValueError, match="v must have length 2"):
        probs_class(np.eye(2), np.ones(3))
    with pytest.raises(ValueError, match="H must have 2 columns"):
        check_t2c(np.eye(2), np.ones(2), np.ones((3, 3)))
    with pytest.raises(ValueError, match="H must be finite"):
        probe_class(np.array([[np.inf, 0.0], [0.0, 1.0]]), np.ones(2))
    with pytest.raises(ValueError, match="w must have length 2"):
        check_t4(np.ones((3, 2)), np.ones(5))


@pytest.mark.parametrize(
    "kwargs,msg",
    [
        (dict(d=0), "d must be an int in \\[1, inf\\)"),
        (dict(rank=20), "rank must be an int"),
        (dict(vocab=3, n_trait_tokens=2), "n_trait_tokens must be at most"),
    ],
)
def test_linear_model_bad_arguments(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        make_linear_model(**kwargs)


def test_linear_model_unknown_channel():
    m = make_linear_model()
    with pytest.raises(ValueError, match="channel must be one of"):
        m.behaviour(m.concept, "vibes")


def test_sample_sizes_are_bounded_by_the_floats_they_draw():
    """as_sample_size(n, width) accepts n exactly when n * width <= MAX_DRAWN_FLOATS (1 GiB of
    float64); the public checks that draw an (n, d) sample refuse a larger n by name, before
    allocating it."""
    for width in (1, 3, 768):
        edge = MAX_DRAWN_FLOATS // width
        assert as_sample_size("n", edge, width) == edge
        with pytest.raises(ValueError, match="n = "):
            as_sample_size("n", edge + 1, width)
    with pytest.raises(ValueError, match="samples = "):
        check_t1b(np.zeros((1, 4)), np.ones(4), samples=MAX_DRAWN_FLOATS // 4 + 1)
    with pytest.raises(ValueError, match="n = "):
        sample_efficacy(lambda X: X[:, 0], np.ones(3), np.ones(3), 0.1, n=2**62)


def test_t7_names_a_product_l_phi_above_the_entry_bound():
    """L and Phi may each be valid (entries <= 1e150) while L Phi holds 1e200: the refusal names
    the product, not an internal matrix."""
    L = np.array([[1e100, 1.0]])
    Phi = np.array([[1e100], [0.0]])
    with pytest.raises(ValueError, match="L Phi has an entry of magnitude"):
        check_t7(L, Phi, 1)
