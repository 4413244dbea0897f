"""steerid's forward against the installed transformers, live: random-init models of each family
written by ``save_checkpoint`` and loaded by ``AutoModelForCausalLM.from_pretrained``.

With transformers' float32 casts removed (RMSNorm, rotary angles;
``scripts/make_parity_fixtures.py``) the logits agree to 1e-10 relative, steered (a forward pre-hook
on block l) and unsteered; the unmodified library agrees to the float32 level (1e-5)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jax
import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM

from synthetic.checkpoint import save_checkpoint
from synthetic.transformer import Transformer, TransformerConfig, init_params
from theory.steering import Steering

_spec = importlib.util.spec_from_file_location(
    "make_parity_fixtures", Path(__file__).parents[2] / "scripts" / "make_parity_fixtures.py"
)
assert _spec is not None and _spec.loader is not None
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

CONFIGS = {
    "gpt2": TransformerConfig(24, 3, 4, 40, 50, 12, family="gpt2"),
    "gpt2-untied-erf": TransformerConfig(
        24, 2, 4, 40, 50, 12, family="gpt2", activation="gelu", tie_embeddings=False
    ),
    "llama": TransformerConfig(24, 3, 6, 40, 50, 12, family="llama", n_kv_heads=2),
    "qwen2": TransformerConfig(24, 3, 6, 40, 50, 12, family="qwen2", n_kv_heads=3, rope_theta=1e6),
}


def rel(a, b) -> float:
    return float(np.abs(np.asarray(a) - b).max() / np.abs(b).max())


@pytest.mark.parametrize("name", list(CONFIGS))
def test_live_parity(name, tmp_path):
    cfg = CONFIGS[name]
    params = init_params(cfg, jax.random.key(7))
    params = jax.tree_util.tree_map(
        lambda x: x + 0.05 * np.random.default_rng(x.size).standard_normal(x.shape), params
    )  # move gains and biases off their init
    model = Transformer(cfg, params)
    directory = save_checkpoint(model, tmp_path / name)
    theirs = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float64).eval()
    tokens = np.random.default_rng(0).integers(0, cfg.vocab_size, size=(3, 9))
    ours = np.asarray(model(tokens))
    family = cfg.family if cfg.family != "toy" else "gpt2"
    if family != "gpt2":
        assert rel(ours, ref.logits(theirs, tokens)) < 1e-5  # the float32 casts
        ref._float64_casts(theirs)
    assert rel(ours, ref.logits(theirs, tokens)) <= 1e-10
    v = np.random.default_rng(1).standard_normal(cfg.d_model)
    blocks, final_norm = ref.blocks_and_final_norm(theirs, family)
    for l, module in enumerate([*blocks, final_norm]):
        handle = module.register_forward_pre_hook(
            ref.steer_hook(torch.as_tensor(v), 0.7), with_kwargs=True
        )
        theirs_steered = ref.logits(theirs, tokens)
        handle.remove()
        assert rel(model(tokens, Steering(l, v, 0.7)), theirs_steered) <= 1e-10, l
