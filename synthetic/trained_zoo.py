"""The trained zoo: small transformers that *learned* the latent trait of the synthetic language.

    trained-gpt2   gpt2 family:  d = 64, 4 layers, 4 heads, d_mlp = 128, V = 64, n_ctx = 24
    trained-llama  llama family: d = 64, 4 layers, 4 heads (2 key/value heads), SwiGLU 128

Each ships inside the package as a checkpoint directory (``synthetic/trained/<name>``: config.json,
model.safetensors in float32, and ``steerid.json``, the metadata written by ``build``: the training
spec, the validation loss against the language's entropy, and the probe accuracy of the trait at
every hook point). ``load_trained`` reads it in float64 as a ``TraitModel`` whose trait sets are the
language's continuation families S+ and S-; nothing is trained at load time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synthetic.checkpoint import load_checkpoint, save_checkpoint
from synthetic.language import LANGUAGE
from synthetic.training import TrainSpec, evaluate, train
from synthetic.trait_model import TraitModel
from synthetic.transformer import TransformerConfig
from theory.validation import InputError, as_choice

__all__ = ["TRAINED_NAMES", "TRAINED_SPECS", "build", "load_trained", "metadata", "trained_dir"]

_V, _T = LANGUAGE.vocab_size, LANGUAGE.n_ctx
TRAINED_SPECS: dict[str, tuple[TransformerConfig, TrainSpec]] = {
    "trained-gpt2": (
        TransformerConfig(
            d_model=64, n_layers=4, n_heads=4, d_mlp=128, vocab_size=_V, n_ctx=_T, family="gpt2"
        ),
        TrainSpec(steps=2000, seed=0),
    ),
    "trained-llama": (
        TransformerConfig(
            d_model=64,
            n_layers=4,
            n_heads=4,
            n_kv_heads=2,
            d_mlp=128,
            vocab_size=_V,
            n_ctx=_T,
            family="llama",
        ),
        TrainSpec(steps=2000, seed=1),
    ),
}
TRAINED_NAMES: tuple[str, ...] = tuple(TRAINED_SPECS)
METADATA = "steerid.json"


def trained_dir(name: str) -> Path:
    """The shipped checkpoint directory of ``name``."""
    name = as_choice("name", name, TRAINED_NAMES)
    return Path(__file__).parent / "trained" / name


def metadata(name_or_dir: Any) -> dict[str, Any]:
    """The ``steerid.json`` of a trained model (by name or directory)."""
    directory = trained_dir(name_or_dir) if name_or_dir in TRAINED_NAMES else Path(name_or_dir)
    file = directory / METADATA
    if not file.is_file():
        raise InputError(f"{directory} has no {METADATA}: not a trained-zoo directory")
    return json.loads(file.read_text())


def load_trained(name: str, directory: Any = None) -> TraitModel:
    """The trained model ``name`` in float64, from its shipped directory (or ``directory``)."""
    name = as_choice("name", name, TRAINED_NAMES)
    path = trained_dir(name) if directory is None else Path(directory)
    model = load_checkpoint(path)
    seed = TRAINED_SPECS[name][1].seed
    return TraitModel(name, model.cfg, model.params, LANGUAGE.plus, LANGUAGE.minus, seed)


def steering_layer(cfg: TransformerConfig) -> int:
    """The layer the paper's experiments steer: L / 2 (rounded down)."""
    return cfg.n_layers // 2


def build(
    name: str,
    out: Any,
    steps: int | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> dict[str, Any]:
    """Train ``name`` from its seed (``steps`` overrides the spec's), evaluate it, and write the
    checkpoint (float32) and its metadata to ``out``. Returns the metadata."""
    name = as_choice("name", name, TRAINED_NAMES)
    cfg, spec = TRAINED_SPECS[name]
    if steps is not None:
        spec = TrainSpec(**{**spec.__dict__, "steps": steps})
    t0 = time.perf_counter()
    model, losses = train(cfg, spec, LANGUAGE, progress)
    seconds = time.perf_counter() - t0
    meta = {
        "name": name,
        "family": cfg.family,
        "train": dict(spec.__dict__),
        "train_seconds": seconds,
        "final_train_loss": sum(losses[-50:]) / len(losses[-50:]),
        "steering_layer": steering_layer(cfg),
        "language": {k: v for k, v in LANGUAGE.__dict__.items()},
        **evaluate(model, LANGUAGE),
    }
    directory = save_checkpoint(model, out, dtype="float32")
    (directory / METADATA).write_text(json.dumps(meta, indent=2) + "\n")
    return meta
