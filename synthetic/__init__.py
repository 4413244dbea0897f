"""Models with known concept directions: the model families (toy, gpt2, llama, qwen2), Hugging Face
checkpoints, the planted zoo and the synthetic data of the theorems (float64 JAX and numpy).

Public names are re-exported lazily from the modules ``_EXPORTS`` names.
"""

from __future__ import annotations

import theory  # noqa: F401  (switches JAX to float64)
from theory.lazy_exports import lazy_exports

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


__getattr__, __dir__ = lazy_exports("synthetic", _EXPORTS, globals())
