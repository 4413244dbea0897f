"""The toy transformer: shapes, batching, causality, steering semantics, jit, the exact LayerNorm
symmetry of T2a (and its absence under RMSNorm), and input checks."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from synthetic.transformer import (
    EPS,
    TransformerConfig,
    forward,
    hook_names,
    init_params,
    resid_pre,
    run_from,
    unembed,
)
from theory.steering import Steering

CFG = TransformerConfig(
    d_model=32, n_layers=2, n_heads=4, d_mlp=128, vocab_size=64, n_ctx=16, norm="layernorm"
)
CFG_RMS = dataclasses.replace(CFG, norm="rmsnorm")
N, T, D, V = 3, 8, CFG.d_model, CFG.vocab_size
LAYERS = range(CFG.n_layers + 1)


def _generic(params: dict, seed: int) -> dict:
    """Perturb every array (norm gains and biases included) so no test leans on g = 1, b = 0."""
    rng = np.random.default_rng(seed)
    return jax.tree_util.tree_map(
        lambda x: jnp.asarray(np.asarray(x) + 0.1 * rng.standard_normal(x.shape)), params
    )


@pytest.fixture(scope="module")
def params():
    return _generic(init_params(CFG, jax.random.key(0)), 1)


@pytest.fixture(scope="module")
def params_rms():
    return _generic(init_params(CFG_RMS, jax.random.key(0)), 1)


@pytest.fixture(scope="module")
def tokens():
    return np.random.default_rng(0).integers(0, V, size=(N, T))


def _vec(seed: int, scale: float = 1.0) -> np.ndarray:
    return scale * np.random.default_rng(seed).standard_normal(D)


def _rel(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(a)))


token_arrays = arrays(np.int64, (N, T), elements=st.integers(0, V - 1))
seeds = st.integers(0, 2**32 - 1)

# ----------------------------------------------------------------------------- config and params


@pytest.mark.parametrize(
    "field, value",
    [
        ("d_model", 0),
        ("n_layers", -1),
        ("n_heads", 0),
        ("d_mlp", 2.5),
        ("vocab_size", True),
        ("n_ctx", 0),
        ("norm", "batchnorm"),
    ],
)
def test_config_rejects_bad_fields(field, value):
    kwargs = dataclasses.asdict(CFG) | {field: value}
    with pytest.raises(ValueError, match=field):
        TransformerConfig(**kwargs)


def test_config_needs_d_model_divisible_by_n_heads():
    with pytest.raises(ValueError, match="n_heads"):
        TransformerConfig(d_model=30, n_layers=1, n_heads=4, d_mlp=8, vocab_size=8, n_ctx=4)


def test_config_is_frozen_and_hashable():
    same = TransformerConfig(32, 2, 4, 128, 64, 16)
    assert same == CFG and hash(same) == hash(CFG) and CFG != CFG_RMS
    assert {CFG: 1}[same] == 1
    assert CFG.d_head == 8
    with pytest.raises(dataclasses.FrozenInstanceError):
        CFG.d_model = 64


@pytest.mark.parametrize("cfg", [CFG, CFG_RMS], ids=["layernorm", "rmsnorm"])
def test_init_params_shapes_and_conventions(cfg):
    p = init_params(cfg, jax.random.key(3))
    assert (
        p["wte"].shape == (V, D) and p["wpe"].shape == (cfg.n_ctx, D) and p["w_u"].shape == (D, V)
    )
    assert len(p["blocks"]) == cfg.n_layers
    blk = p["blocks"][0]
    assert blk["attn"]["c_attn"]["w"].shape == (D, 3 * D) and blk["attn"]["c_proj"]["w"].shape == (
        D,
        D,
    )
    assert blk["mlp"]["c_fc"]["w"].shape == (D, cfg.d_mlp) and blk["mlp"]["c_proj"]["w"].shape == (
        cfg.d_mlp,
        D,
    )
    assert all(x.dtype == jnp.float64 for x in jax.tree_util.tree_leaves(p))
    norms = [p["ln_f"]] + [b[k] for b in p["blocks"] for k in ("ln_1", "ln_2")]
    for ln in norms:
        assert np.all(ln["g"] == 1.0)
        if cfg.norm == "layernorm":
            assert set(ln) == {"g", "b"} and np.all(ln["b"] == 0.0)
        else:
            assert set(ln) == {"g"}
    # same key, same params; another key, other params
    again = init_params(cfg, jax.random.key(3))
    assert all(
        np.array_equal(a, b)
        for a, b in zip(jax.tree_util.tree_leaves(p), jax.tree_util.tree_leaves(again))
    )
    other = init_params(cfg, jax.random.key(4))
    assert not np.array_equal(p["wte"], other["wte"])


def test_hook_names_match_steering():
    names = hook_names(CFG)
    assert names == (
        "blocks.0.hook_resid_pre",
        "blocks.1.hook_resid_pre",
        "blocks.2.hook_resid_pre",
    )
    assert all(Steering(l, np.zeros(D)).hook_name == names[l] for l in LAYERS)


# ----------------------------------------------------------------------------- shapes, batching,
# causality


@pytest.mark.parametrize("n, t", [(1, 1), (2, CFG.n_ctx)])
def test_shapes(params, n, t):
    toks = np.random.default_rng(t).integers(0, V, size=(n, t))
    z = forward(params, CFG, toks)
    assert z.shape == (n, t, V) and z.dtype == jnp.float64
    assert forward(params, CFG, toks[0]).shape == (t, V)


@given(toks=token_arrays, layer=st.sampled_from(list(LAYERS)), seed=seeds)
def test_batch_agrees_with_single_prompts(params, toks, layer, seed):
    s = Steering(layer, _vec(seed), alpha=1.5)
    batched = forward(params, CFG, toks, s)
    single = np.stack([forward(params, CFG, row, s) for row in toks])
    np.testing.assert_allclose(batched, single, rtol=1e-12, atol=1e-12)


@given(
    toks=arrays(np.int64, (T,), elements=st.integers(0, V - 1)),
    t=st.integers(0, T - 1),
    shift=st.integers(1, V - 1),
)
def test_causal_later_tokens_do_not_change_earlier_logits(params, toks, t, shift):
    changed = toks.copy()
    changed[t] = (toks[t] + shift) % V
    z, z2 = np.asarray(forward(params, CFG, toks)), np.asarray(forward(params, CFG, changed))
    np.testing.assert_allclose(z2[:t], z[:t], rtol=0, atol=1e-12)
    assert np.max(np.abs(z2[t] - z[t])) > 1e-6  # the changed position itself does see the new token


# ----------------------------------------------------------------------------- steering semantics


@pytest.mark.parametrize("positions", [None, (2, 5)])
@pytest.mark.parametrize("layer", LAYERS)
def test_zero_steering_is_unsteered(params, tokens, layer, positions):
    z = forward(params, CFG, tokens)
    z0 = forward(params, CFG, tokens, Steering(layer, np.zeros(D), alpha=3.0, positions=positions))
    np.testing.assert_allclose(z0, z, rtol=1e-13, atol=1e-13)


position_sets = st.sets(st.integers(0, T - 1), min_size=1).map(sorted)


@given(toks=token_arrays, layer=st.sampled_from(list(LAYERS)), positions=position_sets, seed=seeds)
def test_steering_leaves_positions_before_min_P_unchanged(params, toks, layer, positions, seed):
    z = np.asarray(forward(params, CFG, toks))
    zs = np.asarray(
        forward(params, CFG, toks, Steering(layer, _vec(seed, 2.0), positions=positions))
    )
    first = min(positions)
    np.testing.assert_allclose(zs[:, :first], z[:, :first], rtol=0, atol=1e-12)
    assert (
        np.min(np.max(np.abs(zs[:, first] - z[:, first]), axis=-1)) > 1e-6
    )  # and it does act at min(P)


@given(
    layer=st.sampled_from(list(LAYERS)),
    alpha=st.floats(-8, 8),
    seed=seeds,
    positions=st.none() | position_sets,
)
def test_alpha_times_v_is_unit_alpha_on_alpha_v(params, tokens, layer, alpha, seed, positions):
    v = _vec(seed)
    a = forward(params, CFG, tokens, Steering(layer, v, alpha=alpha, positions=positions))
    b = forward(params, CFG, tokens, Steering(layer, alpha * v, alpha=1.0, positions=positions))
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_steering_adds_alpha_v_at_the_hook(params, tokens):
    """forward with Steering(l, v, alpha, P) is unembed(run_from(resid_pre(l) + alpha * 1_P v^T,
    l))."""
    v, alpha, P = _vec(7), 0.7, (1, 6)
    mask = np.zeros((T, 1))
    mask[list(P)] = 1.0
    for l in LAYERS:
        h = resid_pre(params, CFG, tokens, l)
        assert h.shape == (N, T, D) and h.dtype == jnp.float64
        final = run_from(params, CFG, h + alpha * mask * v, l)
        assert final.shape == (N, T, D)
        want = unembed(params, final)
        got = forward(params, CFG, tokens, Steering(l, v, alpha, positions=P))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            forward(params, CFG, tokens),
            unembed(params, run_from(params, CFG, resid_pre(params, CFG, tokens, l), l)),
            rtol=1e-12,
            atol=1e-12,
        )


def test_resid_pre_and_run_from_semantics():
    """resid_pre(.., 0) = wte[tokens] + wpe[:T]; run_from(h, n_layers) = ln_f(h), which at init (g =
    1, b = 0) has mean 0 and mean square var/(var + eps) at every position; logits = that @ w_u."""
    p = init_params(CFG, jax.random.key(0))
    toks = np.random.default_rng(1).integers(0, V, size=(N, T))
    np.testing.assert_allclose(
        resid_pre(p, CFG, toks, 0), p["wte"][toks] + p["wpe"][:T], rtol=1e-15, atol=0
    )
    h = resid_pre(p, CFG, toks, CFG.n_layers)
    final = np.asarray(run_from(p, CFG, h, CFG.n_layers))
    var = np.var(np.asarray(h), axis=-1)
    np.testing.assert_allclose(final.mean(-1), 0.0, atol=1e-13)
    np.testing.assert_allclose((final**2).mean(-1), var / (var + EPS), rtol=1e-12)
    np.testing.assert_allclose(
        forward(p, CFG, toks), final @ np.asarray(p["w_u"]), rtol=1e-12, atol=1e-12
    )
    p_rms = init_params(CFG_RMS, jax.random.key(0))
    h = np.asarray(resid_pre(p_rms, CFG_RMS, toks, CFG.n_layers))
    final = np.asarray(run_from(p_rms, CFG_RMS, h, CFG.n_layers))
    ms = (h**2).mean(-1)
    np.testing.assert_allclose((final**2).mean(-1), ms / (ms + EPS), rtol=1e-12)
    assert np.max(np.abs(final.mean(-1))) > 1e-3  # RMSNorm does not centre


# ----------------------------------------------------------------------------- jit, vmap, grad


def test_jit_agrees_with_eager(params, tokens):
    v = _vec(11)
    for s in (None, Steering(1, v, 0.5), Steering(CFG.n_layers, v, -2.0, positions=(0, 3))):
        compiled = forward(params, CFG, tokens, s)
        with jax.disable_jit():
            eager = forward(params, CFG, tokens, s)
        np.testing.assert_allclose(compiled, eager, rtol=1e-12, atol=1e-12)


def test_traced_vector_and_alpha_under_user_jit_vmap_and_grad(params, tokens):
    v = jnp.asarray(_vec(12))
    f = jax.jit(lambda p, v, a: forward(p, CFG, tokens, Steering(1, v, a)))
    np.testing.assert_allclose(
        f(params, v, 0.3), forward(params, CFG, tokens, Steering(1, v, 0.3)), rtol=1e-12, atol=1e-12
    )
    alphas = jnp.array([0.0, 1.0, 2.5])
    batched = jax.vmap(lambda a: forward(params, CFG, tokens, Steering(0, v, a)))(alphas)
    for a, z in zip(alphas, batched):
        np.testing.assert_allclose(
            z, forward(params, CFG, tokens, Steering(0, v, float(a))), rtol=1e-12, atol=1e-12
        )
    # the Jacobian in v matches a central finite difference
    g = lambda v: forward(params, CFG, tokens[0], Steering(1, v))
    J = jax.jacfwd(g)(v)
    assert J.shape == (T, V, D)
    u = jnp.asarray(_vec(13))
    fd = (g(v + 1e-5 * u) - g(v - 1e-5 * u)) / 2e-5
    np.testing.assert_allclose(J @ u, fd, rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------- T2a and T2b


@given(
    seed=seeds,
    scale=st.floats(0.0, 10.0),
    c=st.floats(-10.0, 10.0),
    positions=st.none() | position_sets,
)
def test_layernorm_model_is_exactly_blind_to_the_ones_direction(
    params, tokens, seed, scale, c, positions
):
    """T2a: v ~ v + c 1 at every hook point, because every read of the stream is a mean-centring
    LN."""
    v = _vec(seed, scale)
    for layer in LAYERS:
        z = forward(params, CFG, tokens, Steering(layer, v, positions=positions))
        z_shift = forward(
            params, CFG, tokens, Steering(layer, v + c * np.ones(D), positions=positions)
        )
        assert _rel(z, z_shift) <= 1e-12


@pytest.mark.parametrize("layer", LAYERS)
def test_rmsnorm_model_sees_the_ones_direction(params_rms, tokens, layer):
    """T2b: a concrete counterexample, v = 0 against v = 1, at every hook point."""
    z = forward(params_rms, CFG_RMS, tokens, Steering(layer, np.zeros(D)))
    z_shift = forward(params_rms, CFG_RMS, tokens, Steering(layer, np.ones(D)))
    assert _rel(z, z_shift) > 1e-2


def test_jacobian_annihilates_ones_only_under_layernorm(params, params_rms, tokens):
    """First-order form of T2a/T2b, through autodiff: J 1 = 0 for the LayerNorm model, J 1 != 0 for
    RMSNorm (at the middle hook point; the exact invariance at every layer is tested above)."""
    layer = 1
    ones = jnp.ones(D)
    for p, cfg, blind in ((params, CFG, True), (params_rms, CFG_RMS, False)):
        steered = lambda v, p=p, cfg=cfg: forward(p, cfg, tokens, Steering(layer, v))
        J = jax.jacfwd(steered)(jnp.asarray(_vec(5)))
        ratio = float(jnp.max(jnp.abs(J @ ones)) / jnp.max(jnp.abs(J)))
        assert (ratio <= 1e-12) if blind else (ratio > 1e-3)


# ----------------------------------------------------------------------------- bad input


def _steer(params, tokens, **kw):
    args = dict(layer=1, vector=np.zeros(D), alpha=1.0, positions=None) | kw
    return lambda: forward(params, CFG, tokens, Steering(**args))


BAD = {
    "tokens float": (lambda p, t: forward(p, CFG, t.astype(float)), "tokens"),
    "tokens negative": (lambda p, t: forward(p, CFG, t - 1 - t.max()), "tokens"),
    "tokens >= vocab": (lambda p, t: forward(p, CFG, t + V), "tokens"),
    "tokens too long": (lambda p, t: forward(p, CFG, np.zeros(CFG.n_ctx + 1, int)), "tokens"),
    "tokens no prompts": (lambda p, t: forward(p, CFG, np.zeros((0, 4), int)), "tokens"),
    "tokens no positions": (lambda p, t: forward(p, CFG, np.zeros((2, 0), int)), "tokens"),
    "tokens 3-d": (lambda p, t: forward(p, CFG, t[None]), "tokens"),
    "tokens ragged": (lambda p, t: forward(p, CFG, [[1, 2], [3]]), "tokens"),
    "tokens None": (lambda p, t: forward(p, CFG, None), "tokens"),
    "tokens bool": (lambda p, t: forward(p, CFG, t > 3), "tokens"),
    "steering layer high": (lambda p, t: _steer(p, t, layer=CFG.n_layers + 1)(), "steering.layer"),
    "steering layer negative": (lambda p, t: _steer(p, t, layer=-1)(), "steering.layer"),
    "vector length": (lambda p, t: _steer(p, t, vector=np.zeros(D + 1))(), "steering.vector"),
    "vector 2-d": (lambda p, t: _steer(p, t, vector=np.zeros((1, D)))(), "steering.vector"),
    "vector nan": (lambda p, t: _steer(p, t, vector=np.full(D, np.nan))(), "steering.vector"),
    "vector inf": (
        lambda p, t: _steer(p, t, vector=np.r_[np.inf, np.zeros(D - 1)])(),
        "steering.vector",
    ),
    "vector strings": (lambda p, t: _steer(p, t, vector=np.array(["a"] * D))(), "steering.vector"),
    "vector None": (lambda p, t: _steer(p, t, vector=None)(), "steering.vector"),
    "alpha nan": (lambda p, t: _steer(p, t, alpha=float("nan"))(), "steering.alpha"),
    "alpha vector": (lambda p, t: _steer(p, t, alpha=np.ones(2))(), "steering.alpha"),
    "positions past T": (lambda p, t: _steer(p, t, positions=(0, T))(), "steering.positions"),
    "positions negative": (lambda p, t: _steer(p, t, positions=(-1,))(), "steering.positions"),
    "steering wrong type": (lambda p, t: forward(p, CFG, t, steering=(1, np.zeros(D))), "steering"),
    "resid_pre layer": (lambda p, t: resid_pre(p, CFG, t, CFG.n_layers + 1), "layer"),
    "resid_pre layer float": (lambda p, t: resid_pre(p, CFG, t, 1.0), "layer"),
    "resid_pre tokens": (lambda p, t: resid_pre(p, CFG, t + V, 0), "tokens"),
    "run_from layer": (lambda p, t: run_from(p, CFG, np.zeros((T, D)), -1), "layer"),
    "run_from resid d": (lambda p, t: run_from(p, CFG, np.zeros((T, D + 1)), 0), "resid"),
    "run_from resid 1-d": (lambda p, t: run_from(p, CFG, np.zeros(D), 0), "resid"),
    "run_from resid 4-d": (lambda p, t: run_from(p, CFG, np.zeros((1, 1, T, D)), 0), "resid"),
    "run_from resid nan": (lambda p, t: run_from(p, CFG, np.full((T, D), np.nan), 0), "resid"),
    "run_from resid too long": (
        lambda p, t: run_from(p, CFG, np.zeros((CFG.n_ctx + 1, D)), 0),
        "resid",
    ),
    "run_from resid empty": (lambda p, t: run_from(p, CFG, np.zeros((0, T, D)), 0), "resid"),
    "unembed final d": (lambda p, t: unembed(p, np.zeros((T, D - 1))), "final"),
    "unembed final nan": (lambda p, t: unembed(p, np.full((T, D), np.inf)), "final"),
    "params other cfg": (
        lambda p, t: forward(init_params(CFG_RMS, jax.random.key(0)), CFG, t),
        "params",
    ),
    "params wrong shape": (lambda p, t: forward(p | {"w_u": p["w_u"][:, :-1]}, CFG, t), "params"),
    "params not a dict": (lambda p, t: forward([p], CFG, t), "params"),
    "cfg not a config": (lambda p, t: forward(p, dataclasses.asdict(CFG), t), "cfg"),
    "init key int": (lambda p, t: init_params(CFG, 0), "key"),
    "init cfg": (lambda p, t: init_params(None, jax.random.key(0)), "cfg"),
    "hook_names cfg": (lambda p, t: hook_names("tiny"), "cfg"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_raises_value_error_naming_the_argument(params, tokens, case):
    call, name = BAD[case]
    # Steering's own checks run at construction and name the field as ``Steering.<field>``
    with pytest.raises(ValueError, match="(?i)" + name.replace(".", r"\.")):
        call(params, tokens)


def test_shape_checks_still_run_under_jit(params, tokens):
    with pytest.raises(ValueError, match="tokens"):
        jax.jit(lambda t: forward(params, CFG, t))(jnp.asarray(tokens)[None])
    with pytest.raises(ValueError, match=r"steering\.vector"):
        jax.jit(lambda v: forward(params, CFG, tokens, Steering(0, v)))(jnp.zeros(D + 1))
