"""Exact and numeric checks of docs/theorems.md's theorems, the registry that lists them, the suite
runner, the report and the ``steerid`` command line."""

import theory  # noqa: F401  (switches JAX to float64)
