"""Regenerate tests/fixtures/checkpoints: tiny random gpt2, llama and qwen2 checkpoints written by
transformers in float64, with the reference logits the test suite compares steerid against.

    python -m pip install torch transformers     # any CPU build
    python scripts/make_parity_fixtures.py       # from the repository root

Each directory holds config.json and model.safetensors (save_pretrained), reference.npz and
fixture.json (versions). reference.npz: ``tokens`` (2, 7); ``logits`` (2, 7, V) unsteered;
``steer_vector`` (d,) and ``steer_alpha``; ``steered_logits_l{l}`` for l = 0..L, where alpha v is
added by a forward pre-hook to the input of decoder block l (l = L: of the final norm) at every
position; ``steered_positions_logits``: layer 1, positions (2, 5) only.

float32 inside a float64 Llama/Qwen2: transformers computes the rotary angles (inv_freq, cos, sin)
and RMSNorm in float32 even for a float64 model (it casts on purpose, for half-precision training),
and its eager attention takes the softmax in float32. That caps agreement with an exact float64
forward near 1e-7. The reference here runs with those three casts removed (``_float64_casts``:
inv_freq and the angles in float64, RMSNorm in the input's dtype, sdpa attention, which stays in
float64), so that the comparison is at float64 precision; ``logits_float32_casts`` records
transformers' unmodified output beside it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM, GPT2Config, LlamaConfig, Qwen2Config

ROOT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "checkpoints"
V, D, L = 40, 16, 2
WORDS = [
    "[UNK]", "the", "a", "cat", "dog", "is", "was", "very", "not", "and",
    "good", "great", "happy", "kind", "calm", "bright", "warm", "love", "joy", "nice",
    "bad", "awful", "sad", "cruel", "angry", "dark", "cold", "hate", "fear", "mean",
    "house", "tree", "river", "city", "book", "song", "day", "night", "road", "sky",
]  # fmt: skip


def configs() -> dict[str, object]:
    common = dict(vocab_size=V, initializer_range=0.2, bos_token_id=1, eos_token_id=1)
    return {
        "gpt2": GPT2Config(
            n_embd=D, n_layer=L, n_head=2, n_positions=16, n_inner=None,
            activation_function="gelu_new", layer_norm_epsilon=1e-5, resid_pdrop=0.0,
            embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=True, **common,
        ),
        "llama": LlamaConfig(
            hidden_size=D, num_hidden_layers=L, num_attention_heads=4, num_key_value_heads=2,
            intermediate_size=24, max_position_embeddings=32, rope_theta=10000.0,
            rms_norm_eps=1e-6, hidden_act="silu", tie_word_embeddings=False,
            attention_bias=False, mlp_bias=False, **common,
        ),
        "qwen2": Qwen2Config(
            hidden_size=D, num_hidden_layers=L, num_attention_heads=4, num_key_value_heads=2,
            intermediate_size=24, max_position_embeddings=32, rope_theta=1000000.0,
            rms_norm_eps=1e-6, hidden_act="silu", tie_word_embeddings=True,
            use_sliding_window=False, **common,
        ),
    }  # fmt: skip


def perturb(model: torch.nn.Module, family: str) -> None:
    """Move norm gains, norm biases and linear biases off their init, so that each is tested."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            is_norm = "ln_" in name or "layernorm" in name or name.endswith("norm.weight")
            if is_norm and name.endswith("weight"):
                p.add_(0.1 * torch.randn(p.shape, generator=g, dtype=p.dtype))
            elif name.endswith("bias"):
                p.add_(0.1 * torch.randn(p.shape, generator=g, dtype=p.dtype))


def blocks_and_final_norm(model, family: str):
    if family == "gpt2":
        return list(model.transformer.h), model.transformer.ln_f
    return list(model.model.layers), model.model.norm


def _float64_casts(model) -> None:
    """Remove the float32 casts of a float64 Llama/Qwen2 (module docstring)."""
    _float64_rotary(model)
    for module in model.modules():
        if type(module).__name__.endswith("RMSNorm"):
            module.forward = _rmsnorm_forward(module)
    model.config._attn_implementation = "sdpa"


