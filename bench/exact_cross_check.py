"""10,000 random small rational instances decided in float64 and in exact arithmetic
(``proofs_check.cross_check``): counts of agree / undecided / wrong per kind, and the same for the
badly scaled stress kind, with the spectra of its wrong cases. Writes
bench/results/exact_cross_check.md.

    python bench/exact_cross_check.py [--n 10000] [--stress 2000] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from proofs_check.cross_check import KINDS, STRESS_KINDS, cross_check, decide, draw_case
from theory.linear import equivalence_class


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--stress", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    counts = cross_check(args.n, args.seed)
    seconds = time.perf_counter() - t0
    lines = [
        "# Float64 against exact rational arithmetic",
        "",
        f"{args.n} cases, seed {args.seed}, {seconds:.1f} s.",
        "",
        "| kind | cases | agree | undecided | wrong |",
        "|---|---|---|---|---|",
    ]
    for kind in KINDS:
        c = counts[kind]
        lines.append(
            f"| {kind} | {sum(c.values())} | {c['agree']} | {c['undecided']} | {c['wrong']} |"
        )
    stress = cross_check(args.stress, args.seed, STRESS_KINDS)["linear-scaled"]
    lines += [
        f"| linear-scaled (stress) | {sum(stress.values())} | {stress['agree']} | "
        f"{stress['undecided']} | {stress['wrong']} |",
        "",
        "Wrong stress cases (first five): the float spectrum and the default tolerance.",
        "",
    ]
    rng = np.random.default_rng(args.seed)
    shown = 0
    for _ in range(args.stress):
        case = draw_case("linear-scaled", rng)
        if decide(case) == "wrong" and shown < 5:
            dec = equivalence_class(*case.floats).decision
            lines.append(
                f"- exact rank {case.exact[0].rank()}, float rank {dec.rank} certified; "
                f"singular values {np.array2string(dec.singular_values, precision=3)}, "
                f"tau {dec.tolerance:.3g}"
            )
            shown += 1
    text = "\n".join(lines) + "\n"
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "exact_cross_check.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
