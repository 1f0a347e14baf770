"""Box conversions and IoU (CONTRACT.md §2.1, §2.3).

Every public function validates its arguments when they are concrete (see
:mod:`jaximpl._validate`) and then calls a jitted core, so a second call with
new values of the same shapes does not retrace.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from . import _validate as v
from ._core import center_to_corner, corner_to_center, iou

_corner_to_center_jit = jax.jit(corner_to_center)
_center_to_corner_jit = jax.jit(center_to_corner)
_iou_jit = jax.jit(iou)


def box_corner_to_center(boxes: Any) -> jax.Array:
    """``(N, 4)`` corner boxes -> ``(N, 4)`` center boxes ``(cx, cy, w, h)``.

    Time and memory O(N). Raises ``ValueError`` for a wrong shape, non-finite
    coordinates or ``x2 < x1`` / ``y2 < y1`` (value checks only on concrete
    input). Jitted, invalid input goes through the same formula: NaN/inf
    propagate, an inverted box gets a negative width or height.
    """
    return _corner_to_center_jit(v.boxes(boxes, "boxes"))


def box_center_to_corner(boxes: Any) -> jax.Array:
    """``(N, 4)`` center boxes ``(cx, cy, w, h)`` -> ``(N, 4)`` corner boxes.

    Time and memory O(N). Raises ``ValueError`` for a wrong shape, non-finite
    values or a negative width or height (value checks only on concrete input).
    Jitted, invalid input goes through the same formula: NaN/inf propagate, a
    negative width gives ``x2 < x1``.
    """
    b = v.as_array(boxes, "boxes", ndim=2, last=4)
    if v.is_concrete(b):
        v.check_finite(b, "boxes")
        if b.size:
            wh = jax.device_get(b[:, 2:])
            for col, what in ((0, "width"), (1, "height")):
                if (wh[:, col] < 0).any():
                    i = int((wh[:, col] < 0).argmax())
                    raise ValueError(f"boxes: negative {what} in row {i} ({wh[i, col]})")
    return _center_to_corner_jit(b)


def box_iou(boxes1: Any, boxes2: Any) -> jax.Array:
    """Intersection over union of every pair: ``(N, 4), (M, 4) -> (N, M)``.

    ``IoU = |A ∩ B| / |A ∪ B|``, and 0 where the union is empty (two boxes of
    zero area), never NaN. One fused broadcast: time O(N M), memory O(N M)
    (the output only; XLA writes it in one pass).

    Raises ``ValueError`` for invalid boxes when the input is concrete. Under
    ``jax.jit`` no value check runs and the formula is applied as is: a pair
    involving a NaN coordinate has IoU 0 (its union is NaN, not ``> 0``);
    inverted boxes (``x2 < x1``) give finite values without meaning.
    """
    b1 = v.boxes(boxes1, "boxes1")
    b2 = v.boxes(boxes2, "boxes2")
    dtype = jnp.promote_types(b1.dtype, b2.dtype)
    return _iou_jit(b1.astype(dtype), b2.astype(dtype))
