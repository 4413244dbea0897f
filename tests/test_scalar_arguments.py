"""One set of validators behind every public function: a sweep of scalar arguments.

Each row names a public function, one of its scalar arguments and what that argument is (a positive
count, a seed, a positive real, a level in (0, 1), any finite real). Every probe value is either
valid for that kind, and then the call returns, or invalid, and then the call raises a ValueError
whose message names the argument. ``True`` is never an int or a real; numpy scalars are accepted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from theory import validation as V

PROBES: dict[str, Any] = {
    "True": True,
    "np.int64(3)": np.int64(3),
    "np.float64(0.5)": np.float64(0.5),
    "NaN": math.nan,
    "-1": -1,
    "0": 0,
}

# which probes each kind of argument accepts
VALID: dict[str, set[str]] = {
    "positive int": {"np.int64(3)"},
    "count": {"np.int64(3)", "0"},
    "seed": {"np.int64(3)", "0"},
    "positive real": {"np.int64(3)", "np.float64(0.5)"},
    "level": {"np.float64(0.5)"},
    "real": {"np.int64(3)", "np.float64(0.5)", "-1", "0"},
}

RNG = np.random.default_rng(0)
L = RNG.standard_normal((3, 5))
VEC = RNG.standard_normal(5)


def _zoo_prompts(n_prompts=2, length=4, seed=0):
    from synthetic.zoo import load_model, make_prompts

    return make_prompts(load_model("tiny-ln"), n_prompts, length, seed)


def _steering(layer=1, alpha=1.0):
    from theory.steering import Steering

    return Steering(layer, VEC, alpha)


def _load(seed=0):
    from synthetic.zoo import load_model

    return load_model("tiny-ln", seed)


def _rank(tol=None):
    from theory.rank import decide_rank

    return decide_rank(L, tol)


def _class(tol=None):
    from theory.linear import equivalence_class

    return equivalence_class(L, VEC, tol)


def _rerun(eps=1e-4, seed=0):
    from theory.rerun import rerun_ratio

    return rerun_ratio([lambda x: L @ x], VEC, VEC, eps, seed)


def _t2a(tol=1e-12, shift=5.0):
    from theory.norm_symmetry import check_t2a

    return check_t2a({"linear": lambda x: L @ x}, VEC, shift, tol)


def _t2b(floor=1e-3):
    from theory.norm_symmetry import check_t2b

    return check_t2b({"linear": lambda x: L @ x}, VEC, 5.0, floor)


def _linear_model(seed=0):
    from synthetic.linear import make_linear_model

    return make_linear_model(d=6, rank=3, vocab=8, seed=seed)


def _int_validator(n=3):
    return V.as_positive_int("n", n)


# (function, argument name, kind)
ROWS: list[tuple[Callable[..., Any], str, str]] = [
    (_zoo_prompts, "n_prompts", "positive int"),
    (_zoo_prompts, "length", "positive int"),
    (_zoo_prompts, "seed", "seed"),
    (_load, "seed", "seed"),
    (_steering, "layer", "count"),
    (_steering, "alpha", "real"),
    (_rank, "tol", "positive real"),
    (_class, "tol", "positive real"),
    (_rerun, "eps", "positive real"),
    (_rerun, "seed", "seed"),
    (_t2a, "tol", "positive real"),
    (_t2a, "shift", "real"),
    (_t2b, "floor", "positive real"),
    (_linear_model, "seed", "seed"),
    (_int_validator, "n", "positive int"),
]


@pytest.mark.parametrize("probe", list(PROBES))
@pytest.mark.parametrize(
    "fn, arg, kind", ROWS, ids=[f"{fn.__name__.strip('_')}-{arg}" for fn, arg, _ in ROWS]
)
def test_scalar_argument_is_validated_by_kind(fn, arg, kind, probe):
    value = PROBES[probe]
    if probe in VALID[kind]:
        assert fn(**{arg: value}) is not None
    else:
        with pytest.raises(ValueError, match=arg):
            fn(**{arg: value})


@pytest.mark.parametrize(
    "validator, good, bad",
    [
        (V.as_int, [np.int64(2), 7], [True, np.bool_(True), 2.0, "2", None]),
        (V.as_real, [np.float32(0.5), 3, np.int8(-2)], [True, math.nan, math.inf, "1", None]),
        (V.as_seed, [0, np.uint8(5)], [-1, True, 1.5]),
        (V.as_fraction, [0.25, np.float64(0.999)], [0, 1, 1.5, True]),
    ],
)
def test_validators_accept_numpy_scalars_and_refuse_bools(validator, good, bad):
    for x in good:
        validator("x", x)
    for x in bad:
        with pytest.raises(V.InputError, match="x"):
            validator("x", x)


def test_every_validator_error_is_an_input_error_and_a_value_error():
    with pytest.raises(V.InputError) as info:
        V.as_positive_int("n_prompts", 0)
    assert isinstance(info.value, ValueError) and "n_prompts" in str(info.value)
