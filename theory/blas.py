"""One BLAS thread for the Jacobian engine's many small QR and SVD calls."""

from __future__ import annotations

import contextlib
import functools


@functools.lru_cache(maxsize=1)
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return None
    return ThreadpoolController()


@functools.lru_cache(maxsize=1)
def _single_device() -> bool:
    import jax

    return len(jax.local_devices()) == 1


def one_blas_thread(fn):
    """Run ``fn`` with OpenBLAS (scipy's LAPACK, which also serves jax's CPU QR and SVD) limited to
    one thread. The engine makes many small QR/SVD calls; OpenBLAS's thread pool gains nothing there
    and, when the cores are busy, its spinning threads make each call 10-50x slower (measured:
    220 ms against 5 ms for one d = 32 factor on a loaded 2-core machine). XLA's own products are
    unaffected.

    Not on a host with several local devices: there XLA runs one thread per device, each calling
    into the same OpenBLAS, and changing its thread count under them deadlocked (seen with two CPU
    devices); the limit is then left alone."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        controller = _blas_controller() if _single_device() else None
        ctx = (
            controller.limit(limits=1, user_api="blas")
            if controller is not None
            else contextlib.nullcontext()
        )
        with ctx:
            return fn(*args, **kwargs)

    return wrapper
