"""``steerid``: the command line. Every subcommand takes ``--json`` and then prints one JSON object;
bad input gives a one-line error on stderr and exit code 2; an internal error is a traceback and
exit code 1."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from theory.certificate import Certificate, Verdict, to_jsonable
from theory.validation import InputError

from .cli_model import (
    MAX_PROMPTS,
    MAX_STEPS,
    add_model_options,
    seed_arg,
    size_arg,
    trait_sets,
)

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def _load_npy(path: str, name: str) -> np.ndarray:
    p = Path(path)
    if not p.is_file():
        raise CliError(f"{name}: no such file: {path}")
    _check_npy_size(p, name)
    try:
        return np.load(p, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise CliError(
                f"{name}: {path} holds pickled objects; only plain numeric .npy files are read"
            ) from None
        raise CliError(f"{name}: cannot read {path} as .npy: {exc}") from None
    except (OSError, EOFError) as exc:
        raise CliError(f"{name}: cannot read {path} as .npy: {exc}") from None
    except MemoryError:
        raise CliError(f"{name}: {path} is too large to load into memory") from None


def _check_npy_size(p: Path, name: str) -> None:
    """Refuse a .npy whose header promises more bytes than the file holds, before allocating.

    A header is ``magic, (shape, fortran_order, dtype)``; the data take prod(shape) * itemsize
    bytes after it. Files that are not .npy at all are left to ``np.load`` to name.
    """
    try:
        with p.open("rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
            offset = fh.tell()
    except (ValueError, OSError, EOFError, SyntaxError, TypeError):
        return
    if dtype.hasobject:
        return
    need = int(np.prod(shape, dtype=object)) * dtype.itemsize
    have = p.stat().st_size - offset
    if need > have:
        raise CliError(
            f"{name}: {p} is truncated: its header promises shape {tuple(shape)} of {dtype} "
            f"({need} bytes), the file holds {have}"
        )


def _emit(obj: dict, as_json: bool, text: str) -> None:
    if as_json:
        print(json.dumps(to_jsonable(obj), allow_nan=False))
    else:
        print(text)


# ---- steerid class ------------------------------------------------------------------------------


def class_payload(cert: Certificate) -> dict[str, Any]:
    """The ``steerid class --json`` object, read off the certificate's typed fields."""
    twin = cert.witness.get("orthogonal_twin")
    cr = cert.cosine_range
    return {
        "theorem": cert.theorem,
        "verdict": cert.verdict.value,
        "dim": cert.dim,
        "rank": cert.rank,
        "d": cert.d,
        "point": cert.witness["point"],
        "basis": cert.witness["basis"],
        "orthogonal_twin": None if twin is None else twin,
        "orthogonal_twin_reason": None if twin is not None else (cert.reason or None),
        "cosine_range": None if cr is None else cr._asdict(),
        "margin": cert.margin,
        "tolerance": cert.tolerance,
        "singular_values": cert.singular_values,
        "ambiguous_singular_values": cert.ambiguous,
        "certificate": cert.to_dict(),
    }


def cmd_class(args: argparse.Namespace) -> int:
    from theory.linear_checks import class_certificate
    from theory.softmax_shift import probs_class_certificate

    L = _load_npy(args.L, "L")
    v = _load_npy(args.v, "v")
    if args.channel == "probs":
        cert = probs_class_certificate(L, v, args.tol)
    else:
        cert = class_certificate(L, v, args.tol)
    payload = class_payload(cert)
    cr = payload["cosine_range"]
    lines = [
        f"theorem      {cert.theorem} ({args.channel} channel)",
        f"verdict      {cert.verdict.value}",
        f"rank         {cert.rank} of d = {cert.d}",
        f"class dim    {cert.dim}",
        f"margin       {_num(cert.margin)}   (tolerance {_num(cert.tolerance)})",
        f"|point|      {np.linalg.norm(cert.witness['point']):.6g}  (minimum-norm member L^+ L v)",
    ]
    if cert.verdict is Verdict.UNDECIDED:
        amb = ", ".join(f"{x:.3g}" for x in payload["ambiguous_singular_values"])
        lines.append(f"undecided    singular values in the grey band: {amb}; pass --tol to decide")
    elif payload["orthogonal_twin"] is not None:
        lines.append(
            "twin         orthogonal member with |twin| = "
            f"{np.linalg.norm(payload['orthogonal_twin']):.6g}"
        )
    else:
        lines.append(f"twin         none: {payload['orthogonal_twin_reason']}")
    if cr is not None:
        opening = "[" if cr["inf_attained"] else "("
        lines.append(
            f"cosines      {opening}{cr['inf']:.6g}, {cr['sup']:.6g}]  (cosine of members to v, "
            "T1b)"
        )
    _emit(payload, args.json, "\n".join(lines))
    return 0


# ---- steerid verify / demo
# ------------------------------------------------------------------------


