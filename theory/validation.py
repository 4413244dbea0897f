"""The one set of input checks: each runs before any work and raises ``ValueError`` naming the
argument and what was expected.

Each raises ``InputError`` (a ``ValueError``). Scalars: ``True``/``False`` are never ints or reals;
numpy scalars (``np.int64(3)``, ``np.float64(0.5)``) are accepted wherever the Python type is; NaN
is never a real; a float is never an int (``3.0`` is rejected where a count is asked for). Arrays:
real, finite, non-empty float64.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


class InputError(ValueError):
    """Bad input to a public function: the caller's mistake, not the toolkit's. Every validator
    raises it (the CLI turns it into one line and exit code 2); any other exception is a bug."""


def _type_name(x: Any) -> str:
    return type(x).__name__


def is_int(x: Any) -> bool:
    """True for Python and numpy integers, False for bools (and everything else)."""
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def as_int(name: str, x: Any, *, low: int | None = None, high: int | None = None) -> int:
    """An int in [low, high] (either end optional), as a Python int."""
    if not is_int(x):
        raise InputError(
            f"{name} must be an int{_range_text(low, high)}, got {x!r} ({_type_name(x)})"
        )
    value = int(x)
    if (low is not None and value < low) or (high is not None and value > high):
        raise InputError(f"{name} must be an int{_range_text(low, high)}, got {value}")
    return value


def _range_text(low: Any, high: Any, low_open: bool = False, high_open: bool = False) -> str:
    if low is None and high is None:
        return ""
    left = "(" if low_open or low is None else "["
    right = ")" if high_open or high is None else "]"
    lo = "-inf" if low is None else f"{low}"
    hi = "inf" if high is None else f"{high}"
    return f" in {left}{lo}, {hi}{right}"


def as_positive_int(name: str, x: Any) -> int:
    """An int >= 1."""
    return as_int(name, x, low=1)


def as_count(name: str, x: Any) -> int:
    """An int >= 0."""
    return as_int(name, x, low=0)


#: The most float64 numbers one array drawn from a sample-size argument may hold (2^27: 1 GiB).
MAX_DRAWN_FLOATS = 2**27


def as_sample_size(name: str, x: Any, width: int, low: int = 1) -> int:
    """An int n >= ``low`` with n * width <= MAX_DRAWN_FLOATS: ``width`` float64 numbers are drawn
    per sample, so the (n, width) array stays within 1 GiB (a larger n is refused before any
    allocation, not left to the operating system)."""
    n = as_int(name, x, low=low)
    width = max(int(width), 1)
    if n * width > MAX_DRAWN_FLOATS:
        raise InputError(
            f"{name} = {n} would draw {n} x {width} float64 numbers "
            f"({n * width * 8 / 2**30:.3g} GiB); at most {MAX_DRAWN_FLOATS // width} fit the "
            "1 GiB one array may take"
        )
    return n


SEED_MAX = 2**32 - 1


def as_seed(name: str, x: Any) -> int:
    """A seed for ``numpy.random.default_rng``, ``jax.random.key`` and scikit-learn's
    ``random_state``: an int in [0, 2^32 - 1], the range all three accept."""
    return as_int(name, x, low=0, high=SEED_MAX)


def as_real(
    name: str,
    x: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = True,
) -> float:
    """A real number (int, float or numpy scalar; not bool, not NaN) in the interval given by
    ``low``/``high`` (closed unless ``low_open``/``high_open``), finite unless ``finite=False``."""
    ends = _range_text(low, high, low_open, high_open)
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise InputError(f"{name} must be a real number{ends}, got {x!r} ({_type_name(x)})")
    value = float(x)
    if math.isnan(value) or (finite and math.isinf(value)):
        raise InputError(
            f"{name} must be a {'finite ' if finite else ''}real number{ends}, got {x!r}"
        )
    bad_low = low is not None and (value <= low if low_open else value < low)
    bad_high = high is not None and (value >= high if high_open else value > high)
    if bad_low or bad_high:
        raise InputError(f"{name} must be a real number{ends}, got {value!r}")
    return value


def as_positive_real(name: str, x: Any) -> float:
    """A finite real > 0."""
    return as_real(name, x, low=0.0, low_open=True)


def as_fraction(name: str, x: Any, *, open_low: bool = True, open_high: bool = True) -> float:
    """A real in (0, 1) (each end open unless told otherwise): a level, a probability, a ratio."""
    return as_real(name, x, low=0.0, high=1.0, low_open=open_low, high_open=open_high)


def as_tolerance(name: str, tol: Any) -> float | None:
    """None (use the default) or a finite positive real (a zero tolerance would count round-off
    as rank and certify it)."""
    if tol is None:
        return None
    return as_positive_real(name, tol)


def as_choice(name: str, x: Any, choices: Iterable[str]) -> str:
    """One of ``choices`` (strings), compared exactly."""
    options = tuple(choices)
    if not isinstance(x, str) or x not in options:
        raise InputError(f"{name} must be one of {options}, got {x!r}")
    return x


def as_bool(name: str, x: Any) -> bool:
    """A bool (Python or numpy); 0 and 1 are not bools."""
    if not isinstance(x, (bool, np.bool_)):
        raise InputError(f"{name} must be True or False, got {x!r} ({_type_name(x)})")
    return bool(x)


def as_int_tuple(
    name: str,
    xs: Any,
    *,
    low: int | None = None,
    high: int | None = None,
    nonempty: bool = True,
    distinct: bool = False,
) -> tuple[int, ...]:
    """A sequence of ints in [low, high] (a 1-d integer array is accepted), as a tuple."""
    if isinstance(xs, (str, bytes)) or not isinstance(xs, (Sequence, np.ndarray)):
        raise InputError(f"{name} must be a sequence of ints, got {xs!r} ({_type_name(xs)})")
    if isinstance(xs, np.ndarray) and xs.ndim != 1:
        raise InputError(f"{name} must be a 1-d sequence of ints, got shape {xs.shape}")
    items = list(xs.tolist() if isinstance(xs, np.ndarray) else xs)
    if nonempty and not items:
        raise InputError(f"{name} must not be empty")
    out = tuple(as_int(f"{name}[{i}]", x, low=low, high=high) for i, x in enumerate(items))
    if distinct and len(set(out)) != len(out):
        raise InputError(f"{name} must not repeat an entry, got {list(out)}")
    return out


def as_real_tuple(name: str, xs: Any, *, nonempty: bool = True, **bounds: Any) -> tuple[float, ...]:
    """A sequence of reals (each checked by ``as_real`` with ``bounds``), as a tuple."""
    if isinstance(xs, (str, bytes)) or not isinstance(xs, (Sequence, np.ndarray)):
        raise InputError(f"{name} must be a sequence of real numbers, got {xs!r}")
    items = list(np.asarray(xs).ravel().tolist() if isinstance(xs, np.ndarray) else xs)
    if nonempty and not items:
        raise InputError(f"{name} must not be empty")
    return tuple(as_real(f"{name}[{i}]", x, **bounds) for i, x in enumerate(items))


MAX_ENTRY = 1e150


def as_float_array(name: str, x: Any, ndim: int | None) -> np.ndarray:
    """Return ``x`` as a float64 array of the given ndim (any when None), or raise ValueError
    naming ``name``.

    Rejects: None, non-numeric dtypes (strings, objects, booleans), complex values, the wrong
    number of dimensions, empty arrays, NaN or infinite entries, and entries above ``MAX_ENTRY``
    in magnitude (1e150: a squared norm or a product of two such inputs stays below 1e308).
    """
    if x is None:
        raise InputError(f"{name} is required, got None")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise InputError(f"{name} must be a numeric array: {exc}") from None
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise InputError(f"{name} must be numeric, got entries of type object") from None
    if arr.dtype.kind == "b":
        raise InputError(f"{name} must be a real numeric array, got dtype bool")
    if arr.dtype.kind == "c":
        raise InputError(f"{name} must be real, got complex dtype {arr.dtype}")
    if arr.dtype.kind not in "iuf":
        raise InputError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        shape = {1: "(d,)", 2: "(m, d)"}.get(ndim, f"{ndim} dimensions")
        raise InputError(f"{name} must have {ndim} dimension(s) {shape}, got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(f"{name} must not be empty, got shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} must be finite, found NaN or infinite entries")
    big = float(np.max(np.abs(arr)))
    if big > MAX_ENTRY:
        raise InputError(
            f"{name} has an entry of magnitude {big:.3g}; entries must be at most {MAX_ENTRY:g} "
            "in magnitude, so that squared norms and products of two inputs stay finite in float64"
        )
    return arr


def as_matrix(name: str, x: Any) -> np.ndarray:
    """A non-empty finite float64 matrix."""
    return as_float_array(name, x, 2)


def as_vector(name: str, x: Any, length: int | None = None, against: str = "") -> np.ndarray:
    """A non-empty finite float64 vector, of ``length`` entries when given."""
    arr = as_float_array(name, x, 1)
    if length is not None and arr.shape[0] != length:
        what = f" (the number of columns of {against})" if against else ""
        raise InputError(f"{name} must have length {length}{what}, got {arr.shape[0]}")
    return arr


def as_int_array(name: str, x: Any, ndim: int | None = None) -> np.ndarray:
    """A non-empty integer array (not bool) of the given ndim, as int64."""
    if x is None:
        raise InputError(f"{name} is required, got None")
    try:
        arr = np.asarray(x)
    except Exception as exc:
        raise InputError(f"{name} must be an int array: {exc}") from None
    if arr.dtype.kind not in "iu":
        raise InputError(f"{name} must hold integers, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise InputError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(f"{name} must not be empty, got shape {arr.shape}")
    return arr.astype(np.int64)


def as_generator(name: str, rng: Any) -> np.random.Generator:
    """A ``numpy.random.Generator``, or a seed (int >= 0) to make one from."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(as_seed(name, rng))
