"""Contracts every result of ``theory`` keeps: results are immutable records, margins invert
exactly, the separation and ratio rules of a behaviour comparison at their edges, and the entry
bound of the validators (1e150, stated in ``as_float_array``'s docstring)."""

from __future__ import annotations

import dataclasses
import importlib
import math
import pkgutil

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import theory
from theory.gates import inverse
from theory.residual import BehaviourComparison
from theory.validation import InputError, as_float_array


def _theory_dataclasses() -> list[type]:
    found = []
    for info in pkgutil.iter_modules(theory.__path__):
        module = importlib.import_module(f"theory.{info.name}")
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and dataclasses.is_dataclass(obj)
                and obj.__module__ == module.__name__
            ):
                found.append(obj)
    return found


def test_every_result_record_of_theory_is_frozen():
    """A certificate, a rank decision, a class or a split is evidence: none of the dataclasses
    that ``theory`` defines can be changed after it is built."""
    classes = _theory_dataclasses()
    assert len(classes) >= 20  # RankDecision, EquivalenceClass, KernelSplit, Certificate, ...
    names = {c.__name__ for c in classes}
    assert {"RankDecision", "EquivalenceClass", "KernelSplit", "Certificate"} <= names
    mutable = [c.__qualname__ for c in classes if not c.__dataclass_params__.frozen]
    assert mutable == []


@given(st.floats(1e-300, 1e300))
def test_inverse_of_a_margin_is_its_reciprocal(m):
    """inverse(m) = 1/m (so inverse(1) = 1: a gate exactly at its threshold fails by nothing);
    inverse(0) is infinite."""
    assert inverse(m) == 1.0 / m
    assert inverse(1.0) == 1.0 and inverse(0.0) == math.inf


@pytest.mark.parametrize("factor", [1.005, 1.5, 0.995, 0.5])
def test_separated_needs_the_step_out_of_the_class_above_100_times_the_noise(factor):
    """BehaviourComparison.separated: with the inside gap negligible, the step out of the class
    separates iff outside > 100 noise."""
    noise = 1e-9
    comp = BehaviourComparison(inside=0.0, outside=100 * noise * factor, noise=noise)
    assert comp.separated() is (factor > 1)


@given(st.floats(1e-6, 0.99), st.floats(0.0, 1.0))
def test_ratio_is_inside_over_outside_for_any_positive_outside(outside, share):
    """BehaviourComparison.ratio = inside / outside whenever outside > 0, also below 1."""
    inside = share * outside
    comp = BehaviourComparison(inside=inside, outside=outside, noise=0.0)
    assert comp.ratio == inside / outside


def test_entries_are_bounded_by_1e150():
    """as_float_array refuses an entry above 1e150 in magnitude (so squared norms stay finite) and
    keeps one at exactly 1e150."""
    assert as_float_array("x", np.array([1e150, -1.0]), 1)[0] == 1e150
    for big in (1.5e150, -1.9e150):
        with pytest.raises(InputError, match="x has an entry"):
            as_float_array("x", np.array([big, 1.0]), 1)
