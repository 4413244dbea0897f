"""Hugging Face checkpoint directories (gpt2, llama, qwen2) to and from a ``Transformer``.

    load_checkpoint(dir)      config.json + model.safetensors (or shards listed in
                              model.safetensors.index.json), read memory-mapped with safetensors'
                              numpy API (no torch), cast to float64 -> a callable Transformer
    save_checkpoint(m, dir)   the same layout, float64, that transformers' from_pretrained loads
    load_tokenizer(dir)       tokenizer.json through the tokenizers library, or None
    prompt_token_ids(dir, texts)  (N, T) token ids of prompts given as text

torch's Linear stores (out, in); this toolkit's linear maps are x @ w with w (in, out), so llama and
qwen2 weights are transposed on the way in and out (GPT-2's Conv1D already stores (in, out)).
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from synthetic.hf_config import CheckpointError, config_from_hf, config_to_hf
from synthetic.transformer import Transformer, TransformerConfig
from theory.validation import InputError, as_int_tuple

__all__ = [
    "CheckpointError",
    "load_checkpoint",
    "load_tokenizer",
    "prompt_token_ids",
    "save_checkpoint",
    "tensor_names",
]

WEIGHTS = "model.safetensors"
INDEX = "model.safetensors.index.json"
# buffers some checkpoints carry that are not parameters (causal masks, rotary frequencies)
_BUFFERS = (".attn.bias", ".attn.masked_bias", ".rotary_emb.inv_freq")


def tensor_names(cfg: TransformerConfig) -> list[tuple[tuple[Any, ...], str, bool]]:
    """(path in params, Hugging Face tensor name, transposed) for every parameter of ``cfg``."""
    gpt = cfg.family in ("toy", "gpt2")
    out: list[tuple[tuple[Any, ...], str, bool]] = []

    def norm(path: tuple[Any, ...], name: str) -> None:
        out.append(((*path, "g"), f"{name}.weight", False))
        if cfg.norm == "layernorm":
            out.append(((*path, "b"), f"{name}.bias", False))

    def lin(path: tuple[Any, ...], name: str, bias: bool) -> None:
        out.append(((*path, "w"), f"{name}.weight", not gpt))
        if bias:
            out.append(((*path, "b"), f"{name}.bias", False))

    if gpt:
        out += [
            (("wte",), "transformer.wte.weight", False),
            (("wpe",), "transformer.wpe.weight", False),
        ]
        for i in range(cfg.n_layers):
            b, h = ("blocks", i), f"transformer.h.{i}"
            norm((*b, "ln_1"), f"{h}.ln_1")
            lin((*b, "attn", "c_attn"), f"{h}.attn.c_attn", True)
            lin((*b, "attn", "c_proj"), f"{h}.attn.c_proj", True)
            norm((*b, "ln_2"), f"{h}.ln_2")
            lin((*b, "mlp", "c_fc"), f"{h}.mlp.c_fc", True)
            lin((*b, "mlp", "c_proj"), f"{h}.mlp.c_proj", True)
        norm(("ln_f",), "transformer.ln_f")
    else:
        out.append((("wte",), "model.embed_tokens.weight", False))
        qkv_bias = cfg.family == "qwen2"
        for i in range(cfg.n_layers):
            b, h = ("blocks", i), f"model.layers.{i}"
            norm((*b, "ln_1"), f"{h}.input_layernorm")
            for p in "qkv":
                lin((*b, "attn", p), f"{h}.self_attn.{p}_proj", qkv_bias)
            lin((*b, "attn", "o"), f"{h}.self_attn.o_proj", False)
            norm((*b, "ln_2"), f"{h}.post_attention_layernorm")
            for p in ("gate", "up", "down"):
                lin((*b, "mlp", p), f"{h}.mlp.{p}_proj", False)
        norm(("ln_f",), "model.norm")
    if not cfg.tie_embeddings:
        out.append((("w_u",), "lm_head.weight", True))
    return out


def _expected_shapes(cfg: TransformerConfig) -> dict[tuple[Any, ...], tuple[int, ...]]:
    from synthetic.param_spec import is_leaf, param_spec

    flat = jax.tree_util.tree_flatten_with_path(param_spec(cfg), is_leaf=is_leaf)[0]
    return {tuple(_key(k) for k in path): leaf.shape for path, leaf in flat}


def _key(k: Any) -> Any:
    return k.key if hasattr(k, "key") else k.idx


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: cannot be read as JSON ({exc})") from None


def _checkpoint_dir(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"path must be a checkpoint directory path, got {type(path).__name__}")
    directory = Path(path)
    if not directory.is_dir():
        raise CheckpointError(f"{directory}: not a directory (a checkpoint is a directory)")
    return directory


def _weight_files(directory: Path) -> dict[str, Path]:
    """Tensor name -> the safetensors file that holds it (one file, or the shards of the index)."""
    single, index = directory / WEIGHTS, directory / INDEX
    if index.is_file():
        weight_map = (
            _read_json(index).get("weight_map") if isinstance(_read_json(index), dict) else None
        )
        if not isinstance(weight_map, dict) or not weight_map:
            raise CheckpointError(f"{index}: key 'weight_map' is missing or empty")
        return {str(name): directory / str(file) for name, file in weight_map.items()}
    if single.is_file():
        return {}  # filled from the file's own header
    raise CheckpointError(f"{directory}: no {WEIGHTS} or {INDEX} (weights are missing)")


def load_checkpoint(path: Any) -> Transformer:
    """The ``Transformer`` of a Hugging Face checkpoint directory, in float64.

    Every tensor the family needs must be present with its expected shape and finite values; an
    extra tensor, a missing one, a corrupt file or an unsupported config option is a
    ``CheckpointError`` (a ``ValueError``) naming the file and the key or tensor.
    """
    from safetensors import SafetensorError, safe_open

    directory = _checkpoint_dir(path)
    cfg = config_from_hf(_read_json(directory / "config.json"), str(directory / "config.json"))
    files = _weight_files(directory)
    if not files:
        files = {}
        single = directory / WEIGHTS
        try:
            with safe_open(str(single), framework="numpy") as f:
                files = {name: single for name in f.keys()}
        except (SafetensorError, OSError) as exc:
            raise CheckpointError(f"{single}: not a readable safetensors file ({exc})") from None
    stored = _canonical_names(cfg, files)
    files = {canonical: files[name] for canonical, name in stored.items()}
    present = _layers_present(files)
    if cfg.n_layers > present:  # refused before the names of n_layers blocks are listed
        raise CheckpointError(
            f"{directory / 'config.json'}: {cfg.n_layers} layers, but the weights hold no tensor "
            f"of layer {present} (they hold {present} layers)"
        )
    names = tensor_names(cfg)
    wanted = {name for _, name, _ in names}
    tied_head = cfg.tie_embeddings and "lm_head.weight" in files
    extra = sorted(
        n
        for n in files
        if n not in wanted
        and not n.endswith(_BUFFERS)
        and not (tied_head and n == "lm_head.weight")
    )
    if extra:
        raise CheckpointError(
            f"{directory}: tensors {extra[:5]} are not parameters of a {cfg.family} model"
            + (f" (and {len(extra) - 5} more)" if len(extra) > 5 else "")
        )
    shapes = _expected_shapes(cfg)
    by_file: dict[Path, list[tuple[tuple[Any, ...], str, bool]]] = {}
    for entry in names:
        if entry[1] not in files:
            raise CheckpointError(f"{directory}: tensor {entry[1]!r} is missing")
        by_file.setdefault(files[entry[1]], []).append(entry)
    leaves: dict[tuple[Any, ...], Any] = {}
    for file, entries in by_file.items():
        try:
            # one mapping per tensor: closing it releases the pages read, so the peak resident
            # memory is the float64 params plus one tensor, not the params plus the whole file
            for param_path, name, transposed in entries:
                with safe_open(str(file), framework="numpy") as f:
                    leaves[param_path] = _read_tensor(
                        f, file, stored[name], transposed, shapes[param_path]
                    )
            if tied_head:
                with safe_open(str(file), framework="numpy") as f:
                    _check_tied_head(f, file, files, leaves)
        except (SafetensorError, OSError) as exc:
            raise CheckpointError(f"{file}: not a readable safetensors file ({exc})") from None
    params = _unflatten(cfg, leaves)
    return Transformer(cfg, params)


_LAYER = re.compile(r"^(?:transformer\.h|model\.layers)\.(\d+)\.")


def _layers_present(names: Any) -> int:
    """1 + the largest decoder-block index among canonical tensor names (0 when none)."""
    found = [int(m.group(1)) for n in names if (m := _LAYER.match(n))]
    return max(found) + 1 if found else 0


def _canonical_names(cfg: TransformerConfig, files: dict[str, Path]) -> dict[str, str]:
    """Canonical tensor name -> the name stored in the file. GPT-2 checkpoints saved from the bare
    GPT2Model (the original openai-community/gpt2 files) lack the ``transformer.`` prefix."""
    if cfg.family != "gpt2" or "transformer.wte.weight" in files:
        return {name: name for name in files}
    return {
        (name if name.startswith("lm_head.") else f"transformer.{name}"): name for name in files
    }


def _read_tensor(f: Any, file: Path, name: str, transposed: bool, shape: tuple[int, ...]):
    if name not in f.keys():
        raise CheckpointError(f"{file}: tensor {name!r} is missing")
    stored = tuple(f.get_slice(name).get_shape())
    want = shape[::-1] if transposed else shape
    if stored != want:
        raise CheckpointError(f"{file}: tensor {name!r} has shape {stored}, expected {want}")
    x = f.get_tensor(name)
    if x.dtype.kind not in "fiu" and str(x.dtype) != "bfloat16":
        raise CheckpointError(f"{file}: tensor {name!r} has dtype {x.dtype}, expected floats")
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise CheckpointError(f"{file}: tensor {name!r} has NaN or infinite entries")
    return jnp.asarray(x.T if transposed else x)


def _check_tied_head(f: Any, file: Path, files: dict[str, Path], leaves: dict) -> None:
    """A tied checkpoint may also store lm_head.weight; it must then equal the embedding."""
    if files.get("lm_head.weight") != file or ("wte",) not in leaves:
        return
    head = np.asarray(f.get_tensor("lm_head.weight"), dtype=np.float64)  # same name in every layout
    if head.shape != leaves[("wte",)].shape or not np.array_equal(
        head, np.asarray(leaves[("wte",)])
    ):
        raise CheckpointError(
            f"{file}: tensor 'lm_head.weight' differs from the embedding, but config.json says "
            "tie_word_embeddings = true"
        )


def _unflatten(cfg: TransformerConfig, leaves: dict[tuple[Any, ...], Any]) -> dict:
    params: dict = {"blocks": [{} for _ in range(cfg.n_layers)]}
    for path, value in leaves.items():
        node: Any = params
        for k in path[:-1]:
            node = node[k] if isinstance(k, int) else node.setdefault(k, {})
        node[path[-1]] = value
    if cfg.n_layers == 0:
        params["blocks"] = []
    return params


def save_checkpoint(model: Any, path: Any, dtype: str = "float64") -> Path:
    """Write ``model`` (a ``Transformer``) as a Hugging Face directory: config.json and
    model.safetensors in ``dtype`` ("float64", or "float32" for weights trained in float32, which
    then round-trip exactly), loadable by ``transformers.AutoModelForCausalLM.from_pretrained`` and
    by ``load_checkpoint``. Returns the directory."""
    from safetensors.numpy import save_file

    if not isinstance(model, Transformer):
        raise InputError(f"model must be a Transformer, got {type(model).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"path must be a directory path, got {type(path).__name__}")
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"path {directory} exists and is not a directory")
    if dtype not in ("float64", "float32"):
        raise InputError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    config = config_to_hf(model.cfg)
    config["torch_dtype"] = dtype
    tensors = {}
    for param_path, name, transposed in tensor_names(model.cfg):
        node: Any = model.params
        for k in param_path:
            node = node[k]
        x = np.asarray(node, dtype=dtype)
        tensors[name] = np.ascontiguousarray(x.T if transposed else x)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    save_file(tensors, str(directory / WEIGHTS), metadata={"format": "pt"})
    return directory


def load_tokenizer(path: Any):
    """The ``tokenizers.Tokenizer`` of ``tokenizer.json`` in the checkpoint directory, or None
    when there is none."""
    directory = _checkpoint_dir(path)
    file = directory / "tokenizer.json"
    if not file.is_file():
        return None
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_file(str(file))
    except Exception as exc:  # tokenizers raises a bare Exception on a malformed file
        raise CheckpointError(f"{file}: not a readable tokenizer ({exc})") from None


def trait_token_ids(path: Any, name: str, tokens: Any) -> tuple[int, ...]:
    """Token ids of a trait set given as ids, or as strings read with the directory's tokenizer
    (each string must encode to exactly one token)."""
    items = list(tokens) if isinstance(tokens, (list, tuple)) else tokens
    if not isinstance(items, list) or not all(isinstance(t, str) for t in items) or not items:
        return as_int_tuple(name, tokens, low=0, nonempty=False)
    tokenizer = load_tokenizer(path)
    if tokenizer is None:
        raise InputError(f"{name} is given as text, but {path} has no tokenizer.json")
    ids = []
    for word in items:
        encoded = tokenizer.encode(word, add_special_tokens=False).ids
        if len(encoded) != 1:
            raise InputError(f"{name}: {word!r} is {len(encoded)} tokens, not one: {encoded}")
        ids.append(encoded[0])
    return tuple(ids)


def prompt_token_ids(path: Any, texts: Any) -> np.ndarray:
    """(N, T) int64 token ids of N prompts given as text, read with the directory's tokenizer
    (no special tokens added). Every prompt must encode to the same number T >= 1 of tokens: the
    forward has no padding mask, so prompts of different lengths are refused, not padded."""
    if isinstance(texts, str) or not isinstance(texts, (list, tuple)) or not texts:
        raise InputError(f"prompts must be a non-empty list of strings, got {texts!r}")
    if not all(isinstance(t, str) for t in texts):
        raise InputError("prompts given as text must all be strings")
    tokenizer = load_tokenizer(path)
    if tokenizer is None:
        raise InputError(f"prompts are given as text, but {path} has no tokenizer.json")
    rows = [tokenizer.encode(text, add_special_tokens=False).ids for text in texts]
    lengths = sorted({len(r) for r in rows})
    if lengths[0] == 0:
        empty = next(t for t, r in zip(texts, rows, strict=True) if not r)
        raise InputError(f"prompt {empty!r} encodes to no tokens")
    if len(lengths) > 1:
        raise InputError(
            f"prompts encode to different token lengths {lengths}; give prompts of one length "
            "(there is no padding mask)"
        )
    return np.asarray(rows, dtype=np.int64)


def n_parameters(cfg: TransformerConfig) -> int:
    """Number of scalars in the params of ``cfg``."""
    return sum(math.prod(s) for s in _expected_shapes(cfg).values())
