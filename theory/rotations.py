"""Rotations of the Gaussian block and the rotated twin ``A R`` (T8, g >= 2 Gaussians).

For R orthogonal on the g Gaussian coordinates and the identity elsewhere, ``R s`` has the law of s
(``exp(-|x|^2/2)`` is rotation invariant), so ``A R`` generates exactly the law of ``A s``; the
unidentified set is O(g), of dimension ``g (g - 1) / 2``. ``verify_twin`` re-checks a twin exactly
(covariance, block structure, not a permutation/scale of A) from A and B alone.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy

from .amari import amari_index
from .certificate import ratio_margin
from .mixing import NoGaussianPairError, as_gaussian_mask, as_mixing
from .validation import InputError, as_count, as_matrix, as_real

TWIN_RESIDUAL_TOL = 1e-12  # relative covariance residual and block residual of a float twin
TWIN_MIN_AMARI = 1e-8  # Amari(A^+ B) above this: B is not A up to permutation and scale

# (A, gaussian mask, block=..., angle=...) -> (twin B = A R, R): ``rotated_twin`` or a stand-in
TwinMaker = Callable[..., tuple[Any, Any]]


def rotation_group_dim(g: int) -> int:
    """dim O(g) = g (g - 1) / 2: the unidentified rotations of a g-dimensional Gaussian block."""
    g = as_count("g", g)
    return g * (g - 1) // 2


def plane_rotation(angle: float) -> np.ndarray:
    """[[cos a, -sin a], [sin a, cos a]]."""
    a = as_real("angle", angle)
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


def _gaussian_indices(gaussian: Any, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    mask = as_gaussian_mask(gaussian, k)
    idx = np.flatnonzero(mask)
    if idx.size < 2:
        raise NoGaussianPairError(
            f"gaussian: a block rotation needs at least two Gaussian components, got {idx.size}"
        )
    return mask, idx


def embed_block_rotation(gaussian: Any, block: Any) -> Any:
    """R (k x k): the orthogonal ``block`` (g x g) on the Gaussian indices, identity elsewhere.

    ``block`` may be a float array (orthogonality checked to 1e-12) or a sympy Matrix (checked
    exactly); the result has the same kind.
    """
    mask, idx = _gaussian_indices(gaussian)
    g, k = idx.size, mask.size
    if isinstance(block, sympy.MatrixBase):
        Q = sympy.Matrix(block)
        if Q.shape != (g, g):
            raise InputError(
                f"block must be {g} x {g} (one row per Gaussian component), got {Q.shape}"
            )
        if not (Q.T * Q - sympy.eye(g)).applyfunc(sympy.simplify).is_zero_matrix:
            raise InputError("block must be exactly orthogonal (block^T block == I)")
        R = sympy.eye(k)
        for a, i in enumerate(idx):
            for b, j in enumerate(idx):
                R[int(i), int(j)] = Q[a, b]
        return R
    Q = as_matrix("block", block)
    if Q.shape != (g, g):
        raise InputError(f"block must be {g} x {g} (one row per Gaussian component), got {Q.shape}")
    if np.max(np.abs(Q.T @ Q - np.eye(g))) > 1e-12:
        raise InputError("block must be orthogonal (block^T block == I to 1e-12)")
    R = np.eye(k)
    R[np.ix_(idx, idx)] = Q
    return R


def gaussian_block_rotation(gaussian: Any, angle: float = math.pi / 4) -> np.ndarray:
    """R: rotation by ``angle`` in the plane of the first two Gaussian components, identity
    elsewhere."""
    mask, idx = _gaussian_indices(gaussian)
    Q = np.eye(idx.size)
    Q[:2, :2] = plane_rotation(angle)
    return embed_block_rotation(mask, Q)


def rotated_twin(A: Any, gaussian: Any, block: Any = None, angle: float = math.pi / 4):
    """``(A R, R)``: the twin mixing matrix that generates exactly the law of ``A s`` when the
    Gaussian components of s are i.i.d. N(0, 1) (R orthogonal on that block, identity elsewhere).

    Float A: R from ``block`` (g x g orthogonal) or else a plane rotation by ``angle``. sympy A:
    ``block`` must be a sympy Matrix, and ``A A^T == (A R)(A R)^T`` holds exactly.
    """
    if isinstance(A, sympy.MatrixBase):
        if not isinstance(block, sympy.MatrixBase):
            raise InputError("block must be a sympy Matrix when A is exact (sympy)")
        Ax = sympy.Matrix(A)
        mask = as_gaussian_mask(gaussian, Ax.cols)
        R = embed_block_rotation(mask, block)
        return Ax * R, R
    A = as_mixing(A)
    mask = as_gaussian_mask(gaussian, A.shape[1])
    R = gaussian_block_rotation(mask, angle) if block is None else embed_block_rotation(mask, block)
    return A @ R, R


@dataclasses.dataclass(frozen=True)
class TwinCheck:
    """Exact re-verification of a twin B of A on the Gaussian block, with ``R = A^+ B``.

    covariance_residual : ``|A A^T - B B^T|_F / |A A^T|_F`` (0 iff B = A R with R orthogonal,
                          A having full column rank).
    block_residual      : ``max |R - I|`` over the rows and columns of the non-Gaussian sources
                          (0 iff R acts on the Gaussian block only).
    amari               : ``Amari(R)`` (0 iff B is A up to permutation and scale of columns).
    """

    covariance_residual: float
    block_residual: float
    amari: float
    tolerance: float = TWIN_RESIDUAL_TOL
    min_amari: float = TWIN_MIN_AMARI

    @property
    def margin(self) -> float:
        """``min(tol / covariance_residual, tol / block_residual, amari / min_amari)``: >= 1 when
        all three gates pass, < 1 when one fails, except 1 at amari == min_amari (strict gate)."""
        return min(
            ratio_margin(self.tolerance, self.covariance_residual),
            ratio_margin(self.tolerance, self.block_residual),
            self.amari / self.min_amari,
        )

    @property
    def ok(self) -> bool:
        return (
            self.covariance_residual <= self.tolerance
            and self.block_residual <= self.tolerance
            and self.amari > self.min_amari
        )

    @property
    def failure(self) -> str:
        """The gates the twin failed, in words ("" when it passed)."""
        failed = []
        if self.covariance_residual > self.tolerance:
            failed.append(f"covariance residual {self.covariance_residual:.3g} > {self.tolerance}")
        if self.block_residual > self.tolerance:
            failed.append(f"A^+ B moves a non-Gaussian source (residual {self.block_residual:.3g})")
        if self.amari <= self.min_amari:
            failed.append(f"B is A up to permutation/scale (Amari {self.amari:.3g})")
        return "; ".join(failed)

    def summary(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def verify_twin(A: Any, B: Any, gaussian: Any) -> TwinCheck:
    """Re-check the twin B of A from the two matrices alone (``R = A^+ B``): same covariance
    ``A A^T = B B^T``, R the identity off the Gaussian block, and ``Amari(R) > 1e-8``."""
    A = as_mixing(A)
    B = as_matrix("twin", B)
    if B.shape != A.shape:
        raise InputError(f"twin must have the shape of A {A.shape}, got {B.shape}")
    mask = as_gaussian_mask(gaussian, A.shape[1])
    cov = A @ A.T
    R = np.linalg.pinv(A) @ B
    off = ~mask
    eye = np.eye(A.shape[1])
    block_residual = 0.0
    if off.any():
        block_residual = float(
            max(np.max(np.abs(R[off] - eye[off])), np.max(np.abs(R[:, off] - eye[:, off])))
        )
    # a zero row or column of R leaves the Amari index undefined, and no scaled permutation has one
    zero_line = np.any(np.all(R == 0, axis=0)) or np.any(np.all(R == 0, axis=1))
    return TwinCheck(
        covariance_residual=float(np.linalg.norm(cov - B @ B.T) / np.linalg.norm(cov)),
        block_residual=block_residual,
        amari=math.inf if zero_line else amari_index(R),
    )
