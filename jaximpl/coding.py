"""Box coding: offsets of boxes from their anchors, and back (CONTRACT.md §2.5, §2.6)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from . import _validate as v
from ._core import decode, encode

_encode_jit = jax.jit(encode)
_decode_jit = jax.jit(decode)


def offset_boxes(anchors: Any, assigned_bb: Any, eps: float = 1e-6) -> jax.Array:
    """Offsets of each box from its anchor: ``(A, 4), (A, 4) -> (A, 4)``.

    With both in center form:
    ``(10 (cx_b - cx_a) / w_a, 10 (cy_b - cy_a) / h_a, 5 log(eps + w_b / w_a),
    5 log(eps + h_b / h_a))``. Time and memory O(A).

    Raises ``ValueError`` (when concrete) for invalid boxes, mismatched lengths,
    anchors of zero width or height, or ``eps`` not a finite number ``>= 0``.
    Jitted, the formula is applied as is: a zero-width anchor gives inf/NaN
    offsets, NaN coordinates give NaN.
    """
    a = v.boxes(anchors, "anchors")
    b = v.boxes(assigned_bb, "assigned_bb")
    v.same_length(a, "anchors", b, "assigned_bb")
    v.anchor_extent(a, "anchors")
    v.nonnegative(eps, "eps")
    dtype = jnp.promote_types(a.dtype, b.dtype)
    return _encode_jit(a.astype(dtype), b.astype(dtype), jnp.asarray(eps, dtype))


def offset_inverse(anchors: Any, offset_preds: Any) -> jax.Array:
    """Boxes decoded from anchors and offsets: ``(A, 4), (A, 4) -> (A, 4)`` corners.

    ``cx = o_x w_a / 10 + cx_a``, ``cy = o_y h_a / 10 + cy_a``,
    ``w = exp(o_w / 5) w_a``, ``h = exp(o_h / 5) h_a``. Time and memory O(A).

    Raises ``ValueError`` (when concrete) for invalid anchors, non-finite
    offsets, mismatched lengths, or offsets so large that the decoded boxes
    overflow. Jitted, the formula is applied as is: overflow gives inf (and
    ``inf - inf = NaN`` corners), NaN propagates.
    """
    a = v.boxes(anchors, "anchors")
    o = v.as_array(offset_preds, "offset_preds", ndim=2, last=4)
    v.check_finite(o, "offset_preds")
    v.same_length(a, "anchors", o, "offset_preds")
    dtype = jnp.promote_types(a.dtype, o.dtype)
    out = _decode_jit(a.astype(dtype), o.astype(dtype))
    if v.is_concrete(out) and v.is_concrete(a) and v.is_concrete(o) and out.size:
        if not v.finite(out):
            raise ValueError("offset_preds: too large, the decoded boxes overflow")
    return out
