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


def seed_arg(text: str) -> int:
    """``--seed``: an int in [0, 2^32 - 1], the range every seeded library here accepts."""
    from theory.validation import InputError, as_seed

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    try:
        return as_seed("seed", value)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def size_arg(limit: int):
    """An argparse type for a size option: an int in [1, limit]. The limits keep a mistyped size
    from allocating or looping for hours; a size within them that still does not fit in memory is
    refused by ``main`` (``MemoryError``)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"expected an int in [1, {limit}], got {value}")
        return value

    return parse


MAX_PROMPTS = 2**20  # prompts per run (or per environment)
MAX_DIM = 2**16  # d, m, p of a synthetic instance
MAX_SAMPLES = 2**26  # samples of an ICA instance
MAX_ENVS = 2**12  # environments of a synthetic T6 instance
MAX_STEPS = 10**5  # steps of the twin walk


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
