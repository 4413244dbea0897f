"""Figures of the linear theorems: T1's readout spectrum and T1b's cosine along the ray."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from theory.linear import equivalence_class

from ..checks.linear_numeric import default_model, steering_vector
from . import cosine_ray_figure, figure, spectrum_figure


@figure("T1")
def t1_spectrum(seed: int, out: Path):
    m = default_model(seed)
    cls = equivalence_class(m.W, steering_vector(m, seed))
    dec = cls.decision
    s = np.concatenate([dec.singular_values, np.zeros(m.d - dec.n)])
    path = spectrum_figure(
        s,
        dec.tolerance,
        dec.band_top,
        out / "t1_spectrum.png",
        f"T1: readout spectrum, rank {cls.rank} of d = {m.d}",
    )
    caption = (
        f"Singular values of the default linear readout W (d = {m.d}): {cls.rank} lie far above "
        f"the band, {cls.dim} are zero, so the class of every v is an affine subspace of "
        f"dimension {cls.dim}."
    )
    return [(path, caption)]


@figure("T1b")
def t1b_ray(seed: int, out: Path):
    m = default_model(seed)
    path = cosine_ray_figure(m.W, steering_vector(m, seed), out / "t1b_cosine_ray.png")
    caption = (
        "Cosine to v along the ray v_id - s k/|k| inside the class: it falls strictly towards "
        "-|k|/|v| and never reaches it."
    )
    return [(path, caption)]
