"""``steerid recover multi-env|sparse|ica|cross-layer``: check a condition under which
identifiability comes back (T6-T9) and, when it holds, recover the planted direction. Each prints
certificates: the condition's (verdict, margin, witness) and the recovery's (error against the
ground truth). Inputs are the user's .npy files or a seeded synthetic instance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from theory.certificate import Certificate
from theory.validation import InputError

from .cli_model import (
    MAX_DIM,
    MAX_ENVS,
    MAX_PROMPTS,
    MAX_SAMPLES,
    add_model_options,
    seed_arg,
    size_arg,
    trait_sets,
)


def _certificate_lines(cert: Certificate, label: str) -> list[str]:
    lines = [
        f"{label}: {cert.theorem} {cert.verdict.value}"
        + ("" if cert.dim is None else f", class dim {cert.dim}")
        + ("" if cert.margin is None else f", margin {cert.margin:.4g}"),
        f"  claim: {cert.claim}",
    ]
    for k, v in cert.details.items():
        if isinstance(v, (int, float, str, bool)) and len(str(v)) < 70:
            lines.append(f"  {k}: {v:.4g}" if isinstance(v, float) else f"  {k}: {v}")
    lines.append(
        "  witness: "
        + (", ".join(f"{k} {np.asarray(a).shape}" for k, a in cert.witness.items()) or "none")
    )
    return lines


def _result(certs: dict[str, Certificate], extra: dict[str, Any] | None = None) -> tuple[dict, str]:
    payload = {"certificates": {k: c.to_dict() for k, c in certs.items()}, **(extra or {})}
    text = []
    for k, c in certs.items():
        text += _certificate_lines(c, k)
    for k, v in (extra or {}).items():
        text.append(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}")
    return payload, "\n".join(text)


def recover_multi_env(args, load) -> tuple[dict, str]:
    from theory.environments import check_t6, environments_needed

    if args.model:
        from proofs_check.model_checks import environments_certificate

        return _result(
            {
                "condition": environments_certificate(
                    args.model,
                    args.layer,
                    args.envs,
                    args.channel,
                    args.prompts,
                    args.seed,
                    args.tol,
                    **trait_sets(args),
                )
            }
        )
    if args.readouts:
        envs = [load(p, f"readouts[{i}]") for i, p in enumerate(args.readouts)]
        if args.vector is None:
            raise InputError(
                "--vector is required with --readouts (the steering vector to identify)"
            )
        v = load(args.vector, "vector")
        extra = {}
    else:
        extra = {
            "environments_needed": environments_needed(args.d, args.rank)
        }  # validates d and rank
        rng = np.random.default_rng(args.seed)
        envs = [
            rng.standard_normal((args.rank + 2, args.rank))
            @ rng.standard_normal((args.rank, args.d))
            for _ in range(args.envs)
        ]
        v = rng.standard_normal(args.d)
    return _result({"condition": check_t6(envs, v, args.tol)}, extra)


def recover_sparse(args, load) -> tuple[dict, str]:
    from synthetic.sparse_codes import gaussian_matrix, sparse_code
    from theory.basis_pursuit import basis_pursuit, bp_recovery_certificate
    from theory.spark import SparkLimitError, unique_recovery_certificate

    if args.A is not None:
        A = load(args.A, "A")
        if args.y is None:
            raise InputError("--y is required with --A (the observed behaviour A a)")
        y = load(args.y, "y")
        a = None
    else:
        A = gaussian_matrix(args.m, args.p, args.seed)
        a = sparse_code(args.p, args.k, args.seed + 1)
        y = A @ a
    certs: dict[str, Certificate] = {}
    extra: dict[str, Any] = {}
    try:
        certs["condition"] = unique_recovery_certificate(A, args.k, tol=args.tol)
    except SparkLimitError as exc:
        extra["spark_skipped"] = str(exc)
    bp = basis_pursuit(A, y)
    extra["recovered_code"] = bp.code.tolist()
    extra["bp_residual"] = float(bp.residual)
    if a is not None:
        certs["recovery"] = bp_recovery_certificate(A, a)
        extra["recovery_error"] = float(np.linalg.norm(bp.code - a) / np.linalg.norm(a))
    return _result(certs, extra)


def recover_ica(args, load) -> tuple[dict, str]:
    from synthetic.sources import mix, random_mixing
    from theory.independence import check_t8, check_t8_laws

    certs: dict[str, Certificate] = {}
    if args.data is not None:
        H = load(args.data, "data")
        certs["condition"] = check_t8(H, seed=args.seed)
    else:
        laws = [x.strip() for x in args.laws.split(",") if x.strip()]
        A = random_mixing(len(laws), len(laws), args.seed)
        data = mix(A, laws, args.n, args.seed)
        certs["laws"] = check_t8_laws(A, [law == "gaussian" for law in laws])
        certs["condition"] = check_t8(data.H, A=A, seed=args.seed)
    return _result(certs)


def recover_cross_layer(args, load) -> tuple[dict, str]:
    from proofs_check.model_checks import cross_layer_certificate

    try:
        layers = [int(x) for x in args.layers.split(",")]
    except ValueError:
        raise InputError(f"--layers must be comma-separated ints, got {args.layers!r}") from None
    return _result(
        {
            "condition": cross_layer_certificate(
                args.model,
                layers,
                args.channel,
                args.prompts,
                args.seed,
                propagate=args.propagate,
                tol=args.tol,
                **trait_sets(args),
            )
        }
    )


RUNNERS: dict[str, Callable] = {
    "multi-env": recover_multi_env,
    "sparse": recover_sparse,
    "ica": recover_ica,
    "cross-layer": recover_cross_layer,
}


def add_parser(sub, parser_class, positive_float) -> None:
    rec = sub.add_parser(
        "recover", help="T6-T9: check a condition that restores identifiability and recover"
    )
    kinds = rec.add_subparsers(dest="kind", required=True, parser_class=parser_class)

    def common(p):
        p.add_argument("--seed", type=seed_arg, default=0)
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=None)

    me = kinds.add_parser("multi-env", help="T6: several environments (readouts)")
    me.add_argument("--readouts", nargs="+", help="one (m_e, d) .npy readout per environment")
    me.add_argument("--vector", help="the steering vector (d,) .npy, with --readouts")
    me.add_argument("--d", type=size_arg(MAX_DIM), default=12)
    me.add_argument("--rank", type=int, default=3)
    me.add_argument("--envs", type=size_arg(MAX_ENVS), default=4)
    add_model_options(me, default=None)  # with --model, environments are token-family prompt sets
    me.add_argument("--layer", type=int, default=1, help="with --model")
    me.add_argument(
        "--channel", choices=["logits", "probs", "trait"], default="trait", help="with --model"
    )
    me.add_argument(
        "--prompts",
        type=size_arg(MAX_PROMPTS),
        default=4,
        help="prompts per environment, with --model",
    )
    me.add_argument("--tol", type=positive_float, default=None)
    common(me)

    sp = kinds.add_parser("sparse", help="T7: sparse codes over a dictionary; basis pursuit")
    sp.add_argument("--A", help="behaviour matrix L Phi (m, p) .npy")
    sp.add_argument("--y", help="observed behaviour (m,) .npy, with --A")
    sp.add_argument("--m", type=size_arg(MAX_DIM), default=10)
    sp.add_argument("--p", type=size_arg(MAX_DIM), default=14)
    sp.add_argument("--k", type=int, default=2)
    sp.add_argument("--tol", type=positive_float, default=None)
    common(sp)

    ica = kinds.add_parser("ica", help="T8: independent sources; FastICA")
    ica.add_argument("--data", help="activations (n, d) .npy")
    ica.add_argument(
        "--laws", default="laplace,uniform,bimodal", help="comma-separated source laws"
    )
    ica.add_argument("--n", type=size_arg(MAX_SAMPLES), default=5000)
    common(ica)

    cl = kinds.add_parser("cross-layer", help="T9: the same concept steered at several layers")
    add_model_options(cl)
    cl.add_argument("--layers", default="0,1,2")
    cl.add_argument("--channel", choices=["logits", "probs", "trait"], default="trait")
    cl.add_argument("--prompts", type=size_arg(MAX_PROMPTS), default=4)
    cl.add_argument(
        "--propagate", action="store_true", help="T_j = propagation Jacobian instead of identity"
    )
    cl.add_argument("--tol", type=positive_float, default=None)
    common(cl)
