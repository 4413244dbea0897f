"""``steerid experiment NAME``, ``steerid paper`` and ``steerid train NAME``: the paper's
experiments (E1-E7) with their certified counterparts, the report beside the paper's claim, and
retraining a trained-zoo model from its seed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .cli_model import add_model_options, seed_arg, trait_sets


def _scalar_lines(title: str, data: dict[str, Any]) -> list[str]:
    lines = [f"{title}:"]
    for k, v in data.items():
        if isinstance(v, bool) or v is None or isinstance(v, str):
            lines.append(f"  {k:<34} {v}")
        elif isinstance(v, (int, float, np.floating, np.integer)):
            lines.append(f"  {k:<34} {float(v):.4g}")
        elif (
            isinstance(v, (list, tuple))
            and len(v) <= 8
            and all(isinstance(x, (int, float)) for x in v)
        ):
            lines.append(f"  {k:<34} [" + ", ".join(f"{float(x):.3g}" for x in v) + "]")
    return lines


def experiment_text(result: Any) -> str:
    cert = result.certificate
    lines = [
        f"experiment   {result.name} ({cert.theorem}) on {cert.model}, layer {cert.layer}",
        f"claim        {cert.claim}",
        f"verdict      {cert.verdict.value}" + (f"   ({cert.reason})" if cert.reason else ""),
        f"time         {result.seconds:.1f} s",
    ]
    lines += _scalar_lines("metrics (the paper's)", result.metrics)
    flat = {}
    for k, v in result.counterpart.items():
        if isinstance(v, dict):
            flat.update({f"{k}.{kk}": vv for kk, vv in v.items()})
        else:
            flat[k] = v
    lines += _scalar_lines("certified counterpart", flat)
    return "\n".join(lines)


def cmd_experiment(args: argparse.Namespace) -> int:
    from .experiments.runner import run_experiment

    result = run_experiment(args.name, args.model, args.layer, args.seed, **trait_sets(args))
    if args.json:
        print(json.dumps(result.to_dict(), allow_nan=False))
    else:
        print(experiment_text(result))
    return 0


def cmd_paper(args: argparse.Namespace) -> int:
    from .experiments.paper import run_paper

    def progress(model: str, name: str, result: Any) -> None:
        if not args.json:
            print(
                f"[{result.certificate.theorem}] {model:<14} {name:<19} "
                f"{result.certificate.verdict.value:<9} {result.seconds:6.1f}s",
                file=sys.stderr,
                flush=True,
            )

    paths = run_paper(Path(args.out), seed=args.seed, progress=progress)
    if args.json:
        print(json.dumps({k: str(v) for k, v in paths.items()}))
    else:
        print(Path(paths["md"]).read_text())
        print(f"report: {paths['md']}  results: {paths['json']}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from synthetic.trained_zoo import TRAINED_SPECS, build

    steps = args.steps if args.steps is not None else TRAINED_SPECS[args.name][1].steps

    def progress(step: int, loss: float) -> None:
        if args.json or (step % 20 and step != steps):
            return
        filled = int(30 * step / steps)
        print(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] step {step}/{steps}  loss {loss:.4f}",
            end="\n" if step == steps else "",
            file=sys.stderr,
            flush=True,
        )

    meta = build(args.name, args.out, steps=args.steps, progress=progress)
    if args.json:
        print(json.dumps(meta))
    else:
        print(
            f"trained {args.name}: {meta['train']['steps']} steps "
            f"in {meta['train_seconds']:.1f} s\n"
            f"validation loss {meta['validation_loss']:.4f} nats/token "
            f"(language entropy {meta['entropy']:.4f} +- {meta['entropy_se']:.1g})\n"
            "probe accuracy by layer "
            + ", ".join(f"{a:.3f}" for a in meta["probe_accuracy"])
            + f" (Bayes ceiling {meta['bayes_probe_accuracy']:.3f})\n"
            f"written to {args.out}"
        )
    return 0


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def add_parsers(sub: Any) -> None:
    from synthetic.trained_zoo import TRAINED_NAMES

    from .experiments.runner import EXPERIMENT_NAMES

    exp = sub.add_parser(
        "experiment", help="one of the paper's experiments (E1-E7) with its certified counterpart"
    )
    exp.add_argument("name", choices=EXPERIMENT_NAMES)
    add_model_options(exp, default="trained-gpt2")
    exp.add_argument("--layer", type=int, default=None, help="steering layer (default L/2)")
    exp.add_argument("--seed", type=seed_arg, default=0)
    exp.add_argument("--json", action="store_true")
    exp.set_defaults(func=cmd_experiment)

    paper = sub.add_parser("paper", help="E1-E7 on the trained zoo: a report beside the paper")
    paper.add_argument("--out", default="out/paper")
    paper.add_argument("--seed", type=seed_arg, default=0)
    paper.add_argument("--json", action="store_true")
    paper.set_defaults(func=cmd_paper)

    train = sub.add_parser("train", help="retrain a trained-zoo model from its seed")
    train.add_argument("name", choices=TRAINED_NAMES)
    train.add_argument("--out", required=True, help="checkpoint directory to write")
    train.add_argument("--steps", type=_positive_int, default=None, help="override the spec's")
    train.add_argument("--json", action="store_true")
    train.set_defaults(func=cmd_train)
