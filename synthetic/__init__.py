"""Models with known concept directions: the model families (toy, gpt2, llama, qwen2), Hugging Face
checkpoints, the planted zoo and the synthetic data of the theorems (float64 JAX and numpy).

Public names are re-exported lazily from the modules ``_EXPORTS`` names.
"""

from __future__ import annotations

import importlib
from typing import Any

import theory  # noqa: F401  (switches JAX to float64)

_EXPORTS = {
    "TransformerConfig": "transformer",
    "Transformer": "transformer",
    "init_params": "transformer",
    "forward": "transformer",
    "hook_names": "transformer",
    "resid_pre": "transformer",
    "run_from": "transformer",
    "run_blocks": "transformer",
    "unembed": "transformer",
    "load_checkpoint": "checkpoint",
    "save_checkpoint": "checkpoint",
    "load_tokenizer": "checkpoint",
    "CheckpointError": "hf_config",
    "TraitModel": "trait_model",
    "trait_score": "trait_model",
    "PlantedModel": "zoo",
    "MODEL_NAMES": "zoo",
    "load_model": "zoo",
    "make_prompts": "zoo",
    "local_problem": "local_problems",
    "steering_vector": "local_problems",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'synthetic' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"synthetic.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
