"""The ``--model``/``--plus``/``--minus`` options shared by every subcommand that runs a model."""

from __future__ import annotations

import argparse
from typing import Any

from synthetic.trained_zoo import TRAINED_NAMES
from synthetic.zoo import MODEL_NAMES

MODEL_HELP = (
    f"a zoo model ({', '.join(MODEL_NAMES + TRAINED_NAMES)}) or a Hugging Face checkpoint "
    "directory "
    "(model_type gpt2, llama or qwen2)"
)
SET_HELP = (
    "trait token set {} of a checkpoint, comma-separated token ids, or words when the "
    "directory has a tokenizer.json (the zoo plants its own)"
)


def add_model_options(parser: argparse.ArgumentParser, default: str | None = "tiny-ln") -> None:
    parser.add_argument("--model", default=default, help=MODEL_HELP)
    parser.add_argument("--plus", default=None, help=SET_HELP.format("S+"))
    parser.add_argument("--minus", default=None, help=SET_HELP.format("S-"))


def token_set(text: str | None) -> tuple[Any, ...]:
    """ "3,5,7" -> (3, 5, 7); "good,happy" -> ("good", "happy"); None -> ()."""
    if text is None:
        return ()
    items = [item.strip() for item in text.split(",") if item.strip()]
    return tuple(int(item) if item.lstrip("-").isdigit() else item for item in items)


def trait_sets(args: argparse.Namespace) -> dict[str, Any]:
    """The ``plus``/``minus`` keyword arguments of the model checks."""
    return {"plus": token_set(args.plus), "minus": token_set(args.minus)}