def cmd_verify(args: argparse.Namespace) -> int:
    from .registry import select
    from .suite import any_violated, run_checks, table

    rows = run_checks(select(args.only), seed=args.seed)
    if args.json:
        print(
            json.dumps(
                {
                    "seed": args.seed,
                    "violated": any_violated(rows),
                    "results": [
                        {
                            "check": r.check.name,
                            "kind": r.check.kind,
                            "seconds": r.seconds,
                            "certificate": r.certificate.to_dict(),
                        }
                        for r in rows
                    ],
                },
                allow_nan=False,
            )
        )
    else:
        print(table(rows))
    return 1 if any_violated(rows) else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .registry import select
    from .report import write_report
    from .suite import any_violated, run_checks, table

    def progress(check, row):
        if not args.json:
            print(
                f"[{row.certificate.theorem:>4}] {check.kind:<7} "
                f"{row.certificate.verdict.value:<9} "
                f"{row.seconds:6.2f}s  {check.name}",
                file=sys.stderr,
                flush=True,
            )

    rows = run_checks(select(None), seed=args.seed, progress=progress)
    out = Path(args.out)
    paths = write_report(rows, out, args.seed)
    (out / "timings.json").write_text(
        json.dumps(
            [
                {"theorem": r.certificate.theorem, "check": r.check.name, "seconds": r.seconds}
                for r in rows
            ],
            indent=1,
        )
    )
    if args.json:
        print(
            json.dumps(
                {
                    "out": str(out),
                    "report": str(paths["md"]),
                    "violated": any_violated(rows),
                    "results": [r.certificate.to_dict() for r in rows],
                },
                allow_nan=False,
            )
        )
    else:
        print(table(rows))
        print(f"\nreport: {paths['md']}  certificates: {paths['json']}")
    return 1 if any_violated(rows) else 0


def local_payload(cert: Certificate) -> dict[str, Any]:
    """The ``steerid local --json`` object, read off the T3 spectrum certificate's typed fields."""
    return {
        "model": cert.model,
        "layer": cert.layer,
        "channel": cert.channel,
        "d": cert.d,
        "rank": cert.rank,
        "null_dim": cert.dim,
        "singular_values": cert.singular_values,
        "null_basis": cert.witness["null_basis"],
        "verdict": cert.verdict.value,
        "margin": cert.margin,
        "tolerance": cert.tolerance,
        "symmetries": list(cert.symmetries),
        "ambiguous_singular_values": cert.ambiguous,
        "certificate": cert.to_dict(),
    }


def _num(x: float | None, fmt: str = ".4g") -> str:
    return "n/a" if x is None else format(x, fmt)


def cmd_local(args: argparse.Namespace) -> int:
    from .model_checks import local_certificate

    cert = local_certificate(
        args.model,
        args.layer,
        args.channel,
        n_prompts=args.prompts,
        length=args.length,
        seed=args.seed,
        tol=args.tol,
        texts=args.text,
        **trait_sets(args),
    )
    p = local_payload(cert)
    s = np.asarray(p["singular_values"])
    r = p["rank"] or 0
    kept = s[r - 1] if r else 0.0
    dropped = s[r] if r < s.size else 0.0
    text = "\n".join(
        [
            f"theorem      T3 ({p['model']}, layer {p['layer']}, {p['channel']} channel, "
            f"{len(args.text) if args.text else args.prompts} prompts)",
            f"verdict      {p['verdict']}",
            f"rank         {p['rank']} of d = {p['d']}   (null dim {p['null_dim']}: the local "
            "class is a manifold of that dimension)",
            f"margin       {_num(p['margin'])}   (tolerance {_num(p['tolerance'], '.3g')})",
            f"spectrum     s_1 = {s[0]:.4g}, smallest kept {kept:.3g}, "
            f"largest dropped {dropped:.3g}",
            f"symmetries   {', '.join(p['symmetries']) or 'none found'}",
        ]
    )
    _emit(p, args.json, text)
    return 0


def cmd_twin(args: argparse.Namespace) -> int:
    from .model_checks import twin_certificate

    cert = twin_certificate(
        args.model,
        args.layer,
        args.channel,
        n_prompts=args.prompts,
        length=args.length,
        seed=args.seed,
        max_steps=args.steps,
        texts=args.text,
        **trait_sets(args),
    )
    p = {
        "model": args.model,
        "layer": args.layer,
        "channel": args.channel,
        "cosine": cert.cosine,
        "residual": cert.residual,
        "residual_tolerance": cert.residual_tolerance,
        "witness": cert.witness.get("twin"),
        "verdict": cert.verdict.value,
        "reason": cert.reason,
        "certificate": cert.to_dict(),
    }
    text = "\n".join(
        [
            f"theorem      T3 twin ({args.model}, layer {args.layer}, {args.channel} channel)",
            f"verdict      {p['verdict']}" + (f"   ({cert.reason})" if cert.reason else ""),
            f"cosine       {_num(p['cosine'])}   (to v)",
            f"residual     {_num(p['residual'], '.3g')}   (|B(v') - B(v)| / |B(v) - B(0)|, "
            f"re-run through the model; tolerance {_num(p['residual_tolerance'], '.3g')})",
        ]
    )
    _emit(p, args.json, text)
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    from .cli_recover import RUNNERS

    payload, text = RUNNERS[args.kind](args, _load_npy)
    payload = {"recover": args.kind, **payload}
    _emit(payload, args.json, text)
    return 0


