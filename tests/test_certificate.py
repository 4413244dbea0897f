"""The one result type: certificates are immutable and round-trip through JSON exactly."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from theory.certificate import Certificate, Verdict

finite_or_not = st.floats(allow_nan=False) | st.sampled_from([np.inf, -np.inf])


@st.composite
def certificates(draw):
    witness = {
        name: draw(
            hnp.arrays(
                np.float64,
                hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=4),
                elements=st.floats(allow_nan=False, allow_infinity=False, width=64),
            )
        )
        for name in draw(
            st.lists(st.sampled_from(["v", "twin", "basis", "point"]), unique=True, max_size=3)
        )
    }
    return Certificate(
        theorem=draw(st.sampled_from(["T1", "T1a", "T2c", "T7"])),
        verdict=draw(st.sampled_from(list(Verdict))),
        claim=draw(st.text(max_size=20)),
        dim=draw(st.none() | st.integers(0, 100)),
        rank=draw(st.none() | st.integers(0, 100)),
        margin=draw(st.none() | finite_or_not),
        tolerance=draw(st.none() | st.floats(0, 1)),
        witness=witness,
        details={
            "x": draw(finite_or_not),
            "flag": draw(st.booleans()),
            "name": draw(st.text(max_size=5) | st.sampled_from(["Infinity", "NaN", "-Infinity"])),
            "values": draw(st.lists(st.floats(allow_nan=False), max_size=4)),
        },
    )


@given(certificates())
def test_json_round_trip_is_exact(cert):
    text = cert.to_json()
    json.loads(text)  # strict JSON: no NaN/Infinity literals
    back = Certificate.from_json(text)
    assert back == cert
    assert back.to_json() == text
    for name, arr in cert.witness.items():
        assert back.witness[name].shape == arr.shape
        assert np.array_equal(back.witness[name], arr)
    assert back.margin == cert.margin
    assert back.details == cert.details  # non-finite floats stay floats, strings stay strings


def test_certificate_is_immutable_and_owns_its_witness():
    v = np.array([1.0, 2.0])
    cert = Certificate(theorem="T1", verdict="holds", witness={"v": v})
    v[0] = 99.0
    assert cert.witness["v"][0] == 1.0
    with pytest.raises((AttributeError, TypeError)):
        cert.verdict = Verdict.VIOLATED  # type: ignore[misc]
    with pytest.raises(ValueError):
        cert.witness["v"][0] = 5.0


def test_unknown_verdict_is_rejected():
    with pytest.raises(ValueError):
        Certificate(theorem="T1", verdict="maybe")
