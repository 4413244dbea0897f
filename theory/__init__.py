"""Definitions and theorems of steering-vector identifiability, as code.

Importing this package switches JAX to float64 once, so every array in the toolkit is float64.
"""

import jax

jax.config.update("jax_enable_x64", True)
