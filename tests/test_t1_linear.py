"""T1: with a linear readout L, [v] = v + ker L exactly; dim = d - rank L; v_id = L^+ L v is the
minimum-norm member."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from synthetic.linear import make_linear_model
from theory.certificate import Verdict
from theory.linear import equivalence_class
from theory.linear_checks import check_t1

from .strategies import ranked_matrices, split_vectors


@given(st.data())
def test_every_member_of_v_plus_ker_steers_identically(data):
    M = data.draw(ranked_matrices())
    v = data.draw(split_vectors(M))
    cls = equivalence_class(M.L, v)
    assert cls.certified and cls.rank == M.rank and cls.dim == M.d - M.rank
    c = np.asarray(data.draw(st.lists(st.floats(-10, 10), min_size=cls.dim, max_size=cls.dim)))
    w = cls.member(c) if cls.dim else v
    scale = max(np.linalg.norm(v), np.linalg.norm(w)) * np.linalg.norm(
        M.L, 2
    )  # relative, any scale
    assert np.linalg.norm(M.L @ w - M.L @ v) <= 1e-12 * scale


@given(st.data())
def test_every_vector_with_same_readout_is_reported_a_member(data):
    M = data.draw(ranked_matrices())
    v = data.draw(split_vectors(M))
    cls = equivalence_class(M.L, v)
    # w = v + (anything in ker L) built independently of the class's own basis
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    size = max(np.linalg.norm(v), 1e-300)
    w = v + M.kernel @ rng.standard_normal(M.kernel.shape[1]) * size
    assert cls.contains(w)
    # and a vector whose readout differs is not a member
    if M.rank and np.any(v):
        outside = w + 0.1 * size * M.row_space[:, 0]
        assert not cls.contains(outside)


@given(st.data())
def test_dimension_is_d_minus_rank_and_basis_spans_the_kernel(data):
    M = data.draw(ranked_matrices())
    v = data.draw(split_vectors(M))
    cls = equivalence_class(M.L, v)
    assert cls.dim == M.d - M.rank
    assert np.allclose(cls.basis.T @ cls.basis, np.eye(cls.dim), atol=1e-12)
    assert np.linalg.norm(M.L @ cls.basis) <= 1e-12 * np.linalg.norm(M.L, 2)
    # same subspace as the planted kernel: projections agree
    assert np.allclose(cls.basis @ cls.basis.T, M.kernel @ M.kernel.T, atol=1e-10)


@given(st.data())
def test_point_is_the_minimum_norm_member(data):
    M = data.draw(ranked_matrices())
    v = data.draw(split_vectors(M))
    cls = equivalence_class(M.L, v)
    assert np.allclose(cls.point, M.row_space @ (M.row_space.T @ v), atol=1e-12 * np.linalg.norm(v))
    assert np.allclose(cls.point, np.linalg.pinv(M.L) @ M.L @ v, atol=1e-9 * np.linalg.norm(v))
    assert cls.contains(cls.point)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    if cls.dim:
        for _ in range(5):
            w = cls.member(rng.standard_normal(cls.dim))
            assert np.linalg.norm(w) >= np.linalg.norm(cls.point) - 1e-12


@given(ranked_matrices(full_rank=True), st.integers(0, 2**32 - 1))
def test_full_column_rank_is_identifiable(M, seed):
    v = np.random.default_rng(seed).standard_normal(M.d)
    cls = equivalence_class(M.L, v)
    if M.rank == M.d:
        assert cls.dim == 0 and np.allclose(cls.point, v)


@given(st.data())
def test_check_t1_holds_and_reruns_behaviour(data):
    M = data.draw(ranked_matrices())
    v = data.draw(split_vectors(M))
    calls = []

    def behaviour(w):
        calls.append(w)
        z = M.L @ w
        return z + 0.1 * z**3  # an injective function of L v: T1's hypothesis (tanh would saturate)

    cert = check_t1(M.L, v, behaviour=behaviour)
    assert cert.verdict is Verdict.HOLDS
    assert cert.dim == M.d - M.rank and cert.rank == M.rank
    assert any(np.array_equal(c, cert.witness["member"]) for c in calls)
    assert cert.residual <= 1e-10 and cert.residual_tolerance >= 1e-10
    assert cert.margin >= 1 and cert.d == M.d
    assert np.array_equal(cert.singular_values, equivalence_class(M.L, v).decision.singular_values)


def test_check_t1_detects_a_behaviour_that_reads_beyond_L():
    """If the behaviour also reads a kernel direction, T1's hypothesis fails and the check says
    so."""
    L = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    v = np.array([1.0, 1.0, 1.0])
    cert = check_t1(L, v, behaviour=lambda w: np.concatenate([L @ w, [w[2]]]))
    assert cert.verdict is Verdict.VIOLATED and cert.margin >= 1
    assert "member steers like v" in cert.reason


def test_check_t1_is_undecided_when_the_row_step_is_lost_in_round_off():
    """A behaviour that reads L v only at round-off level shows nothing: the member passes, but so
    would anything, so the verdict is undecided (margin < 1), not holds."""
    L = np.array([[1.0, 0.0, 0.0]])
    v = np.array([1.0, 1.0, 0.0])
    cert = check_t1(L, v, behaviour=lambda w: np.array([1.0 + 1e-20 * (L @ w)[0]]))
    assert cert.verdict is Verdict.UNDECIDED and cert.margin < 1
    assert "row-space step seen" in cert.reason


@pytest.mark.parametrize("channel", ["logits", "probe", "trait"])
def test_linear_model_channels_depend_on_v_only_through_their_readout(channel):
    m = make_linear_model(d=10, vocab=8, rank=4, seed=3)
    L = m.readout(channel)
    v = m.concept + np.random.default_rng(1).standard_normal(m.d)
    cls = equivalence_class(L, v)
    assert cls.dim == m.d - np.linalg.matrix_rank(L)
    w = cls.member(np.random.default_rng(2).standard_normal(cls.dim) * 5)
    assert np.allclose(
        m.behaviour(w, channel, (1.0, 2.0)), m.behaviour(v, channel, (1.0, 2.0)), atol=1e-10
    )
    assert not np.allclose(
        m.behaviour(v + L[0], channel, (1.0,)), m.behaviour(v, channel, (1.0,)), atol=1e-6
    )


def test_planted_concept_raises_the_trait_monotonically():
    m = make_linear_model(seed=5)
    scores = [m.behaviour(m.concept, "trait", (a,)).mean() for a in np.linspace(0, 6, 13)]
    assert np.all(np.diff(scores) > 0)
