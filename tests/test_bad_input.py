"""Bad input raises ValueError naming the argument, before any work."""

import numpy as np
import pytest
import sympy

from synthetic.linear import make_linear_model
from theory.efficacy import sample_efficacy
from theory.estimation import check_t4, probe_class
from theory.linear import cosine_range, equivalence_class, orthogonal_twin
from theory.linear_checks import check_t1, check_t1b, class_certificate
from theory.softmax_shift import check_t2c, probs_class
from theory.sparse import check_t7
from theory.validation import (
    MAX_DRAWN_FLOATS,
    MAX_ENTRY,
    MIN_LARGEST,
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
    (np.array([[1e-160, 0.0]]), "L is nonzero but its largest entry"),
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
        (np.array([3.8e-171, 0.0]), "v is nonzero but its largest entry"),
    ],
)
def test_bad_vector(fn, v, msg):
    with pytest.raises(ValueError, match=msg):
        fn(np.eye(2), v)


def test_entry_bounds_are_inclusive_and_keep_squared_norms_normal():
    """The largest entry of a nonzero array may be anywhere in [1e-150, 1e150]: there its squared
    norm is a normal, finite float64, so a nonzero input never has norm 0 or inf. Just outside
    either bound it is refused; the zero array is accepted."""
    for edge in (MIN_LARGEST, MAX_ENTRY):
        arr = as_float_array("x", [edge, 0.0], 1)
        assert 0.0 < float(np.linalg.norm(arr)) < np.inf
        assert np.finfo(np.float64).tiny <= float(arr @ arr) < np.inf
    for beyond in (np.nextafter(MIN_LARGEST, 0.0), np.nextafter(MAX_ENTRY, np.inf)):
        with pytest.raises(ValueError, match="x "):
            as_float_array("x", [beyond, 0.0], 1)
    assert not as_float_array("x", np.zeros(3), 1).any()


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


@pytest.mark.parametrize("entry, message", [(1e-100, "largest entry"), (1e100, "magnitude")])
def test_t7_names_a_product_l_phi_outside_the_entry_bounds(entry, message):
    """L and Phi may each be valid while L Phi leaves [1e-150, 1e150]: the refusal names the
    product, not an internal matrix."""
    L = np.array([[entry, 1.0]])
    Phi = np.array([[entry], [0.0]])
    with pytest.raises(ValueError, match=f"L Phi .*{message}"):
        check_t7(L, Phi, 1)
