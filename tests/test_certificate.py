"""The one result type: certificates are immutable, round-trip through JSON exactly (typed fields
included, non-finite floats in every field written one way), and a decided verdict needs its
evidence to clear the decision's edge (margin >= 1)."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from theory.certificate import Certificate, CosineRange, Verdict

any_float = st.floats()  # NaN and +-inf included
FLOAT_FIELDS = ("tolerance", "residual", "residual_tolerance", "cosine")
INT_FIELDS = ("dim", "rank", "d", "layer")
ARRAY_FIELDS = ("singular_values", "ambiguous")
TAGS = {"Infinity", "-Infinity", "NaN"}


def _arrays(min_dims=1, max_dims=2):
    return hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=4),
        elements=st.floats(width=64),
    )


@st.composite
def margins(draw, verdict):
    """None, or a margin a certificate with this verdict may carry: >= 1 (inf included) when
    decided, anything (NaN included) when undecided."""
    if verdict is Verdict.UNDECIDED:
        return draw(st.none() | any_float)
    return draw(st.none() | st.floats(min_value=1.0))


@st.composite
def certificates(draw):
    verdict = draw(st.sampled_from(list(Verdict)))
    names = draw(
        st.lists(st.sampled_from(["v", "twin", "basis", "point"]), unique=True, max_size=3)
    )
    fields = {name: draw(st.none() | any_float) for name in FLOAT_FIELDS}
    fields.update({name: draw(st.none() | st.integers(0, 10**6)) for name in INT_FIELDS})
    fields.update({name: draw(st.none() | _arrays(1, 1)) for name in ARRAY_FIELDS})
    return Certificate(
        theorem=draw(st.sampled_from(["T1", "T1a", "T2c", "T7", "E3"])),
        verdict=verdict,
        claim=draw(st.text(max_size=20)),
        margin=draw(margins(verdict)),
        witness={name: draw(_arrays()) for name in names},
        cosine_range=draw(st.none() | st.builds(CosineRange, any_float, any_float, st.booleans())),
        model=draw(st.none() | st.text(max_size=8)),
        channel=draw(st.none() | st.sampled_from(["logits", "probs", "trait"])),
        symmetries=tuple(draw(st.lists(st.text(max_size=12), max_size=3))),
        reason=draw(st.text(max_size=30)),
        details={
            "x": draw(any_float),
            "flag": draw(st.booleans()),
            "name": draw(st.text(max_size=5) | st.sampled_from(sorted(TAGS))),
            "values": draw(st.lists(any_float, max_size=4)),
            "nested": {"y": draw(any_float)},
        },
        **fields,
    )


def _same_float(a, b) -> bool:
    """Equal as floats, NaN equal to NaN, and the sign of zero kept."""
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def _same_array(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def _strict_json(text: str):
    """Parse JSON that must not hold the NaN / Infinity literals."""

    def refuse(name):
        raise AssertionError(f"bare {name} literal in certificate JSON")

    return json.loads(text, parse_constant=refuse)


def _tag(x: float) -> dict:
    return {"__float__": "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")}


def _encoded_like(value, encoded) -> bool:
    """``encoded`` is ``value`` as JSON data, every non-finite float written {"__float__": ...}."""
    if isinstance(value, float):
        return encoded == (value if math.isfinite(value) else _tag(value))
    if isinstance(value, dict):
        return set(value) == set(encoded) and all(
            _encoded_like(value[k], encoded[k]) for k in value
        )
    if isinstance(value, (list, tuple)):
        return len(value) == len(encoded) and all(map(_encoded_like, value, encoded))
    return value == encoded


@given(certificates())
def test_json_round_trip_is_exact(cert):
    text = cert.to_json()
    _strict_json(text)  # strict JSON: no NaN/Infinity literals
    back = Certificate.from_json(text)
    assert back == cert
    assert back.to_json() == text
    assert back.verdict is cert.verdict and back.theorem == cert.theorem
    assert back.claim == cert.claim and back.reason == cert.reason
    for name in ("margin", *FLOAT_FIELDS):
        assert _same_float(getattr(back, name), getattr(cert, name)), name
    for name in INT_FIELDS:
        assert getattr(back, name) == getattr(cert, name), name
    for name in ARRAY_FIELDS:
        assert _same_array(getattr(back, name), getattr(cert, name)), name
    for name, arr in cert.witness.items():
        assert _same_array(back.witness[name], arr), name
    assert set(back.witness) == set(cert.witness)
    if cert.cosine_range is None:
        assert back.cosine_range is None
    else:
        assert isinstance(back.cosine_range, CosineRange)
        assert _same_float(back.cosine_range.inf, cert.cosine_range.inf)
        assert _same_float(back.cosine_range.sup, cert.cosine_range.sup)
        assert back.cosine_range.inf_attained == cert.cosine_range.inf_attained
    assert (back.model, back.channel, back.symmetries) == (
        cert.model,
        cert.channel,
        cert.symmetries,
    )
    assert _encoded_like(cert.details, _strict_json(json.dumps(back.to_dict()["details"])))
    assert back.details["name"] == cert.details["name"]  # a string "NaN" stays a string


@given(certificates())
def test_every_non_finite_float_has_one_encoding(cert):
    data = _strict_json(cert.to_json())
    for name in ("margin", *FLOAT_FIELDS):
        value = getattr(cert, name)
        assert data[name] is None if value is None else _encoded_like(value, data[name]), name
    for name in ARRAY_FIELDS:
        value = getattr(cert, name)
        assert data[name] is None if value is None else _encoded_like(value.tolist(), data[name])
    for name, arr in cert.witness.items():
        assert _encoded_like(arr.tolist(), data["witness"][name]), name
    if cert.cosine_range is not None:
        assert _encoded_like(cert.cosine_range._asdict(), data["cosine_range"])
    assert _encoded_like(cert.details, data["details"])


@given(
    st.sampled_from([Verdict.HOLDS, Verdict.VIOLATED]),
    st.floats(max_value=1.0, exclude_max=True) | st.just(math.nan),
)
def test_a_decided_verdict_below_margin_one_is_rejected(verdict, margin):
    with pytest.raises(ValueError, match="margin >= 1"):
        Certificate(theorem="T1", verdict=verdict, margin=margin)
    undecided = Certificate(theorem="T1", verdict=Verdict.UNDECIDED, margin=margin)
    assert _same_float(undecided.margin, margin)  # the same evidence is fine for undecided
    with pytest.raises(ValueError, match="margin >= 1"):
        undecided.replace(verdict=verdict)


@given(st.sampled_from(list(Verdict)), st.none() | st.floats(min_value=1.0))
def test_margin_at_or_above_one_is_accepted_for_every_verdict(verdict, margin):
    assert Certificate(theorem="T1", verdict=verdict, margin=margin).margin == margin


def test_certificate_is_immutable_and_owns_its_witness():
    v = np.array([1.0, 2.0])
    s = np.array([3.0, 1.0])
    cert = Certificate(theorem="T1", verdict="holds", witness={"v": v}, singular_values=s)
    v[0] = 99.0
    s[0] = 99.0
    assert cert.witness["v"][0] == 1.0 and cert.singular_values[0] == 3.0
    with pytest.raises((AttributeError, TypeError)):
        cert.verdict = Verdict.VIOLATED  # type: ignore[misc]
    with pytest.raises(ValueError):
        cert.witness["v"][0] = 5.0
    with pytest.raises(ValueError):
        cert.singular_values[0] = 5.0


def test_unknown_verdict_and_unknown_json_fields_are_rejected():
    with pytest.raises(ValueError):
        Certificate(theorem="T1", verdict="maybe")
    data = Certificate(theorem="T1", verdict="holds").to_dict()
    data["surprise"] = 1
    with pytest.raises(ValueError, match="unknown fields"):
        Certificate.from_dict(data)
