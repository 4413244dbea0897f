"""Input checks that run before any work: each error names the argument and what was expected."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_float_array(name: str, x: Any, ndim: int) -> np.ndarray:
    """Return ``x`` as a float64 array of the given ndim, or raise ValueError naming ``name``.

    Rejects: None, non-numeric dtypes (strings, objects, booleans), complex values, the wrong
    number of dimensions, empty arrays, and NaN or infinite entries.
    """
    if x is None:
        raise ValueError(f"{name} is required, got None")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} must be a numeric array: {exc}") from None
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be numeric, got entries of type object") from None
    if arr.dtype.kind == "b":
        raise ValueError(f"{name} must be a real numeric array, got dtype bool")
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} must be real, got complex dtype {arr.dtype}")
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        shape = {1: "(d,)", 2: "(m, d)"}.get(ndim, f"{ndim} dimensions")
        raise ValueError(f"{name} must have {ndim} dimension(s) {shape}, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, found NaN or infinite entries")
    return arr


def as_matrix(name: str, x: Any) -> np.ndarray:
    """A non-empty finite float64 matrix."""
    return as_float_array(name, x, 2)


def as_vector(name: str, x: Any, length: int | None = None, against: str = "") -> np.ndarray:
    """A non-empty finite float64 vector, of ``length`` entries when given."""
    arr = as_float_array(name, x, 1)
    if length is not None and arr.shape[0] != length:
        what = f" (the number of columns of {against})" if against else ""
        raise ValueError(f"{name} must have length {length}{what}, got {arr.shape[0]}")
    return arr


def as_tolerance(name: str, tol: Any) -> float | None:
    """None (use the default) or a finite positive float (a zero tolerance would count round-off
    as rank and certify it)."""
    if tol is None:
        return None
    try:
        value = float(tol)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {tol!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite positive number, got {tol!r}")
    return value
