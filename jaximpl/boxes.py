"""Box conversions, IoU, anchor generation and box coding.

Every public function validates its arguments when they are concrete (see
:mod:`jaximpl._validate`) and then calls a jitted core, so a second call with
new values of the same shapes does not retrace. All cores are plain ``jnp``
expressions that XLA fuses; they accept leading batch dimensions
(``(..., N, 4)``) so the batched operations reuse them.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import _validate as v

# --------------------------------------------------------------------------- cores


def _corner_to_center(b: jax.Array) -> jax.Array:
    """``(..., 4)`` corners -> ``(..., 4)`` centers ``(cx, cy, w, h)``."""
    x1, y1, x2, y2 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return jnp.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], axis=-1)


def _center_to_corner(b: jax.Array) -> jax.Array:
    """``(..., 4)`` centers -> ``(..., 4)`` corners."""
    cx, cy, w, h = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return jnp.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)


def _area(b: jax.Array) -> jax.Array:
    return (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])


def _iou_from_parts(b1: jax.Array, area1: jax.Array, b2: jax.Array, area2: jax.Array) -> jax.Array:
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


def _iou(b1: jax.Array, b2: jax.Array) -> jax.Array:
    """IoU of every pair: ``(..., N, 4), (..., M, 4) -> (..., N, M)`` (no checks)."""
    return _iou_from_parts(b1, _area(b1), b2, _area(b2))


_iou_jit = jax.jit(_iou)


def _offset_boxes(anchors: jax.Array, assigned_bb: jax.Array, eps: jax.Array | float) -> jax.Array:
    """``(..., 4), (..., 4) -> (..., 4)`` offsets (no checks)."""
    c_anc = _corner_to_center(anchors)
    c_bb = _corner_to_center(assigned_bb)
    offset_xy = 10 * (c_bb[..., :2] - c_anc[..., :2]) / c_anc[..., 2:]
    offset_wh = 5 * jnp.log(eps + c_bb[..., 2:] / c_anc[..., 2:])
    return jnp.concatenate([offset_xy, offset_wh], axis=-1)


def _offset_inverse(anchors: jax.Array, offset_preds: jax.Array) -> jax.Array:
    """``(..., 4), (..., 4) -> (..., 4)`` decoded corner boxes (no checks)."""
    anc = _corner_to_center(anchors)
    pred_xy = offset_preds[..., :2] * anc[..., 2:] / 10 + anc[..., :2]
    pred_wh = jnp.exp(offset_preds[..., 2:] / 5) * anc[..., 2:]
    return _center_to_corner(jnp.concatenate([pred_xy, pred_wh], axis=-1))


@partial(jax.jit, static_argnums=(0, 1))
def _prior(height: int, width: int, sizes: jax.Array, ratios: jax.Array) -> jax.Array:
    """The anchors of an ``height x width`` map: ``(1, H * W * (n + m - 1), 4)``."""
    n, m = sizes.shape[0], ratios.shape[0]
    dtype = jnp.promote_types(sizes.dtype, ratios.dtype)
    s = jnp.concatenate([sizes, jnp.full((m - 1,), sizes[0], sizes.dtype)]).astype(dtype)
    r = jnp.concatenate([jnp.full((n,), ratios[0], ratios.dtype), ratios[1:]]).astype(dtype)
    sqrt_r = jnp.sqrt(r)
    half_w = s * sqrt_r * height / width / 2  # (K,)
    half_h = s / sqrt_r / 2
    cy = ((jnp.arange(height, dtype=dtype) + 0.5) / height)[:, None, None]  # (H, 1, 1)
    cx = ((jnp.arange(width, dtype=dtype) + 0.5) / width)[None, :, None]  # (1, W, 1)
    shape = (height, width, s.shape[0])
    anchors = jnp.stack(
        [
            jnp.broadcast_to(cx - half_w, shape),
            jnp.broadcast_to(cy - half_h, shape),
            jnp.broadcast_to(cx + half_w, shape),
            jnp.broadcast_to(cy + half_h, shape),
        ],
        axis=-1,
    )
    return anchors.reshape(1, -1, 4)


_corner_to_center_jit = jax.jit(_corner_to_center)
_center_to_corner_jit = jax.jit(_center_to_corner)
_offset_boxes_jit = jax.jit(_offset_boxes)
_offset_inverse_jit = jax.jit(_offset_inverse)


@jax.jit
def _all_finite(x: jax.Array) -> jax.Array:
    return jnp.all(jnp.isfinite(x))


# --------------------------------------------------------------------------- public


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


def multibox_prior(data: Any, sizes: Any, ratios: Any) -> jax.Array:
    """Anchor boxes centred on every pixel of a feature map: ``(1, H W (n + m - 1), 4)``.

    ``H, W = data.shape[-2:]`` (only the shape of ``data`` is used; it may be a
    tracer). Pixel ``(i, j)`` is centred at ``((j + 0.5) / W, (i + 0.5) / H)``
    and carries the shapes ``(sizes[k], ratios[0])`` for ``k < n``, then
    ``(sizes[0], ratios[r])`` for ``0 < r < m``; anchor index
    ``(i W + j)(n + m - 1) + k``. Shape ``(s, r)`` has normalised width
    ``s sqrt(r) H / W`` and height ``s / sqrt(r)``. Nothing is clipped.
    float32 unless ``sizes``/``ratios`` are float64 (with x64 enabled).

    Time and memory O(H W (n + m)). ``sizes`` and ``ratios`` may be arrays, so
    ``jax.jit(multibox_prior)(data, sizes, ratios)`` works; new values of the
    same lengths do not retrace. Raises ``ValueError`` if ``data`` has fewer than
    2 dimensions, or (when concrete) ``sizes``/``ratios`` are empty, not 1-D,
    non-finite or not positive. Jitted with non-positive sizes/ratios, the
    formula is applied as is (``sqrt`` of a negative ratio gives NaN anchors).
    """
    shape = jnp.shape(data)
    if len(shape) < 2:
        raise ValueError(f"data: needs at least 2 dimensions (..., H, W), got shape {shape}")
    s = v.positive_list(sizes, "sizes")
    r = v.positive_list(ratios, "ratios")
    return _prior(int(shape[-2]), int(shape[-1]), s, r)


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
    if v.is_concrete(eps):
        try:
            e = np.asarray(eps, dtype=np.float64)
            ok = e.ndim == 0 and bool(np.isfinite(e)) and float(e) >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok or isinstance(eps, bool):
            raise ValueError(f"eps: must be a finite number >= 0, got {eps!r}")
    dtype = jnp.promote_types(a.dtype, b.dtype)
    return _offset_boxes_jit(a.astype(dtype), b.astype(dtype), jnp.asarray(eps, dtype))


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
    out = _offset_inverse_jit(a.astype(dtype), o.astype(dtype))
    if v.is_concrete(out) and v.is_concrete(a) and v.is_concrete(o) and out.size:
        if not bool(_all_finite(out)):
            raise ValueError("offset_preds: too large, the decoded boxes overflow")
    return out
