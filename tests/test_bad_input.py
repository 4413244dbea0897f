"""Bad input raises ValueError naming the argument, before any work."""

import numpy as np
import pytest
import sympy

from synthetic.linear import make_linear_model
from theory.estimation import check_t4, probe_class
from theory.linear import cosine_range, equivalence_class, orthogonal_twin
from theory.linear_checks import check_t1, class_certificate
from theory.softmax_shift import check_t2c, probs_class

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
