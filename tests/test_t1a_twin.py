"""T1a: the orthogonal twin v - (|v|^2/|k|^2) k is equivalent to v, orthogonal to it, of norm
|v||v_id|/|k|; it exists iff k = v - L^+ L v != 0."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.certificate import Verdict
from theory.linear import NoTwinError, equivalence_class, orthogonal_twin
from theory.linear_checks import check_t1a

from .strategies import ranked_matrices, split_vectors


@given(st.data())
def test_twin_is_equivalent_orthogonal_with_predicted_norm(data):
    M = data.draw(ranked_matrices(full_rank=False))
    v = data.draw(split_vectors(M, ker=True))
    twin = orthogonal_twin(M.L, v)
    k = M.kernel @ (M.kernel.T @ v)
    v_id = v - k
    scale = max(np.linalg.norm(twin), np.linalg.norm(v)) * np.linalg.norm(
        M.L, 2
    )  # relative, any scale
    assert np.linalg.norm(M.L @ twin - M.L @ v) <= 1e-11 * scale
    assert abs(twin @ v) <= 1e-11 * max(np.linalg.norm(twin), np.linalg.norm(v)) * np.linalg.norm(v)
    predicted = np.linalg.norm(v) * np.linalg.norm(v_id) / np.linalg.norm(k)
    assert np.isclose(np.linalg.norm(twin), predicted, rtol=1e-9, atol=1e-9 * np.linalg.norm(v))
    assert equivalence_class(M.L, v).contains(twin)


@given(st.data())
def test_no_twin_exactly_when_v_has_no_kernel_part(data):
    M = data.draw(ranked_matrices(min_rank=1))
    v = data.draw(split_vectors(M, row=True, ker=False))
    with pytest.raises(NoTwinError):
        orthogonal_twin(M.L, v)
    # ... and then every member w has <v, w> = |v|^2, so none is orthogonal to v
    cls = equivalence_class(M.L, v)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    for _ in range(3):
        w = cls.member(rng.standard_normal(cls.dim) * 10) if cls.dim else v
        assert np.isclose(w @ v, v @ v, rtol=1e-10)


def test_no_twin_error_is_a_value_error():
    assert issubclass(NoTwinError, ValueError)
    with pytest.raises(ValueError):
        orthogonal_twin(np.eye(3), np.ones(3))


@given(st.data())
def test_check_t1a_certificate(data):
    M = data.draw(ranked_matrices())
    v = data.draw(split_vectors(M))
    has_kernel_part = np.linalg.norm(M.kernel.T @ v) > 1e-8 * np.linalg.norm(v)
    cert = check_t1a(M.L, v)
    assert cert.verdict is Verdict.HOLDS and cert.margin >= 1
    assert ("twin" in cert.witness) == bool(has_kernel_part)
    twin = cert.witness.get("twin")
    if twin is not None and np.any(twin):
        assert abs(cert.cosine) <= 1e-9 and cert.residual <= cert.residual_tolerance
    if not has_kernel_part:
        assert "no component in ker L" in cert.reason


def test_check_t1a_flags_a_behaviour_the_twin_does_not_reproduce():
    L = np.array([[1.0, 0.0, 0.0]])
    v = np.array([1.0, 1.0, 0.0])
    cert = check_t1a(L, v, behaviour=lambda w: np.array([w[0], w[1]]))  # reads ker L too
    assert cert.verdict is Verdict.VIOLATED and cert.margin >= 1
    assert "twin steers like v" in cert.reason
