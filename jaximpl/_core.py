"""Check-free cores shared by several modules of :mod:`jaximpl`.

Plain ``jnp`` expressions that XLA fuses. They take leading batch dimensions
(``(..., N, 4)``), validate nothing, and are never jitted here: each public
module jits the compositions it needs.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax


def corner_to_center(b: jax.Array) -> jax.Array:
    """``(..., 4)`` corners -> ``(..., 4)`` centers ``(cx, cy, w, h)``."""
    x1, y1, x2, y2 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return jnp.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], axis=-1)


def center_to_corner(b: jax.Array) -> jax.Array:
    """``(..., 4)`` centers -> ``(..., 4)`` corners."""
    cx, cy, w, h = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return jnp.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)


def area(b: jax.Array) -> jax.Array:
    """``(..., 4)`` corners -> ``(...,)`` areas."""
    return (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])


def iou_from_parts(b1: jax.Array, area1: jax.Array, b2: jax.Array, area2: jax.Array) -> jax.Array:
    """IoU of every pair, ``(..., N, 4), (..., M, 4) -> (..., N, M)``, areas given.

    The same formula (and the same order of float operations) as the reference:
    ``inter / ((area1 + area2) - inter)``, 0 where the union is not ``> 0``.
    A NaN anywhere makes the union NaN, so such a pair has IoU 0 (never NaN).
    """
    left = jnp.maximum(b1[..., :, None, 0], b2[..., None, :, 0])
    top = jnp.maximum(b1[..., :, None, 1], b2[..., None, :, 1])
    right = jnp.minimum(b1[..., :, None, 2], b2[..., None, :, 2])
    bottom = jnp.minimum(b1[..., :, None, 3], b2[..., None, :, 3])
    inter = jnp.maximum(right - left, 0) * jnp.maximum(bottom - top, 0)
    union = area1[..., :, None] + area2[..., None, :] - inter
    positive = union > 0
    return jnp.where(positive, inter / jnp.where(positive, union, 1), 0)


def iou(b1: jax.Array, b2: jax.Array) -> jax.Array:
    """IoU of every pair: ``(..., N, 4), (..., M, 4) -> (..., N, M)``."""
    return iou_from_parts(b1, area(b1), b2, area(b2))


def encode(anchors: jax.Array, assigned_bb: jax.Array, eps: jax.Array | float) -> jax.Array:
    """``offset_boxes``: offsets of boxes from their anchors, ``(..., 4), (..., 4) -> (..., 4)``."""
    c_anc = corner_to_center(anchors)
    c_bb = corner_to_center(assigned_bb)
    offset_xy = 10 * (c_bb[..., :2] - c_anc[..., :2]) / c_anc[..., 2:]
    offset_wh = 5 * jnp.log(eps + c_bb[..., 2:] / c_anc[..., 2:])
    return jnp.concatenate([offset_xy, offset_wh], axis=-1)


def decode(anchors: jax.Array, offset_preds: jax.Array) -> jax.Array:
    """``offset_inverse``: boxes from anchors and offsets, ``(..., 4), (..., 4) -> (..., 4)``."""
    anc = corner_to_center(anchors)
    pred_xy = offset_preds[..., :2] * anc[..., 2:] / 10 + anc[..., :2]
    pred_wh = jnp.exp(offset_preds[..., 2:] / 5) * anc[..., 2:]
    return center_to_corner(jnp.concatenate([pred_xy, pred_wh], axis=-1))


def max_argmax(x: jax.Array, axis: int) -> tuple[jax.Array, jax.Array]:
    """Largest value along ``axis`` and the first index (int32) attaining it.

    Two plain reductions, which XLA:CPU vectorises (a variadic reduction of
    (value, index) pairs it does not): the maximum, then the smallest index
    whose value equals it. Both are exact, so any reduction order gives the
    same answer. ``x`` must not contain NaN; all ``-inf`` gives ``(-inf, 0)``,
    an empty axis ``(-inf, INT32_MAX)``.
    """
    top = jnp.max(x, axis=axis, initial=-jnp.inf)
    iota = lax.broadcasted_iota(jnp.int32, x.shape, axis)
    big = jnp.iinfo(jnp.int32).max
    first = jnp.where(x == jnp.expand_dims(top, axis), iota, big)
    return top, jnp.min(first, axis=axis, initial=big)
