"""Synthetic models with planted, known concept directions (float64 JAX and numpy)."""

import theory  # noqa: F401  (switches JAX to float64)
