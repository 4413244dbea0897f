"""Claims on ``theory/`` stated against the mathematics or a documented contract (sample 8, B):

- T3(b) re-run of the bases: the margin ``min(band_top / max_null, min_row / band_top)`` is >= 1
  iff null directions stay at or below the top of the grey band ``sqrt(tau s_max)`` and row
  directions at or above it, so a basis whose image |J u| equals the band top exactly passes: a
  row direction with |J u| = band_top, or a null direction with |J u| = band_top, gives a re-run
  margin of exactly 1 and ``check_t3b`` holds, as does T3(a)'s ``spectrum_certificate``;
- one ulp on the wrong side of the band top (a row direction just below it) fails the re-run and
  leaves T3(b) undecided.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from theory.certificate import Verdict
from theory.jacobian import LocalProblem, local_spectrum
from theory.local import check_t3b, rerun_bases, spectrum_certificate


def _identity(h):
    return h * 1.0


def _first_coordinate_problem(d: int) -> LocalProblem:
    """Identity downstream, zero stream, one prompt and strength, S+ = {0}, S- = {1}, and W_U whose
    first row is (1, 0), the others 0: the trait score has gradient (1, -1) in the logits (one
    token on each side), so J u = u_1 exactly and s_max = 1."""
    w_u = np.zeros((d, 2))
    w_u[0, 0] = 1.0
    return LocalProblem(_identity, np.zeros((1, 1, d)), w_u, plus=[0], minus=[1])


def test_t3b_holds_when_a_row_direction_sits_exactly_at_the_band_top():
    """d = 1, J = (1): tau = eps, band_top = sqrt(eps) = 2^-26 (exact). A row direction u = 2^-26
    has |J u| = 2^-26 = band_top, so min_row / band_top = 1 exactly (no null directions): the
    row side of the re-run is met with equality, which passes, and T3(b) holds."""
    problem = _first_coordinate_problem(1)
    v = np.array([0.5])
    spec = local_spectrum(problem, v, "trait", None, None)
    dec = spec.decision
    assert dec.certified and spec.rank == 1 and spec.null_dim == 0
    assert dec.band_top == 2.0**-26
    at_top = dataclasses.replace(spec, row_basis=np.array([[dec.band_top]]))

    null_max, row_min, margin = rerun_bases(problem, at_top)
    assert null_max == 0.0
    assert row_min == dec.band_top
    assert margin == 1.0

    cert = check_t3b(problem, v, spectrum=at_top)
    assert cert.verdict is Verdict.HOLDS
    assert cert.reason == ""
    assert cert.details["row_jvp_min"] == dec.band_top
    assert cert.margin == 1.0


def test_t3b_holds_when_a_null_direction_sits_exactly_at_the_band_top():
    """d = 2, J = (1, 0): tau = 2 eps, band_top = sqrt(2 eps). A (unit, to rounding) null direction
    u = (band_top, sqrt(1 - band_top^2)) has |J u| = band_top exactly, so band_top / max_null = 1
    while the row direction e_1 has |J e_1| = 1, far above the band: the re-run margin is exactly
    1, which passes, and T3(b) holds."""
    problem = _first_coordinate_problem(2)
    v = np.array([0.5, -1.0])
    spec = local_spectrum(problem, v, "trait", None, None)
    dec = spec.decision
    assert dec.certified and spec.rank == 1 and spec.null_dim == 1
    top = dec.band_top
    at_top = dataclasses.replace(spec, null_basis=np.array([[top], [np.sqrt(1.0 - top * top)]]))

    null_max, row_min, margin = rerun_bases(problem, at_top)
    assert null_max == top
    assert row_min == 1.0
    assert margin == 1.0

    cert = check_t3b(problem, v, spectrum=at_top)
    assert cert.verdict is Verdict.HOLDS
    assert cert.reason == ""
    assert cert.details["null_jvp_max"] == top


def test_t3b_is_undecided_one_ulp_below_the_band_top():
    """The same d = 1 spectrum with the row direction one ulp below 2^-26: |J u| < band_top, the
    margin is just under 1 and the re-run fails, so T3(b) is undecided (the boundary is sharp)."""
    problem = _first_coordinate_problem(1)
    v = np.array([0.5])
    spec = local_spectrum(problem, v, "trait", None, None)
    below = np.nextafter(spec.decision.band_top, 0.0)
    just_below = dataclasses.replace(spec, row_basis=np.array([[below]]))

    _, row_min, margin = rerun_bases(problem, just_below)
    assert row_min == below
    assert margin < 1.0

    cert = check_t3b(problem, v, spectrum=just_below)
    assert cert.verdict is Verdict.UNDECIDED
    assert "re-run" in cert.reason


def test_t3a_holds_when_a_row_direction_sits_exactly_at_the_band_top():
    """T3(a) runs the same re-run: with J constant every neighbour has rank 1, and the row
    direction at the band top passes with margin exactly 1."""
    problem = _first_coordinate_problem(1)
    v = np.array([0.5])
    spec = local_spectrum(problem, v, "trait", None, None)
    at_top = dataclasses.replace(spec, row_basis=np.array([[spec.decision.band_top]]))
    cert = spectrum_certificate(problem, v, "trait", spectrum=at_top)
    assert cert.details["neighbour_ranks"] == [1, 1]
    assert cert.verdict is Verdict.HOLDS and cert.reason == ""
    assert cert.margin == 1.0
    just_below = dataclasses.replace(
        spec, row_basis=np.array([[np.nextafter(spec.decision.band_top, 0.0)]])
    )
    assert spectrum_certificate(problem, v, "trait", spectrum=just_below).verdict is (
        Verdict.UNDECIDED
    )