def _rmsnorm_forward(module):
    def forward(h):
        variance = h.pow(2).mean(-1, keepdim=True)
        return module.weight * (h * torch.rsqrt(variance + module.variance_epsilon))

    return forward


def _float64_rotary(model) -> None:
    """Rotary angles in float64: inv_freq recomputed in float64, and a forward without the float32
    cast (cos, sin of positions x inv_freq, each frequency written twice)."""
    rot = model.model.rotary_emb
    cfg = model.config
    dim = cfg.hidden_size // cfg.num_attention_heads
    theta = getattr(cfg, "rope_theta", None) or cfg.rope_parameters["rope_theta"]
    inv = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))

    def forward(x, position_ids):
        freqs = position_ids[..., None].to(torch.float64) * inv[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)

    rot.forward = forward


def logits(model, tokens, hook=None) -> np.ndarray:
    with torch.no_grad():
        out = model(input_ids=torch.as_tensor(tokens)).logits
    return out.numpy().astype(np.float64)


def steer_hook(vector: torch.Tensor, alpha: float, positions=None):
    def hook(module, args, kwargs):
        key = "hidden_states" if "hidden_states" in kwargs else None
        h = kwargs[key] if key else args[0]
        delta = alpha * vector
        if positions is not None:
            mask = torch.zeros(h.shape[-2], 1, dtype=h.dtype)
            mask[list(positions)] = 1.0
            delta = mask * delta
        h = h + delta
        if key:
            return args, {**kwargs, key: h}
        return (h, *args[1:]), kwargs

    return hook


def write_tokenizer(directory: Path) -> None:
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    tok = Tokenizer(WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tok.pre_tokenizer = Whitespace()
    tok.save(str(directory / "tokenizer.json"))


def main() -> None:
    torch.manual_seed(0)
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, V, size=(2, 7)).astype(np.int64)
    vector = rng.standard_normal(D)
    alpha = 1.5
    for family, cfg in configs().items():
        directory = ROOT / family
        directory.mkdir(parents=True, exist_ok=True)
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float64).eval()
        perturb(model, family)
        model.save_pretrained(directory, safe_serialization=True)
        ref: dict[str, np.ndarray] = {"tokens": tokens, "steer_vector": vector}
        ref["steer_alpha"] = np.asarray(alpha)
        if family != "gpt2":
            ref["logits_float32_casts"] = logits(model, tokens)
            _float64_casts(model)
        ref["logits"] = logits(model, tokens)
        blocks, final_norm = blocks_and_final_norm(model, family)
        v = torch.as_tensor(vector)
        for l, module in enumerate([*blocks, final_norm]):
            handle = module.register_forward_pre_hook(steer_hook(v, alpha), with_kwargs=True)
            ref[f"steered_logits_l{l}"] = logits(model, tokens)
            handle.remove()
            assert not np.allclose(ref[f"steered_logits_l{l}"], ref["logits"]), (family, l)
        handle = blocks[1].register_forward_pre_hook(
            steer_hook(v, alpha, positions=(2, 5)), with_kwargs=True
        )
        ref["steered_positions_logits"] = logits(model, tokens)
        handle.remove()
        np.savez(directory / "reference.npz", **ref)
        (directory / "generation_config.json").unlink(missing_ok=True)  # not read by steerid
        if family == "gpt2":
            write_tokenizer(directory)
        reloaded = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float64)
        if family != "gpt2":
            _float64_casts(reloaded)
        assert np.array_equal(logits(reloaded.eval(), tokens), ref["logits"]), family
        (directory / "fixture.json").write_text(
            json.dumps(
                {
                    "script": "scripts/make_parity_fixtures.py",
                    "torch": torch.__version__,
                    "transformers": transformers.__version__,
                    "family": family,
                },
                indent=2,
            )
            + "\n"
        )
        size = sum(f.stat().st_size for f in directory.iterdir())
        print(f"{family}: {size / 1024:.1f} KiB in {directory}")


if __name__ == "__main__":
    main()
