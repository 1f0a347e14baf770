"""The block operations of the tiled NMS kernel (:mod:`jaximpl._tiled`).

Boxes are coordinate-major ``(B, 4, W)``: a tile of ``W`` boxes (or slots gathered from one)
for each image of a batch. The kernel's steps are built from these: the ``IoU > t`` test of
two blocks, an OR over rows, a running count, moving the marked entries of a row to its
front, and gathering slots from a tile.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax


class Tile(NamedTuple):
    """Boxes of one tile (or slots gathered from it), for each image of the batch."""

    boxes: jax.Array  # (B, 4, W) coordinate-major
    area: jax.Array  # (B, W)
    idx: jax.Array  # (B, W) int32: original index, -1 for padding


def overlaps(
    a: jax.Array, area_a: jax.Array, b: jax.Array, area_b: jax.Array, t: jax.Array
) -> jax.Array:
    """``IoU > t`` for coordinate-major boxes: ``(..., 4, P), (..., P), (..., 4, Q), (..., Q), ()``.

    Returns ``(..., P, Q)`` bool. For ``union > 0``,
    ``inter / union > t`` is ``inter > t * union``: no division, and exact where
    ``t * union`` is (a dyadic threshold on lattice boxes: the same decisions as
    the rounded IoU there, see CONTRACT.md §5). ``union <= 0`` and NaN give
    False (IoU 0).
    """
    left = jnp.maximum(a[..., 0, :, None], b[..., 0, None, :])
    top = jnp.maximum(a[..., 1, :, None], b[..., 1, None, :])
    right = jnp.minimum(a[..., 2, :, None], b[..., 2, None, :])
    bottom = jnp.minimum(a[..., 3, :, None], b[..., 3, None, :])
    inter = jnp.maximum(right - left, 0) * jnp.maximum(bottom - top, 0)
    union = area_a[..., :, None] + area_b[..., None, :] - inter
    return (union > 0) & (inter > t * union)


def any_rows(mask: jax.Array) -> jax.Array:
    """``jnp.any(mask, axis=1)`` for ``(B, C, W)``, as ``C - 1`` elementwise ORs.

    XLA:CPU fuses the ORs into one loop vectorised along ``W``; its reduction
    was slower (commits 6cb4999, 5167dce).
    """
    out = mask[:, 0]
    for c in range(1, mask.shape[1]):
        out = out | mask[:, c]
    return out


def count_so_far(mask: jax.Array) -> jax.Array:
    """``jnp.cumsum(mask, axis=1)`` for a short ``(B, W)`` bool mask, as int32.

    A product with an upper-triangular ``(W, W)`` matrix of ones: exact (sums of
    at most ``W`` ones), and one small matrix product on XLA:CPU where its cumsum
    is a slower reduce-window (commit e082a83).
    """
    w = mask.shape[1]
    upper = (jnp.arange(w)[:, None] <= jnp.arange(w)[None, :]).astype(jnp.float32)
    total = jnp.dot(mask.astype(jnp.float32), upper, precision=lax.Precision.HIGHEST)
    return total.astype(jnp.int32)


def compact(mask: jax.Array, values: jax.Array, width: int, fill: int) -> jax.Array:
    """The ``values`` where ``mask``, moved to the front of each row, in order.

    ``(B, W), (B, W) -> (B, width)``, padded with ``fill``; entries past
    ``width`` are dropped (the callers make sure there are none).
    """
    batch = mask.shape[0]
    slot = jnp.where(mask, count_so_far(mask) - 1, width)
    out = jnp.full((batch, width), fill, values.dtype)
    return out.at[jnp.arange(batch)[:, None], slot].set(values, mode="drop")


def gather(tile: Tile, pos: jax.Array) -> Tile:
    """The slots at tile positions ``pos`` ``(B, W)`` (``T`` marks an empty slot)."""
    p = jnp.minimum(pos, tile.idx.shape[1] - 1)
    return Tile(
        jnp.take_along_axis(tile.boxes, p[:, None, :], axis=2),
        jnp.take_along_axis(tile.area, p, axis=1),
        jnp.take_along_axis(tile.idx, p, axis=1),
    )
