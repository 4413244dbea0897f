"""Hugging Face ``config.json`` <-> ``TransformerConfig`` for the gpt2, llama and qwen2 families.

Options the forward pass does not implement (rope scaling, sliding windows, attention or MLP
biases on llama, a head_dim other than d_model / n_heads, ...) are refused by name, never ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from synthetic.transformer import TransformerConfig
from theory.validation import InputError, as_positive_int, as_positive_real


class CheckpointError(InputError):
    """A checkpoint directory that cannot be read as one of the supported families; the message
    names the file and the key or tensor."""


MODEL_TYPES = ("gpt2", "llama", "qwen2")
ARCHITECTURES = {
    "gpt2": "GPT2LMHeadModel",
    "llama": "LlamaForCausalLM",
    "qwen2": "Qwen2ForCausalLM",
}


def _getter(config: dict, source: str) -> Callable[..., Any]:
    missing = object()

    def get(
        key: str, default: Any = missing, check: Callable[[str, Any], Any] | None = None
    ) -> Any:
        if key not in config or config[key] is None and default is not missing:
            if default is missing:
                raise CheckpointError(f"{source}: key {key!r} is missing")
            return default
        value = config[key]
        if check is None:
            return value
        try:
            return check(f"{source}: {key}", value)
        except InputError as exc:
            raise CheckpointError(str(exc)) from None

    return get


def _refuse(source: str, key: str, value: Any, why: str) -> CheckpointError:
    return CheckpointError(f"{source}: {key} = {value!r} is not implemented ({why})")


def config_from_hf(config: Any, source: str = "config.json") -> TransformerConfig:
    """The ``TransformerConfig`` of a Hugging Face config dict (model_type gpt2, llama, qwen2)."""
    if not isinstance(config, dict):
        raise CheckpointError(f"{source}: must hold a JSON object, got {type(config).__name__}")
    get = _getter(config, source)
    model_type = get("model_type")
    if model_type not in MODEL_TYPES:
        raise CheckpointError(
            f"{source}: model_type {model_type!r} is not supported (supported: {MODEL_TYPES})"
        )
    pos, real = as_positive_int, as_positive_real
    if model_type == "gpt2":
        d = get("n_embd", check=pos)
        for key, ok in (
            ("scale_attn_weights", True),
            ("scale_attn_by_inverse_layer_idx", False),
            ("add_cross_attention", False),
        ):
            if get(key, ok) != ok:
                raise _refuse(source, key, config[key], f"only {key} = {ok} is")
        inner = get("n_inner", None)
        kwargs: dict[str, Any] = dict(
            d_model=d,
            n_layers=get("n_layer", check=pos),
            n_heads=get("n_head", check=pos),
            d_mlp=4 * d if inner is None else get("n_inner", check=pos),
            vocab_size=get("vocab_size", check=pos),
            n_ctx=get("n_positions", check=pos),
            norm_eps=get("layer_norm_epsilon", 1e-5, check=real),
            activation=get("activation_function", "gelu_new"),
            tie_embeddings=bool(get("tie_word_embeddings", True)),
        )
    else:
        d = get("hidden_size", check=pos)
        heads = get("num_attention_heads", check=pos)
        head_dim = get("head_dim", None)
        if head_dim is not None and head_dim != d // heads:
            raise _refuse(
                source, "head_dim", head_dim, f"d_head must be hidden_size / heads = {d // heads}"
            )
        llama_only: tuple[tuple[str, Any], ...] = (
            ("attention_bias", False),
            ("mlp_bias", False),
            ("pretraining_tp", 1),
        )
        for key, ok in llama_only:
            if model_type == "llama" and get(key, ok) != ok:
                raise _refuse(source, key, config[key], f"llama here has {key} = {ok}")
        if model_type == "qwen2" and get("use_sliding_window", False):
            raise _refuse(source, "use_sliding_window", True, "attention is full and causal")
        layer_types = get("layer_types", None)
        if layer_types is not None and any(t != "full_attention" for t in layer_types):
            raise _refuse(source, "layer_types", layer_types, "every layer is full attention")
        theta = _rope_theta(config, source)
        kwargs = dict(
            family=model_type,
            d_model=d,
            n_layers=get("num_hidden_layers", check=pos),
            n_heads=heads,
            n_kv_heads=get("num_key_value_heads", heads, check=pos),
            d_mlp=get("intermediate_size", check=pos),
            vocab_size=get("vocab_size", check=pos),
            n_ctx=get("max_position_embeddings", check=pos),
            norm_eps=get("rms_norm_eps", 1e-6, check=real),
            rope_theta=theta,
            activation=get("hidden_act", "silu"),
            tie_embeddings=bool(get("tie_word_embeddings", False)),
        )
    if model_type == "gpt2":
        kwargs["family"] = "gpt2"
    try:
        return TransformerConfig(**kwargs)
    except InputError as exc:
        raise CheckpointError(f"{source}: {exc}") from None


def _rope_theta(config: dict, source: str) -> float:
    """rope_theta, from the key of that name or (newer transformers) ``rope_parameters``; any rope
    type other than "default" is refused."""
    for key in ("rope_scaling", "rope_parameters"):
        rope = config.get(key)
        if rope is None:
            continue
        if not isinstance(rope, dict):
            raise CheckpointError(f"{source}: {key} must be an object or null, got {rope!r}")
        kind = rope.get("rope_type", rope.get("type", "default"))
        if kind != "default":
            raise _refuse(source, f"{key}.rope_type", kind, "only plain rotary positions are")
        if "rope_theta" in rope:
            return _getter(rope, f"{source}: {key}")("rope_theta", check=as_positive_real)
    return _getter(config, source)("rope_theta", 10000.0, check=as_positive_real)


def config_to_hf(cfg: TransformerConfig) -> dict:
    """The Hugging Face config dict of ``cfg`` (float64 weights). A toy LayerNorm model is a gpt2
    model with erf GELU ("gelu") and untied unembedding; a toy RMSNorm model has no such family."""
    if cfg.family == "toy" and cfg.norm != "layernorm":
        raise InputError(
            "a toy model with rmsnorm (learned positions, GELU MLP) has no Hugging Face family; "
            "only toy layernorm models (as gpt2), gpt2, llama and qwen2 can be saved"
        )
    common = {"vocab_size": cfg.vocab_size, "torch_dtype": "float64", "use_cache": True}
    if cfg.family in ("toy", "gpt2"):
        return {
            **common,
            "model_type": "gpt2",
            "architectures": [ARCHITECTURES["gpt2"]],
            "n_embd": cfg.d_model,
            "n_layer": cfg.n_layers,
            "n_head": cfg.n_heads,
            "n_inner": cfg.d_mlp,
            "n_positions": cfg.n_ctx,
            "layer_norm_epsilon": cfg.norm_eps,
            "activation_function": cfg.activation,
            "tie_word_embeddings": bool(cfg.tie_embeddings),
            "resid_pdrop": 0.0,
            "embd_pdrop": 0.0,
            "attn_pdrop": 0.0,
        }
    out = {
        **common,
        "model_type": cfg.family,
        "architectures": [ARCHITECTURES[cfg.family]],
        "hidden_size": cfg.d_model,
        "num_hidden_layers": cfg.n_layers,
        "num_attention_heads": cfg.n_heads,
        "num_key_value_heads": cfg.n_kv_heads,
        "head_dim": cfg.d_head,
        "intermediate_size": cfg.d_mlp,
        "max_position_embeddings": cfg.n_ctx,
        "rms_norm_eps": cfg.norm_eps,
        "rope_theta": cfg.rope_theta,
        "rope_scaling": None,
        "hidden_act": cfg.activation,
        "tie_word_embeddings": bool(cfg.tie_embeddings),
        "attention_dropout": 0.0,
    }
    if cfg.family == "llama":
        out.update(attention_bias=False, mlp_bias=False, pretraining_tp=1)
    else:
        out.update(use_sliding_window=False, sliding_window=None)
    return out