def cmd_figures(args: argparse.Namespace) -> int:
    from .registry import THEOREMS, load_all
    from .report import FIGURE_MAKERS

    load_all()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    made = []
    for theorem in THEOREMS:
        for make in FIGURE_MAKERS.get(theorem, []):
            for path, caption in make(args.seed, out):
                made.append({"theorem": theorem, "path": str(path), "caption": caption})
                if not args.json:
                    print(f"[{theorem:>4}] {path}")
    if args.json:
        print(json.dumps({"out": str(out), "figures": made}))
    return 0


# ---- parser
# -----------------------------------------------------------------------------------------


def _positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(x) or x <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite positive number, got {text!r}")
    return x


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        raise CliError(message)

    def _get_values(self, action, arg_strings):
        # argparse drops a lone "--" from an option's value ("--envs=--" would become []);
        # an option that takes one value and got only "--" has no value
        if action.nargs is None and action.option_strings and arg_strings == ["--"]:
            self.error(f"argument {'/'.join(action.option_strings)}: expected one value, got '--'")
        return super()._get_values(action, arg_strings)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="steerid", description="Verify the (non-)identifiability of steering vectors.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    demo = sub.add_parser(
        "demo", help="run every theorem check on the embedded models and write a report"
    )
    demo.add_argument("--out", default="out", help="output folder (default: out)")
    demo.add_argument("--seed", type=seed_arg, default=0)
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(func=cmd_demo)

    verify = sub.add_parser("verify", help="run the theorem suite; exit 0 iff nothing is violated")
    verify.add_argument("--only", default=None, help="comma-separated theorem ids, e.g. T1,T2c")
    verify.add_argument("--seed", type=seed_arg, default=0)
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(func=cmd_verify)

    figs = sub.add_parser("figures", help="draw every figure of the report (used by the docs)")
    figs.add_argument("--out", default="docs/figures")
    figs.add_argument("--seed", type=seed_arg, default=0)
    figs.add_argument("--json", action="store_true")
    figs.set_defaults(func=cmd_figures)

    from .cli_recover import add_parser as add_recover

    add_recover(sub, _Parser, _positive_float)

    from .cli_experiments import add_parsers as add_experiments

    add_experiments(sub)

    for name, func, helptext in (
        ("local", cmd_local, "T3: spectrum and null space of a model's Jacobian"),
        ("twin", cmd_twin, "T3: walk the class of v to a far member, re-run through the model"),
    ):
        sp = sub.add_parser(name, help=helptext)
        add_model_options(sp)
        sp.add_argument("--layer", type=int, default=1)
        sp.add_argument("--channel", default="trait", help="logits, probs or trait")
        sp.add_argument("--prompts", type=size_arg(MAX_PROMPTS), default=8)
        sp.add_argument("--length", type=int, default=8)
        sp.add_argument(
            "--text",
            action="append",
            default=None,
            help="a prompt as text (repeat for several; a checkpoint with a tokenizer.json; "
            "replaces --prompts/--length)",
        )
        sp.add_argument("--seed", type=seed_arg, default=0)
        if name == "local":
            sp.add_argument("--tol", type=_positive_float, default=None)
        else:
            sp.add_argument("--steps", type=size_arg(MAX_STEPS), default=60)
        sp.add_argument("--json", action="store_true")
        sp.set_defaults(func=func)

    cls = sub.add_parser("class", help="T1/T2c: the class of v under your readout L")
    cls.add_argument("L", help="readout matrix (m, d) as .npy")
    cls.add_argument("v", help="steering vector (d,) as .npy")
    cls.add_argument("--channel", choices=["logits", "probs"], default="logits")
    cls.add_argument(
        "--tol",
        type=_positive_float,
        default=None,
        help="rank tolerance (default max(m,d) eps s_1)",
    )
    cls.add_argument("--json", action="store_true")
    cls.set_defaults(func=cmd_class)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand. Bad input (``CliError`` from the parser and file readers, ``InputError``
    from the toolkit's validators) is one line on stderr and exit code 2, and so are sizes that
    cannot be allocated (``MemoryError``); any other exception is a bug of the toolkit and
    propagates as a traceback (exit code 1 from the console script)."""
    try:
        args = build_parser().parse_args(argv)
        if args.command == "recover":
            return cmd_recover(args)
        return args.func(args)
    except (CliError, InputError) as exc:
        print(f"steerid: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MemoryError as exc:
        detail = f" ({exc})" if str(exc) else ""
        print(
            f"steerid: error: not enough memory for the sizes asked{detail}; choose smaller ones",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
