"""Adversarial arguments for the public ``theory`` functions: the claim is that each one either
returns its documented result or raises ``ValueError`` whose message names the argument at fault,
never another exception type (a ``LinAlgError`` from a NaN, a ``TypeError`` from a string, an
``IndexError`` from an empty array would each be a bug).

Arguments are drawn by ``hypothesis.strategies.builds`` from one strategy per parameter name:
arrays of every rank 0-3 and of wrong dtypes, arrays of the right shape holding NaN, inf, 1e300 or
subnormal entries, Python scalars, strings, None and nested lists; numeric options drawn from NaN,
inf, negatives, zero, bools and huge ints. ``FUZZED`` counts the calls, the
valid results and the refusals in one process.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import theory
from theory.certificate import Certificate

from .fuzz_budget import counts_reporter, examples

FUZZED = {"calls": 0, "valid": 0, "refused": 0}
_report_counts = counts_reporter(__name__, FUZZED)  # STEERID_FUZZ_REPORT

ODD_SCALARS = st.sampled_from(
    [None, "x", "", b"1", [], [[]], {}, True, False, 0, -1, 2**70, 0.0, -0.5, np.nan, np.inf,
     -np.inf, 1e300, 5e-324, 1j, object()]
)  # fmt: skip


@st.composite
def odd_array(draw, ndim: int = 2):
    """An array that is wrong in one way: its rank, dtype, size, or the values it holds."""
    how = draw(st.sampled_from(["rank", "dtype", "empty", "values", "list", "scalar"]))
    if how == "rank":
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
        return draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3)))
    if how == "dtype":
        dtype = draw(st.sampled_from(["complex128", "bool", "U1", "datetime64[s]", "int64", "O"]))
        shape = (3,) * ndim
        if dtype == "O":
            return np.full(shape, None, dtype=object)
        return np.zeros(shape, dtype=dtype)
    if how == "empty":
        return np.zeros(tuple(draw(st.sampled_from([0, 3])) for _ in range(ndim)) or (0,))
    if how == "values":
        shape = (draw(st.integers(1, 4)),) * ndim if ndim else ()
        base = draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3)))
        bad = draw(st.sampled_from([np.nan, np.inf, -np.inf, 1e300, 5e-324, 0.0]))
        if base.size:
            flat = base.reshape(-1)
            flat[draw(st.integers(0, flat.size - 1))] = bad
            if bad == 0.0:
                base = np.zeros_like(base)
        return base
    if how == "list":
        return draw(st.sampled_from([[1.0, "a"], [[1.0, 2.0], [3.0]], [[[]]], [None, None]]))
    return draw(ODD_SCALARS)


@st.composite
def well_formed(draw, d: int, rows: int):
    return draw(hnp.arrays(np.float64, (rows, d), elements=st.floats(-2, 2, allow_subnormal=False)))


def anything(ndim: int = 2):
    """Mostly odd arrays, sometimes valid ones, sometimes odd scalars."""
    valid = hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=1, max_side=4)
        if ndim
        else st.just(()),
        elements=st.floats(-2, 2, allow_subnormal=False),
    )
    return st.one_of(odd_array(ndim), valid, ODD_SCALARS)


ODD_OPTION = st.one_of(
    ODD_SCALARS,
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**66), 2**66),
)


def _score(H):
    return np.asarray(H, dtype=np.float64) @ np.ones(np.shape(H)[-1])


# function -> strategies for the parameters drawn (the rest keep their defaults)
TARGETS = {
    "check_t1": {"L": anything(2), "v": anything(1), "tol": ODD_OPTION, "seed": ODD_OPTION},
    "check_t1a": {"L": anything(2), "v": anything(1), "tol": ODD_OPTION},
    "check_t1b": {"L": anything(2), "v": anything(1), "samples": ODD_OPTION},
    "check_t2c": {"W": anything(2), "v": anything(1), "H": anything(2), "tol": ODD_OPTION},
    "check_t4": {"H": anything(2), "w": anything(1), "b": ODD_OPTION, "tol": ODD_OPTION},
    "check_t5": {
        "score": st.just(_score),
        "v": anything(1),
        "gradient": anything(1),
        "rho": ODD_OPTION,
        "n": st.one_of(ODD_OPTION, st.integers(2, 50)),
        "alpha": ODD_OPTION,
    },
    "check_t6": {
        "readouts": st.one_of(st.lists(anything(2), max_size=3), ODD_SCALARS),
        "v": anything(1),
        "tol": ODD_OPTION,
    },
    "check_t7": {
        "L": anything(2),
        "Phi": anything(2),
        "k": st.one_of(ODD_OPTION, st.integers(0, 3)),
        "max_subsets": ODD_OPTION,
    },
    "check_t8_laws": {"A": anything(2), "gaussian": anything(1), "angle": ODD_OPTION},
    "cosine_range": {"L": anything(2), "v": anything(1), "tol": ODD_OPTION},
    "decide_rank": {"matrix": anything(2), "tol": ODD_OPTION},
    "equivalence_class": {"L": anything(2), "v": anything(1), "tol": ODD_OPTION},
    "orthogonal_twin": {"L": anything(2), "v": anything(1), "tol": ODD_OPTION},
    "solve_bp": {"A": anything(2), "y": anything(1)},
    "amari_index": {"P": anything(2)},
}
RESULT_TYPES = {
    "cosine_range": tuple,
    "decide_rank": object,
    "equivalence_class": object,
    "orthogonal_twin": np.ndarray,
    "solve_bp": object,
    "amari_index": float,
}


def _call(name, kwargs):
    fn = getattr(theory, name)
    FUZZED["calls"] += 1
    try:
        out = fn(**kwargs)
    except ValueError as exc:  # InputError, NoTwinError and the other refusals are ValueErrors
        FUZZED["refused"] += 1
        message = str(exc)
        params = inspect.signature(fn).parameters
        assert message.strip(), f"{name}: a ValueError with no message"
        assert any(p in message for p in params), (
            f"{name}: {type(exc).__name__} names none of {list(params)}: {message}"
        )
        return
    FUZZED["valid"] += 1
    expected = RESULT_TYPES.get(name, Certificate)
    assert isinstance(out, expected), (name, type(out))
    if isinstance(out, Certificate):
        assert out.verdict is not None


@pytest.mark.parametrize("name", sorted(TARGETS))
@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_public_theory_functions_refuse_bad_arguments_by_name(name, data):
    kwargs = data.draw(st.fixed_dictionaries(TARGETS[name]), label="arguments")
    _call(name, kwargs)


@pytest.mark.parametrize("name", ["check_t1", "equivalence_class", "orthogonal_twin", "check_t7"])
@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), d=st.integers(1, 5), r=st.integers(1, 4))
def test_readouts_of_the_right_shape_with_bad_values(name, data, d, r):
    """The shapes agree, so the values reach the linear algebra: NaN, inf, 1e300, subnormals."""
    L = data.draw(well_formed(d, r), label="L")
    v = data.draw(hnp.arrays(np.float64, (d,), elements=st.floats(-2, 2)), label="v")
    target = data.draw(st.sampled_from(["L", "v"]))
    bad = data.draw(st.sampled_from([np.nan, np.inf, 1e300, 5e-324, -1e300]))
    arr = L if target == "L" else v
    arr.reshape(-1)[data.draw(st.integers(0, arr.size - 1))] = bad
    kwargs = {"L": L, "v": v}
    if name == "check_t7":  # v is the dictionary Phi's bad entry here
        kwargs = {"L": L, "Phi": np.diag(np.where(np.isfinite(v), 1.0, v)), "k": 1}
    _call(name, kwargs)
